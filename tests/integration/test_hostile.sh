#!/bin/bash
# tests/integration/test_hostile.sh -- hostile mail through a real Postfix and the
# verifying xsmtp-milter, against real Prosody, the
# real xsmtp-component and Redis.
#
# The cases (tests/integration/hostile_mail.py builds, signs and checks them):
#   ' " < & in the Message-ID and the From display name, valid UTF-8, invalid
#   UTF-8 (in the Message-ID and in the identity), a NUL, 10,000-character header lines (Subject, From, Message-ID,
#   X-XMPP-Hash), CR/LF injection in the identity (folded, a line of its
#   own, a bare CR) and in the Message-ID, 1,000 X-XMPP-Hash headers with
#   1,000 forged X-XSMTP-Verdict and 1,000 forged Authentication-Results of
#   ours (and 5 foreign ones), 500 recipients, a 64 MiB message.
# Each delivered copy must carry exactly our two verdict headers on top,
# well formed (valid UTF-8, no control character, lines under 998 octets),
# with the verdict and reason of its case (the 64 MiB body arrives
# unchanged): the signed ones with markup and
# UTF-8 pass, which proves the stanza carried every byte exactly.  The XMPP
# stream must never break (an ill-formed stanza would make Prosody close
# it), the component must never see a malformed query, and the milter logs
# no error.  Needs root (Postfix), prosody, redis-server, smtp-sink and
# Debian's /usr/bin/python3.

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
for tool in prosody redis-server smtp-sink openssl /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
for bin in "$MILTER" "$COMPONENT"; do
    [ -x "$bin" ] || { echo "no $bin: build it first"; exit 99; }
done

lab_init hostile
D=$LAB_DIR
S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=
lab_write_keys "$S1"

# ---- servers -------------------------------------------------------------------------
lab_start_xsmtp_prosody || exit 99
lab_start_component "log_level = info" || exit 99
lab_start_redis R || exit 99

MILTER_PORT=$(lab_free_port) || exit 99
lab_write_verify_milter_conf "$MILTER_PORT" 'verify {
    timeout_ms = 5000
}'
lab_start_verify_milter "$MILTER_PORT" "$D/milter.log" || exit 99

lab_start_sink SINK || exit 99
lab_start_postfix PF --sink SINK --milter "inet:127.0.0.1:$MILTER_PORT" \
    --hostname mx.b.test --set "message_size_limit = 100000000" \
    --set "smtpd_recipient_limit = 1000" || exit 99

# ---- the 64 MiB body: 76-octet lines, already in relaxed canonical form ---------------------
/usr/bin/python3 - "$D/big" <<'EOF'
import sys
line = b"%08d " + b"z" * 66 + b"\r\n"
with open(sys.argv[1], "wb") as f:
    for i in range(64 * 1024 * 1024 // 77 + 1):
        f.write(line % i)
EOF
echo "info: big body $(stat -c %s "$D/big") octets"

# ---- send, then check every copy ---------------------------------------------------------------
start=$(date +%s.%N)
/usr/bin/python3 "$top_srcdir/tests/integration/hostile_mail.py" send "$PF_SMTP_PORT" "$S1" "$(date +%s)" "$D" \
    >"$D/send.out" 2>&1
cat "$D/send.out"
lab_assert_eq "every case accepted by Postfix" "" "$(grep -v ' sent$' "$D/cases.txt")"
# 16 single copies, 10 for the 500 recipients (Postfix relays 50 per delivery).
lab_sink_wait SINK 26 120
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "info: sent and delivered in %.1f s\n", b - a }'
lab_assert_eq "Postfix queue empty" 0 "$(lab_postfix_queue_count PF)"

mapfile -t copies < <(lab_sink_files SINK)
/usr/bin/python3 "$top_srcdir/tests/integration/hostile_mail.py" check "$D" "${copies[@]}" >"$D/check.out" 2>&1
cat "$D/check.out"
lab_assert_eq "every copy: well-formed verdict headers of its case, forged ones deleted" "" \
    "$(grep '^problem ' "$D/check.out")"
lab_assert_match "every case checked" "^checked [0-9]+ copies of 17 cases$" "$(tail -1 "$D/check.out")"

lab_assert_eq "milter: one XMPP session, never broken by a stanza" 1 \
    "$(grep -c 'XMPP session up' "$D/milter.log")"
lab_assert_eq "milter: no stream loss" "" "$(grep -iE 'connection lost|stream error|disconnected' "$D/milter.log")"
lab_assert_eq "milter: no error logged" "" "$(grep -E ': (err|crit|alert|emerg):' "$D/milter.log" | head -3)"
lab_assert_eq "component: no malformed query arrived" "" "$(grep -E 'bad-request|libstrophe' "$D/component.log")"
lab_assert_eq "milter: one verdict per SMTP transaction (17 cases, 500 recipients once)" 17 \
    "$(grep -c ': verified verdict=' "$D/milter.log")"
elapsed_big=$(grep 'verified verdict=pass' "$D/milter.log" | sed -n 's/.* elapsed_ms=\([0-9.]*\) .*/\1/p' | sort -n | tail -1)
echo "info: slowest verdict ${elapsed_big} ms"
lab_finish
