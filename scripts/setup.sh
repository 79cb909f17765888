#!/usr/bin/env bash
# Everything a fresh machine needs before `npm start` or `npm test`: the project's npm dependencies,
# kubectl 1.20 (the last kubectl with the azure auth-provider) and a VS Code host (code-server and
# Chromium). All of it goes into the repository's cache folder .vscode-test/, apart from the Debian
# packages the host needs. Safe to run again; a warm run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
bash scripts/fetch-kubectl.sh
bash scripts/setup-host.sh
