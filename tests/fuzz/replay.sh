#!/bin/bash
# tests/fuzz/replay.sh -- runs every fuzz target once over its seed corpus
# (tests/fuzz/corpus/NAME/) and over every crasher kept from earlier runs
# (tests/fuzz/crashers/NAME/), so a fixed crash stays fixed.  Part of
# `make check`: the targets are built with tests/fuzz/fuzz_main.c then
# (with libFuzzer under --enable-fuzzing: files given by name are run
# once each either way).  Under ASan+UBSan any report aborts the target.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

targets=(fuzz_taglist fuzz_identity fuzz_extract fuzz_keytable fuzz_component_iq
         fuzz_component_notice fuzz_headers fuzz_bodyhash)
failures=0 total=0
for target in "${targets[@]}"; do
    bin=$top_builddir/tests/fuzz/$target
    [ -x "$bin" ] || { echo "no $bin: build it first (make check builds it)"; exit 99; }
    inputs=()
    for dir in corpus crashers; do
        for file in "$top_srcdir/tests/fuzz/$dir/$target"/*; do
            [ -f "$file" ] && inputs+=("$file")
        done
    done
    if [ ${#inputs[@]} -eq 0 ]; then
        echo "FAIL $target: no seeds in tests/fuzz/corpus/$target"
        failures=$((failures + 1))
        continue
    fi
    total=$((total + ${#inputs[@]}))
    if "$bin" "${inputs[@]}" >"$target.replay.log" 2>&1; then
        echo "ok   $target: ${#inputs[@]} inputs"
    else
        echo "FAIL $target (exit $?):"
        tail -30 "$target.replay.log"
        failures=$((failures + 1))
    fi
    rm -f "$target.replay.log"
done
echo "$total inputs replayed through ${#targets[@]} targets, $failures targets failed"
[ "$failures" -eq 0 ]
