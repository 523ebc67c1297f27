#!/bin/sh
# Live optimizer oracle: reruns tools/oracle/optim/optim_oracle.py with every step
# recorded and compares src/train/optim.c with it bit for bit (77 without the venv).
#   oracle_live.sh TEST_OPTIM ROOT torch|keras|tf-keras
set -eu
test_optim=$1 root=$2 fw=$3
case $fw in torch) venv=$root/.venv-oracle ;; *) venv=$root/.venv-tf ;; esac
if [ ! -x "$venv/bin/python" ]; then echo "SKIP: $venv not found"; exit 77; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$venv/bin/python" "$root/tools/oracle/optim/optim_oracle.py" --framework "$fw" --out "$out" --all-steps
"$test_optim" "$out" "$fw"
