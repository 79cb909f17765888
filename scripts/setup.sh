#!/usr/bin/env bash
# Everything a fresh machine needs before `npm start` or `npm test`: the project's npm dependencies,
# kubectl 1.20 (the last kubectl with the azure auth-provider), a VS Code host (code-server and
# Chromium) and the Azure CLI (Debian's azure-cli, which the tests run against the identity platform
# double). All of it goes into the repository's cache folder .vscode-test/, apart from the Debian
# packages. Safe to run again; a warm run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
bash scripts/fetch-kubectl.sh
bash scripts/setup-host.sh

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The real az, not a pip install: Debian's package works offline with apt alone.
if ! command -v az >/dev/null 2>&1; then
  printf 'setup: installing azure-cli with apt\n' >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine (or container) has empty package lists; updating every time would cost seconds.
  if ! as_root apt-get install -y --no-install-recommends azure-cli; then
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends azure-cli
  fi
fi
