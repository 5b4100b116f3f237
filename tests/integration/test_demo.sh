#!/bin/bash
# tests/integration/test_demo.sh -- tools/demo as a test: every value it prints.
#
# Runs tools/demo twice with the daemons of this build (--no-install
# --no-build) and a fixed run id:
#   1. plainly: the report of each of the four messages must be exactly
#      what XSMTP-1 says (verdict header, gateway B's Authentication-Results,
#      inbox or quarantine, alice's notice), the SpamAssassin line exactly
#      what Debian's stock rules plus etc/spamassassin/xsmtp.cf give these
#      messages, the counters exactly what four messages make, and the
#      copies it names must exist with those headers; (a)'s X-XMPP-Hash is
#      recomputed here with openssl from the delivered copy.  Afterwards no
#      process of the lab may be left.
#   2. with --keep: the lab must still answer (Postfix B's banner, the
#      milters' counters on SIGUSR1), and `tools/demo --stop DIR` must end
#      every process of it.
# Every expected value is written here; none is read from the code under
# test.  Installs nothing: needs root (Postfix) and the demo's tools
# (prosody, redis-server, postfix, swaks, spamassassin, python3-slixmpp,
# ...); without one of them it prints SKIP and exits 77.
# Timing is printed, not asserted: tools/demo bounds each of its own waits
# and fails when one runs out, and the exit status is asserted.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/postfix.sh"

DEMO=$top_srcdir/tools/demo
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: tools/demo needs root (Postfix)"
    exit 77
fi
# What tools/demo --no-install and this test run, with the Debian package
# that has each: a missing one is named, never installed.
declare -A PACKAGE_OF=(
    [prosody]=prosody [prosodyctl]=prosody [redis-server]=redis-server
    [redis-cli]=redis-tools [postfix]=postfix [postconf]=postfix [postcat]=postfix
    [postqueue]=postfix [swaks]=swaks [openssl]=openssl [spamassassin]=spamassassin
    [timeout]=coreutils [od]=coreutils
)
for tool in "${!PACKAGE_OF[@]}"; do
    command -v "$tool" >/dev/null ||
        { echo "SKIP: $tool is not installed (Debian package ${PACKAGE_OF[$tool]})"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is not installed (Debian package python3)"; exit 77; }
/usr/bin/python3 -c 'import slixmpp' 2>/dev/null ||
    { echo "SKIP: python3-slixmpp is not installed (Debian package python3-slixmpp)"; exit 77; }
for bin in milter/xsmtp-milter xmpp/xsmtp-component; do
    [ -x "$top_builddir/$bin" ] || { echo "no $top_builddir/$bin: build it first"; exit 99; }
done

# Waits for something the test has just caused end as soon as it shows;
# their limit only stops a hung run.  It is generous because a loaded
# 2-core machine can take seconds for what takes milliseconds when idle.
GUARD=30
# One run of tools/demo is only stopped if it hangs: it bounds each of its
# own waits (servers up, each message through, each notice, each daemon's
# stop) and fails when one runs out; their sum, with SpamAssassin's
# unbounded but seconds-long scoring, stays far below this.
DEMO_GUARD=900
# Gateway B's deadlines, generous so that a loaded machine cannot change
# what the demo prints: a Redis call cut off at the 100 ms default is a
# cache error, which changes cache.hits/misses, and a verification past
# the 2000 ms default is a temperror.  tools/demo puts these into B's
# redis { timeout_ms } and verify { timeout_ms } once it takes
# XSMTP_DEMO_REDIS_TIMEOUT_MS and XSMTP_DEMO_VERIFY_TIMEOUT_MS; the info
# line after each run shows what B was really given.
export XSMTP_DEMO_REDIS_TIMEOUT_MS=5000 XSMTP_DEMO_VERIFY_TIMEOUT_MS=20000

lab_init demo-test
T=$LAB_DIR
RUN=t$(openssl rand -hex 3)
DEMO_DIRS=()
# Whatever the outcome, no process of a demo lab stays behind; its logs
# are removed after a pass and kept (and named) otherwise.
lab_on_exit 'for dir in "${DEMO_DIRS[@]}"; do "$DEMO" --stop "$dir"; done'

# field X LABEL: the value printed on "    LABEL: value" in block (X).
field() {
    awk -v x="($1)" -v label="$2:" '
        index($0, x " ") == 1 { inside = 1; next }
        inside && /^$/ { exit }
        inside && index($0, "    " label) == 1 {
            print substr($0, length(label) + 5) | "sed \"s/^ *//\""; exit
        }
    ' "$OUT"
}

# pids_of DIR: live processes whose command line or environment names DIR.
pids_of() {
    local p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$$" ] && continue
        if { tr '\0' '\n' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1" ||
            { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qF -- "$1"; then
            _lab_alive "${p#/proc/}" && echo "${p#/proc/}"
        fi
    done
    return 0
}

# none_left DIR: true once no process of the lab in DIR is alive.  The
# demo ends with KILL for what outlived TERM; a killed process may still
# need a moment on a busy CPU, hence the bounded wait.
none_left() {
    local i
    for ((i = 0; i < GUARD * 10; i++)); do
        [ -z "$(pids_of "$1")" ] && return 0
        sleep 0.1
    done
    return 1
}

# b_config SECTION KEY: KEY's value in SECTION { } of gateway B's milter
# configuration as the demo wrote it, "default" when it is not set.
b_config() {
    awk -v section="$1" -v key="$2" '
        $1 == section && $2 == "{" { inside = 1; next }
        inside && /^}/ { inside = 0 }
        inside && $1 == key && $2 == "=" { print $3; found = 1 }
        END { if (!found) print "default" }
    ' "$DIR/milterB/milter.conf" 2>/dev/null
}

# What SpamAssassin says of each message with Debian's stock rules and
# etc/spamassassin/xsmtp.cf (XSMTP_PASS -1.0, XSMTP_FAIL 4.0, nothing for
# none); (a) alone was submitted by a trusted host (gateway A).
declare -A SA_LINE=(
    [a]="score=-2.0 required=5.0 rules=ALL_TRUSTED=-1.0,XSMTP_PASS=-1.0"
    [b]="score=4.0 required=5.0 rules=XSMTP_FAIL=4.0"
    [c]="score=4.0 required=5.0 rules=XSMTP_FAIL=4.0"
    [d]="score=0.0 required=5.0 rules=(none)"
)

# check_report LABEL: every printed value of one run in $OUT (lab in $DIR).
check_report() {
    local label=$1 where file qid notice noticed
    lab_assert_eq "$label: title" "xsmtp demo (run $RUN)" "$(head -1 "$OUT")"
    lab_assert_match "$label: gateway A line" \
        '^  gateway A  mx\.a\.test  Postfix 127\.0\.0\.1:[0-9]+ \+ xsmtp-milter \(sign a\.test\)$' \
        "$(sed -n 2p "$OUT")"
    lab_assert_match "$label: gateway B line" \
        '^  gateway B  mx\.b\.test  Postfix 127\.0\.0\.1:[0-9]+ \+ xsmtp-milter \(verify\) \+ SpamAssassin [0-9.]+, stock rules \+ etc/spamassassin/xsmtp\.cf$' \
        "$(sed -n 3p "$OUT")"
    lab_assert_match "$label: XMPP line" \
        '^  XMPP       Prosody 127\.0\.0\.1:[0-9]+: a\.test, b\.test, xsmtp\.a\.test, xsmtp\.b\.test; alice@a\.test online$' \
        "$(sed -n 4p "$OUT")"

    # (a) signed by A, verified by B: pass, inbox, a notice to alice.
    lab_assert_eq "$label (a) message-id" "<demo-a.$RUN@a.test>" "$(field a message-id)"
    lab_assert_eq "$label (a) verdict" \
        "pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)" "$(field a verdict)"
    lab_assert_eq "$label (a) auth-results" \
        "mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test header.from=alice@a.test" \
        "$(field a auth-results)"
    where=$(field a "ended in")
    lab_assert_match "$label (a) ended in the inbox" '^inbox \(B/mailbox/new/[^ /]+\)$' "$where"
    notice=$(field a notice)
    lab_assert_match "$label (a) alice's notice" \
        "^from=xsmtp\.a\.test type=headline status=accepted body=Your message <demo-a\.$RUN@a\.test> was accepted by b\.test at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\.$" \
        "$notice"
    noticed=$(date -u -d "$(sed -n 's/.* at \([0-9T:-]*\)Z\.$/\1/p' <<<"$notice")Z" +%s 2>/dev/null)
    lab_assert_eq "$label (a) notice time lies within the run" yes \
        "$([ -n "$noticed" ] && [ "$noticed" -ge "$RUN_START" ] && [ "$noticed" -le "$(date +%s)" ] &&
            echo yes || echo "no: ${noticed:-?} not in $RUN_START..now")"
    lab_assert_eq "$label (a) spamassassin" "${SA_LINE[a]}" "$(field a spamassassin)"

    # (b) replayed headers, changed body: fail body-changed, decided locally.
    lab_assert_eq "$label (b) message-id (that of (a))" "<demo-a.$RUN@a.test>" "$(field b message-id)"
    lab_assert_eq "$label (b) verdict" "fail (identity=alice@a.test; reason=body-changed; cached=no)" \
        "$(field b verdict)"
    lab_assert_eq "$label (b) auth-results" \
        "mx.b.test; x-xsmtp=fail reason=\"body-changed\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" \
        "$(field b auth-results)"
    lab_assert_match "$label (b) quarantined" \
        '^quarantine \(Postfix hold queue of mx\.b\.test, queue id [0-9A-F]+\)$' "$(field b "ended in")"
    lab_assert_eq "$label (b) no notice" none "$(field b notice)"
    lab_assert_eq "$label (b) spamassassin" "${SA_LINE[b]}" "$(field b spamassassin)"

    # (c) forged h: the component says bad-hash.
    lab_assert_eq "$label (c) message-id" "<demo-c.$RUN@a.test>" "$(field c message-id)"
    lab_assert_eq "$label (c) verdict" \
        "fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=no)" \
        "$(field c verdict)"
    lab_assert_eq "$label (c) auth-results" \
        "mx.b.test; x-xsmtp=fail reason=\"bad-hash\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" \
        "$(field c auth-results)"
    lab_assert_match "$label (c) quarantined" \
        '^quarantine \(Postfix hold queue of mx\.b\.test, queue id [0-9A-F]+\)$' "$(field c "ended in")"
    lab_assert_eq "$label (c) no notice" none "$(field c notice)"
    lab_assert_eq "$label (c) spamassassin" "${SA_LINE[c]}" "$(field c spamassassin)"

    # (d) no XSMTP headers: none, delivered.
    lab_assert_eq "$label (d) message-id" "<demo-d.$RUN@c.example>" "$(field d message-id)"
    lab_assert_eq "$label (d) verdict" none "$(field d verdict)"
    lab_assert_eq "$label (d) auth-results" "mx.b.test; x-xsmtp=none" "$(field d auth-results)"
    lab_assert_match "$label (d) ended in the inbox" '^inbox \(B/mailbox/new/[^ /]+\)$' \
        "$(field d "ended in")"
    lab_assert_eq "$label (d) no notice" none "$(field d notice)"
    lab_assert_eq "$label (d) spamassassin" "${SA_LINE[d]}" "$(field d spamassassin)"

    # The counters each daemon reports (SIGUSR1): one message signed at A;
    # four verified at B, two of them asked ((a) and (c)), the component
    # found once and then cached, one notice; the component saw the two.
    # Cache misses: three first reads, plus the re-read after taking the
    # lock for each of the two that were asked.
    lab_assert_eq "$label counters: gateway A" "    gateway A milter:  messages=1 signed=1 not_signed=0" \
        "$(grep '^    gateway A milter:' "$OUT")"
    lab_assert_match "$label counters: gateway B" \
        '^    gateway B milter:  messages=4 verify\.verified=4 verify\.queries=2 cache\.hits=1 cache\.misses=5 xmpp\.queries=2 xmpp\.rtt_ms\.p50=[0-9]+\.[0-9]{3} xmpp\.notices_sent=1$' \
        "$(grep '^    gateway B milter:' "$OUT")"
    lab_assert_eq "$label counters: xsmtp.a.test" \
        "    xsmtp.a.test:      queries=2 pass=1 fail.bad-hash=1 disco=1 notices.forwarded=1" \
        "$(grep '^    xsmtp.a.test:' "$OUT")"

    # From B's full stats line: the verdicts by kind, and no Redis call
    # failed (a failed one is counted here, and would also shift the cache
    # hits and misses above).
    stats=$(grep 'stats: reason=sigusr1' "$DIR/milterB/milter.log" | tail -1)
    lab_assert_match "$label counters: B's verdicts by kind" \
        ' verdict\.none=1 verdict\.pass=1 verdict\.fail=2 verdict\.permerror=0 verdict\.temperror=0 ' \
        "$stats"
    lab_assert_match "$label counters: no Redis call of B failed or timed out" \
        ' cache\.errors=0 cache\.down=0( |$)' "$stats"
    echo "info: $label: gateway B's redis.timeout_ms $(b_config redis timeout_ms)," \
        "verify.timeout_ms $(b_config verify timeout_ms) (defaults 100 and 2000)"

    # The copies named are there (in the run's directory $DIR), with those
    # headers on top.
    for x in a d; do
        file=$DIR/$(field "$x" "ended in" | sed 's/^inbox (\(.*\))$/\1/')
        lab_assert_eq "$label ($x) inbox copy: first xsmtp header" \
            "X-XSMTP-Verdict: $(field "$x" verdict)" "$(grep -m1 '^X-XSMTP-Verdict:' "$file")"
    done
    for x in b c; do
        qid=$(field "$x" "ended in" | sed 's/.*queue id \([0-9A-F]*\))$/\1/')
        lab_assert_eq "$label ($x) held copy in B's hold queue" "X-XSMTP-Verdict: $(field "$x" verdict)" \
            "$(postcat -c "$DIR/B/conf" -h -q "$qid" 2>/dev/null | grep -m1 '^X-XSMTP-Verdict:')"
    done
    check_signature "$label" "$DIR/$(field a "ended in" | sed 's/^inbox (\(.*\))$/\1/')" "$DIR"
}

# check_signature LABEL FILE DIR: (a)'s X-XMPP-Hash, recomputed with openssl.
check_signature() {
    local label=$1 file=$2 dir=$3 hash t ip bh h secret_hex canonical
    hash=$(awk '/^$/ { exit } /^X-XMPP-Hash:/ { f = 1; sub(/^X-XMPP-Hash: /, ""); v = $0; next }
                f && /^[ \t]/ { v = v $0; next } f { exit } END { print v }' "$file")
    t=$(sed -n 's/.*t=\([0-9]*\);.*/\1/p' <<<"$hash")
    ip=$(sed -n 's/.*ip=\([0-9.]*\);.*/\1/p' <<<"$hash")
    bh=$(sed -n 's/.*bh=\([A-Za-z0-9+/=]*\);.*/\1/p' <<<"$hash")
    h=$(sed -n 's/.*[; ]h=\([A-Za-z0-9+/=]*\)$/\1/p' <<<"$hash")
    lab_assert_eq "$label (a) signed from the submitting client" 127.0.0.1 "$ip"
    # The relaxed body: runs of white space one space, none at line ends,
    # CRLF lines, trailing empty lines dropped.
    lab_assert_eq "$label (a) bh = openssl SHA-256 of the relaxed body" \
        "$(sed '1,/^$/d' "$file" | sed -e 's/[ \t][ \t]*/ /g' -e 's/ $//' |
            awk '{ l[NR] = $0 } END { n = NR; while (n > 0 && l[n] == "") n--
                                      for (i = 1; i <= n; i++) printf "%s\r\n", l[i] }' |
            openssl dgst -sha256 -binary | openssl base64 -A)" "$bh"
    secret_hex=$(awk '$1 == "s1" { print $2 }' "$dir/componentA/keys" | openssl base64 -d -A |
        od -An -v -tx1 | tr -d ' \n')
    canonical=$(printf 'xsmtp-1\nidentity:alice@a.test\nmessage-id:demo-a.%s@a.test\nfrom:alice@a.test\ntime:%s\nip:%s\nbody-hash:%s\nkey:s1\n' \
        "$RUN" "$t" "$ip" "$bh" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$secret_hex" -binary |
        openssl base64 -A)
    lab_assert_eq "$label (a) h = openssl HMAC with a.test's key" "$canonical" "$h"
}

# ---- 1. a plain run ------------------------------------------------------------
OUT=$T/run1.out
RUN_START=$(date +%s)
t0=$(date +%s%N)
XSMTP_DEMO_RUN=$RUN timeout "$DEMO_GUARD" "$DEMO" --no-install --no-build >"$OUT" 2>"$T/run1.err"
rc=$?
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
DIR=$(sed -n 's/^Logs: \([^ ]*\) .*/\1/p' "$OUT")
[ -n "$DIR" ] && DEMO_DIRS+=("$DIR")
sed 's/^/[demo] /' "$OUT"
lab_assert_eq "run 1: exit status" 0 "$rc"
[ "$rc" -eq 0 ] || cat "$T/run1.err"
lab_assert_match "run 1: finished line" '^Finished in [0-9.]+ s; everything is stopped\.$' \
    "$(grep '^Finished' "$OUT")"
[ "$rc" -eq 124 ] && echo "run 1: still running after ${DEMO_GUARD}s: stopped"
echo "info: run 1 took $((took_ms / 1000)).$(printf '%03d' $((took_ms % 1000))) s in all" \
    "(start, four messages, report, stop; load average $(cut -d' ' -f1-3 /proc/loadavg))"
lab_assert_match "run 1: says where the logs are" '^Logs: /.+ \(A/maillog, B/maillog' "$(grep '^Logs:' "$OUT")"
check_report "run 1"
lab_assert_eq "run 1: the logs are there" yes \
    "$([ -s "$DIR/milterB/milter.log" ] && [ -s "$DIR/B/maillog" ] && echo yes || echo no)"
none_left "$DIR"
lab_assert_eq "run 1: nothing of the lab left running" "" "$(pids_of "$DIR" | tr '\n' ' ')"

# ---- 2. --keep, then --stop --------------------------------------------------------
OUT=$T/run2.out
RUN=k${RUN#t}
RUN_START=$(date +%s)
t0=$(date +%s%N)
XSMTP_DEMO_RUN=$RUN timeout "$DEMO_GUARD" "$DEMO" --no-install --no-build --keep >"$OUT" 2>"$T/run2.err"
rc=$?
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
DIR=$(sed -n 's|^  .*/tools/demo --stop \(.*\)$|\1|p' "$OUT")
[ -n "$DIR" ] && DEMO_DIRS+=("$DIR")
lab_assert_eq "run 2 (--keep): exit status" 0 "$rc"
[ "$rc" -eq 0 ] || cat "$T/run2.err"
echo "info: run 2 (--keep) took $((took_ms / 1000)).$(printf '%03d' $((took_ms % 1000))) s up to its report"
lab_assert_match "run 2: says how to stop it" "^  $top_srcdir/tools/demo --stop /" \
    "$(grep -- '--stop' "$OUT")"
check_report "run 2"
B_SMTP_PORT=$(sed -n 's/^  gateway B  mx\.b\.test  Postfix 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$OUT")
lab_assert_eq "run 2: gateway B still answers" 0 "$(_lab_smtp_banner "$B_SMTP_PORT" "$GUARD"; echo $?)"
lab_assert_eq "run 2: processes of the lab are running" yes \
    "$([ -n "$(pids_of "$DIR")" ] && echo yes || echo no)"
t0=$(date +%s%N)
"$DEMO" --stop "$DIR" >"$T/stop.out" 2>&1
rc=$?
echo "info: tools/demo --stop took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
lab_assert_eq "tools/demo --stop: exit status" 0 "$rc"
lab_assert_eq "tools/demo --stop: says so" \
    "tools/demo: lab in $DIR stopped; its logs stay there (rm -rf $DIR)" "$(cat "$T/stop.out")"
none_left "$DIR"
lab_assert_eq "after --stop nothing of the lab is left running" "" "$(pids_of "$DIR" | tr '\n' ' ')"
for log in milterA/milter.log milterB/milter.log componentA/component.log componentB/component.log; do
    lab_assert_eq "$log: counters logged at stop" 1 "$(grep -c 'stats: reason=stop ' "$DIR/$log")"
done
if lab_finish; then
    for dir in "${DEMO_DIRS[@]}"; do rm -rf "$dir"; done
    exit 0
fi
echo "the demo's logs are kept in: ${DEMO_DIRS[*]}"
exit 1
