#!/bin/bash
# tests/integration/test_verify_postfix.sh -- no lost mail under concurrency:
# 200 messages over 20 parallel SMTP connections through a real
# Postfix with the verifying xsmtp-milter, relayed to smtp-sink.
#
# The verifier runs against a real Prosody, the real xsmtp-component for
# a.test and a real Redis.  Each connection presents an outside client
# address with XCLIENT and sends 10 messages; the messages are of five
# kinds (by number): signed (pass), forged h with forged verdict headers
# of ours and a foreign Authentication-Results (fail bad-hash), no X-XMPP
# header (none), a malformed X-XMPP-Hash (permerror); the last 40 repeat
# earlier ones (their verdicts then come from Redis, cached=yes).  Every
# X-XMPP-Hash is computed here with openssl.  Each delivered copy must
# carry exactly our two verdict headers on top, with the right values,
# and no forged one.  Needs root (Postfix), prosody, redis-server, openssl.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/postfix.sh"
source "$top_srcdir/tests/lab/prosody.sh"
source "$top_srcdir/tests/lab/redis.sh"
source "$top_srcdir/tests/lab/xsmtp.sh"

MILTER=$top_builddir/milter/xsmtp-milter
COMPONENT=$top_builddir/xmpp/xsmtp-component
if [ "$(id -u)" -ne 0 ]; then
    echo "a private Postfix needs root: skipped" >&2
    exit 77
fi
for tool in prosody redis-server openssl smtp-sink; do
    command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
for bin in "$MILTER" "$COMPONENT"; do
    [ -x "$bin" ] || { echo "no $bin: build it first"; exit 99; }
done

lab_init verify-postfix
D=$LAB_DIR
MESSAGES=200
CONNECTIONS=20
S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=
S1_HEX=$(printf '%s' "$S1" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
lab_write_keys "$S1"

# ---- servers ---------------------------------------------------------------------
lab_start_xsmtp_prosody || exit 99
lab_start_component || exit 99
lab_start_redis R || exit 99

MILTER_PORT=$(lab_free_port) || exit 99
lab_write_verify_milter_conf "$MILTER_PORT"
lab_start_verify_milter "$MILTER_PORT" "$D/milter.log" || exit 99

lab_start_sink SINK || exit 99
snippet_settings=()
while IFS= read -r line; do
    snippet_settings+=(--set "$line")
done < <(grep -E '^(milter_protocol|milter_connect_timeout|milter_command_timeout|milter_content_timeout|milter_default_action) *=' \
         "$top_srcdir/etc/postfix/main.cf.snippet")
lab_start_postfix PF --sink SINK --milter "inet:127.0.0.1:$MILTER_PORT" \
    --hostname mx.b.test "${snippet_settings[@]}" --set "default_process_limit = 50" || exit 99

# ---- the messages (CRLF files), hashes by openssl -------------------------------------
mkdir -p "$D/out"
NOW=$(date +%s)
FORGED_H=NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=
# kind N: pass | fail | none | permerror.  Messages 161..200 repeat message
# N-160, which the same connection sent 8 messages earlier: its verdict
# comes from the cache then (cached=yes; local verdicts stay cached=no).
REPEAT_FROM=160
kind() {
    local n=$1
    [ "$n" -gt "$REPEAT_FROM" ] && n=$((n - REPEAT_FROM))
    case $((n % 4)) in
    0) echo pass ;; 1) echo fail ;; 2) echo none ;; 3) echo permerror ;;
    esac
}
make_message() {   # N
    local n=$1 msgid body bh h canonical hash kind
    kind=$(kind "$n")
    if [ "$n" -gt "$REPEAT_FROM" ]; then
        sed "s/^Subject: load $((n - REPEAT_FROM))\r\$/Subject: load $n\r/" \
            "$D/out/$((n - REPEAT_FROM)).eml" >"$D/out/$n.eml"
        return
    fi
    msgid="load-$n.$NOW@a.test"
    body="Message $n of the verify load test."$'\r\n'"Second line."$'\r\n'
    bh=$(printf '%s' "$body" | openssl dgst -sha256 -binary | openssl base64 -A)
    canonical=$(printf 'xsmtp-1\nidentity:alice@a.test\nmessage-id:%s\nfrom:alice@a.test\ntime:%s\nip:192.0.2.10\nbody-hash:%s\nkey:s1\n' \
        "$msgid" "$NOW" "$bh" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$S1_HEX" -binary |
        openssl base64 -A)
    h=$canonical
    [ "$kind" = fail ] && h=$FORGED_H
    hash="v=1; k=s1; t=$NOW; ip=192.0.2.10;"$'\r\n'" bh=$bh;"$'\r\n'" h=$h"
    {
        case $kind in
        pass | fail)
            printf 'X-XMPP-Identity: alice@a.test\r\nX-XMPP-Hash: %s\r\n' "$hash" ;;
        permerror)
            printf 'X-XMPP-Identity: alice@a.test\r\nX-XMPP-Hash: v=1; k=s1; t=%s\r\n' "$NOW" ;;
        esac
        if [ "$kind" = fail ]; then
            printf 'Authentication-Results: other.example; spf=pass smtp.mailfrom=a.test\r\n'
            printf 'X-XSMTP-Verdict: pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)\r\n'
            printf 'Authentication-Results: mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test\r\n'
        fi
        printf 'From: Alice <alice@a.test>\r\nTo: bob@b.test\r\nSubject: load %s\r\n' "$n"
        printf 'Message-ID: <%s>\r\nDate: %s\r\n\r\n%s' "$msgid" "$(date -R)" "$body"
    } >"$D/out/$n.eml"
}
for ((n = 1; n <= MESSAGES; n++)); do
    make_message "$n"
done

# ---- 20 connections, 10 messages each, at once -----------------------------------------
start=$(date +%s.%N)
cat >"$D/send.py" <<'EOF'
import smtplib, sys, threading
port, folder, total, connections = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
errors = []
def worker(index):
    try:
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
        smtp.ehlo("relay%d.example" % index)
        # An outside client: XCLIENT makes Postfix (and the milter) see it.
        code, text = smtp.docmd("XCLIENT", "ADDR=198.51.100.%d NAME=[UNAVAILABLE]" % (index + 1))
        if code != 220:
            raise RuntimeError("XCLIENT: %d %s" % (code, text))
        smtp.ehlo("relay%d.example" % index)
        for n in range(index + 1, total + 1, connections):
            with open("%s/%d.eml" % (folder, n), "rb") as f:
                smtp.sendmail("alice@a.test", ["bob@b.test"], f.read())
        smtp.quit()
    except Exception as e:
        errors.append("connection %d: %r" % (index, e))
threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
for e in errors: print(e)
print("sent with %d errors" % len(errors))
EOF
/usr/bin/python3 "$D/send.py" "$PF_SMTP_PORT" "$D/out" "$MESSAGES" "$CONNECTIONS" >"$D/send.out" 2>&1
lab_assert_eq "client: every message accepted by Postfix" "sent with 0 errors" "$(tail -1 "$D/send.out")"
lab_sink_wait SINK "$MESSAGES" 120
end=$(date +%s.%N)
lab_assert_eq "every message reached the sink" "$MESSAGES" "$(lab_sink_count SINK)"
awk -v a="$start" -v b="$end" -v n="$MESSAGES" \
    'BEGIN { printf "info: %d messages through Postfix + verifier in %.2f s (%.0f msgs/s)\n", n, b - a, n / (b - a) }'

# ---- each delivered copy --------------------------------------------------------------------
expected_top() {   # KIND CACHED: the two first header lines, exactly
    local ar="Authentication-Results: mx.b.test; x-xsmtp"
    case $1 in
    pass) printf '%s\n%s' "X-XSMTP-Verdict: pass (identity=alice@a.test; component=xsmtp.a.test; cached=$2)" \
        "$ar=pass header.x-xmpp-identity=alice@a.test header.from=alice@a.test" ;;
    fail) printf '%s\n%s' "X-XSMTP-Verdict: fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=$2)" \
        "$ar=fail reason=\"bad-hash\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" ;;
    none) printf '%s\n%s' "X-XSMTP-Verdict: none" "$ar=none" ;;
    permerror) printf '%s\n%s' "X-XSMTP-Verdict: permerror (identity=alice@a.test; reason=malformed-hash; cached=no)" \
        "$ar=permerror reason=\"malformed-hash\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" ;;
    esac
}
declare -A seen=()
bad_top=0 bad_received=0 bad_count=0 bad_foreign=0 bad_body=0 first_bad=""
for file in $(lab_sink_files SINK); do
    message=$(lab_sink_message "$file")
    n=$(sed -n 's/^Subject: load \([0-9]*\)$/\1/p' <<<"$message" | head -1)
    [ -n "$n" ] || continue
    seen[$n]=1
    kind=$(kind "$n")
    headers=$(sed '/^$/q' <<<"$message")
    cached=no
    [ "$n" -gt "$REPEAT_FROM" ] && cached=yes
    if [ "$(head -2 <<<"$headers")" != "$(expected_top "$kind" "$cached")" ]; then
        bad_top=$((bad_top + 1))
        [ -n "$first_bad" ] || first_bad="message $n ($kind): $(head -2 <<<"$headers")"
    fi
    [[ "$(sed -n 3p <<<"$headers")" == "Received: from "* ]] || bad_received=$((bad_received + 1))
    # Exactly one verdict and one A-R of ours: the forged ones are gone.
    [ "$(grep -c '^X-XSMTP-Verdict:' <<<"$headers")" = 1 ] &&
        [ "$(grep -c '^Authentication-Results: mx.b.test;' <<<"$headers")" = 1 ] ||
        bad_count=$((bad_count + 1))
    if [ "$kind" = fail ] &&
        [ "$(grep -c '^Authentication-Results: other.example; spf=pass' <<<"$headers")" != 1 ]; then
        bad_foreign=$((bad_foreign + 1))
    fi
    base=$n
    [ "$n" -gt "$REPEAT_FROM" ] && base=$((n - REPEAT_FROM))
    [ "$(sed '1,/^$/d' <<<"$message")" = "Message $base of the verify load test."$'\n'"Second line." ] ||
        bad_body=$((bad_body + 1))
done
lab_assert_eq "each message delivered once (distinct subjects)" "$MESSAGES" "${#seen[@]}"
lab_assert_eq "verdict headers exact and on top, for every message" "0 " "$bad_top $first_bad"
lab_assert_eq "Postfix's Received comes third" 0 "$bad_received"
lab_assert_eq "one X-XSMTP-Verdict and one A-R of ours per message (forged ones deleted)" 0 \
    "$bad_count"
lab_assert_eq "foreign Authentication-Results kept" 0 "$bad_foreign"
lab_assert_eq "bodies delivered unchanged" 0 "$bad_body"
# ---- more X-XMPP-*/verdict/A-R headers than message.c once tracked (32) ---------------
mkdir -p "$D/many"
{
    for ((i = 1; i <= 40; i++)); do printf 'X-XMPP-Junk-%d: filler\r\n' "$i"; done
    printf 'X-XSMTP-Verdict: pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)\r\n'
    printf 'Authentication-Results: mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test\r\n'
    printf 'X-XSMTP-Verdict: pass (a second forgery)\r\n'
    printf 'From: Alice <alice@a.test>\r\nTo: bob@b.test\r\nSubject: many headers\r\n'
    printf 'Message-ID: <many.%s@a.test>\r\n\r\nBody.\r\n' "$NOW"
} >"$D/many/1.eml"
/usr/bin/python3 "$D/send.py" "$PF_SMTP_PORT" "$D/many" 1 1 >"$D/send-many.out" 2>&1
lab_assert_eq "many headers: accepted by Postfix" "sent with 0 errors" "$(tail -1 "$D/send-many.out")"
lab_sink_wait SINK "$((MESSAGES + 1))" 30
many=""
for file in $(lab_sink_files SINK); do
    grep -q '^Subject: many headers' "$file" && many=$(lab_sink_message "$file" | sed '/^$/q')
done
lab_assert_eq "many headers: ours is the only verdict left" "X-XSMTP-Verdict: none" \
    "$(grep '^X-XSMTP-Verdict:' <<<"$many")"
lab_assert_eq "many headers: ours is the only A-R left" "Authentication-Results: mx.b.test; x-xsmtp=none" \
    "$(grep '^Authentication-Results:' <<<"$many")"

lab_assert_eq "Postfix queue empty" 0 "$(lab_postfix_queue_count PF)"
lab_assert_eq "milter log: one verdict line per message" "$((MESSAGES + 1))" \
    "$(grep -c ': verified verdict=' "$D/milter.log")"
lab_assert_eq "milter log: no error" "" "$(grep -E ': (err|crit|alert|emerg):' "$D/milter.log" | head -3)"
p50() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
for kind_re in "verdict=pass .*cached=no" "verdict=pass .*cached=yes"; do
    echo "info: under load, p50 of '$kind_re': $(grep "$kind_re" "$D/milter.log" |
        sed -n 's/.* elapsed_ms=\([0-9.]*\) .*/\1/p' | p50) ms"
done
lab_finish
