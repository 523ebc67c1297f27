#!/bin/bash
# Live dropout-mask conformance: re-runs tools/oracle/rng/<side>_masks.py (which
# first checks its measurements: threads, apply formula, draws per step) and
# replays its fixture with 0 differing elements; torch also replays its .npy dumps.
#   tests/rng/oracle_live.sh TEST_RNG REPO_ROOT torch|keras|tf-keras
# Exits 77 (skipped) without the oracle environment.
set -euo pipefail
test_rng=$1 root=$2 side=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export TF_CPP_MIN_LOG_LEVEL=2
if [ "$side" = torch ]; then py="$root/.venv-oracle/bin/python"; else py="$root/.venv-tf/bin/python"; fi
[ -x "$py" ] || { echo "skip: no oracle environment for $side"; exit 77; }
case "$side" in
torch) "$py" "$root/tools/oracle/rng/torch_masks.py" --out "$tmp/fixture.txt" --dump-npy "$tmp/npy"
       "$test_rng" masks "$tmp/npy" ;;
keras) "$py" "$root/tools/oracle/rng/keras_masks.py" --out "$tmp/fixture.txt" ;;
tf-keras) "$py" "$root/tools/oracle/rng/tf_keras_masks.py" --out "$tmp/fixture.txt" ;;
*) echo "unknown side $side" >&2; exit 2 ;;
esac
"$test_rng" "$side" "$tmp/fixture.txt"
