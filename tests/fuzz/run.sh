#!/bin/bash
# tests/fuzz/run.sh -- `make fuzz`: runs each libFuzzer target for a fixed
# time under ASan+UBSan, a few at a time, and fails when any of them finds
# a crash, a leak, undefined behaviour or a broken invariant.
#
# Usage: run.sh --seconds N --jobs J --source SRCDIR --work WORKDIR TARGET...
#   Seeds come from SRCDIR/corpus/NAME and SRCDIR/crashers/NAME (read
#   only); new inputs go to WORKDIR/NAME/corpus, a crasher to
#   WORKDIR/NAME/crash-*, the log to WORKDIR/NAME/log.  Prints one line
#   per target with its executions, and what to do with a crasher: fix the
#   bug, then keep the input in SRCDIR/crashers/NAME/ as a regression test.
set -u

seconds=20 jobs=2 source= work=
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --source) source=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) break ;;
    esac
done
[ -n "$source" ] && [ -n "$work" ] && [ $# -gt 0 ] || { echo "usage: see $0" >&2; exit 2; }

# One target; its summary line goes to WORK/NAME/summary.
run_one() {
    local bin=$1 name dir rc execs
    name=$(basename "$bin")
    dir=$work/$name
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$dir/" \
        "$dir/corpus" "$source/corpus/$name" "$source/crashers/$name" >"$dir/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        printf 'ok   %-24s %10s executions in %s s\n' "$name" "${execs:-?}" "$seconds" \
            >"$dir/summary"
    else
        {
            printf 'FAIL %-24s exit %s after %s executions; log: %s\n' "$name" "$rc" \
                "${execs:-?}" "$dir/log"
            ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null |
                sed 's/^/     input: /'
            grep -m 5 -E 'ERROR|invariant broken|runtime error' "$dir/log" | sed 's/^/     /'
            echo "     fix it, then keep the input in $source/crashers/$name/"
        } >"$dir/summary"
    fi
    return "$rc"
}

mkdir -p "$work" || exit 1
pids=() status=0
for bin in "$@"; do
    run_one "$bin" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then
        wait "${pids[0]}" || status=1
        pids=("${pids[@]:1}")
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
for bin in "$@"; do
    cat "$work/$(basename "$bin")/summary"
done
exit "$status"
