#!/usr/bin/env bash
# Prepares what the host tests (test/host) need to run the extension in a real VS Code without network
# access beyond the npm registry and apt: Debian's chromium as the browser, and code-server 4.100.3 (the
# last release that runs on Node 20) as the VS Code build. code-server goes into a cache folder, not into
# the project's dependencies, because it is 300 MB and only the host tests use it.
#
# Safe to run again: it installs only what is missing and returns in well under a second when warm.
set -euo pipefail

readonly CODE_SERVER_VERSION=4.100.3
# @vscode/ripgrep (a code-server dependency) downloads ripgrep from GitHub in its postinstall unless the
# tarball is already in its cache; these two must match the @vscode/ripgrep version code-server pins.
readonly VSCODE_RIPGREP_VERSION=1.15.11
readonly RIPGREP_RELEASE=v13.0.0-10
# Packages inside code-server 4.100.3's lib/vscode and lib/vscode/extensions with install scripts that
# matter on Linux (the Windows-only ones are skipped by npm elsewhere anyway).
readonly NESTED_NATIVE_PACKAGES="node-pty @vscode/spdlog @vscode/ripgrep @vscode/deviceid @parcel/watcher kerberos native-watchdog esbuild"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="$repo_root/.vscode-test"
install_dir="$cache_root/code-server"
marker="$install_dir/.installed-$CODE_SERVER_VERSION"

log() { printf 'setup-host: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_system_packages() {
  local wanted=(chromium libkrb5-dev ripgrep) missing=() pkg
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine (or container) has empty package lists; updating every time would cost seconds.
  if ! as_root apt-get install -y --no-install-recommends "${missing[@]}"; then
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

code_server_is_installed() {
  [ -f "$marker" ] && [ -f "$install_dir/node_modules/code-server/out/node/entry.js" ]
}

# Adds the named packages to package.json's `allowScripts`, creating the file when it does not exist.
allow_scripts() {
  local manifest="$1"
  shift
  node -e '
    const fs = require("node:fs");
    const [manifest, ...names] = process.argv.slice(1);
    const pkg = fs.existsSync(manifest) ? JSON.parse(fs.readFileSync(manifest, "utf8")) : { name: "aks-signin-host-cache", private: true };
    pkg.allowScripts = { ...pkg.allowScripts, ...Object.fromEntries(names.map((name) => [name, true])) };
    fs.writeFileSync(manifest, JSON.stringify(pkg, null, 2) + "\n");
  ' "$manifest" "$@"
}

ripgrep_target() {
  case "$(uname -m)" in
    x86_64) echo x86_64-unknown-linux-musl ;;
    aarch64 | arm64) echo aarch64-unknown-linux-musl ;;
    *) log "unsupported architecture $(uname -m)"; exit 1 ;;
  esac
}

install_code_server() {
  local tmp="$cache_root/tmp"
  local rg_cache="$tmp/vscode-ripgrep-cache-$VSCODE_RIPGREP_VERSION"
  local rg_tarball="$rg_cache/ripgrep-$RIPGREP_RELEASE-$(ripgrep_target).tar.gz"
  local rg_binary
  rg_binary="$(command -v rg)"

  log "installing code-server $CODE_SERVER_VERSION into $install_dir (takes a minute or two)"
  rm -rf "$install_dir"
  mkdir -p "$install_dir" "$rg_cache" "$cache_root/xdg-config" "$cache_root/xdg-data" "$cache_root/xdg-cache"

  # @vscode/ripgrep unpacks the tarball and expects the `rg` binary at its top level.
  tar -czf "$rg_tarball" -C "$(dirname "$rg_binary")" "$(basename "$rg_binary")"

  # Everything the install and the version check write (npm's temp files, code-server's default config)
  # stays inside the cache folder.
  export TMPDIR="$tmp" XDG_CONFIG_HOME="$cache_root/xdg-config" XDG_DATA_HOME="$cache_root/xdg-data" \
    XDG_CACHE_HOME="$cache_root/xdg-cache"
  # node-pty's postinstall runs `npx`, which would otherwise wait for a confirmation.
  export npm_config_yes=true
  # As root, npm runs lifecycle scripts as the folder's owner unless told otherwise, and the native builds
  # then cannot write; code-server's postinstall refuses to start without it.
  if [ "$(id -u)" -eq 0 ]; then export npm_config_unsafe_perm=true; fi

  # Recent npm runs a dependency's install scripts only when the project's package.json allows it by name.
  # code-server's postinstall runs nested installs in lib/vscode and lib/vscode/extensions whose native
  # modules must build, and npm refuses the allow list from the command line or environment there. So:
  # unpack without scripts, allow the known native packages in each nested package.json, then run the
  # scripts. Older npm ignores `allowScripts` and behaves the same.
  allow_scripts "$install_dir/package.json" code-server argon2
  npm install --prefix "$install_dir" --no-audit --no-fund --ignore-scripts "code-server@$CODE_SERVER_VERSION"
  local vscode_dir="$install_dir/node_modules/code-server/lib/vscode"
  # shellcheck disable=SC2086 # the list is meant to split into names
  allow_scripts "$vscode_dir/package.json" $NESTED_NATIVE_PACKAGES
  # shellcheck disable=SC2086
  allow_scripts "$vscode_dir/extensions/package.json" $NESTED_NATIVE_PACKAGES
  npm rebuild --prefix "$install_dir" --no-audit --no-fund code-server argon2

  local built
  # A skipped postinstall still "succeeds"; these files exist only when the native builds really ran.
  for built in node_modules/node-pty/build/Release/pty.node node_modules/@vscode/spdlog/build/Release/spdlog.node \
    node_modules/@vscode/ripgrep/bin/rg node_modules.asar; do
    if [ ! -e "$vscode_dir/$built" ]; then
      log "code-server's postinstall did not produce lib/vscode/$built"
      exit 1
    fi
  done

  local reported
  reported="$("$install_dir/node_modules/.bin/code-server" --version | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -n 1)"
  case "$reported" in
    "$CODE_SERVER_VERSION "*) ;;
    *) log "code-server reports '$reported', expected $CODE_SERVER_VERSION"; exit 1 ;;
  esac
  printf '%s\n' "$reported" >"$marker"
  log "code-server $reported ready"
}

install_system_packages
if code_server_is_installed; then
  log "code-server $CODE_SERVER_VERSION already installed"
else
  install_code_server
fi
