#!/bin/sh
# Live oracle test of the converter-made int8 fixture and TFLite Micro (tests/int8_models):
# regenerate small_int8.tflite and compare bytes, rerun LiteRT (3 resolvers) and TFLM
# against expected.npz, check TFLM's refusal of the uint8 TF-slim model.
#   live.sh REPO_ROOT        exit 77 without .venv-tf (with tflite-micro) or ../shared/models
root=$1
py="$root/.venv-tf/bin/python"
shared="$root/../shared/models"
[ -x "$py" ] || { echo "skip: no $root/.venv-tf"; exit 77; }
"$py" -c "import tflite_micro" 2>/dev/null || { echo "skip: tflite-micro not in .venv-tf (tools/oracle/setup_tf.sh)"; exit 77; }
[ -f "$shared/tfslim_mnv3_small_224_uint8.tflite" ] || { echo "skip: no $shared"; exit 77; }
exec "$py" "$root/tests/int8_models/fixtures.py" check "$shared" 2>/dev/null
