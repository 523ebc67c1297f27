#!/bin/bash
# Installs the build to a temporary prefix and builds examples/embed.c against
# it twice, with pkg-config and with find_package(mnv3); both must print what
# the same program built in the tree prints.
#   install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER IN_TREE_EMBED
set -euo pipefail
build=$1 src=$2 cc=$3 in_tree=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
pc=$(find "$prefix" -name mnv3.pc -path '*/pkgconfig/*')
for f in include/mnv3.h include/mnv3_core.h include/mnv3_io.h; do
    test -f "$prefix/$f" || { echo "not installed: $f"; exit 1; }
done
find "$prefix" -name mnv3Config.cmake | grep -q . || { echo "no mnv3Config.cmake"; exit 1; }
find "$prefix" -name mnv3ConfigVersion.cmake | grep -q . || { echo "no mnv3ConfigVersion.cmake"; exit 1; }
test -n "$pc" || { echo "no mnv3.pc"; exit 1; }

want=$("$in_tree")
echo "in tree:       $want"

# pkg-config, as a Makefile would use it
export PKG_CONFIG_PATH=$(dirname "$pc")
echo "pkg-config: $(pkg-config --cflags --libs mnv3)"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/examples/embed.c" \
    $(pkg-config --cflags --libs mnv3) -o "$tmp/embed-pkg-config"
got=$("$tmp/embed-pkg-config")
echo "pkg-config:    $got"
[ "$got" = "$want" ] || { echo "pkg-config build prints something else"; exit 1; }
# shellcheck disable=SC2046
"$cc" -std=c11 "$src/examples/embed.c" $(pkg-config --static --cflags --libs mnv3) \
    -o "$tmp/embed-static"
[ "$("$tmp/embed-static")" = "$want" ] || { echo "pkg-config --static build differs"; exit 1; }

# find_package, with examples/CMakeLists.txt
cmake -S "$src/examples" -B "$tmp/consumer" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/consumer.log" ||
    { cat "$tmp/consumer.log"; exit 1; }
cmake --build "$tmp/consumer" >>"$tmp/consumer.log" || { cat "$tmp/consumer.log"; exit 1; }
got=$("$tmp/consumer/embed")
echo "find_package:  $got"
[ "$got" = "$want" ] || { echo "find_package build prints something else"; exit 1; }

if [ -x "$prefix/bin/mnv3" ]; then
    "$prefix/bin/mnv3" --help >/dev/null || { echo "installed CLI does not run"; exit 1; }
fi
echo "install: all passed"
