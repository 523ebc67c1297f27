#!/bin/bash
# Fast conformance against the golden PyTorch fixture (no PyTorch needed):
# regenerate the seeded weights and input, check they are the ones the
# fixture was made from, dump every layer and compare with the fixture.
#   tests/golden.sh MNV3 FIXTURE_DIR
set -euo pipefail
mnv3=$1 fixtures=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
readme="$fixtures/README.md"
sha_of() { grep -E "^\| $1 " "$readme" | grep -oE '[0-9a-f]{64}' | head -1; }
batch=$(grep -oE 'synth-input --seed 2 --batch [0-9]+' "$readme" | head -1 | awk '{print $NF}')
"$mnv3" synth --seed 1 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
"$mnv3" synth-input --seed 2 --batch "${batch:-2}" --size 64 64 --out "$tmp/x.npy" >/dev/null
for pair in weights:w.safetensors input:x.npy; do
    f=${pair#*:}
    want=$(sha_of "${pair%%:*}")
    got=$(sha256sum "$tmp/$f" | cut -d' ' -f1)
    if [ "$want" != "$got" ]; then
        echo "golden: $f sha256 $got differs from the fixture's $want: the generator changed;" \
             "regenerate with tools/oracle/fixtures/make_fixtures.sh" >&2
        exit 1
    fi
done
"$mnv3" dump --weights "$tmp/w.safetensors" --profile torch --input "$tmp/x.npy" --out "$tmp/acts.npz"
# The torch profile reproduces PyTorch 1.13.1 CPU bit for bit (docs/conformance.md), so any
# difference at all is a regression.
"$mnv3" diff "$tmp/acts.npz" "$fixtures/torch_synth_s1_64.npz" --max-rel-l2 0 --check-top5 head.fc2
