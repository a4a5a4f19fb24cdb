#!/usr/bin/env bash
# Installs the third-party WAMP peers the interop tests run against; safe to run again.
#  - Debian: python3-autobahn (Autobahn|Python, run with /usr/bin/python3; it brings python3-nacl for cryptosign),
#    python3-msgpack and python3-cbor2 (Autobahn|Python's MessagePack and CBOR serializers)
#  - npm: fox-wamp, autobahn (Autobahn|JS, with tweetnacl for cryptosign) and ws, at the versions pinned in peers/package-lock.json
# Install scripts are skipped: nothing the peers load needs a native build.
set -euo pipefail
cd "$(dirname "$0")/peers"

if ! dpkg -s python3-autobahn python3-msgpack python3-cbor2 >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-autobahn python3-msgpack python3-cbor2
fi
/usr/bin/python3 -c 'import autobahn, msgpack, cbor2; print("python3-autobahn", autobahn.__version__, "msgpack", msgpack.version, "cbor2")'

if ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi
npm ls --depth=0
