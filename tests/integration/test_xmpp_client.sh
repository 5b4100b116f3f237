#!/bin/bash
# tests/integration/test_xmpp_client.sh -- the verifier's XMPP client (xmpp/client/client.h)
# against a real Prosody and the real xsmtp-component.
#
# A private Prosody (a.test, b.test, c.test; components xsmtp.a.test,
# conference.a.test and muc.b.test) and xsmtp-component for a.test; the
# client logs in as milter@b.test/gw1 through tests/integration/xclient_probe, which
# reads one command per line and prints one line per command.  Checked:
# discovery (found / none / temporary), verify answers mapped to s7 classes,
# markup in values arriving byte-exact (the MAC is computed here with
# openssl), 1,000 pipelined queries from 20 threads, deadlines, stop and
# loss of the stream with queries in flight, reconnection, notices, and
# STARTTLS (required with a CA file; wrong CA, no TLS offered: no login).
# Prints "N passed, N failed".
#
# Timing: other jobs may share this machine's cores, so no check assumes
# speed.  Latencies and throughputs are printed as "info:" lines; the checks
# are on verdicts, counts and order.  The few time bounds that remain are
# tied to a deadline the test configured (a call's deadline, the keep-alive
# settings) with a margin of whole seconds; waits poll for a condition.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/prosody.sh"

PROBE_BIN=$top_builddir/tests/integration/xclient_probe
COMPONENT=$top_builddir/xmpp/xsmtp-component
if ! lab_prosody_available || ! command -v openssl >/dev/null; then
    echo "SKIP: needs prosody and openssl"
    exit 77
fi
for bin in "$PROBE_BIN" "$COMPONENT"; do
    [ -x "$bin" ] || { echo "no $bin: build it first (make check builds both)"; exit 99; }
done

lab_init xmpp-client
D=$LAB_DIR

# ---- keys and MACs (openssl only) -------------------------------------------
S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=   # XSMTP-1 s3 vector key
mac() {   # SECRET_B64 IDENTITY MSGID FROM T IP BH K
    local hex
    hex=$(printf '%s' "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    printf 'xsmtp-1\nidentity:%s\nmessage-id:%s\nfrom:%s\ntime:%s\nip:%s\nbody-hash:%s\nkey:%s\n' \
        "$2" "$3" "$4" "$5" "$6" "$7" "$8" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary | base64
}
V1_ID=alice@a.test V1_MSGID=20261122.abc@a.test V1_FROM=alice@a.test V1_T=1795000000
V1_IP=192.0.2.10 V1_BH=E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=
V1_H=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=
lab_assert_eq "openssl helper reproduces XSMTP-1 vector 1" "$V1_H" \
    "$(mac "$S1" $V1_ID $V1_MSGID $V1_FROM $V1_T $V1_IP $V1_BH s1)"
printf 's1  %s  *@a.test\n' "$S1" >"$D/keys"
chmod 600 "$D/keys"

# %XX-escapes everything but letters, digits and . @ / + = - _ (probe syntax).
esc() {
    local LC_ALL=C s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $c =~ [A-Za-z0-9.@/+=_-] ]]; then out+=$c; else out+=$(printf '%%%02X' "'$c"); fi
    done
    printf '%s' "$out"
}

# ---- Prosody, accounts, component ----------------------------------------------
SECRET=$(openssl rand -hex 24)
sed "s/change-me-to-a-long-random-secret/$SECRET/" \
    "$top_srcdir/etc/prosody/xsmtp.cfg.lua" >"$D/xsmtp.cfg.lua"
cat >"$D/extra.cfg.lua" <<EOF
-- c.test: a host without components; two MUC services without urn:xmpp:xsmtp:1
VirtualHost "c.test"
Component "conference.a.test" "muc"
Component "muc.b.test" "muc"
EOF
lab_start_prosody "$D/xsmtp.cfg.lua" "$D/extra.cfg.lua" || exit 99
lab_prosody_register milter b.test milterpw || exit 99
printf '%s\n' "$SECRET" >"$D/secret"
printf 'milterpw\n' >"$D/password"
chmod 600 "$D/secret" "$D/password"
cat >"$D/component.conf" <<EOF
log_level = "info"
component {
  jid = "xsmtp.a.test"
  server = "127.0.0.1"
  port = $PROSODY_COMPONENT_PORT
  secret_file = "$D/secret"
  keys = "$D/keys"
  domains = { "a.test" }
  # vector 1 has a fixed t (2026-11-18): a wide window keeps it valid
  max_age = "3650d"
  rate_per_domain = 100000
  burst = 5000
}
EOF
COMP_PID=""
start_component() {
    "$COMPONENT" -f -c "$D/component.conf" >>"$D/component.log" 2>&1 &
    COMP_PID=$!
    lab_track_pid "$COMP_PID"
}
start_component
lab_wait_log "$D/component.log" "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" 60 || exit 99

# ---- the probe (one at a time, as a coprocess) -------------------------------------
PROBE_PID=""
probe_start() {   # NAME [OPTIONS...]: a new probe process (the client is not started)
    local name=$1
    shift
    coproc PROBE { exec "$PROBE_BIN" --jid milter@b.test/gw1 --server 127.0.0.1 \
        --port "$PROSODY_C2S_PORT" "$@" 2>>"$D/probe-$name.log"; }
    lab_track_pid "$PROBE_PID"
    ask "$V1_SET"
}
ANSWER=""
ask() {
    printf '%s\n' "$1" >&"${PROBE[1]}"
    IFS= read -r -t 120 ANSWER <&"${PROBE[0]}" || ANSWER="<no answer>"
}
check() {   # NAME EXPECTED COMMAND
    ask "$3"
    lab_assert_eq "$1" "$2" "$ANSWER"
}
check_match() {   # NAME REGEX COMMAND
    ask "$3"
    lab_assert_match "$1" "$2" "$ANSWER"
}
probe_quit() {
    printf 'quit\n' >&"${PROBE[1]}"
    wait "$PROBE_PID" 2>/dev/null
}
stat_of() {   # FIELD: from the last "stats" answer
    sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$ANSWER"
}
ms_of() {     # FIELD: a decimal number from the last answer
    sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$ANSWER"
}
below() {     # A B: A < B (decimals)
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}
# Deadline of a call that is expected to be answered: long, so that load can
# only make an answer slower, never turn it into a timeout.
T=10000
# Per-call deadline in the pipelined runs (hundreds of calls queue up at once).
LOAD_MS=30000
# How long to wait for a session: the client gives up a handshake after 30 s
# (CLIENT_HANDSHAKE_TIMEOUT_S), so this covers a whole attempt.
SESSION_MS=35000
# Polls "stats" (every 0.1 s, at most 60 s) until the shell condition COND is
# true with $ANSWER holding the last stats line; stat_of reads it.
stats_until() {   # COND
    local i
    for ((i = 0; i < 600; i++)); do
        ask stats
        eval "$1" && return 0
        sleep 0.1
    done
    echo "stats_until: gave up after 60 s waiting for: $1 (last: $ANSWER)" >&2
    return 1
}
# The component's counters: SIGUSR1 makes it log one "stats:" line; waits for
# that new line (at most 60 s) and puts it in COMP_STATS.
COMP_STATS=""
component_stats() {
    local before i
    before=$(grep -c "stats:" "$D/component.log")
    kill -USR1 "$COMP_PID"
    for ((i = 0; i < 600; i++)); do
        if [ "$(grep -c "stats:" "$D/component.log")" -gt "$before" ]; then
            COMP_STATS=$(grep "stats:" "$D/component.log" | tail -1)
            return 0
        fi
        sleep 0.1
    done
    COMP_STATS="<no stats line after SIGUSR1>"
    return 1
}
V1_SET="set identity=$V1_ID message-id=$V1_MSGID from=$V1_FROM t=$V1_T ip=$V1_IP k=s1 bh=$V1_BH h=$V1_H"

# ---- start-up checks -----------------------------------------------------------------
cp "$D/password" "$D/password.open" && chmod 640 "$D/password.open"
probe_start refused --password-file "$D/password.open" --tls optional
check_match "a group-readable password file is refused" "^start bad-permissions: xmpp.password_file: " "start"
probe_quit
"$PROBE_BIN" --jid milter@b.test --password-file "$D/password" <<<"start" >"$D/nojid.out" 2>&1
lab_assert_match "a JID without resource is refused" "^start malformed: xmpp.jid: " \
    "$(grep '^start' "$D/nojid.out")"

# ---- plain c2s (tls = optional: this Prosody offers no STARTTLS) ---------------------
probe_start plain --password-file "$D/password" --tls optional
check "client starts" "start ok" "start"
check "session established" "connected" "connected $SESSION_MS"

check "discovery: a.test -> xsmtp.a.test (conference.a.test skipped)" "found xsmtp.a.test items=2" \
    "discover a.test $T"
check "discovery: uppercase domain" "found xsmtp.a.test items=2" "discover A.TEST $T"
check "discovery: b.test has only a MUC -> none" "none no-feature items=1" "discover b.test $T"
check "discovery: c.test has no items -> none" "none no-items items=0" "discover c.test $T"
check "discovery: a domain this server cannot reach -> none (not-allowed)" \
    "none not-allowed items=0" "discover d.test $T"
check "discovery: malformed domain refused" "status malformed" "discover a_b.test $T"

check "verify: XSMTP-1 vector 1 passes" "pass" "verify xsmtp.a.test $T"
check "verify: component JID compared without case" "pass" "verify XSMTP.A.Test $T"
check "verify: forged h -> fail bad-hash" "fail bad-hash" \
    "verify xsmtp.a.test $T h=NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="
check "verify: unknown key -> fail unknown-key" "fail unknown-key" "verify xsmtp.a.test $T k=nokey"
check "verify: foreign identity -> permerror item-not-found" "permerror item-not-found" \
    "verify xsmtp.a.test $T identity=carol@c.test"
check "verify: malformed t -> permerror bad-request" "permerror bad-request" \
    "verify xsmtp.a.test $T t=01795000000"
check "verify: host without a verify handler -> permerror service-unavailable" \
    "permerror service-unavailable" "verify c.test $T"
check "verify: no such component on this server -> permerror not-allowed" \
    "permerror not-allowed" "verify nothing.a.test $T"
HOSTILE_MSGID="<a'b\"c>&d;e <x@a.test>"
HOSTILE_H=$(mac "$S1" $V1_ID "$HOSTILE_MSGID" $V1_FROM $V1_T $V1_IP $V1_BH s1)
check "verify: message-id with ' \" < > & arrives byte-exact (MAC by openssl)" "pass" \
    "verify xsmtp.a.test $T message-id=$(esc "$HOSTILE_MSGID") h=$(esc "$HOSTILE_H")"
check "verify: the same hostile message-id with the vector's h -> bad-hash" "fail bad-hash" \
    "verify xsmtp.a.test $T message-id=$(esc "$HOSTILE_MSGID")"
UTF8_MSGID=$(printf 'caf\xc3\xa9.\xe2\x82\xac@a.test')
check "verify: UTF-8 message-id arrives byte-exact" "pass" \
    "verify xsmtp.a.test $T message-id=$(esc "$UTF8_MSGID") h=$(esc "$(mac "$S1" $V1_ID "$UTF8_MSGID" $V1_FROM $V1_T $V1_IP $V1_BH s1)")"
check "verify: relay attribute sent (component has no relay list) -> pass" "pass" \
    "verify xsmtp.a.test $T relay=198.51.100.7"
check "verify: control character refused before sending" "status malformed (permerror bad-query)" \
    "verify xsmtp.a.test $T message-id=a%01b"
check "verify: tab refused (XML would turn it into a space)" \
    "status malformed (permerror bad-query)" "verify xsmtp.a.test $T message-id=a%09b"
check "verify: invalid UTF-8 refused" "status malformed (permerror bad-query)" \
    "verify xsmtp.a.test $T message-id=a%FFb"
check "verify: missing attribute refused" "status malformed (permerror bad-query)" \
    "verify xsmtp.a.test $T bh="
check "verify: malformed component JID refused" "status malformed (permerror bad-query)" \
    "verify alice@a.test $T"
check "still answering after the refused queries" "pass" "verify xsmtp.a.test $T"

ask "rtt 500 xsmtp.a.test $T"
lab_assert_match "500 sequential queries all pass, each answer and each pick-up measured" \
    "^rtt n=500 pass=500 rtt_us n=500 .* pickup_us n=500 " "$ANSWER"
echo "info: sequential, plain: $ANSWER"
# The pick-up delay is load-dependent (printed above).  What is checked is
# that requests wake the XMPP thread at all: without the wake-up a request
# waits until the thread's poll() times out, which in a plain session is
# capped at 20 ms (WAIT_CAP_PLAIN_MS), so the median would be near 20 ms.
# With the wake-up it is some microseconds; a median under half the cap
# holds even when every other wake-up is late.
pickup_p50=$(sed -n 's/.*pickup_us n=[0-9]* p50=\([0-9]*\) .*/\1/p' <<<"$ANSWER")
lab_assert_eq "requests wake the XMPP thread: median pick-up under half its 20 ms poll cap (${pickup_p50:-?} us)" \
    "yes" "$([ -n "$pickup_p50" ] && [ "$pickup_p50" -lt 10000 ] && echo yes || echo no)"
ask "load 1000 20 xsmtp.a.test $LOAD_MS"
lab_assert_match "1,000 pipelined queries from 20 threads all pass" "^load n=1000 pass=1000 seconds=" \
    "$ANSWER"
echo "info: pipelined, plain: $ANSWER"
ask "load 4000 200 xsmtp.a.test $LOAD_MS"
lab_assert_match "4,000 queries from 200 threads all pass" "^load n=4000 pass=4000 seconds=" "$ANSWER"
echo "info: pipelined, plain: $ANSWER"
ask stats
lab_assert_match "counters: one session, no timeouts, nothing lost" \
    "^stats connected=1 connects=1 disconnects=0 connect_failures=0 .* timeouts=0 failed_disconnected=0 overloaded=0 " \
    "$ANSWER"
lab_assert_eq "counters: every query sent was answered" "$(stat_of queries)" "$(stat_of answers)"

# ---- notices (s8) ------------------------------------------------------------------------
check "notice queued" "notice ok" \
    "notice xsmtp.a.test alice@a.test 20261122.abc@a.test accepted b.test 1795356007"
check "notice with markup in the message-id queued" "notice ok" \
    "notice xsmtp.a.test alice@a.test $(esc "a<&>\"'b@x") accepted b.test 1795356007"
check "notice with a control character refused" "notice malformed" \
    "notice xsmtp.a.test alice@a.test a%0Ab accepted b.test 1795356007"
# Notices are queued and sent by the client's thread: ask the component for
# its counters until both have arrived (or 60 s have passed).
for _ in $(seq 1 60); do
    component_stats || break
    [[ $COMP_STATS == *" notices.forwarded=2 "* ]] && break
    sleep 1
done
lab_assert_match "component forwarded both notices (markup intact, else it drops them)" \
    "notices.forwarded=2 .*notices.dropped.malformed=0 " "$COMP_STATS"

# ---- deadlines: the component hangs (SIGSTOP) ---------------------------------------------
ask stats
ignored_before=$(stat_of ignored)
kill -STOP "$COMP_PID"
ask "tverify xsmtp.a.test 300"
lab_assert_match "hung component: temperror timeout" "^temperror timeout elapsed_ms=" "$ANSWER"
elapsed=$(ms_of elapsed_ms)
echo "info: deadline 300 ms, the call returned after $elapsed ms"
# Not before the deadline (the probe starts its clock before computing it),
# and not much after it: 500 ms of margin for a busy machine.
lab_assert_eq "hung component: returned at its 300 ms deadline (300 <= elapsed < 800 ms)" "yes" \
    "$(below 299.9 "$elapsed" && below "$elapsed" 800 && echo yes || echo "no ($elapsed)")"
ask "load 40 20 xsmtp.a.test 500"
lab_assert_match "hung component: 40 queries from 20 threads all time out" \
    "^load n=40 temperror/timeout=40 seconds=" "$ANSWER"
kill -CONT "$COMP_PID"
# until the resumed component has answered all 41
stats_until '[ $(( $(stat_of ignored) - ignored_before )) -ge 41 ]'
lab_assert_eq "late answers of the resumed component are ignored (41 of them)" "41" \
    "$(( $(stat_of ignored) - ignored_before ))"
check "answers again after SIGCONT" "pass" "verify xsmtp.a.test $T"

# ---- max_pending, and stop with queries in flight --------------------------------------
kill -STOP "$COMP_PID"
check "restart the client with max_pending = 5" "stopped" "stop"
check "started" "start ok" "start max-pending=5"
check "connected" "connected" "connected $SESSION_MS"
# The first five take the slots and hold them until their deadline; it is
# long (5 s) so that however slowly the 20 threads get going, all of them
# have asked before a slot can come free again.  All calls share one
# deadline, so the five expire together and one reaper pass frees them all.
ask "load 20 20 xsmtp.a.test 5000 same-deadline"
lab_assert_match "over max_pending: refused at once as overloaded" \
    "^load n=20 temperror/overloaded=15 temperror/timeout=5 seconds=" "$ANSWER"
# The reaper (every 20 ms in the XMPP thread) frees the timed-out five.  A
# call whose deadline has already passed is refused without taking a slot:
# as "overloaded" while the slots are still held, as "timeout" once free.
slots_free=no
for _ in $(seq 1 600); do
    ask "verify xsmtp.a.test 0"
    [ "$ANSWER" = "temperror timeout" ] && { slots_free=yes; break; }
    sleep 0.1
done
lab_assert_eq "the reaper frees the slots of timed-out calls" "yes" "$slots_free"
# The probe stops the client once all five queries have been written.
ask "stopmid 5 xsmtp.a.test 5000"
lab_assert_match "stop with 5 queries in flight: all fail at once as disconnected" \
    "^stopmid temperror/disconnected=5 last_end_after_stop_ms=" "$ANSWER"
after=$(ms_of last_end_after_stop_ms)
echo "info: in-flight calls returned ${after} ms after xclient_stop()"
# "disconnected", not "timeout", already says the stop ended them; they must
# also have returned well before their 5 s deadline.
lab_assert_eq "stop: in-flight calls returned long before their deadline (< 2500 ms of 5000)" "yes" \
    "$(below "$after" 2500 && echo yes || echo "no ($after)")"
kill -CONT "$COMP_PID"
check "client started again" "start ok" "start notice-queue=4"
check "connected again" "connected" "connected $SESSION_MS"
check "answers after the restart" "pass" "verify xsmtp.a.test $T"
ask "notices 2000 xsmtp.a.test"
lab_assert_match "2,000 notices at once on a queue of 4: queued or dropped as full, none lost" \
    "^notices total=2000 ok_plus_full=2000 other=0 full=[1-9][0-9]*$" "$ANSWER"
full=${ANSWER##*full=}
ask stats
lab_assert_eq "notice counters: queued + dropped = 2,000" "2000 $full" \
    "$(( $(stat_of notices_queued) + $(stat_of notices_dropped) )) $(stat_of notices_dropped)"

# ---- Prosody killed with queries in flight, then back --------------------------------------
exec 3>&2 2>/dev/null    # keep bash's "Killed" job notice out of the output
ask "killmid $PROSODY_PID 9 20 xsmtp.a.test 10000"
wait "$PROSODY_PID"
exec 2>&3 3>&-
lab_assert_match "Prosody killed: all 20 callers fail as temperror disconnected" \
    "^killmid temperror/disconnected=20 last_end_after_signal_ms=" "$ANSWER"
after=$(ms_of last_end_after_signal_ms)
echo "info: callers with queries in flight returned ${after} ms after SIGKILL (deadline 10 s)"
lab_assert_eq "in-flight calls failed long before their deadline (< 5000 ms of 10000)" "yes" \
    "$(below "$after" 5000 && echo yes || echo "no ($after)")"
PROSODY_PID=""
ask "tverify xsmtp.a.test 5000"
lab_assert_match "stream down: a new call fails at once" "^temperror disconnected elapsed_ms=" "$ANSWER"
elapsed=$(ms_of elapsed_ms)
echo "info: stream down: a new call returned after $elapsed ms (deadline 5 s)"
lab_assert_eq "stream down: returned long before its deadline (< 2500 ms of 5000)" "yes" \
    "$(below "$elapsed" 2500 && echo yes || echo "no ($elapsed)")"
check "stream down: discovery fails at once as temporary" "tempfail disconnected" "discover a.test 5000"
check "stream down: notice dropped" "notice io-error" \
    "notice xsmtp.a.test alice@a.test m1 accepted b.test 1795356007"
# Keep Prosody down until the client has tried again and failed (its first
# retry comes after the 1 s backoff), so the reconnection below follows a
# failed attempt.
ask stats
failures_before=$(stat_of connect_failures)
stats_until '[ "$(stat_of connect_failures)" -gt "$failures_before" ]'
restart_start=$(date +%s.%N)
lab_start_prosody || exit 99
check_match "after Prosody's restart the client reconnects and passes again" "^reached after " \
    "until 60 xsmtp.a.test"
awk -v a="$restart_start" -v b="$(date +%s.%N)" \
    'BEGIN { printf "info: Prosody restart to first pass: %.2f s (both backoffs included)\n", b - a }'
ask stats
lab_assert_match "counters: one reconnect after the loss" "^stats connected=1 connects=2 disconnects=1 " \
    "$ANSWER"

# ---- component offline: discovery cannot tell ---------------------------------------------
kill -TERM "$COMP_PID"
wait "$COMP_PID" 2>/dev/null
check "component offline: verify -> temperror remote-server-timeout" \
    "temperror remote-server-timeout" "verify xsmtp.a.test $T"
check "component offline: discovery -> tempfail, not none" "tempfail remote-server-timeout" \
    "discover a.test $T"
start_component
check_match "component back: answers again" "^reached after " "until 60 xsmtp.a.test"
probe_quit

# ---- a silent server (SIGSTOP): the keep-alive ping declares the stream dead ---------------
probe_start keepalive --password-file "$D/password" --tls optional --keepalive-idle 1 \
    --keepalive-timeout 1
ask start
check "keep-alive client: connected" "connected" "connected $SESSION_MS"
check "keep-alive client: passes" "pass" "verify xsmtp.a.test $T"
kill -STOP "$PROSODY_PID"
ask "tverify xsmtp.a.test 30000"
lab_assert_match "silent server: the call fails as disconnected, not at its deadline" \
    "^temperror disconnected elapsed_ms=" "$ANSWER"
elapsed=$(ms_of elapsed_ms)
echo "info: silent server (idle 1 s + ping timeout 1 s): call failed after $elapsed ms (deadline 30 s)"
# The stream is declared dead at most idle (1 s) + ping timeout (1 s) after
# the last stanza; 2 s of margin for a busy machine, still far from 30 s.
lab_assert_eq "silent server: failed within keep-alive idle + timeout + 2 s (< 4000 ms)" "yes" \
    "$(below "$elapsed" 4000 && echo yes || echo "no ($elapsed)")"
kill -CONT "$PROSODY_PID"
check_match "silent server resumed: reconnects and passes" "^reached after " "until 60 xsmtp.a.test"
ask stats
lab_assert_match "keep-alive: one stream declared dead, one reconnect" \
    "^stats connected=1 connects=2 disconnects=1 " "$ANSWER"
probe_quit
lab_assert_match "keep-alive: the reason is logged" "no answer to a ping from the server" \
    "$(cat "$D/probe-keepalive.log")"
lab_assert_eq "no libstrophe errors in the plain run" "" \
    "$(grep -h 'libstrophe' "$D/probe-plain.log" | grep -v 'Connection refused' | head -3)"

# ---- STARTTLS --------------------------------------------------------------------------------
lab_prosody_make_cert "$D" lab a.test b.test c.test || exit 99
lab_prosody_make_cert "$D" other a.test b.test || exit 99
lab_stop_prosody
lab_prosody_set_tls "$D/lab.crt" "$D/lab.key"
lab_start_prosody || exit 99
logins() { grep -c "Authenticated as milter@b.test" "$PROSODY_LOG"; }

probe_start tls --password-file "$D/password" --tls required --ca-file "$D/lab.crt"
check "TLS required + CA file: starts" "start ok" "start"
check "TLS required + CA file: session" "connected" "connected $SESSION_MS"
check_match "TLS: passes (component reconnected)" "^reached after " "until 60 xsmtp.a.test"
check "TLS: discovery" "found xsmtp.a.test items=2" "discover a.test $T"
ask "rtt 500 xsmtp.a.test $T"
lab_assert_match "TLS: 500 sequential queries all pass" "^rtt n=500 pass=500 rtt_us n=500 " "$ANSWER"
echo "info: sequential, TLS: $ANSWER"
ask "load 1000 20 xsmtp.a.test $LOAD_MS"
lab_assert_match "TLS: 1,000 pipelined queries from 20 threads all pass" \
    "^load n=1000 pass=1000 seconds=" "$ANSWER"
echo "info: pipelined, TLS: $ANSWER"
probe_quit
grep -h "connected as" "$D/probe-tls.log" | sed 's/^/info: /'

logins_before=$(logins)
# Each refused case waits until the first attempt has ended (counted as a
# failure) before looking at the outcome, however long the handshake takes.
probe_start wrongca --password-file "$D/password" --tls required --ca-file "$D/other.crt"
ask start
stats_until '[ "$(stat_of connect_failures)" -ge 1 ]'
lab_assert_match "TLS with a certificate the CA file does not vouch for: attempt failed, no session" \
    "^stats connected=0 connects=0 disconnects=0 connect_failures=[1-9]" "$ANSWER"
check "... and calls fail at once" "temperror disconnected" "verify xsmtp.a.test $T"
probe_quit
probe_start systemca --password-file "$D/password" --tls optional
ask start
stats_until '[ "$(stat_of connect_failures)" -ge 1 ]'
lab_assert_match "tls = optional still verifies the certificate (self-signed: attempt failed, no session)" \
    "^stats connected=0 connects=0 disconnects=0 connect_failures=[1-9]" "$ANSWER"
probe_quit
lab_assert_eq "no login with an unverified certificate" "$logins_before" "$(logins)"

probe_start trust --password-file "$D/password" --tls required --trust
ask start
check "tls_trust = yes: session without verification" "connected" "connected $SESSION_MS"
check "tls_trust = yes: passes" "pass" "verify xsmtp.a.test $T"
probe_quit
lab_assert_match "tls_trust = yes logs a warning" "warning: xmpp.tls_trust = yes" \
    "$(cat "$D/probe-trust.log")"

lab_stop_prosody
lab_prosody_set_tls off
lab_start_prosody || exit 99
logins_before=$(logins)
probe_start notls --password-file "$D/password" --tls required --ca-file "$D/lab.crt"
ask start
stats_until '[ "$(stat_of connect_failures)" -ge 1 ]'
lab_assert_match "TLS required, server without STARTTLS: attempt failed, no session" \
    "^stats connected=0 connects=0 disconnects=0 connect_failures=[1-9]" "$ANSWER"
check "... and calls fail at once" "temperror disconnected" "verify xsmtp.a.test $T"
probe_quit
lab_assert_eq "TLS required, server without STARTTLS: never logged in in clear" "$logins_before" \
    "$(logins)"

lab_finish
