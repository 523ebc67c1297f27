#!/bin/sh
# no_temp_left.sh MNV3 FILES_DIR: reading Keras files (the .keras archive and
# the .h5 through the HDF5 sandbox) leaves nothing in TMPDIR, whether the read
# succeeds, fails, or the process is stopped by SIGTERM or SIGINT mid-way; and
# no reader process outlives it.
mnv3=$1 dir=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mnv3-notemp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # what
    left=$(ls -A "$tmp")
    if [ -n "$left" ]; then echo "FAIL $1: left in TMPDIR: $left"; fail=1; else echo "ok   $1"; fi
}
for f in valid.keras valid.weights.h5; do
    TMPDIR=$tmp "$mnv3" info "$dir/$f" >/dev/null 2>&1 || { echo "FAIL $f: not read"; fail=1; }
    check "read $f"
done
for f in dup_layers.h5 bomb.keras noweights.keras; do
    TMPDIR=$tmp "$mnv3" info "$dir/$f" >/dev/null 2>&1 && { echo "FAIL $f: accepted"; fail=1; }
    check "refuse $f"
done
for sig in TERM INT HUP; do
    for delay in 0 0.02 0.05 0.1; do
        for f in valid.keras valid.weights.h5; do
            TMPDIR=$tmp "$mnv3" info "$dir/$f" >/dev/null 2>&1 &
            pid=$!
            sleep $delay
            kill -$sig $pid 2>/dev/null
            wait $pid 2>/dev/null
            # the sandbox child (same command line) dies with its parent
            sleep 0.1
            if pgrep -f "info $dir/$f" >/dev/null 2>&1; then
                echo "FAIL SIG$sig: a reader of $f outlived mnv3"; fail=1
            fi
            check "SIG$sig after ${delay}s on $f"
        done
    done
done
exit $fail
