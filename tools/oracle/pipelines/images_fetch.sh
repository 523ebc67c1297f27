#!/bin/bash
# Fetches the test photographs listed in tests/image/photos/list.txt from
# Debian packages (apt-get download works without root), extracts the listed
# files into a cache directory and checks every sha256. Nothing is committed.
#   tools/oracle/pipelines/images_fetch.sh [CACHE_DIR]
# Default CACHE_DIR: $MNV3_PHOTOS or ~/.cache/mnv3/photos. Prints the directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
list=$root/tests/image/photos/list.txt
cache=${1:-${MNV3_PHOTOS:-${XDG_CACHE_HOME:-$HOME/.cache}/mnv3/photos}}
mkdir -p "$cache"
# Already complete?
ok=1
while read -r sha pkg ver path name; do
    [[ -z "$sha" || "$sha" == \#* ]] && continue
    [ -f "$cache/$name" ] && echo "$sha  $cache/$name" | sha256sum -c --status 2>/dev/null || { ok=0; break; }
done <"$list"
if [ $ok = 1 ]; then echo "$cache"; exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for pv in $(awk '!/^#/ && NF {print $2 "=" $3}' "$list" | sort -u); do
    pkg=${pv%%=*}
    ( cd "$work" && { apt-get download "$pv" >/dev/null 2>&1 || apt-get download "$pkg" >/dev/null 2>&1; } ) ||
        { echo "images_fetch: cannot download $pv (apt-get download)" >&2; exit 1; }
    deb=$(ls "$work"/"${pkg}"_*.deb | head -1)
    dpkg-deb -x "$deb" "$work/x"
done
bad=0
while read -r sha pkg ver path name; do
    [[ -z "$sha" || "$sha" == \#* ]] && continue
    if [ ! -f "$work/x/$path" ]; then echo "images_fetch: $pkg has no $path" >&2; bad=1; continue; fi
    cp "$work/x/$path" "$cache/$name"
    if ! echo "$sha  $cache/$name" | sha256sum -c --status; then
        echo "images_fetch: sha256 mismatch for $name ($pkg $path)" >&2; rm -f "$cache/$name"; bad=1
    fi
done <"$list"
[ $bad = 0 ] || exit 1
echo "$cache"
