#!/bin/bash
# tests/integration/test_hostile_xmpp.sh -- hostile peers on the XMPP side,
# against a real Prosody.
#
# 1. A flood of verify queries at the real xsmtp-component from one domain
#    (2,000 at once from milter@b.test, rate 50/s, burst 50): the rate
#    limit holds (at most burst + rate * seconds pass, the rest get
#    wait/resource-constraint), and another domain (bob@a.test, 40 queries
#    during the flood) is still served, every query a pass.
# 2. The real xsmtp-milter against a lying component
#    (tests/integration/hostile_component.py, driven by tests/integration/miltertest/hostile.lua through
#    miltertest): answers from JIDs other than the one asked, with ids that
#    are not the query's, inside a <message/>, repeated after the query was
#    answered, or too late, never count: the verdict is the real answer, or
#    temperror at the deadline, never the forged pass.  The milter's debug
#    log must show each kind of answer ignored.
# Needs prosody, openssl, miltertest, redis-server and Debian's
# /usr/bin/python3 with python3-slixmpp.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/prosody.sh"
source "$top_srcdir/tests/lab/redis.sh"
source "$top_srcdir/tests/lab/xsmtp.sh"

MILTER=$top_builddir/milter/xsmtp-milter
COMPONENT=$top_builddir/xmpp/xsmtp-component
CLIENT=$top_srcdir/tests/integration/component_client.py
for tool in openssl miltertest redis-server; do
    command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
if ! lab_prosody_available || ! /usr/bin/python3 -c 'import slixmpp' 2>/dev/null; then
    echo "SKIP: needs prosody and python3-slixmpp"
    exit 77
fi
for bin in "$MILTER" "$COMPONENT"; do
    [ -x "$bin" ] || { echo "no $bin: build it first"; exit 99; }
done

lab_init hostile-xmpp
D=$LAB_DIR
S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=
lab_write_keys "$S1"
lab_start_xsmtp_prosody || exit 99
lab_prosody_register bob a.test bobpw || exit 99

# ---- 1. query flood from one domain --------------------------------------------------
RATE=50 BURST=50 FLOOD=2000 OTHER=40
lab_start_component --rate "$RATE" --burst "$BURST" || exit 99

# A fresh query with its MAC from openssl.
T=$(date +%s) BH=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
H=$(printf 'xsmtp-1\nidentity:alice@a.test\nmessage-id:flood@a.test\nfrom:alice@a.test\ntime:%s\nip:192.0.2.10\nbody-hash:%s\nkey:s1\n' \
        "$T" "$BH" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$S1" | base64 -d | od -An -v -tx1 | tr -d ' \n')" -binary |
    openssl base64 -A)
ATTRS="{\"identity\":\"alice@a.test\",\"message-id\":\"flood@a.test\",\"from\":\"alice@a.test\",\"t\":\"$T\",\"ip\":\"192.0.2.10\",\"k\":\"s1\",\"bh\":\"$BH\",\"h\":\"$H\"}"
client() {   # JID PASSWORD: one session reading commands on stdin
    timeout 120 /usr/bin/python3 "$CLIENT" --port "$PROSODY_C2S_PORT" --jid "$1" --password "$2" \
        --component xsmtp.a.test 2>>"$D/client.err"
}
# The other domain's client logs in first, then waits for the flood to begin.
{
    sleep 1.5
    for ((i = 0; i < OTHER; i++)); do echo "{\"op\":\"verify\",\"attrs\":$ATTRS}"; done
} | client bob@a.test bobpw >"$D/other.out" &
OTHER_PID=$!
flood_start=$(date +%s.%N)
echo "{\"op\":\"burst\",\"n\":$FLOOD,\"attrs\":$ATTRS}" | client milter@b.test milterpw >"$D/flood.out"
flood_end=$(date +%s.%N)
wait "$OTHER_PID"
flood=$(cat "$D/flood.out")
seconds=$(awk -v a="$flood_start" -v b="$flood_end" 'BEGIN { printf "%.2f", b - a }')
echo "info: flood of $FLOOD from b.test: $flood (in $seconds s, with login)"
passed=$(sed -n 's/^burst pass=\([0-9]*\) .*/\1/p' <<<"$flood")
limited=$(sed -n 's/.* resource-constraint=\([0-9]*\) .*/\1/p' <<<"$flood")
limit=$(awk -v b="$BURST" -v r="$RATE" -v s="$seconds" 'BEGIN { printf "%d", b + r * s + 1 }')
lab_assert_eq "flood: every query answered, none otherwise" "$FLOOD other=0" \
    "$((passed + limited)) $(grep -o 'other=[0-9]*' <<<"$flood")"
lab_assert_eq "flood: at most burst + rate x seconds passed ($limit)" yes \
    "$([ -n "$passed" ] && [ "$passed" -le "$limit" ] && [ "$passed" -ge "$BURST" ] && echo yes)"
lab_assert_eq "flood: the rest got resource-constraint" yes \
    "$([ -n "$limited" ] && [ "$limited" -ge $((FLOOD - limit)) ] && echo yes)"
lab_assert_eq "another domain served during the flood: $OTHER passes" "$OTHER" \
    "$(grep -c '^result pass$' "$D/other.out")"
kill -TERM "$COMP_PID"
wait "$COMP_PID" 2>/dev/null

# ---- 2. a lying component and the real milter -------------------------------------------
/usr/bin/python3 "$top_srcdir/tests/integration/hostile_component.py" --port "$PROSODY_COMPONENT_PORT" \
    --secret "$SECRET" >"$D/liar.out" 2>"$D/liar.err" &
lab_track_pid $!
lab_wait_log "$D/liar.out" "^connected" 10 || { cat "$D/liar.err"; exit 99; }
lab_start_redis R || exit 99
lab_write_verify_milter_conf "unix:$D/milter.sock" 'log_level = debug
verify {
    timeout_ms = 1000
    components = { "a.test=xsmtp.a.test" }
}'
lab_start_verify_milter "unix:$D/milter.sock" "$D/milter.log" || exit 99

XSMTP_MILTER_SOCKET="unix:$D/milter.sock" XSMTP_LUA_LIB="$top_srcdir/tests/integration/miltertest/lib.lua" \
XSMTP_RUN="$(date +%s)" miltertest -s "$top_srcdir/tests/integration/miltertest/hostile.lua" >"$D/hostile.out" 2>&1
rc=$?
cat "$D/hostile.out"
lab_assert_eq "miltertest hostile.lua exit code" 0 "$rc"
lab_assert_eq "hostile.lua reported no failure" "" "$(grep '^FAIL' "$D/hostile.out")"
lab_assert_eq "the component saw every query" 8 "$(grep -c '^query ' "$D/liar.out")"
log=$(cat "$D/milter.log")
# Per spoof/silent query: two answers from other JIDs, one unknown and one
# foreign id; spoof's repeat and each reuse: an id answered already; the
# late pass: after the deadline (or, once reaped, no longer pending).
lab_assert_eq "ignored: answers not from the JID asked (2 x 3 queries)" 6 \
    "$(grep -c 'answer ignored (not from the JID asked)' <<<"$log")"
lab_assert_eq "ignored: ids of ours not pending or past the deadline (2 x 2 + 1 + 1 + 1 + 1)" 8 \
    "$(grep -cE 'answer ignored \((no such query pending|after the deadline)\)' <<<"$log")"
lab_assert_eq "ignored: ids that are not ours (3)" 3 \
    "$(grep -c "answer ignored (not one of our ids): id 'evil-" <<<"$log")"
lab_assert_eq "milter: no pass for a lied-about message" 2 \
    "$(grep -c ': verified verdict=pass ' <<<"$log")"
lab_assert_eq "milter: the stream stayed up" 1 "$(grep -c 'XMPP session up' <<<"$log")"
lab_assert_eq "milter: no error logged" "" "$(grep -E ': (err|crit|alert|emerg):' <<<"$log" | head -3)"
lab_finish
