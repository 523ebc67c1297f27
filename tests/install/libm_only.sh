#!/bin/bash
# A core-only build needs libm alone: the core archive asks for no pthread, zip,
# HDF5, JSON or image symbols, and a program linked with it loads only libc and libm.
#   libm_only.sh LIBMNV3_CORE.a PROGRAM
set -euo pipefail
lib=$1 program=$2
foreign=$(nm -u "$lib" | awk '{print $2}' | grep -E '^(pthread_|sched_|zip_|H5|cJSON|jpeg_|png_)' || true)
[ -z "$foreign" ] || { echo "core library needs: $foreign"; exit 1; }
if command -v ldd >/dev/null; then
    other=$(ldd "$program" | awk '{print $1}' |
            grep -vE '^(linux-vdso|linux-gate)|^/?.*ld-linux|^libm\.so|^libc\.so' || true)
    [ -z "$other" ] || { echo "$program loads: $other"; exit 1; }
fi
echo "libm only: passed"
