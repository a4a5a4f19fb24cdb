#!/usr/bin/env bash
# Installs what the TypeScript tests need; safe to run again: the TypeScript compiler, Autobahn|JS and ws, at the
# versions pinned in ts/package-lock.json (which records no download addresses). Install scripts are skipped.
set -euo pipefail
cd "$(dirname "$0")/ts"

if ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi
npm ls --depth=0
node node_modules/typescript/bin/tsc --version
