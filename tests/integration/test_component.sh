#!/bin/bash
# tests/integration/test_component.sh -- xsmtp-component against a real Prosody.
#
# Starts a private Prosody (a.test, b.test, component xsmtp.a.test declared
# with etc/prosody/xsmtp.cfg.lua), registers milter@b.test and alice@a.test,
# runs xsmtp-component from a test configuration and key table, and drives
# it with tests/integration/component_client.py (Debian's python3-slixmpp, an XMPP
# implementation independent of ours).  Every expected MAC is computed here
# with openssl, never with xsmtp's code.  Prints "N passed, N failed".
#
# Needs: prosody, /usr/bin/python3 with slixmpp (package python3-slixmpp),
# openssl.  Skips (77) when one is missing.
#
# Timing: other jobs may share this machine's cores, so no check assumes
# speed.  Waits poll for a log line or counter with generous limits; the
# rate-limit checks allow exactly the tokens the configured rate adds over
# the time the burst took as measured (normally well under 1 s: none).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/prosody.sh"

COMPONENT=$top_builddir/xmpp/xsmtp-component
CLIENT=$top_srcdir/tests/integration/component_client.py
if ! lab_prosody_available || ! /usr/bin/python3 -c 'import slixmpp' 2>/dev/null ||
   ! command -v openssl >/dev/null; then
    echo "SKIP: needs prosody, python3-slixmpp and openssl"
    exit 77
fi
[ -x "$COMPONENT" ] || { echo "no $COMPONENT: build it first"; exit 99; }

lab_init component
D=$LAB_DIR

# ---- keys and MACs (openssl only) ----------------------------------------
S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=   # XSMTP-1 s3 vector key
ALICE_KEY=$(openssl rand -base64 32)
S0=$(openssl rand -base64 32)
S2=$(openssl rand -base64 32)
# mac SECRET_B64 IDENTITY MSGID FROM T IP BH K
mac() {
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

write_keys() {   # FILE [extra line]
    {
        echo "# test key table"
        echo "s1          $S1   *@a.test"
        echo "alice-2026  $ALICE_KEY   alice@a.test"
        echo "s0          $S0   *@a.test   revoked"
        [ $# -gt 1 ] && echo "$2"
    } >"$1"
    chmod 600 "$1"
}
write_keys "$D/keys"

# ---- JSON for the client ---------------------------------------------------
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
# attrs KEY VALUE ... -> {"KEY":"VALUE",...}
attrs() {
    local out="{" sep=""
    while [ $# -ge 2 ]; do
        out+="$sep$(json_str "$1"):$(json_str "$2")"
        sep=","
        shift 2
    done
    printf '%s}' "$out"
}
# v1attrs [KEY VALUE ...]: vector 1's attributes, with overrides; a value of
# "-" removes the attribute.
v1attrs() {
    local -A a=([identity]=$V1_ID [message-id]=$V1_MSGID [from]=$V1_FROM [t]=$V1_T
                [ip]=$V1_IP [k]=s1 [bh]=$V1_BH [h]=$V1_H)
    local args=() key
    while [ $# -ge 2 ]; do
        if [ "$2" = "-" ]; then unset "a[$1]"; else a[$1]=$2; fi
        shift 2
    done
    for key in identity message-id from t ip k bh h relay; do
        [ -n "${a[$key]+set}" ] && args+=("$key" "${a[$key]}")
    done
    attrs "${args[@]}"
}

# Cases: NAMES/EXPECT/COMMANDS arrays; run_cases feeds one client session.
NAMES=() EXPECT=() COMMANDS=()
add_case() { NAMES+=("$1"); EXPECT+=("$2"); COMMANDS+=("$3"); }
verify_case() { add_case "$1" "$2" "{\"op\":\"verify\",\"attrs\":$3}"; }
ANSWERS=()
run_cases() {   # [--alice]
    local extra=() i
    [ "${1:-}" = "--alice" ] && extra=(--alice alice@a.test --alice-password alicepw)
    mapfile -t ANSWERS < <(printf '%s\n' "${COMMANDS[@]}" |
        timeout 300 /usr/bin/python3 "$CLIENT" --port "$PROSODY_C2S_PORT" \
            --jid milter@b.test --password milterpw --component xsmtp.a.test \
            "${extra[@]}" 2>>"$D/client.err")
    for i in "${!NAMES[@]}"; do
        if [[ ${EXPECT[$i]} == "~"* ]]; then
            lab_assert_match "${NAMES[$i]}" "${EXPECT[$i]#\~}" "${ANSWERS[$i]:-<no answer>}"
        else
            lab_assert_eq "${NAMES[$i]}" "${EXPECT[$i]}" "${ANSWERS[$i]:-<no answer>}"
        fi
    done
    NAMES=() EXPECT=() COMMANDS=()
}

# ---- Prosody -----------------------------------------------------------------
SECRET=$(openssl rand -hex 24)
sed "s/change-me-to-a-long-random-secret/$SECRET/" \
    "$top_srcdir/etc/prosody/xsmtp.cfg.lua" >"$D/xsmtp.cfg.lua"
lab_start_prosody "$D/xsmtp.cfg.lua" || exit 99
lab_prosody_register milter b.test milterpw || exit 99
lab_prosody_register alice a.test alicepw || exit 99
printf '%s\n' "$SECRET" >"$D/secret"
chmod 600 "$D/secret"

# write_config FILE [OPTION-LINES...]: a component configuration.
write_config() {
    local file=$1
    shift
    {
        echo 'log_level = "info"'
        [ -n "${TOP_OPTIONS:-}" ] && echo "$TOP_OPTIONS"
        echo 'component {'
        echo '  jid = "xsmtp.a.test"'
        echo '  server = "127.0.0.1"'
        echo "  port = $PROSODY_COMPONENT_PORT"
        echo "  secret_file = \"${SECRET_FILE:-$D/secret}\""
        echo "  keys = \"$D/keys\""
        echo '  domains = { "a.test" }'
        # XSMTP-1's vector 1 has a fixed t (2026-11-18): a wide window keeps it valid.
        echo '  max_age = "3650d"'
        printf '  %s\n' "$@"
        echo '}'
    } >"$file"
}
COMP_PID=""
start_component() {   # CONFIG LOG
    "$COMPONENT" -f -c "$1" >"$2" 2>&1 &
    COMP_PID=$!
    lab_track_pid "$COMP_PID"
    lab_wait_log "$2" "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" 60
}
# component_stats LOG: SIGUSR1 makes the component log one "stats:" line;
# waits for that new line (at most 60 s) and puts it in COMP_STATS.
COMP_STATS=""
component_stats() {
    local before i
    before=$(grep -c "stats:" "$1")
    kill -USR1 "$COMP_PID"
    for ((i = 0; i < 600; i++)); do
        if [ "$(grep -c "stats:" "$1")" -gt "$before" ]; then
            COMP_STATS=$(grep "stats:" "$1" | tail -1)
            return 0
        fi
        sleep 0.1
    done
    COMP_STATS="<no stats line after SIGUSR1>"
    return 1
}
# stat_of NAME: a counter of COMP_STATS.
stat_of() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$COMP_STATS"; }
# wait_lines FILE REGEX COUNT SECONDS: until more than COUNT lines match.
wait_lines() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        [ "$(grep -Ec -- "$2" "$1")" -gt "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
COMP_STATUS=""
stop_component() {
    kill -TERM "$COMP_PID" 2>/dev/null
    wait "$COMP_PID" 2>/dev/null
    COMP_STATUS=$?
}

# ---- configuration check (-t) -------------------------------------------------
write_config "$D/good.conf" 'relays = { "198.51.100.0/24", "2001:db8::/32" }' \
    'rate_per_domain = 100000' 'burst = 5000'
out=$("$COMPONENT" -t -c "$D/good.conf" 2>&1); rc=$?
lab_assert_eq "-t on a good file: exit 0, silent" "0:" "$rc:$out"
cat >"$D/bad.conf" <<EOF
log_level = "loud"
component {
  jid = "xsmtp.a.test"
  port = 70000
  secret_file = "$D/secret"
  keys = "$D/keys"
  domains = { "a.test", "bad domain" }
  max_age = "3x"
  relays = { "10.0.0.0/33" }
  notify = "maybe"
}
EOF
out=$("$COMPONENT" -t -c "$D/bad.conf" 2>&1); rc=$?
lab_assert_eq "-t on a bad file: one line per problem, exit 1" "1
$D/bad.conf:1: log_level: bad value 'loud' (debug, info, notice, warning or err)
$D/bad.conf:4: component.port: bad value '70000' (1..65535)
$D/bad.conf:7: component.domains: bad value 'bad domain' (a domain name)
$D/bad.conf:8: component.max_age: bad value '3x' (seconds, or a number with s, m, h or d; > 0)
$D/bad.conf:9: component.relays: bad value '10.0.0.0/33' (an address or ADDRESS/PREFIX)
$D/bad.conf:10: component.notify: bad value 'maybe' (on or off)" "$rc
$out"
printf 'component {\n  jid = "x.a.test"\n  colour = "red"\n}\n' >"$D/unknown.conf"
out=$("$COMPONENT" -t -c "$D/unknown.conf" 2>&1); rc=$?
lab_assert_match "-t refuses an unknown option" "^1:.*colour" "$rc:$out"
cp "$D/secret" "$D/secret.open" && chmod 644 "$D/secret.open"
SECRET_FILE=$D/secret.open write_config "$D/open.conf"
out=$("$COMPONENT" -t -c "$D/open.conf" 2>&1); rc=$?
lab_assert_match "-t refuses a group/other-readable secret file" \
    "^1:$D/open.conf: component.secret_file: " "$rc:$out"
out=$("$COMPONENT" -V); lab_assert_match "-V prints the version" "^xsmtp-component [0-9]" "$out"

# ---- faults while connecting: wrong secret, nothing listening ----------------
echo "wrong-secret" >"$D/secret.wrong" && chmod 600 "$D/secret.wrong"
SECRET_FILE=$D/secret.wrong write_config "$D/wrong.conf"
"$COMPONENT" -f -c "$D/wrong.conf" >"$D/wrong.log" 2>&1 &
WRONG_PID=$!; lab_track_pid $WRONG_PID
REFUSED_PORT=$(lab_free_port)
sed "s/port = $PROSODY_COMPONENT_PORT/port = $REFUSED_PORT/" "$D/good.conf" >"$D/refused.conf"
"$COMPONENT" -f -c "$D/refused.conf" >"$D/refused.log" 2>&1 &
REFUSED_PID=$!; lab_track_pid $REFUSED_PID

# ---- the main run ---------------------------------------------------------------
start_component "$D/good.conf" "$D/component.log" || { echo "component did not connect"; exit 1; }
NOW=$(date +%s)

verify_case "vector 1 passes" "result pass" "$(v1attrs)"
verify_case "relay inside component.relays passes" "result pass" "$(v1attrs relay 198.51.100.7)"
verify_case "IPv6 relay inside component.relays passes" "result pass" "$(v1attrs relay 2001:db8::25)"
verify_case "relay outside component.relays" "result fail relay-not-authorized" \
    "$(v1attrs relay 203.0.113.9)"
verify_case "tampered h" "result fail bad-hash" \
    "$(v1attrs h NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=)"
verify_case "tampered message-id" "result fail bad-hash" "$(v1attrs message-id 20261122.abd@a.test)"
verify_case "tampered bh" "result fail bad-hash" \
    "$(v1attrs bh 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=)"
verify_case "unknown k" "result fail unknown-key" "$(v1attrs k nokey)"
verify_case "revoked key" "result fail revoked" \
    "$(v1attrs k s0 h "$(mac "$S0" $V1_ID $V1_MSGID $V1_FROM $V1_T $V1_IP $V1_BH s0)")"
verify_case "identity not allowed for the key" "result fail identity-not-allowed" \
    "$(v1attrs identity bob@a.test k alice-2026 \
        h "$(mac "$ALICE_KEY" bob@a.test $V1_MSGID $V1_FROM $V1_T $V1_IP $V1_BH alice-2026)")"
verify_case "identity allowed for a personal key" "result pass" \
    "$(v1attrs k alice-2026 \
        h "$(mac "$ALICE_KEY" $V1_ID $V1_MSGID $V1_FROM $V1_T $V1_IP $V1_BH alice-2026)")"
T_OLD=$((NOW - 3650 * 86400 - 600))
verify_case "t older than max_age" "result fail expired" \
    "$(v1attrs t $T_OLD h "$(mac "$S1" $V1_ID $V1_MSGID $V1_FROM $T_OLD $V1_IP $V1_BH s1)")"
T_FUTURE=$((NOW + 900))
verify_case "t more than 300 s ahead" "result fail future" \
    "$(v1attrs t $T_FUTURE h "$(mac "$S1" $V1_ID $V1_MSGID $V1_FROM $T_FUTURE $V1_IP $V1_BH s1)")"
T_SOON=$((NOW + 200))
verify_case "t 200 s ahead is within the skew" "result pass" \
    "$(v1attrs t $T_SOON h "$(mac "$S1" $V1_ID $V1_MSGID $V1_FROM $T_SOON $V1_IP $V1_BH s1)")"
verify_case "uppercase identity is lowercased before the MAC" "result pass" \
    "$(v1attrs identity Alice@A.Test)"
verify_case "forged MAC on an old t reads bad-hash" "result fail bad-hash" "$(v1attrs t $T_OLD)"
for attr in identity message-id from t ip k bh h; do
    verify_case "missing $attr" "error modify bad-request" "$(v1attrs "$attr" -)"
done
verify_case "malformed t (leading zero)" "error modify bad-request" "$(v1attrs t 01795000000)"
verify_case "malformed ip" "error modify bad-request" "$(v1attrs ip 192.0.2.010)"
verify_case "non-canonical IPv6 ip" "error modify bad-request" "$(v1attrs ip 2001:DB8:0::1)"
verify_case "h of 43 characters" "error modify bad-request" "$(v1attrs h "${V1_H:1}")"
verify_case "k of 65 characters" "error modify bad-request" "$(v1attrs k "$(printf 'k%.0s' {1..65})")"
verify_case "identity without domain" "error modify bad-request" "$(v1attrs identity alice)"
verify_case "malformed relay" "error modify bad-request" "$(v1attrs relay 198.51.100)"
verify_case "huge message-id" "error modify bad-request" \
    "$(v1attrs message-id "$(head -c 9000 /dev/zero | tr '\0' x)")"
verify_case "identity of a foreign domain" "error cancel item-not-found" \
    "$(v1attrs identity carol@c.test)"
add_case "verify sent as type=set" "error modify bad-request" \
    "{\"op\":\"verify\",\"type\":\"set\",\"attrs\":$(v1attrs)}"
add_case "disco#info" \
    "info from=xsmtp.a.test identity=component/generic/XSMTP features=http://jabber.org/protocol/disco#info,urn:xmpp:xsmtp:1" \
    '{"op":"disco"}'
add_case "disco#info for a node" "error cancel item-not-found" '{"op":"disco","node":"x"}'
V1_XML="identity='$V1_ID' message-id='$V1_MSGID' from='$V1_FROM' t='$V1_T' ip='$V1_IP' k='s1' bh='$V1_BH' h='$V1_H'"
add_case "unknown payload namespace" "error cancel service-unavailable" \
    "{\"op\":\"raw\",\"id\":\"r1\",\"xml\":\"<iq type='get' id='r1' to='xsmtp.a.test'><verify xmlns='urn:example'/></iq>\"}"
add_case "two payloads" "error modify bad-request" \
    "{\"op\":\"raw\",\"id\":\"r2\",\"xml\":\"<iq type='get' id='r2' to='xsmtp.a.test'><verify xmlns='urn:xmpp:xsmtp:1' $V1_XML/><x xmlns='urn:example'/></iq>\"}"
add_case "id with markup characters echoed intact" "result pass" \
    "{\"op\":\"raw\",\"id\":\"a<b>&\\\"'c\",\"xml\":\"<iq type='get' id='a&lt;b&gt;&amp;&quot;&apos;c' to='xsmtp.a.test'><verify xmlns='urn:xmpp:xsmtp:1' $V1_XML/></iq>\"}"
add_case "children and text inside verify are ignored" "result pass" \
    "{\"op\":\"raw\",\"id\":\"r3\",\"xml\":\"<iq type='get' id='r3' to='xsmtp.a.test'><verify xmlns='urn:xmpp:xsmtp:1' $V1_XML unknown='x'>text<b/></verify></iq>\"}"
LONG_ID=$(printf 'i%.0s' {1..300})
add_case "id over 256 octets is not answered" "none" \
    "{\"op\":\"raw\",\"id\":\"$LONG_ID\",\"wait\":1,\"xml\":\"<iq type='get' id='$LONG_ID' to='xsmtp.a.test'><verify xmlns='urn:xmpp:xsmtp:1' $V1_XML/></iq>\"}"
add_case "iq result to the component is not answered" "none" \
    "{\"op\":\"raw\",\"id\":\"r4\",\"wait\":1,\"xml\":\"<iq type='result' id='r4' to='xsmtp.a.test'><verdict xmlns='urn:xmpp:xsmtp:1' result='pass'/></iq>\"}"
add_case "still answering after the hostile input" "result pass" \
    "{\"op\":\"verify\",\"attrs\":$(v1attrs)}"

# Notices: t=1795356007 is the spec's example time, 2026-11-22T14:00:07Z.
add_case "notice forwarded to alice as a headline, exact body and progress" \
    "headline from=xsmtp.a.test to=alice@a.test type=headline body=\"Your message <20261122.abc@a.test> was accepted by b.test at 2026-11-22T14:00:07Z.\" progress=by=b.test,identity=alice@a.test,message-id=20261122.abc@a.test,status=accepted,t=1795356007 children=0" \
    "{\"op\":\"notice\",\"attrs\":$(attrs identity alice@a.test message-id 20261122.abc@a.test status accepted by b.test t 1795356007)}"
add_case "notice: markup in message-id arrives intact, extra attributes dropped" \
    "headline from=xsmtp.a.test to=alice@a.test type=headline body=\"Your message <a<&>\\\"'b@x> was deferred by mx.b.test at 1970-01-01T00:00:00Z.\" progress=by=mx.b.test,identity=alice@a.test,message-id=a<&>\"'b@x,status=deferred,t=0 children=0" \
    "{\"op\":\"notice\",\"attrs\":$(attrs identity Alice@a.test message-id "a<&>\"'b@x" status deferred by mx.b.test t 0 extra evil)}"
add_case "notice for a foreign identity is dropped" "none" \
    "{\"op\":\"notice\",\"wait\":1,\"attrs\":$(attrs identity bob@c.test message-id m1 status accepted by b.test t 1795356007)}"
add_case "notice with an unknown status is dropped" "none" \
    "{\"op\":\"notice\",\"wait\":1,\"attrs\":$(attrs identity alice@a.test message-id m1 status read by b.test t 1795356007)}"
add_case "notice without t is dropped" "none" \
    "{\"op\":\"notice\",\"wait\":1,\"attrs\":$(attrs identity alice@a.test message-id m1 status accepted by b.test)}"
add_case "1,000 queries sent without waiting, all pass" "~^batch 1000 pass=1000 other=0 seconds=" \
    "{\"op\":\"batch\",\"n\":1000,\"attrs\":$(v1attrs)}"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$COMP_PID/stat"; }
ticks_before=$(cpu_ticks)
run_cases --alice
ticks_after=$(cpu_ticks)
printf '%s\n' "${ANSWERS[@]}" | grep '^batch' | sed 's/^/info: /'
echo "info: component CPU time for this phase (~1,050 stanzas in, as many out):" \
    "$(( (ticks_after - ticks_before) * 1000 / $(getconf CLK_TCK) )) ms"

component_stats "$D/component.log"
stats=$COMP_STATS
lab_assert_match "SIGUSR1 counters: notices" \
    "notices.forwarded=2 .*notices.dropped.malformed=2 notices.dropped.foreign=1 " "$stats"
lab_assert_match "SIGUSR1 counters: one answer per query" "queries=10[0-9][0-9] " "$stats"
lab_assert_match "SIGUSR1 counters: fails by reason" \
    "fail.bad-hash=4 fail.unknown-key=1 fail.revoked=1 fail.identity-not-allowed=1 fail.expired=1 fail.future=1 fail.relay-not-authorized=1 " "$stats"

# ---- SIGHUP: a new key table is used; a bad one keeps the old ------------------
write_keys "$D/keys" "s2          $S2   *@a.test"
kill -HUP "$COMP_PID"
lab_wait_log "$D/component.log" "key table .* reloaded \(4 keys\)" 60
S2_ATTRS=$(v1attrs k s2 h "$(mac "$S2" $V1_ID $V1_MSGID $V1_FROM $V1_T $V1_IP $V1_BH s2)")
verify_case "after SIGHUP the new key s2 passes" "result pass" "$S2_ATTRS"
run_cases
chmod 644 "$D/keys"
kill -HUP "$COMP_PID"
lab_wait_log "$D/component.log" "key table not reloaded, keeping the old one" 60
verify_case "after SIGHUP with a group-readable file the old table still answers" "result pass" \
    "$S2_ATTRS"
run_cases
write_keys "$D/keys"

# ---- Prosody stops mid-run and comes back ---------------------------------------
# Stop it while a client has thousands of queries in flight, so the component
# loses the stream with answers still queued: as soon as the component has
# answered the first of this client's queries (however long its login took).
verifies_before=$(grep -c "verify from b.test" "$D/component.log")
printf '%s\n' "{\"op\":\"batch\",\"n\":4000,\"attrs\":$(v1attrs)}" |
    timeout 300 /usr/bin/python3 "$CLIENT" --port "$PROSODY_C2S_PORT" --jid milter@b.test \
        --password milterpw --component xsmtp.a.test >"$D/inflight.out" 2>&1 &
INFLIGHT_PID=$!
lab_track_pid "$INFLIGHT_PID"
lab_assert_eq "the in-flight client's queries reach the component" "yes" \
    "$(wait_lines "$D/component.log" "verify from b.test" "$verifies_before" 120 && echo yes || echo no)"
lab_stop_prosody
kill -TERM "$INFLIGHT_PID" 2>/dev/null   # its server is gone; nothing more to see
wait "$INFLIGHT_PID" 2>/dev/null
# The component retries after 1 s, then 2 s: wait for the second retry.
lab_wait_log "$D/component.log" "next connection attempt .* in 2 s" 60
lab_assert_eq "component still running while Prosody is down" "alive" \
    "$(kill -0 "$COMP_PID" 2>/dev/null && echo alive || echo dead)"
lab_assert_match "component backs off 1 s, 2 s, ... while Prosody is down" \
    "in 1 s.*in 2 s" "$(tr '\n' ' ' <"$D/component.log")"
restart_start=$(date +%s.%N)
lab_start_prosody || exit 99
add_case "after Prosody's restart the component answers again" "~^reached after " \
    "{\"op\":\"until\",\"timeout\":90,\"expect\":\"result pass\",\"attrs\":$(v1attrs)}"
run_cases
restart_end=$(date +%s.%N)
awk -v a="$restart_start" -v b="$restart_end" \
    'BEGIN { printf "info: Prosody restart to first pass answer: %.2f s (backoff wait and the client login included)\n", b - a }'
grep -h "after .* s down" "$D/component.log" | sed 's/^/info: /'
stop_component
lab_assert_eq "SIGTERM: exit status 0" "0" "$COMP_STATUS"

# ---- rate limit ---------------------------------------------------------------------
TOP_OPTIONS="pidfile = \"$D/component.pid\"" write_config "$D/rate.conf" \
    'rate_per_domain = 1' 'burst = 5'
start_component "$D/rate.conf" "$D/rate.log" || exit 1
lab_assert_eq "pidfile holds the pid" "$COMP_PID" "$(cat "$D/component.pid" 2>/dev/null)"
# Both bursts are sent at once; the client reports how long each took (first
# stanza sent to last answer).  A bucket starts with 5 tokens and gains one
# per second, so over S seconds at most 5 + floor(S) requests can pass: when
# S < 1 (the usual case) exactly 5 must, else between 5 and 5 + floor(S).
add_case "10 queries against burst 5 at 1/s: all answered, as pass or resource-constraint" \
    "~^burst pass=[0-9]+ resource-constraint=[0-9]+ other=0 seconds=[0-9.]+$" \
    "{\"op\":\"burst\",\"n\":10,\"attrs\":$(v1attrs)}"
# The notices are followed by a verify query as a barrier: once it is
# answered the component has handled every notice.
add_case "6 notices at once against burst 5 at 1/s: the first five reach alice, in order, as headlines" \
    "~^notices n=6 headlines=m1,m2,m3,m4,m5(,m6)? from=xsmtp.a.test/headline seconds=[0-9.]+$" \
    "{\"op\":\"notices\",\"n\":6,\"expect\":5,\"attrs\":$(attrs identity alice@a.test status accepted by b.test t 1795356007),\"barrier\":$(v1attrs)}"
run_cases --alice
burst=${ANSWERS[0]:-} notices=${ANSWERS[1]:-}
echo "info: $burst"
echo "info: $notices"
# check_rate WHAT PASSED LIMITED SECONDS: PASSED + LIMITED = total, PASSED
# = 5 exactly when SECONDS < 1, else 5 .. 5 + floor(SECONDS).
check_rate() {
    local what=$1 passed=$2 limited=$3 seconds=$4 refill
    refill=$(awk -v s="$seconds" 'BEGIN { printf "%d", s }')
    if [ -z "$passed" ] || [ -z "$limited" ] || [ -z "$seconds" ]; then
        lab_assert_eq "$what" "counts" "missing: passed=$passed limited=$limited seconds=$seconds"
    elif [ "$refill" -eq 0 ]; then
        lab_assert_eq "$what: 5 passed, the rest refused" "5 $limited" "$passed $limited"
    else
        echo "info: $what took $seconds s: up to $refill more token(s) refilled"
        lab_assert_eq "$what: 5 to $((5 + refill)) passed (${seconds} s at 1/s), the rest refused" \
            "yes" "$([ "$passed" -ge 5 ] && [ "$passed" -le $((5 + refill)) ] && echo yes ||
                     echo "no: $passed passed")"
    fi
}
b_pass=$(sed -n 's/^burst pass=\([0-9]*\) .*/\1/p' <<<"$burst")
b_limited=$(sed -n 's/.* resource-constraint=\([0-9]*\) .*/\1/p' <<<"$burst")
check_rate "query rate limit" "$b_pass" "$b_limited" \
    "$(sed -n 's/.* seconds=\([0-9.]*\)$/\1/p' <<<"$burst")"
lab_assert_eq "query rate limit: all 10 answered" 10 "$((${b_pass:-0} + ${b_limited:-0}))"
component_stats "$D/rate.log"
n_fwd=$(stat_of notices.forwarded) n_rate=$(stat_of notices.dropped.rate)
check_rate "notice rate limit (component counters)" "$n_fwd" "$n_rate" \
    "$(sed -n 's/.* seconds=\([0-9.]*\)$/\1/p' <<<"$notices")"
lab_assert_match "notice rate limit: all 6 counted, forwarded or dropped for the rate" \
    "^6 .*notices.dropped.malformed=0 notices.dropped.foreign=0 " \
    "$((${n_fwd:-0} + ${n_rate:-0})) $COMP_STATS"
# m1..m5 are there (checked above); none beyond what was forwarded.
n_headlines=$(sed -n 's/.* headlines=\([^ ]*\) .*/\1/p' <<<"$notices" | tr ',' '\n' | grep -c .)
lab_assert_eq "alice got no headline for a dropped notice" "yes" \
    "$([ -n "$n_fwd" ] && [ "$n_headlines" -le "$n_fwd" ] && echo yes ||
       echo "no: $n_headlines headlines, ${n_fwd:-?} forwarded")"
stop_component
lab_assert_eq "pidfile removed at exit" "gone" "$([ -e "$D/component.pid" ] && echo there || echo gone)"

# ---- notify = off -------------------------------------------------------------------
write_config "$D/quiet.conf" 'notify = "off"'
start_component "$D/quiet.conf" "$D/quiet.log" || exit 1
add_case "notify = off: notice dropped" "none" \
    "{\"op\":\"notice\",\"wait\":1,\"attrs\":$(attrs identity alice@a.test message-id m1 status accepted by b.test t 1795356007)}"
verify_case "notify = off: verify still answered" "result pass" "$(v1attrs)"
run_cases --alice
# The verify above was answered after the notice was handled (one stream, in
# order), so the counter is final.
component_stats "$D/quiet.log"
lab_assert_match "notify = off: the notice counted as dropped (disabled)" \
    " notices.forwarded=0 notices.dropped.disabled=1 " "$COMP_STATS"
stop_component

# ---- the processes started with a wrong secret and a dead port ----------------------
for name in wrong refused; do
    pid_var=${name^^}_PID
    # Retries come after 1, 2, then 4 s: wait for the third.
    lab_wait_log "$D/$name.log" "in 4 s" 60
    lab_assert_eq "$name: still running (never exits on a network fault)" "alive" \
        "$(kill -0 "${!pid_var}" 2>/dev/null && echo alive || echo dead)"
    lab_assert_match "$name: retried with growing delays" "in 1 s.*in 2 s.*in 4 s" \
        "$(tr '\n' ' ' <"$D/$name.log")"
done
lab_assert_match "wrong secret: the failure names the likely cause" "check component.jid and the secret" \
    "$(cat "$D/wrong.log")"
lab_assert_eq "nothing crashed (no libstrophe errors logged)" "" \
    "$(grep -h 'libstrophe .*:' "$D"/*.log | grep -v 'Connection refused' | head -3)"

lab_finish
