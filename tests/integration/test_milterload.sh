#!/bin/bash
# tests/integration/test_milterload.sh -- a smoke test of tools/milterload:
# correctness of the load generator, not speed.
#
# 50 messages against tools/noop_milter (unix and inet sockets, one and
# five messages per connection) and against a signing xsmtp-milter, with
# exact reply counts from the JSON report and zero errors; then the same
# tools must count every wrong answer as an error (noop checked as a
# signer, a signer checked with a wrong key or ip=).  The MAC that
# `milterload --write-signed` writes is recomputed with openssl.
#
# Per message the MTA side sends CONNECT, HELO, MAIL, 12 headers, EOH and
# BODY (RCPT and DATA are negotiated away by both milters): 17 "continue"
# replies, then the end-of-message answer.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"

LOAD=$top_builddir/tools/milterload
NOOP=$top_builddir/tools/noop_milter
MILTER=$top_builddir/milter/xsmtp-milter
for bin in "$LOAD" "$NOOP" "$MILTER"; do
    [ -x "$bin" ] || { echo "no $bin: build it first"; exit 99; }
done
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }

lab_init milterload
D=$LAB_DIR
S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=   # XSMTP-1 s3 vector key
WRONG=YWxpY2Utb25seS1zZWNyZXQtMTZieXRlcyEhIQ==

# jget FILE KEY: one value of milterload's flat JSON report.
jget() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1"; }

# expect_counts NAME JSON OK ERRORS CONTINUE ACCEPT ADDHEADER INSHEADER OPTNEG CONNECTIONS
expect_counts() {
    local name=$1 json=$2
    lab_assert_eq "$name: correct messages" "$3" "$(jget "$json" ok)"
    lab_assert_eq "$name: errors" "$4" "$(jget "$json" errors)"
    lab_assert_eq "$name: continue replies" "$5" "$(jget "$json" reply_continue)"
    lab_assert_eq "$name: accept replies" "$6" "$(jget "$json" reply_accept)"
    lab_assert_eq "$name: addheader replies" "$7" "$(jget "$json" reply_addheader)"
    lab_assert_eq "$name: insheader replies" "$8" "$(jget "$json" reply_insheader)"
    lab_assert_eq "$name: optneg replies" "$9" "$(jget "$json" reply_optneg)"
    lab_assert_eq "$name: connections" "${10}" "$(jget "$json" connections)"
    lab_assert_eq "$name: other replies" 0 "$(jget "$json" reply_other)"
}

# run NAME EXPECTED-EXIT milterload-args...: runs it, keeps JSON in $D/NAME.json.
run() {
    local name=$1 want=$2 rc
    shift 2
    "$LOAD" --quiet --errors-shown 2 --json "$D/$name.json" "$@" >"$D/$name.out" 2>&1
    rc=$?
    lab_assert_eq "$name: milterload exit code" "$want" "$rc"
    [ "$rc" = "$want" ] || cat "$D/$name.out"
}

# ---- the no-op filter --------------------------------------------------------------
"$NOOP" -s "unix:$D/noop.sock" >"$D/noop.log" 2>&1 &
NOOP_PID=$!
lab_track_pid $NOOP_PID
lab_wait_file "$D/noop.sock" 10 || exit 99
run noop-unix 0 -s "unix:$D/noop.sock" -n 50 -c 4 --expect noop --pid $NOOP_PID
expect_counts noop-unix "$D/noop-unix.json" 50 0 850 50 50 0 50 50
lab_assert_match "noop-unix: the milter's VmHWM was read" '^[1-9][0-9]*$' \
    "$(jget "$D/noop-unix.json" milter_vmhwm_kib)"

run noop-reuse 0 -s "unix:$D/noop.sock" -n 50 -c 1 --per-connection 5 --expect noop
# CONNECT and HELO once per connection, MAIL..BODY (15) per message.  One
# connection at a time: with several, the last ones may carry fewer.
expect_counts noop-reuse "$D/noop-reuse.json" 50 0 770 50 50 0 10 10

PORT=$(lab_free_port) || exit 99
"$NOOP" -s "inet:$PORT@127.0.0.1" >"$D/noop-inet.log" 2>&1 &
lab_track_pid $!
lab_wait_port "$PORT" 10 || exit 99
run noop-inet 0 -s "inet:$PORT@127.0.0.1" -n 50 -c 4 --expect noop
expect_counts noop-inet "$D/noop-inet.json" 50 0 850 50 50 0 50 50

# Wrong answers are errors, each counted once.
run noop-as-sign 1 -s "unix:$D/noop.sock" -n 50 -c 4 --expect sign
lab_assert_eq "noop checked as a signer: 50 errors" 50 "$(jget "$D/noop-as-sign.json" errors)"
lab_assert_match "noop checked as a signer: the error is printed" \
    "error: message [0-9]+ \(ML[0-9A-F]+\) at BODYEOB: expected insert X-XMPP-Hash" \
    "$(cat "$D/noop-as-sign.out")"

# ---- a signing xsmtp-milter ---------------------------------------------------------
printf 's1  %s  *@a.test\n' "$S1" >"$D/keys"
chmod 600 "$D/keys"
cat >"$D/sign.conf" <<EOF
socket = "unix:$D/sign.sock"
mode = sign
log_level = notice
sign {
    domains = { "a.test" }
    internal_hosts = { "127.0.0.0/8", "::1" }
    keys = "$D/keys"
}
EOF
"$MILTER" -f -c "$D/sign.conf" >"$D/sign.log" 2>&1 &
SIGN_PID=$!
lab_track_pid $SIGN_PID
lab_wait_file "$D/sign.sock" 10 || { cat "$D/sign.log"; exit 99; }
run sign 0 -s "unix:$D/sign.sock" -n 50 -c 4 --expect sign --key "s1:$S1" --pid $SIGN_PID
expect_counts sign "$D/sign.json" 50 0 850 50 0 100 50 50
run sign-auth 0 -s "unix:$D/sign.sock" -n 50 -c 4 --expect sign --key "s1:$S1" \
    --client-ip 198.51.100.7 --auth alice
expect_counts sign-auth "$D/sign-auth.json" 50 0 850 50 0 100 50 50
run sign-external 1 -s "unix:$D/sign.sock" -n 50 -c 4 --expect sign --client-ip 198.51.100.7
lab_assert_eq "external unauthenticated client: never signed, 50 errors" 50 \
    "$(jget "$D/sign-external.json" errors)"
run sign-wrong-key 1 -s "unix:$D/sign.sock" -n 50 -c 4 --expect sign --key "s1:$WRONG"
lab_assert_match "a wrong h= is reported with the expected value" \
    "X-XMPP-Hash h=[A-Za-z0-9+/=]{44}, expected [A-Za-z0-9+/=]{44}" "$(cat "$D/sign-wrong-key.out")"
run sign-wrong-ip 1 -s "unix:$D/sign.sock" -n 50 -c 4 --expect sign --sign-ip 192.0.2.99
lab_assert_eq "a wrong ip= is an error for every message" 50 \
    "$(jget "$D/sign-wrong-ip.json" errors)"

# ---- --write-signed: the MAC, recomputed with openssl ---------------------------------
"$LOAD" --write-signed "$D/signed" -n 20 --key "s1:$S1" --tag smoke || exit 99
lab_assert_eq "--write-signed: 20 messages" 20 "$(grep -vc '^#' "$D/signed")"
# openssl_mac LINE: XSMTP-1 s3's h for the fields of a pre-signed line, by openssl.
hexkey=$(printf '%s' "$S1" | openssl base64 -d -A | od -An -tx1 | tr -d ' \n')
openssl_mac() {
    local identity msgid from t ip k bh h body canonical
    IFS=$'\t' read -r identity msgid from t ip k bh h body <<<"$1"
    canonical=$(printf 'xsmtp-1\nidentity:%s\nmessage-id:%s\nfrom:%s\ntime:%s\nip:%s\nbody-hash:%s\nkey:%s\n' \
        "$identity" "$msgid" "$from" "$t" "$ip" "$bh" "$k"; echo x)
    printf '%s' "${canonical%x}" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary |
        openssl base64 -A
}
line3=$(grep -v '^#' "$D/signed" | sed -n 3p)
IFS=$'\t' read -r identity msgid from t ip k bh h body <<<"$line3"
lab_assert_eq "--write-signed: h= of line 3 equals openssl's HMAC" "$(openssl_mac "$line3")" "$h"
lab_assert_eq "--write-signed: line 3's fields" "user2@a.test smoke.2@a.test user2@a.test 192.0.2.10 s1 2" \
    "$identity $msgid $from $ip $k $body"

# ---- tools/make-signed-messages: the key from a key table, not the command line --------
printf '# comment\ns0  %s  *@a.test  revoked\ns1  %s  *@a.test  # the live key\n' "$WRONG" "$S1" \
    >"$D/keytable"
chmod 600 "$D/keytable"
top_builddir=$top_builddir "$top_srcdir/tools/make-signed-messages" -n 5 -t table "$D/keytable" \
    "$D/from-table" || exit 99
lab_assert_eq "make-signed-messages: 5 messages, the first key not revoked (s1)" "s1 s1 s1 s1 s1" \
    "$(grep -v '^#' "$D/from-table" | cut -f6 | tr '\n' ' ' | sed 's/ $//')"
line3=$(grep -v '^#' "$D/from-table" | sed -n 3p)
lab_assert_eq "make-signed-messages: h= of line 3 equals openssl's HMAC" "$(openssl_mac "$line3")" \
    "$(cut -f8 <<<"$line3")"

lab_finish
