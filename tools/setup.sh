#!/bin/sh
# Installs what mnv3 needs on a fresh Debian 12 machine (idempotent).
#   tools/setup.sh            build tools and libraries
#   tools/setup.sh --oracle   also the live PyTorch oracle (tools/oracle/setup.sh)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd -P)
pkgs="build-essential cmake pkg-config clang libclang-rt-14-dev libzip-dev libcjson-dev zlib1g-dev libhdf5-dev libjpeg62-turbo-dev libpng-dev chromium time llvm-14"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q " installed$" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "setup: installing$missing" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "${1:-}" = "--oracle" ]; then
    "$root/tools/oracle/setup.sh"
fi
