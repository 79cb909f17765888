#!/bin/sh
# Unpacks kubectl 1.20 (Debian's kubernetes-client, the last kubectl with the built-in azure
# auth-provider) into a repository-local cache, without installing anything on the system.
# Safe to run again: an unpacked binary that runs is kept.
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
target="$repo_root/.vscode-test/kubectl-1.20"
binary="$target/usr/bin/kubectl"

if [ -x "$binary" ] && "$binary" version --client --short >/dev/null 2>&1; then
  "$binary" version --client --short
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# apt-get update only when the package lists are stale enough that the download fails.
if ! apt-get download kubernetes-client >/dev/null 2>&1; then
  apt-get update >/dev/null
  apt-get download kubernetes-client >/dev/null
fi

rm -rf "$target"
mkdir -p "$target"
dpkg -x kubernetes-client_*.deb "$target"
"$binary" version --client --short
