# tests/lab/gateway.sh -- a receiving gateway for b.test with everything
# real, for test_spamassassin.sh and test_notify.sh.
# Source after common.sh, postfix.sh, prosody.sh and redis.sh, once
# lab_init has run.
#
#   gw_start_xmpp
#       Prosody (a.test, b.test, plus a declared but never connected
#       component xsmtp.e.test: a query to it ends in temperror), accounts
#       milter@b.test and alice@a.test (GW_ALICE_PASSWORD), and the real
#       xsmtp-component for a.test serving a.test and d.test (identities of
#       both share key s1, the XSMTP-1 s3 vector key).  Sets COMP_PID.
#   gw_start_milter NAME VERIFY_LINES [NOTIFY_LINES]
#       xsmtp-milter, mode verify, authserv_id mx.b.test, on an inet port
#       (NAME_PORT), logged in to Prosody, with the lab Redis when
#       gw_start_xmpp's caller started one as GW_REDIS (R_SOCKET); the
#       lines go into verify { } and notify { }.  Static routes d.test and
#       e.test are always set (d.test -> xsmtp.a.test, e.test ->
#       xsmtp.e.test).  Sets NAME_PID, NAME_CONF, NAME_LOG.
#   gw_start_postfix MILTERS
#       Postfix "PF" as mx.b.test relaying to smtp-sink "SINK", with the
#       milter settings of etc/postfix/main.cf.snippet and smtpd_milters =
#       MILTERS.
#   gw_message NAME KIND [HEADER-LINE...]
#       Writes $GW_MSG/NAME.eml (CRLF): Subject "gw NAME", Message-ID
#       <gw-NAME.RUN@DOMAIN>.  KIND: pass | fail (forged h) | permerror
#       (only X-XMPP-Identity) | none, each optionally ":IDENTITY"
#       (default alice@a.test); bh and h are computed with openssl.  Extra
#       header lines come first, as the sender wrote them.
#   gw_send NAME...
#       Sends each file over one SMTP connection from 198.51.100.7
#       (XCLIENT); prints "NAME CODE" per message (250 accepted, or the
#       code of the refusal).
#   gw_delivered NAME    the copy of NAME that reached the sink (LF ends),
#                        "" when none; gw_wait_delivered N [SECONDS]
#   gw_msgid NAME        the msgid of NAME (without <>)

GW_S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=
GW_ALICE_PASSWORD=alicepw
GW_RELAY=198.51.100.7

_gw_dirs() {
    GW_MSG=$LAB_DIR/msg
    mkdir -p "$GW_MSG"
    : "${GW_RUN:=$(openssl rand -hex 4)}"
}

gw_start_xmpp() {
    local secret
    _gw_dirs
    printf 's1  %s  *@a.test,*@d.test\n' "$GW_S1" >"$LAB_DIR/keys"
    chmod 600 "$LAB_DIR/keys"
    secret=$(openssl rand -hex 24)
    sed "s/change-me-to-a-long-random-secret/$secret/" \
        "$top_srcdir/etc/prosody/xsmtp.cfg.lua" >"$LAB_DIR/xsmtp.cfg.lua"
    printf 'Component "xsmtp.e.test"\n    component_secret = "%s"\n' \
        "$(openssl rand -hex 24)" >"$LAB_DIR/offline.cfg.lua"
    lab_start_prosody "$LAB_DIR/xsmtp.cfg.lua" "$LAB_DIR/offline.cfg.lua" || return 1
    lab_prosody_register milter b.test milterpw || return 1
    lab_prosody_register alice a.test "$GW_ALICE_PASSWORD" || return 1
    printf '%s\n' "$secret" >"$LAB_DIR/secret"
    printf 'milterpw\n' >"$LAB_DIR/xmpp.password"
    chmod 600 "$LAB_DIR/secret" "$LAB_DIR/xmpp.password"
    cat >"$LAB_DIR/component.conf" <<EOF
log_level = "info"
component {
  jid = "xsmtp.a.test"
  server = "127.0.0.1"
  port = $PROSODY_COMPONENT_PORT
  secret_file = "$LAB_DIR/secret"
  keys = "$LAB_DIR/keys"
  domains = { "a.test", "d.test" }
  rate_per_domain = 0
}
EOF
    "$top_builddir/xmpp/xsmtp-component" -f -c "$LAB_DIR/component.conf" \
        >>"$LAB_DIR/component.log" 2>&1 &
    COMP_PID=$!
    lab_track_pid "$COMP_PID"
    lab_wait_log "$LAB_DIR/component.log" "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" 60
}

gw_start_milter() {
    local name=$1 verify_lines=$2 notify_lines=${3:-} port redis=""
    port=$(lab_free_port) || return 1
    [ -n "${R_SOCKET:-}" ] && redis="redis {
    socket = \"$R_SOCKET\"
}"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_CONF" '%s' "$LAB_DIR/$name.conf"
    printf -v "${name}_LOG" '%s' "$LAB_DIR/$name.log"
    cat >"$LAB_DIR/$name.conf" <<EOF
socket = "inet:$port@127.0.0.1"
mode = verify
log_level = debug
authserv_id = "mx.b.test"
verify {
    timeout_ms = 2000
    components = { "d.test=xsmtp.a.test", "e.test=xsmtp.e.test" }
$verify_lines
}
notify {
$notify_lines
}
xmpp {
    jid = "milter@b.test/$name"
    password_file = "$LAB_DIR/xmpp.password"
    server = "127.0.0.1"
    port = $PROSODY_C2S_PORT
    tls = optional
}
$redis
EOF
    "$top_builddir/milter/xsmtp-milter" -f -c "$LAB_DIR/$name.conf" >"$LAB_DIR/$name.log" 2>&1 &
    printf -v "${name}_PID" '%s' $!
    lab_track_pid $!
    lab_wait_port "$port" 60 || { cat "$LAB_DIR/$name.log" >&2; return 1; }
    lab_wait_log "$LAB_DIR/$name.log" "xmpp: connected as" 60
}

gw_start_postfix() {
    local -a settings=()
    local line
    lab_start_sink SINK || return 1
    while IFS= read -r line; do
        settings+=(--set "$line")
    done < <(grep -E '^(milter_protocol|milter_connect_timeout|milter_command_timeout|milter_content_timeout|milter_default_action) *=' \
             "$top_srcdir/etc/postfix/main.cf.snippet")
    lab_start_postfix PF --sink SINK --smtpd-milter "$1" --hostname mx.b.test "${settings[@]}"
}

gw_msgid() {
    local identity=${2:-alice@a.test}
    echo "gw-$1.$GW_RUN@${identity#*@}"
}

gw_message() {
    local name=$1 kind=${2%%:*} identity=alice@a.test msgid body bh h t hex line
    [[ "$2" == *:* ]] && identity=${2#*:}
    shift 2
    _gw_dirs
    msgid=$(gw_msgid "$name" "$identity")
    t=$(date +%s)
    body="Message $name of the gateway tests."$'\r\n'"Second line."$'\r\n'
    bh=$(printf '%s' "$body" | openssl dgst -sha256 -binary | openssl base64 -A)
    hex=$(printf '%s' "$GW_S1" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
    # Straight into openssl: $(...) would drop the canonical form's last LF.
    h=$(printf 'xsmtp-1\nidentity:%s\nmessage-id:%s\nfrom:%s\ntime:%s\nip:192.0.2.10\nbody-hash:%s\nkey:s1\n' \
        "$identity" "$msgid" "$identity" "$t" "$bh" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary | openssl base64 -A)
    # A forgery: a well-formed MAC of other bytes.
    [ "$kind" = fail ] && h=$(printf 'forged %s' "$msgid" | openssl dgst -sha256 -binary |
        openssl base64 -A)
    {
        for line in "$@"; do printf '%s\r\n' "$line"; done
        case $kind in
        pass | fail)
            printf 'X-XMPP-Identity: %s\r\n' "$identity"
            printf 'X-XMPP-Hash: v=1; k=s1; t=%s; ip=192.0.2.10;\r\n bh=%s;\r\n h=%s\r\n' \
                "$t" "$bh" "$h" ;;
        permerror)
            printf 'X-XMPP-Identity: %s\r\n' "$identity" ;;
        none) ;;
        *) echo "gw_message: unknown kind '$kind'" >&2; return 1 ;;
        esac
        printf 'From: Alice <%s>\r\nTo: bob@b.test\r\nSubject: gw %s\r\n' "$identity" "$name"
        printf 'Message-ID: <%s>\r\nDate: %s\r\n\r\n%s' "$msgid" "$(date -R)" "$body"
    } >"$GW_MSG/$name.eml"
}

gw_send() {
    /usr/bin/python3 - "$PF_SMTP_PORT" "$GW_MSG" "$GW_RELAY" "$@" <<'EOF'
import smtplib, sys
port, folder, relay, names = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
smtp.ehlo("relay.example")
code, text = smtp.docmd("XCLIENT", "ADDR=%s NAME=[UNAVAILABLE]" % relay)
if code != 220:
    sys.exit("XCLIENT: %d %s" % (code, text))
smtp.ehlo("relay.example")
for name in names:
    with open("%s/%s.eml" % (folder, name), "rb") as f:
        data = f.read()
    try:
        smtp.sendmail("alice@a.test", ["bob@b.test"], data)
        print(name, 250, flush=True)
    except smtplib.SMTPDataError as e:
        print(name, e.smtp_code, flush=True)
        smtp.rset()
smtp.quit()
EOF
}

gw_delivered() {
    local file
    for file in $(lab_sink_files SINK); do
        if grep -q "^Subject: gw $1\$" "$file"; then
            lab_sink_message "$file"
            return 0
        fi
    done
}

gw_wait_delivered() {
    lab_sink_wait SINK "$1" "${2:-20}"
}
