#!/bin/bash
# tests/integration/test_notify.sh -- s8 delivery-progress
# notices end to end, and the RFC 7259 Jabber-ID.
#
# A real Postfix (mx.b.test) with the real xsmtp-milter (on_fail = reject,
# add_jabber_id = true, notify.enabled with d.test excluded), a real
# Prosody, the real xsmtp-component for a.test and d.test, and Redis.
# alice@a.test is logged in with tests/integration/notify_listener.py (slixmpp).
#   - a verified message from alice reaches b.test: alice gets exactly one
#     headline from xsmtp.a.test, exact body and <progress/> attributes;
#   - a forged one (rejected), a permerror and an unsigned one: no notice;
#   - a pass from an excluded domain (d.test): no notice;
#   - notify.enabled = false after a reload: no notice;
#   - Prosody paused: a cached pass is still accepted at once (the notice
#     waits on the queue, never the message) and the headline arrives after
#     Prosody resumes; Prosody stopped: accepted, the notice counted unsent;
#   - Jabber-ID: alice@a.test added at the end of the header on a pass only;
#     every Jabber-ID the sender wrote is deleted, on every verdict.
# Needs root (Postfix), prosody, redis-server, smtp-sink, openssl and
# /usr/bin/python3 with slixmpp (Debian python3-slixmpp).
#
# Timing: other jobs may share this machine's cores, so no check assumes
# speed.  Waits poll for the condition (a log line, a delivery) with
# generous limits.  That no wrong notice was sent is settled by order, not
# by waiting a while: the milter sends notices over one stream, in order,
# so once the headline of the paused-Prosody message has arrived every
# notice queued before it has arrived too.  The SMTP transaction time with
# Prosody paused is printed, not bounded: what is checked is that the 250
# came while Prosody was still stopped, and the headline only after.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/postfix.sh"
source "$top_srcdir/tests/lab/prosody.sh"
source "$top_srcdir/tests/lab/redis.sh"
source "$top_srcdir/tests/lab/gateway.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root (a private Postfix)"
    exit 77
fi
for tool in prosody redis-server openssl smtp-sink; do
    command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
/usr/bin/python3 -c 'import slixmpp' 2>/dev/null || { echo "SKIP: needs python3-slixmpp"; exit 77; }
for bin in milter/xsmtp-milter xmpp/xsmtp-component; do
    [ -x "$top_builddir/$bin" ] || { echo "no $bin: build it first"; exit 99; }
done

lab_init notify
D=$LAB_DIR
gw_start_xmpp || { echo "XMPP side did not start"; exit 99; }
lab_start_redis R || exit 99
gw_start_milter N '    on_fail = reject
    add_jabber_id = true' '    enabled = true
    exclude_domains = { "D.Test" }' || exit 99
gw_start_postfix "inet:127.0.0.1:$N_PORT" || exit 99

/usr/bin/python3 "$top_srcdir/tests/integration/notify_listener.py" --port "$PROSODY_C2S_PORT" \
    --jid alice@a.test/phone --password "$GW_ALICE_PASSWORD" >"$D/alice.out" 2>"$D/alice.err" &
lab_track_pid $!
lab_wait_log "$D/alice.out" '^ready$' 60 || { cat "$D/alice.err"; exit 99; }

# headlines: alice's lines so far, "ready" left out.
headlines() { grep -v '^ready$' "$D/alice.out"; }
# expected_headline MSGID STATUS T: the exact line for a notice sent at T.
expected_headline() {
    printf 'headline from=xsmtp.a.test to=alice@a.test type=headline body="Your message <%s> was %s by b.test at %s." progress=by=b.test,identity=alice@a.test,message-id=%s,status=%s,t=%s children=0' \
        "$1" "$2" "$(date -u -d "@$3" +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$3"
}
# t_of LINE: the t= of a headline line.
t_of() { sed -n 's/.*,t=\([0-9]*\) children=.*/\1/p' <<<"$1"; }
counters() { grep "verifier: verified=" "$N_LOG" | tail -1 | sed 's/^.*verifier: //'; }
# wait_lines FILE REGEX COUNT SECONDS: until more than COUNT lines match.
wait_lines() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        [ "$(grep -Ec -- "$2" "$1")" -gt "$3" ] && return 0
        sleep 0.1
    done
    echo "no more than $3 lines match /$2/ in $1 after $4 s" >&2
    return 1
}
FORWARDED='notice from b.test forwarded to alice@a.test'

# ---- one verified message, three that are not, one excluded ----------------------------
gw_message pass pass 'Jabber-ID: alice@chat.example'
gw_message fail fail 'Jabber-ID: alice@a.test'
gw_message permerror permerror 'Jabber-ID: alice@a.test'
gw_message none none 'Jabber-ID: mallory@evil.example' 'jabber-id: alice@a.test'
gw_message excluded pass:alice@d.test
t_before=$(date +%s)
sent=$(gw_send pass fail permerror none excluded)
t_after=$(date +%s)
lab_assert_eq "Postfix: the forged message rejected (on_fail = reject), the rest accepted" \
    "pass 250
fail 550
permerror 250
none 250
excluded 250" "$sent"
lab_wait_log "$D/alice.out" '^headline ' 60
gw_wait_delivered 4 60
# The component logs after sending: wait for its line too.
wait_lines "$LAB_DIR/component.log" "$FORWARDED" 0 60
# A wrong notice arriving later is caught by the count after the paused
# message (see the top).
line=$(headlines)
t=$(t_of "$line")
lab_assert_eq "alice got exactly one headline: accepted, exact body and <progress/>" \
    "$(expected_headline "$(gw_msgid pass)" accepted "$t")" "$line"
lab_assert_eq "its t is the verifier's clock when the message was accepted" yes \
    "$([ -n "$t" ] && [ "$t" -ge "$t_before" ] && [ "$t" -le "$t_after" ] && echo yes || echo "no: $t")"
lab_assert_match "milter log: the pass queued an accepted notice" \
    "verdict=pass identity=alice@a.test .* action=accept notice=accepted \(queued\)$" \
    "$(grep "verdict=pass identity=alice@a.test" "$N_LOG" | head -1)"
lab_assert_eq "milter log: no notice for fail, permerror, none or the excluded d.test" 0 \
    "$(grep "verified verdict=" "$N_LOG" | grep -v "verdict=pass identity=alice@a.test" |
       grep -c ' notice=')"
lab_assert_eq "component: one notice forwarded to alice" 1 \
    "$(grep -c 'notice from b.test forwarded to alice@a.test' "$LAB_DIR/component.log")"

# ---- Jabber-ID (RFC 7259) -------------------------------------------------------------------
jabber_ids() { gw_delivered "$1" | sed '/^$/q' | grep -i '^Jabber-ID:'; }
lab_assert_eq "pass: exactly our Jabber-ID, the sender's own one deleted" \
    "Jabber-ID: alice@a.test" "$(jabber_ids pass)"
lab_assert_eq "pass: Jabber-ID is the last header line" "Jabber-ID: alice@a.test" \
    "$(gw_delivered pass | sed '/^$/q' | sed '/^$/d' | tail -1)"
lab_assert_eq "pass from d.test: its own identity" "Jabber-ID: alice@d.test" \
    "$(jabber_ids excluded)"
lab_assert_eq "permerror: no Jabber-ID left" "" "$(jabber_ids permerror)"
lab_assert_eq "none: neither Jabber-ID left (name in any case)" "" "$(jabber_ids none)"
lab_assert_eq "the forged message was not delivered" "" "$(gw_delivered fail)"

# ---- notify.enabled = false ------------------------------------------------------------------
sed -i 's/^    enabled = true$/    enabled = false/' "$N_CONF"
kill -HUP "$N_PID"
lab_wait_log "$N_LOG" "reload ok: configuration generation 2" 60
gw_message off pass
lab_assert_eq "notify off: accepted" "off 250" "$(gw_send off)"
gw_wait_delivered 5 60
lab_assert_eq "notify off: still one headline" 1 "$(headlines | wc -l)"
lab_assert_match "notify off: no notice in the log line" "action=accept$" \
    "$(grep "verdict=pass" "$N_LOG" | tail -1)"
sed -i 's/^    enabled = false$/    enabled = true/' "$N_CONF"
kill -HUP "$N_PID"
lab_wait_log "$N_LOG" "reload ok: configuration generation 3" 60

# ---- Prosody paused: the message does not wait for the notice ----------------------------
cp "$GW_MSG/pass.eml" "$GW_MSG/paused.eml"
sed -i 's/^Subject: gw pass\r$/Subject: gw paused\r/' "$GW_MSG/paused.eml"
# state_of PID: the process state letter (T when stopped).
state_of() { sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null; }
kill -STOP "$PROSODY_PID"
start=$(date +%s%N)
sent=$(gw_send paused)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
t_paused=$(date +%s)
prosody_state=$(state_of "$PROSODY_PID")
echo "info: SMTP transaction of a verified message with Prosody paused: $elapsed_ms ms"
lab_assert_eq "Prosody paused: the cached pass is accepted" "paused 250" "$sent"
# Nothing can come back from a stopped Prosody, so a 250 received before it
# resumes was not waiting for the notice to get through (the time it took
# is printed above, not bounded).
lab_assert_eq "Prosody paused: the 250 came while Prosody was still stopped" "T" "$prosody_state"
lab_assert_match "Prosody paused: from the cache, notice queued" \
    "cached=yes .*action=accept notice=accepted \(queued\)$" "$(grep "verdict=pass" "$N_LOG" | tail -1)"
# Keep Prosody stopped until the clock is past the second of acceptance, so
# a t taken when the notice is sent would differ from the one checked below.
while [ "$(date +%s)" -le "$t_paused" ]; do sleep 0.1; done
lab_assert_eq "Prosody paused: no headline yet" 1 "$(headlines | wc -l)"
kill -CONT "$PROSODY_PID"
lab_wait_log "$D/alice.out" "message-id=$(gw_msgid pass),status=accepted,t=[0-9]+ children=0" 60
wait_lines "$D/alice.out" '^headline ' 1 60
second=$(headlines | sed -n 2p)
lab_assert_eq "after Prosody resumed, alice got the queued headline" \
    "$(expected_headline "$(gw_msgid pass)" accepted "$(t_of "$second")")" "$second"
lab_assert_eq "its t is when the message was accepted, not when it was sent" yes \
    "$([ "$(t_of "$second")" -le "$t_paused" ] && echo yes || echo no)"
# Every notice queued before this one has arrived by now (one stream, in
# order): the first message's is the only other.
lab_assert_eq "alice got exactly two headlines in all (none for fail, permerror, none, d.test or notify off)" \
    2 "$(headlines | wc -l)"
wait_lines "$LAB_DIR/component.log" "$FORWARDED" 1 60
lab_assert_eq "component: two notices forwarded to alice in all" 2 \
    "$(grep -c "$FORWARDED" "$LAB_DIR/component.log")"

# ---- Prosody stopped: accepted, notice counted as unsent ---------------------------------------
# Wait until the milter's client has seen the stream end: it logs the next
# attempt once the link is marked down.
retries_before=$(grep -c "xmpp: next connection attempt" "$N_LOG")
lab_stop_prosody
wait_lines "$N_LOG" "xmpp: next connection attempt" "$retries_before" 60
cp "$GW_MSG/pass.eml" "$GW_MSG/down.eml"
sed -i 's/^Subject: gw pass\r$/Subject: gw down\r/' "$GW_MSG/down.eml"
lab_assert_eq "Prosody stopped: the cached pass is accepted" "down 250" "$(gw_send down)"
lab_assert_match "Prosody stopped: the notice is not sent, and says why" \
    "notice=accepted \(not sent: no XMPP session\)$" "$(grep "verdict=pass" "$N_LOG" | tail -1)"
gw_wait_delivered 7 60
lab_assert_eq "every accepted message delivered once" 7 "$(lab_sink_count SINK)"

kill -TERM "$N_PID"
wait "$N_PID"
lab_assert_eq "milter: exit status 0 after SIGTERM" 0 "$?"
lab_assert_match "milter counters: 2 queued, none dropped, 1 unsent" \
    " notices_queued=2 notices_dropped=0 notices_unsent=1$" "$(counters)"
lab_assert_eq "milter log: no error" "" "$(grep -E ': (err|crit|alert|emerg):' "$N_LOG" | head -3)"
echo "info: $(counters)"
lab_finish
