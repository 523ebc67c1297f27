#!/bin/bash
# compare / explain through the CLI: JSON has per-layer entries and an output
# summary; a malformed or mismatched dump gives a one-line error; the HTML report
# renders in headless Chromium (skipped when Chromium is absent).
#   tests/analysis_cli.sh MNV3
set -uo pipefail
mnv3=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failures=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi; }

"$mnv3" synth-input --seed 4 --batch 1 --size 64 64 --out "$tmp/x.npy" >/dev/null
"$mnv3" compare --input "$tmp/x.npy" --json >"$tmp/c.json"
check "compare --json exits 0" '[ $? -eq 0 ]'
check "compare --json has schema, layers and output" \
    'grep -q "\"schema\":[[:space:]]*\"mnv3.compare/1\"" "$tmp/c.json" && grep -q "\"layers\"" "$tmp/c.json" && grep -q "\"top1_agree\"" "$tmp/c.json"'
check "compare finds stem.conv first (padding)" 'grep -q "\"first_divergent_layer\":[[:space:]]*\"stem.conv\"" "$tmp/c.json"'
"$mnv3" compare --input "$tmp/x.npy" --a-profile torch --b-profile torch --json >"$tmp/same.json"
check "identical sides: no divergent layer" 'grep -q "\"first_divergent_layer\":[[:space:]]*null" "$tmp/same.json"'

# dumps from outside: a good one, a malformed one, a mismatched one
"$mnv3" synth --seed 4 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
"$mnv3" dump --weights "$tmp/w.safetensors" --input "$tmp/x.npy" --out "$tmp/d.npz" >/dev/null
"$mnv3" compare --a-dump "$tmp/d.npz" --b-weights "$tmp/w.safetensors" --b-profile torch --input "$tmp/x.npy" >"$tmp/out.txt"
check "dump vs run of the same thing: bit-identical" 'grep -q "first divergent layer: none" "$tmp/out.txt"'
printf 'PK\003\004garbage' >"$tmp/bad.npz"
"$mnv3" compare --a-dump "$tmp/bad.npz" --input "$tmp/x.npy" 2>"$tmp/err" >/dev/null
rc=$?
check "malformed dump: one-line error naming it, exit 1" '[ $rc -eq 1 ] && [ $(wc -l <"$tmp/err") -eq 1 ] && grep -q bad.npz "$tmp/err"'
"$mnv3" synth-input --seed 4 --batch 1 --size 32 32 --out "$tmp/x32.npy" >/dev/null
"$mnv3" dump --weights "$tmp/w.safetensors" --input "$tmp/x32.npy" --out "$tmp/d32.npz" >/dev/null
"$mnv3" compare --a-dump "$tmp/d32.npz" --b-weights "$tmp/w.safetensors" --input "$tmp/x.npy" >"$tmp/mm.txt" 2>&1
check "mismatched dump: layers reported as not comparable" 'grep -q "not in both\|shapes differ\|skipped" "$tmp/mm.txt"'

# weights-diff: a conversion is the same weights; two seeds are different trainings
"$mnv3" convert "$tmp/w.safetensors" "$tmp/wk.safetensors" --quiet >/dev/null
"$mnv3" weights-diff "$tmp/w.safetensors" "$tmp/wk.safetensors" >"$tmp/wd1.txt"
check "weights-diff: torchvision vs its Keras conversion are the same weights" 'grep -q "verdict: the same weights" "$tmp/wd1.txt"'
"$mnv3" synth --seed 5 --classes 1000 --out "$tmp/w5.safetensors" >/dev/null
"$mnv3" weights-diff "$tmp/w.safetensors" "$tmp/w5.safetensors" >"$tmp/wd2.txt"
check "weights-diff: different seeds are different trainings" 'grep -q "warning: DIFFERENT TRAININGS" "$tmp/wd2.txt"'

# HTML in headless Chromium: it must display, with the report's text read back
"$mnv3" explain --input "$tmp/x.npy" --html "$tmp/r.html" >/dev/null
check "explain --html writes a file" '[ -s "$tmp/r.html" ]'
check "HTML is self-contained (no network references)" '! grep -qiE "(src|href)=.(https?:)?//" "$tmp/r.html"'
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
    flags=(--headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile")
    timeout 120 "$browser" "${flags[@]}" --window-size=1000,2200 --screenshot="$tmp/r.png" "file://$tmp/r.html" >/dev/null 2>&1
    check "Chromium screenshot written" '[ $(stat -c %s "$tmp/r.png" 2>/dev/null || echo 0) -gt 20000 ]'
    timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$tmp/r.html" >"$tmp/dom.html" 2>/dev/null
    check "rendered DOM holds the report" 'grep -q "First divergent layer" "$tmp/dom.html" && grep -q "Attribution" "$tmp/dom.html" && grep -q "<svg" "$tmp/dom.html"'
else
    echo "skip HTML rendering: no chromium (tools/setup.sh installs it)"
fi
[ $failures -eq 0 ] && echo "all analysis CLI checks passed" || { echo "$failures failures"; exit 1; }
