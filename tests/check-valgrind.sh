#!/bin/bash
# tests/check-valgrind.sh -- `make check-valgrind`: the
# unit tests and the milter's tests once more with every xsmtp-milter and
# xsmtp-component process under valgrind's memcheck.  Fails on any
# memcheck error or any definitely lost block, in any process; possibly
# lost and still reachable blocks (libmilter's and libstrophe's threads
# and caches) are not counted.
#
# How the daemons end up under valgrind without touching the tests: the
# tests find the programs as $top_builddir/milter/xsmtp-milter and
# $top_builddir/xmpp/xsmtp-component, so they run here against a shadow
# build directory whose entries all link to the real ones, except those
# two, which are small scripts exec'ing valgrind on the real programs.
#
# The tests themselves were written for full speed; under memcheck a
# daemon runs 20-50 times slower, so their latency and deadline checks
# may fail.  Their outcome is printed for information; what decides here
# is what memcheck saw.  Usage: check-valgrind.sh [TEST.sh...]
#   (default: test_config test_daemon test_sign test_verify
#    test_sign_postfix test_verify_postfix; the Postfix ones need root)
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xsmtp-valgrind.XXXXXX") || exit 99
logs=$work/memcheck
mkdir -p "$logs"
# --child-silent-after-fork: a child that only execs (system("cp ..."),
# daemon(3) parents) writes no report of its own.
memcheck=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
          --show-leak-kinds=definite --num-callers=30 --track-origins=yes
          --child-silent-after-fork=yes)

# ---- unit tests (Check runs them in-process with CK_FORK=no) ------------------
for program in "$top_builddir"/tests/unit/check_*; do
    [ -x "$program" ] && [[ "$program" != *.* ]] || continue
    name=$(basename "$program")
    (cd "$top_builddir" && CK_FORK=no "${memcheck[@]}" --log-file="$logs/unit.$name.%p" \
        "$program" >"$work/$name.out" 2>&1)
    echo "unit $name: exit $?"
done

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
for program in milter/xsmtp-milter xmpp/xsmtp-component; do
    rm -f "$shadow/$program"
    cat >"$shadow/$program" <<EOF
#!/bin/sh
# memcheck wrapper written by tests/check-valgrind.sh
exec ${memcheck[*]} --log-file='$logs/$(basename "$program").%p' \\
    '$top_builddir/$program' "\$@"
EOF
    chmod 755 "$shadow/$program"
done

# ---- the milter tests against the shadow ------------------------------------------
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_config.sh test_daemon.sh test_sign.sh test_verify.sh
                                  test_sign_postfix.sh test_verify_postfix.sh)
for test in "${tests[@]}"; do
    start=$(date +%s)
    top_srcdir=$top_srcdir top_builddir=$shadow timeout 900 bash "$top_srcdir/tests/integration/$test" \
        >"$work/$test.out" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/$test.out" | tail -1)
    echo "test $test under memcheck: exit $rc (${summary:-no summary}) in $(($(date +%s) - start)) s"
    grep '^FAIL' "$work/$test.out" | head -5 | sed 's/^/     (info) /'
done

# ---- what memcheck saw ----------------------------------------------------------------
processes=0 bad=0 unfinished=0
for log in "$logs"/*; do
    [ -f "$log" ] || continue
    processes=$((processes + 1))
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
    if [ -z "$errors" ]; then
        # Killed before it could report (SIGKILL from a test's cleanup).
        unfinished=$((unfinished + 1))
        echo "info: $(basename "$log"): no summary (the process was killed)"
    elif [ "$errors" -ne 0 ]; then
        bad=$((bad + 1))
        echo "FAIL $(basename "$log"): $errors memcheck errors (definite leaks included):"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in .* definitely)' \
            "$log" | head -5 | sed 's/^/     /'
        echo "     full log: $log"
    fi
done
echo "check-valgrind: $processes processes under memcheck, $bad with errors or definite leaks," \
     "$unfinished killed before their summary"
if [ "$processes" -eq 0 ]; then
    echo "check-valgrind: no process ran under memcheck"
    exit 1
fi
if [ "$bad" -eq 0 ]; then
    rm -rf "$work"
    exit 0
fi
echo "check-valgrind: logs kept in $work"
exit 1
