#!/bin/bash
# Live oracle test: every named pipeline on every photo (tools/oracle/pipelines/
# images_fetch.sh) and every edge case (tests/image/edge), through the C side
# and through the real libraries (torchvision in .venv-oracle, TF/Keras in
# .venv-tf); also the decoded images of each decoder. Requires 0 differing
# elements everywhere. Skips (77) without the virtual environments.
#   tests/image/live.sh MNV3 ROOT [OUT_DIR]
set -uo pipefail
mnv3=$1 root=$2
out=${3:-$(mktemp -d)}
[ $# -ge 3 ] || trap 'rm -rf "$out"' EXIT
torch_py=$root/.venv-oracle/bin/python tf_py=$root/.venv-tf/bin/python
for py in "$torch_py" "$tf_py"; do
    [ -x "$py" ] || { echo "SKIP: $py missing (tools/oracle/setup.sh, setup_tf.sh)"; exit 77; }
done
"$torch_py" -c "import torchvision" 2>/dev/null || { echo "SKIP: no torchvision"; exit 77; }
"$tf_py" -c "import tensorflow, keras" 2>/dev/null || { echo "SKIP: no tensorflow"; exit 77; }

images=("$root"/tests/image/edge/*)
if photos=$("$root"/tools/oracle/pipelines/images_fetch.sh 2>"$out.fetch.err"); then
    images+=("$photos"/*)
else
    echo "NOTE: photos unavailable ($(cat "$out.fetch.err")); edge cases only"
fi
rm -f "$out.fetch.err"
echo "${#images[@]} images"

failures=0
compare() { # label c_dir oracle_dir
    "$tf_py" "$root"/tools/oracle/pipelines/images_compare.py "$2" "$3" --label "$1" --quiet || failures=$((failures + 1))
}
run_c() { # pipeline dir [--decoded]
    mkdir -p "$2"
    for img in "${images[@]}"; do
        "$mnv3" preprocess -q --pipeline "$1" "$img" -o "$2/$(basename "$img").npy" ${3:-} ||
            { echo "FAIL C side $1 $img"; failures=$((failures + 1)); }
    done
}
for p in torchvision-imagenet seed-torch; do
    run_c $p "$out/c/$p"
    "$torch_py" "$root"/tools/oracle/pipelines/pipelines_torch.py --pipeline $p --out-dir "$out/ref/$p" "${images[@]}" 2>/dev/null ||
        { echo "FAIL oracle $p"; failures=$((failures + 1)); }
    compare $p "$out/c/$p" "$out/ref/$p"
done
for p in keras-mnv3 keras-mnv3-xla keras-mnv3-raw tf-data tf-data-nearest seed-tf; do
    run_c $p "$out/c/$p"
    "$tf_py" "$root"/tools/oracle/pipelines/pipelines_tf.py --pipeline $p --out-dir "$out/ref/$p" "${images[@]}" 2>/dev/null ||
        { echo "FAIL oracle $p"; failures=$((failures + 1)); }
    compare $p "$out/c/$p" "$out/ref/$p"
done
# Decoders alone: Pillow 9.4 (torchvision env), Pillow 13 (Keras env), TF.
run_c torchvision-imagenet "$out/c/decoded-pillow" --decoded
run_c tf-data "$out/c/decoded-tf" --decoded
"$torch_py" "$root"/tools/oracle/pipelines/pipelines_torch.py --decoded --pipeline seed-torch --out-dir "$out/ref/decoded-pillow94" "${images[@]}" 2>/dev/null
"$tf_py" "$root"/tools/oracle/pipelines/pipelines_tf.py --decoded --pipeline keras-mnv3-raw --out-dir "$out/ref/decoded-pillow13" "${images[@]}" 2>/dev/null
"$tf_py" "$root"/tools/oracle/pipelines/pipelines_tf.py --decoded --pipeline tf-data --out-dir "$out/ref/decoded-tf" "${images[@]}" 2>/dev/null
compare decoded-pillow9.4 "$out/c/decoded-pillow" "$out/ref/decoded-pillow94"
compare decoded-pillow13 "$out/c/decoded-pillow" "$out/ref/decoded-pillow13"
compare decoded-tf "$out/c/decoded-tf" "$out/ref/decoded-tf"
echo "$failures comparison(s) failed"
[ $failures = 0 ]
