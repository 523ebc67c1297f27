#!/bin/bash
# docs/layers.md must end with exactly what `mnv3 layers --markdown` prints.
set -euo pipefail
mnv3=$1 doc=$2
table=$("$mnv3" layers --markdown)
lines=$(printf '%s\n' "$table" | wc -l)
if ! diff <(tail -n "$lines" "$doc") <(printf '%s\n' "$table"); then
    echo "docs/layers.md is stale: regenerate its table with mnv3 layers --markdown" >&2
    exit 1
fi
echo "docs/layers.md matches mnv3 layers --markdown ($lines lines)"
