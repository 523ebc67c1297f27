#!/bin/bash
# docs/findings.md must be exactly what tools/findings.sh writes now (its figures match a
# fresh run). Skips (77) without ../shared/models or the photographs.
#   tests/findings_current.sh BUILD_DIR REPO_ROOT
set -uo pipefail
build=$1 root=$2
[ -f "$root/../shared/models/keras_mnv3_small_notop_avgpool_fp32.tflite" ] || { echo "skip: no ../shared/models"; exit 77; }
"$root/tools/oracle/images_fetch.sh" >/dev/null 2>&1 || { echo "skip: photographs unavailable"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$root/tools/findings.sh" "$build" "$tmp/findings.md" || exit 1
if ! diff -u "$root/docs/findings.md" "$tmp/findings.md"; then
    echo "docs/findings.md differs from a fresh run: regenerate with tools/findings.sh" >&2
    exit 1
fi
echo "docs/findings.md matches a fresh run"
