#!/bin/sh
# Live optimizer oracle: reruns tools/oracle/optim/optim_oracle.py with every step
# recorded and compares src/train/optim.c with it bit for bit (77 without the venv).
#   oracle_live.sh TEST_OPTIM ROOT torch|keras|tf-keras [large|eager|fit]
# large: a 100003-value tensor for 3 steps, torch at 2 threads (ATen splits it in
# 32768-value chunks; TensorFlow uses its own pool), a few cases.
set -eu
test_optim=$1 root=$2 fw=$3 size=${4:-small}
case $fw in torch) venv=$root/.venv-oracle ;; *) venv=$root/.venv-tf ;; esac
if [ ! -x "$venv/bin/python" ]; then echo "SKIP: $venv not found"; exit 77; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$size" = large ]; then
  "$venv/bin/python" "$root/tools/oracle/optim/optim_oracle.py" --framework "$fw" --out "$out" --all-steps \
    --n 100003 --steps 3 --threads 2 --cases sgd_mom,sgd_nesterov,adam_wd,adamw,rmsprop,rmsprop_cmw,sched_cos
  "$test_optim" "$out" "$fw" "$out/cases.txt"
elif [ "$size" = fit ]; then  # through model.fit: gradient = the recorded sequence, last step compared
  "$venv/bin/python" "$root/tools/oracle/optim/optim_oracle.py" --framework "$fw" --out "$out" --fit
  "$test_optim" "$out" "$fw"
elif [ "$size" = eager ]; then  # Keras outside a tf.function: the ops as written
  "$venv/bin/python" "$root/tools/oracle/optim/optim_oracle.py" --framework "$fw" --out "$out" --all-steps --eager
  "$test_optim" "$out" "$fw" - optim_tf_graph=eager
else
  "$venv/bin/python" "$root/tools/oracle/optim/optim_oracle.py" --framework "$fw" --out "$out" --all-steps
  "$test_optim" "$out" "$fw"
fi
