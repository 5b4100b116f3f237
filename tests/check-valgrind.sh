#!/bin/bash
# tests/check-valgrind.sh -- `make check-valgrind`: the unit tests and the
# milter's shell tests once more, with every xsmtp-milter and
# xsmtp-component process, and every process those and the unit tests
# start, under valgrind's memcheck.
#
# The run FAILS (exit 1) when any of these is true:
#   - memcheck reported an error (invalid access, uninitialised value,
#     bad free, ...) in any process;
#   - any process has definitely lost blocks.  Possibly lost and still
#     reachable blocks are not counted: libmilter's and libstrophe's
#     threads and caches hold memory until the very end;
#   - a process died of a crash signal (SEGV, BUS, ILL, FPE, ABRT);
#   - a unit test (tests/unit/check_*) failed under valgrind (exit status
#     other than 0, or 77 for a skip);
#   - a process's report is cut short (see below);
#   - a shell test that ran (did not skip) left no memcheck log at all;
#   - no process ran under memcheck at all.
#
# Cut-short reports.  Memcheck writes "ERROR SUMMARY" last, after the leak
# check; a log without it belongs to a process that never finished its
# report: killed with SIGKILL (a test's cleanup giving up on it after its
# grace period, a timeout) or valgrind itself died.  Nothing is known
# about such a process's leaks, so it is a failure, never a pass.  The one
# exception is a process its test kills with -9 on purpose: such kills are
# declared in SIGKILLED_BY_TEST below (test, program, how many, and a
# pattern of the command line), and the logs they match are reported as
# "not checked" -- counted and listed, never counted as clean.  Errors
# memcheck wrote into such a log before the kill still count.
#
# How the daemons end up under valgrind without touching the tests: the
# tests find the programs as $top_builddir/milter/xsmtp-milter and
# $top_builddir/xmpp/xsmtp-component, so they run here against a shadow
# build directory whose entries all link to the real ones, except those
# two, which are small scripts exec'ing valgrind on the real programs.
# Each test gets a log directory of its own, so a log names its test.
#
# --trace-children=yes: the milter forks to become a daemon and
# check_signer calls system(); every process then writes a complete
# report of its own.  Without it, a child that execs leaves a log without
# a summary, and --child-silent-after-fork would hide the daemon itself.
#
# The shell tests were written for full speed; under memcheck a daemon
# runs 20-50 times slower, so their latency and deadline checks may fail.
# Their outcome is printed, marked informational, and does not decide the
# result; what memcheck saw does.
#
# Usage: check-valgrind.sh [TEST.sh...]
#   A TEST without a slash is tests/integration/TEST in the source tree.  Default:
#   test_config test_daemon test_sign test_verify test_sign_postfix
#   test_verify_postfix (the Postfix ones need root, and skip otherwise).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed"; exit 77; }

# Processes a test kills with SIGKILL on purpose, whose reports therefore
# end early.  One entry per kill site: "TEST PROGRAM COUNT COMMAND-REGEX":
# at most COUNT cut-short logs of PROGRAM (xsmtp-milter or
# xsmtp-component) in TEST's run whose "Command:" line matches the
# extended regular expression are "not checked" instead of failures.
# No test in the default list kills one of ours with -9 today.
SIGKILLED_BY_TEST=(
)

run_start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/xsmtp-valgrind.XXXXXX") || exit 99
logs=$work/memcheck
mkdir -p "$logs"
memcheck=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
          --errors-for-leak-kinds=none --num-callers=30 --track-origins=yes
          --trace-children=yes)

# ---- unit tests (Check runs them in-process with CK_FORK=no) ------------------
unit_run=0 unit_failed=0 unit_skipped=0 unit_failed_names=()
mkdir -p "$logs/unit"
for program in "$top_builddir"/tests/unit/check_*; do
    [ -x "$program" ] && [[ "$program" != *.* ]] || continue
    name=$(basename "$program")
    start=$(date +%s)
    (cd "$top_builddir" && CK_FORK=no "${memcheck[@]}" --log-file="$logs/unit/$name.%p" \
        "$program" >"$work/$name.out" 2>&1)
    rc=$?
    unit_run=$((unit_run + 1))
    verdict=$(grep -E '^[0-9]+%: Checks: ' "$work/$name.out" | tail -1)
    case $rc in
    0) echo "unit $name: PASS under memcheck in $(($(date +%s) - start)) s (${verdict:-no Check summary})" ;;
    77) unit_skipped=$((unit_skipped + 1))
        echo "unit $name: SKIP (exit 77)" ;;
    *) unit_failed=$((unit_failed + 1)) unit_failed_names+=("$name")
       echo "FAIL unit $name under memcheck: exit $rc (${verdict:-no Check summary}); output in $work/$name.out:"
       grep -E ':[A-Z]:|[Ff]ail|[Ee]rror' "$work/$name.out" | head -10 | sed 's/^/     /' ;;
    esac
done
if [ "$unit_run" -eq 0 ]; then
    echo "check-valgrind: WARNING: no unit test program in $top_builddir/tests" \
         "(Check not installed, or not built: make check TESTS=)"
fi

# ---- the shadow build directory -------------------------------------------------
shadow=$work/build
mkdir -p "$shadow"
for entry in "$top_builddir"/* "$top_builddir"/.[!.]*; do
    [ -e "$entry" ] || continue
    case $(basename "$entry") in
    milter | xmpp) ;;
    *) ln -s "$entry" "$shadow/" ;;
    esac
done
for dir in milter xmpp; do
    mkdir -p "$shadow/$dir"
    for entry in "$top_builddir/$dir"/*; do
        ln -s "$entry" "$shadow/$dir/"
    done
done

# write_wrappers LOGDIR: the two daemons in the shadow exec memcheck,
# logging into LOGDIR (one directory per test, so each log names its test).
write_wrappers() {
    local program
    for program in milter/xsmtp-milter xmpp/xsmtp-component; do
        rm -f "$shadow/$program"
        cat >"$shadow/$program" <<EOF
#!/bin/sh
# memcheck wrapper written by tests/check-valgrind.sh
exec ${memcheck[*]} --log-file='$1/$(basename "$program").%p' \\
    '$top_builddir/$program' "\$@"
EOF
        chmod 755 "$shadow/$program"
    done
}

# ---- the milter tests against the shadow ------------------------------------------
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_config.sh test_daemon.sh test_sign.sh test_verify.sh
                                  test_sign_postfix.sh test_verify_postfix.sh)
shell_passed=0 shell_failed=0 shell_skipped=0 unlogged_tests=() failed_outputs=()
for test in "${tests[@]}"; do
    case $test in
    */*) script=$test ;;
    *) script=$top_srcdir/tests/integration/$test ;;
    esac
    name=$(basename "$test")
    mkdir -p "$logs/$name"
    write_wrappers "$logs/$name"
    start=$(date +%s)
    top_srcdir=$top_srcdir top_builddir=$shadow timeout 900 bash "$script" \
        >"$work/$name.out" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/$name.out" | tail -1)
    case $rc in
    0) outcome=PASS shell_passed=$((shell_passed + 1)) ;;
    77) outcome=SKIP shell_skipped=$((shell_skipped + 1)) ;;
    *) outcome=FAIL shell_failed=$((shell_failed + 1)) failed_outputs+=("$work/$name.out") ;;
    esac
    logged=$(find "$logs/$name" -type f | wc -l)
    echo "test $name under memcheck (informational): $outcome, exit $rc" \
         "(${summary:-no summary}) in $(($(date +%s) - start)) s, $logged processes logged"
    grep '^FAIL' "$work/$name.out" | head -5 | sed 's/^/     (info) /'
    # Every test here runs our daemons; one that ran and left no log
    # was not checked at all (the wrapper failed, or the test no longer
    # starts them from $top_builddir).
    if [ "$outcome" != SKIP ] && [ "$logged" -eq 0 ]; then
        unlogged_tests+=("$name")
        echo "FAIL test $name: ran, but no process of ours ran under memcheck; output in $work/$name.out"
    fi
done

# ---- what memcheck saw ----------------------------------------------------------------
# number N: N without the thousands separators valgrind prints.
number() { local n=${1//,/}; echo "${n:-0}"; }

# sigkilled_entry TESTDIR PROGRAM LOG: prints the index of the
# SIGKILLED_BY_TEST entry that accounts for LOG and still has room, if any.
declare -A sigkilled_used=()
sigkilled_entry() {
    local i test program count regex
    for i in "${!SIGKILLED_BY_TEST[@]}"; do
        read -r test program count regex <<<"${SIGKILLED_BY_TEST[$i]}"
        [ "$test" = "$1" ] && [ "$program" = "$2" ] || continue
        [ "${sigkilled_used[$i]:-0}" -lt "$count" ] || continue
        grep -m1 '^==[0-9]*== Command: ' "$3" | grep -qE -- "$regex" || continue
        echo "$i"
        return 0
    done
    return 1
}

# error_blocks LOG: how many error reports LOG holds, by their shape (a
# capitalised headline followed by a stack); for logs without a summary.
error_blocks() {
    awk '/^==[0-9]+== [A-Z]/ { head = 1; next }
         head && /^==[0-9]+==    (at|by) 0x/ { n++ }
         { head = 0 }
         END { print n + 0 }' "$1"
}

# show LOG REGEX: the first two reports in LOG whose headline matches
# REGEX, each with the top of its stack, indented.  Only the first
# $detail_limit failing logs get them: one bug in a daemon shows up in
# every process of a test, and the headlines already name them all.
detail_limit=5 detailed=0
show() {
    detailed=$((detailed + 1))
    [ "$detailed" -le "$detail_limit" ] || return 0
    awk -v re="$2" '$0 ~ re { n++; frames = 0; if (n <= 2) print; next }
         n && n <= 2 && /^==[0-9]+==    (at|by) 0x/ && frames < 5 { frames++; print; next }
         { frames = 5 }' "$1" | sed 's/^/     /'
}

checked=0 errors=0 error_procs=0 leak_bytes=0 leak_blocks=0 leak_procs=0
crashed=0 cut_short=0 unchecked=0
error_lines='^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Argument|Process terminating)'
while IFS= read -r log; do
    dir=$(basename "$(dirname "$log")")
    file=$(basename "$log")
    program=${file%.*}
    command=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -1)
    summary=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tail -1)
    if [ -n "$summary" ]; then
        checked=$((checked + 1))
        n=$(number "$summary")
    else
        # Errors are written as they happen, so those before the kill
        # are in the log; count them by their shape.
        n=$(error_blocks "$log")
        if entry=$(sigkilled_entry "$dir" "$program" "$log"); then
            sigkilled_used[$entry]=$((${sigkilled_used[$entry]:-0} + 1))
            unchecked=$((unchecked + 1))
            echo "NOT CHECKED $dir/$file: killed with -9 by its test on purpose ($command)"
        else
            cut_short=$((cut_short + 1))
            echo "FAIL $dir/$file: report cut short, no ERROR SUMMARY (SIGKILLed?):" \
                 "nothing is known about its leaks ($command)"
        fi
    fi
    if [ "$n" -gt 0 ]; then
        errors=$((errors + n)) error_procs=$((error_procs + 1))
        echo "FAIL $dir/$file: $n memcheck errors ($command):"
        show "$log" "$error_lines"
    fi
    # A leak summary can precede a kill too: whatever it says counts.
    read -r bytes blocks < <(sed -n 's/^==[0-9]*==  *definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$log" | tail -1)
    bytes=$(number "${bytes:-0}") blocks=$(number "${blocks:-0}")
    if [ "$blocks" -gt 0 ]; then
        leak_bytes=$((leak_bytes + bytes)) leak_blocks=$((leak_blocks + blocks))
        leak_procs=$((leak_procs + 1))
        echo "FAIL $dir/$file: $bytes bytes in $blocks blocks definitely lost ($command):"
        show "$log" 'are definitely lost in loss record'
    fi
    if grep -qE '^==[0-9]+== Process terminating with default action of signal (4|6|7|8|11) ' "$log"; then
        crashed=$((crashed + 1))
        echo "FAIL $dir/$file: crashed ($command):"
        show "$log" '^==[0-9]+== Process terminating with default action'
    fi
done < <(find "$logs" -type f | sort)

total=$((checked + cut_short + unchecked))
echo "check-valgrind: shell tests under memcheck (informational): $shell_passed passed," \
     "$shell_failed failed, $shell_skipped skipped"
[ "$unchecked" -eq 0 ] || echo "check-valgrind: $unchecked processes NOT CHECKED (killed with -9 by their tests on purpose)"
echo "check-valgrind: summary: $checked processes checked, $errors memcheck errors" \
     "(in $error_procs processes), $leak_blocks definitely lost blocks ($leak_bytes bytes," \
     "in $leak_procs processes), $crashed crashed, $cut_short cut short," \
     "$unchecked unchecked (killed with -9 on purpose), $unit_failed of $unit_run unit tests" \
     "failed ($unit_skipped skipped); $(($(date +%s) - run_start)) s"

status=0
[ "$errors" -eq 0 ] && [ "$leak_blocks" -eq 0 ] && [ "$crashed" -eq 0 ] &&
    [ "$cut_short" -eq 0 ] && [ "$unit_failed" -eq 0 ] && [ ${#unlogged_tests[@]} -eq 0 ] || status=1
if [ "$total" -eq 0 ]; then
    echo "check-valgrind: no process ran under memcheck"
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "check-valgrind: PASS"
    if [ ${#failed_outputs[@]} -eq 0 ]; then
        rm -rf "$work"
    else
        # The memcheck logs are clean and go; the shell tests' output stays
        # for a look at the informational failures.
        rm -rf "$logs" "$shadow" "$work"/check_*.out
        echo "check-valgrind: output of the shell tests that failed under memcheck:" \
             "${failed_outputs[*]}"
    fi
else
    [ "$unit_failed" -eq 0 ] || echo "check-valgrind: failed unit tests: ${unit_failed_names[*]}"
    [ ${#unlogged_tests[@]} -eq 0 ] ||
        echo "check-valgrind: tests with no process under memcheck: ${unlogged_tests[*]}"
    echo "check-valgrind: FAIL; logs kept in $work"
fi
exit "$status"
