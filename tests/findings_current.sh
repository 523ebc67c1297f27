#!/bin/bash
# docs/findings.md must be exactly what tools/findings.sh writes now (its figures match a
# fresh run). Skips (77) without ../shared/models or the photographs, or on a CPU whose rsqrt
# estimate (Keras 3's BatchNorm) differs from the one the file was written on.
#   tests/findings_current.sh BUILD_DIR REPO_ROOT
set -uo pipefail
build=$1 root=$2
[ -f "$root/../shared/models/keras_mnv3_small_notop_avgpool_fp32.tflite" ] || { echo "skip: no ../shared/models"; exit 77; }
"$root/tools/oracle/pipelines/images_fetch.sh" >/dev/null 2>&1 || { echo "skip: photographs unavailable"; exit 77; }
here=$("$build/mnv3" profiles | sed -n 's/.*rsqrt estimate.*fingerprint \([0-9a-f]*\)$/\1/p')
doc=$(sed -n 's/.*rsqrt fingerprint \([0-9a-f]*\)$/\1/p' "$root/docs/findings.md")
if [ "$here" != "$doc" ]; then # Keras 3 rows depend on the CPU's rsqrt estimate
    echo "skip: docs/findings.md was written on a CPU whose rsqrt estimate differs (fingerprint $doc, here $here)"
    exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$root/tools/findings.sh" "$build" "$tmp/findings.md" || exit 1
if ! diff -u "$root/docs/findings.md" "$tmp/findings.md"; then
    echo "docs/findings.md differs from a fresh run: regenerate with tools/findings.sh" >&2
    exit 1
fi
echo "docs/findings.md matches a fresh run"
