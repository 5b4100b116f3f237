#!/bin/bash
# tests/integration/test_sign_postfix.sh -- the signer behind a real Postfix.
#
# A private Postfix (tests/lab/postfix.sh) with xsmtp-milter in
# smtpd_milters relays to smtp-sink.  swaks sends as an internal client
# (127.0.0.1), as an external client (XCLIENT 198.51.100.7), and as an
# authenticated external client (SMTP AUTH).  The delivered copies must
# carry X-XMPP-Identity and X-XMPP-Hash at the very top (internal and
# authenticated) or no X-XMPP header at all (external), and each h is
# recomputed with openssl from the delivered message.  Needs root (Postfix).

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lab/common.sh"
. "$top_srcdir/tests/lab/postfix.sh"

MILTER=$top_builddir/milter/xsmtp-milter
[ -x "$MILTER" ] || { echo "no $MILTER: build it first" >&2; exit 99; }
if [ "$(id -u)" -ne 0 ]; then
    echo "a private Postfix needs root: skipped" >&2
    exit 77
fi
for tool in swaks openssl saslpasswd2; do
    command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 99; }
done

lab_init sign-postfix
SECRET=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=
SECRET_HEX=$(printf '%s' "$SECRET" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
printf 's1  %s  *@a.test\n' "$SECRET" >"$LAB_DIR/keys"
chmod 600 "$LAB_DIR/keys"
MILTER_PORT=$(lab_free_port) || exit 99
# The sample Postfix settings are what the test uses (milter_protocol,
# timeouts, default action); only the milter address differs.
cat >"$LAB_DIR/milter.conf" <<EOF2
socket = "inet:$MILTER_PORT@127.0.0.1"
mode = sign
log_level = debug
sign {
    domains = { "a.test" }
    keys = "$LAB_DIR/keys"
}
EOF2
"$MILTER" -f -c "$LAB_DIR/milter.conf" >"$LAB_DIR/milter.log" 2>&1 &
lab_track_pid $!
lab_wait_port "$MILTER_PORT" 10 || exit 99

lab_start_sink SINK || exit 99
snippet_settings=()
while IFS= read -r line; do
    snippet_settings+=(--set "$line")
done < <(grep -E '^(milter_protocol|milter_connect_timeout|milter_command_timeout|milter_content_timeout|milter_default_action) *=' \
         "$top_srcdir/etc/postfix/main.cf.snippet")
lab_start_postfix PF --sink SINK --milter "inet:127.0.0.1:$MILTER_PORT" \
    --sasl alice:secret-1 "${snippet_settings[@]}" || exit 99

BODY=$'Hello  Bob. \t\nSecond line\n\n'
BODY_RELAXED=$'Hello Bob.\r\nSecond line\r\n'

send() { # send SUBJECT MSGID [lab_swaks options...]
    local subject=$1 msgid=$2
    shift 2
    lab_swaks PF "$@" --from alice@a.test --to bob@b.test --header "Subject: $subject" \
        --header "Message-Id: <$msgid>" --header "From: \"Alice\" <Alice@a.test>" --body "$BODY"
}

send internal pf-1@a.test
lab_assert_eq "internal client: accepted by Postfix" 0 "$?"
send external pf-2@a.test --client 198.51.100.7
lab_assert_eq "external client: accepted by Postfix" 0 "$?"
send authenticated pf-3@a.test --client 198.51.100.7 --auth PLAIN --auth-user alice \
    --auth-password secret-1
lab_assert_eq "authenticated client: accepted by Postfix" 0 "$?"
lab_sink_wait SINK 3 20
lab_assert_eq "three messages reached the sink" 3 "$(lab_sink_count SINK)"

# header NAME: the unfolded value of the first NAME header of $message.
header() {
    awk -v name="$1" '
        /^$/ { exit }
        tolower($0) ~ "^" tolower(name) ":" { value = substr($0, length(name) + 2); found = 1; next }
        found && /^[ \t]/ { value = value "\n" $0; next }
        found { exit }
        END { sub(/^ /, "", value); printf "%s", value }
    ' <<<"$message"
}

# check_signed LABEL MSGID IP
check_signed() {
    local label=$1 msgid=$2 ip=$3 hash t bh h canonical
    lab_assert_eq "$label: first header" "X-XMPP-Identity: alice@a.test" "$(head -1 <<<"$message")"
    lab_assert_eq "$label: second header" "X-XMPP-Hash: v=1; k=s1; t=" \
        "$(sed -n 2p <<<"$message" | cut -c1-26)"
    lab_assert_match "$label: Postfix's Received comes after them" '^Received: from ' \
        "$(sed -n 5p <<<"$message")"
    hash=$(header X-XMPP-Hash)
    lab_assert_match "$label: X-XMPP-Hash layout" \
        "^v=1; k=s1; t=[0-9]+; ip=${ip//./\\.};"$'\n'" bh=[A-Za-z0-9+/]{43}=;"$'\n'" h=[A-Za-z0-9+/]{43}=\$" \
        "$hash"
    t=$(sed -n 's/.*; t=\([0-9]*\);.*/\1/p' <<<"$hash")
    bh=$(sed -n 's/^ bh=\(.*\);$/\1/p' <<<"$hash")
    h=$(sed -n 's/^ h=\(.*\)$/\1/p' <<<"$hash")
    lab_assert_eq "$label: body delivered as sent" "$(printf "%s" "$BODY")" "$(sed '1,/^$/d' <<<"$message")"
    lab_assert_eq "$label: bh = openssl SHA-256 of the relaxed body" \
        "$(printf '%s' "$BODY_RELAXED" | openssl dgst -sha256 -binary | openssl base64 -A)" "$bh"
    canonical=$(printf 'xsmtp-1\nidentity:alice@a.test\nmessage-id:%s\nfrom:alice@a.test\ntime:%s\nip:%s\nbody-hash:%s\nkey:s1\n' \
        "$msgid" "$t" "$ip" "$bh" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$SECRET_HEX" -binary | openssl base64 -A)
    lab_assert_eq "$label: h = openssl HMAC of the canonical input" "$canonical" "$h"
}

for file in $(lab_sink_files SINK); do
    message=$(lab_sink_message "$file")
    case $(header Subject) in
    internal) check_signed "internal client" pf-1@a.test 127.0.0.1 ;;
    authenticated) check_signed "authenticated client" pf-3@a.test 198.51.100.7 ;;
    external)
        lab_assert_eq "external client: no X-XMPP header delivered" "" \
            "$(sed '/^$/q' <<<"$message" | grep -i '^X-XMPP-')"
        ;;
    *) lab_assert_eq "unexpected message in the sink" "" "$(header Subject)" ;;
    esac
done
lab_assert_eq "Postfix queue empty" 0 "$(lab_postfix_queue_count PF)"
lab_finish
