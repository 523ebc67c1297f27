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
# --group: the HTML's line "A with only <player> switched" ends, at the final output, on the
# table's 'alone' for that player (both read back from the outputs), for a group too
"$mnv3" explain --input "$tmp/x.npy" --group conv=conv_order,pointwise,bias --json --html "$tmp/g.html" >"$tmp/g.json"
check "explain --group --json --html exits 0" '[ $? -eq 0 ]'
json_alone() { # factor -> its "alone" value in the explain JSON
    awk -v want="$1" -F'[:,]' '/"factor":/ { gsub(/[\t" ]/, "", $2); f = $2 }
        /"alone":/ && f == want { gsub(/[\t ]/, "", $2); print $2 }' "$tmp/g.json"
}
html_final() { # line label -> its value at the final output layer (head.fc2)
    local layers values
    layers=$(grep -o "data-layers='[^']*'" "$tmp/g.html" | head -1 | cut -d"'" -f2)
    values=$(grep -o "data-label='$1' data-rel-l2='[^']*'" "$tmp/g.html" | cut -d"'" -f4)
    awk -v layers="$layers" -v values="$values" 'BEGIN { n = split(layers, l, " "); split(values, v, " ")
        for (i = 1; i <= n; i++) if (l[i] == "head.fc2") print v[i] }'
}
# the same number at the 15 significant digits cJSON prints (the HTML has all 17)
same_number() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && sprintf("%.15g", a) == sprintf("%.15g", b)) }'; }
table=$(json_alone conv); line=$(html_final "A with only conv switched")
check "group conv: HTML line ($line) = table's alone ($table), not zero" \
    'same_number "$line" "$table" && awk -v x="$table" "BEGIN { exit !(x > 0) }"'
players=$(awk -F'[:,]' '/"factor":/ { gsub(/[\t" ]/, "", $2); print $2 }' "$tmp/g.json")
mismatched=0
for p in $players; do same_number "$(html_final "A with only $p switched")" "$(json_alone "$p")" || mismatched=$((mismatched + 1)); done
check "every player's HTML line ends on its table value ($(echo $players | wc -w) players)" '[ $mismatched -eq 0 ] && [ -n "$players" ]'
total=$(grep -o '"total":[^,]*' "$tmp/g.json" | cut -d: -f2 | tr -d '\t ')
check "HTML line 'B vs A' ends on the table's total" 'same_number "$(html_final "B vs A (all differences)")" "$total"'
# layer-axis labels: rotated, and at least 14 px apart so that they cannot overlap
awk_gap=$(grep -o "<text x='[0-9.]*' y='[0-9.]*' text-anchor='end' transform='rotate(-60" "$tmp/g.html" |
    cut -d"'" -f2 | awk 'NR > 1 { g = $1 - prev; if (min == "" || g < min) min = g } { prev = $1 } END { print min }')
check "layer labels rotated and spaced ($awk_gap px apart at least)" 'awk -v g="$awk_gap" "BEGIN { exit !(g != \"\" && g >= 14) }"'

# explain --a-weights W alone: B runs A's weights under B's profile and says so in one line
"$mnv3" synth --seed 4 --classes 0 --out "$tmp/backbone.safetensors" >/dev/null
"$mnv3" explain --a-weights "$tmp/backbone.safetensors" --input "$tmp/x.npy" --json >"$tmp/aw.json" 2>"$tmp/aw.err"
rc=$?
check "explain --a-weights alone: exit 0, B uses A's weights" \
    '[ $rc -eq 0 ] && grep -q "\"label\":[[:space:]]*\"profile keras, weights $tmp/backbone.safetensors" "$tmp/aw.json"'
check "explain --a-weights alone: one line saying so" \
    '[ $(wc -l <"$tmp/aw.err") -eq 1 ] && grep -q "side B runs side A.s weights" "$tmp/aw.err"'
check "explain --a-weights alone: weights are not a player" '! grep -q "\"factor\":[[:space:]]*\"weights\"" "$tmp/aw.json"'
if [ -f "${SHARED_PTH:-}" ]; then
    "$mnv3" explain --a-weights "$SHARED_PTH" --input "$tmp/x.npy" >"$tmp/aw2.txt" 2>"$tmp/aw2.err"
    check "explain --a-weights genuine backbone: runs" '[ $? -eq 0 ] && grep -q "distance(B, A)" "$tmp/aw2.txt"'
fi

# run states the profile's input contract: layout and in-model rescaling, text and JSON
"$mnv3" run --weights "$tmp/backbone.safetensors" --profile keras --layout nchw --input "$tmp/x.npy" >"$tmp/run.txt" 2>"$tmp/run.err"
check "run prints the input contract (layout, input_rescale on)" \
    'grep -q "input contract of profile keras: layout nchw.*input_rescale=keras_rescaling" "$tmp/run.txt"'
check "run warns that normalised input meets in-model rescaling" 'grep -q "negative.*input_rescale=none" "$tmp/run.err"'
"$mnv3" run --weights "$tmp/backbone.safetensors" --profile torch --input "$tmp/x.npy" >"$tmp/run2.txt" 2>"$tmp/run2.err"
check "run torch: contract says input_rescale=none, no warning" \
    'grep -q "layout nchw.*input_rescale=none" "$tmp/run2.txt" && [ ! -s "$tmp/run2.err" ]'
"$mnv3" run --weights "$tmp/backbone.safetensors" --profile keras --layout nchw --input "$tmp/x.npy" --json >"$tmp/run.json" 2>/dev/null
check "run --json holds input_contract" \
    'grep -q "\"input_contract\"" "$tmp/run.json" && grep -q "\"input_rescale\":[[:space:]]*\"keras_rescaling\"" "$tmp/run.json" && grep -q "\"layout\":[[:space:]]*\"nchw\"" "$tmp/run.json"'
if command -v python3 >/dev/null; then
    check "run --json is valid JSON" 'python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/run.json"'
elif command -v jq >/dev/null; then
    check "run --json is valid JSON" 'jq . "$tmp/run.json" >/dev/null'
fi
[ $failures -eq 0 ] && echo "all analysis CLI checks passed" || { echo "$failures failures"; exit 1; }
