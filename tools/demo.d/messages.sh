# tools/demo.d/messages.sh -- the four messages of the demo, and where each
# one ended up at gateway B.
#
#   (a) alice@a.test -> bob@b.test, submitted to gateway A (an internal
#       client), signed there, relayed to gateway B from 127.0.0.2
#   (b) a replay: (a)'s headers as B delivered them (X-XMPP-*, From, To,
#       Subject, Date, Message-ID), a different body, sent straight into B
#       from 203.0.113.66, a host a.test does not relay through
#   (c) a forged X-XMPP-Hash: well-formed, the right bh (computed here with
#       openssl), a made-up h, from 198.51.100.23
#   (d) a plain message with no XSMTP header, from 198.51.100.44
#
# Outside hosts are given to B's smtpd with XCLIENT (address and name, as
# if its reverse DNS had answered), and greet with their name.  Each message is sent on its own and waited for: whatever
# appears next in B's maildir (inbox) or hold queue (quarantine) is its
# copy, kept as $LAB_DIR/out/X.eml with LF line ends; DEMO_WHERE[X] says
# "inbox FILE", "quarantine QUEUE-ID" or "refused SMTP-CODE".

declare -A DEMO_WHERE=() DEMO_MSGID=() DEMO_NOTICES_BEFORE=()
DEMO_ORDER=(a b c d)

_demo_crlf() { sed 's/$/\r/'; }

# How many notices alice had received so far (lines of her file).
demo_notice_count() { wc -l <"$LAB_DIR/alice/notices" | tr -d ' '; }

# demo_b_items: what gateway B holds, one per line: "inbox FILE" or
# "quarantine QUEUE-ID".
demo_b_items() {
    local f
    lab_mailbox_files B | sed 's/^/inbox /'
    if [ -d "$B_QUEUE/hold" ]; then
        for f in "$B_QUEUE"/hold/*; do
            [ -f "$f" ] && echo "quarantine ${f##*/}"
        done
    fi
    return 0
}

# _demo_outside ADDR NAME: DEMO_OUTSIDE = swaks options for a client on
# the Internet.
_demo_outside() {
    DEMO_OUTSIDE=(--xclient "ADDR=$1 NAME=$2" --helo "$2")
}

# _demo_wait_new X BEFORE-FILE [SECONDS]: waits for an item of B that is
# not in BEFORE-FILE, saves the message as $LAB_DIR/out/X.eml.
_demo_wait_new() {
    local x=$1 before=$2 limit=${3:-30} i item
    for ((i = 0; i < limit * 10; i++)); do
        item=$(demo_b_items | grep -vxF -f "$before" | head -1)
        if [ -n "$item" ]; then
            DEMO_WHERE[$x]=$item
            case $item in
            inbox\ *) cp "${item#inbox }" "$LAB_DIR/out/$x.eml" ;;
            quarantine\ *)
                # The hold file may still be written for a moment.
                until postcat -c "$B_CONF" -bh -q "${item#quarantine }" \
                    >"$LAB_DIR/out/$x.eml" 2>/dev/null; do
                    sleep 0.1
                    i=$((i + 1))
                    [ "$i" -lt $((limit * 10)) ] || return 1
                done
                ;;
            esac
            return 0
        fi
        sleep 0.1
    done
    echo "tools/demo: message ($x) did not reach gateway B within ${limit}s" >&2
    return 1
}

# _demo_send X INSTANCE lab_swaks-ARGS...: sends, then waits for the copy.
_demo_send() {
    local x=$1 instance=$2 before=$LAB_DIR/out/$1.before rc
    shift 2
    demo_b_items >"$before"
    # Notices are matched by message-id, and (b) reuses (a)'s: each
    # message owns only the notices that arrive after it was sent.
    DEMO_NOTICES_BEFORE[$x]=$(demo_notice_count)
    lab_swaks "$instance" "$@"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        # Refused in SMTP (reject/tempfail): the code is in the transcript.
        DEMO_WHERE[$x]="refused $(grep -E '^ *<~?\*? *[45][0-9][0-9]' "$LAB_SWAKS_LOG" | tail -1 |
            sed -E 's/^ *<~?\*? *//')"
        return 0
    fi
    _demo_wait_new "$x" "$before" || return 1
    # A pass is followed by a notice to the sender: let it arrive before the
    # next message, so that it is counted for this one.
    if [[ "$(demo_header "$LAB_DIR/out/$x.eml" X-XSMTP-Verdict)" == pass* ]]; then
        demo_wait_notice "$x" 10 || echo "tools/demo: no notice for ($x) after 10 s" >&2
    fi
    return 0
}

# demo_header FILE NAME: the first NAME header of FILE, unfolded (a line
# break plus its white space become one space).
demo_header() {
    awk -v name="$2" '
        /^\r?$/ { exit }
        found && /^[ \t]/ { sub(/^[ \t]+/, " "); value = value $0; next }
        found { exit }
        tolower($0) ~ "^" tolower(name) ":" {
            value = substr($0, length(name) + 2); sub(/^[ \t]+/, "", value); found = 1
        }
        END { sub(/\r$/, "", value); printf "%s", value }
    ' "$1"
}

# demo_header_raw FILE NAME: the first NAME header as written (folded).
demo_header_raw() {
    awk -v name="$2" '
        /^\r?$/ { exit }
        found && /^[ \t]/ { print; next }
        found { exit }
        tolower($0) ~ "^" tolower(name) ":" { print; found = 1 }
    ' "$1" | tr -d '\r'
}

demo_send_a() {
    DEMO_MSGID[a]="demo-a.$DEMO_RUN@a.test"
    _demo_send a A --from alice@a.test --to bob@b.test \
        --header "From: Alice <alice@a.test>" --header "To: Bob <bob@b.test>" \
        --header "Subject: Lunch on Friday?" --header "Message-Id: <${DEMO_MSGID[a]}>" \
        --body $'Hi Bob,\n\nlunch on Friday at noon?  The usual place.\n\nAlice\n'
}

demo_send_b() {
    local file=$LAB_DIR/out/b.send name
    DEMO_MSGID[b]=${DEMO_MSGID[a]}
    [ -f "$LAB_DIR/out/a.eml" ] || { echo "tools/demo: (b) needs (a)'s copy" >&2; return 1; }
    {
        for name in X-XMPP-Identity X-XMPP-Hash From To Subject Date Message-ID; do
            demo_header_raw "$LAB_DIR/out/a.eml" "$name"
        done
        printf '\nHi Bob,\n\nchange of plan: please pay invoice 4711 to account 99-1234 today.\n\nAlice\n'
    } | _demo_crlf >"$file"
    _demo_outside 203.0.113.66 relay.mallory.example
    _demo_send b B "${DEMO_OUTSIDE[@]}" --from alice@a.test --to bob@b.test --data "@$file"
}

demo_send_c() {
    local file=$LAB_DIR/out/c.send body bh h now
    DEMO_MSGID[c]="demo-c.$DEMO_RUN@a.test"
    body=$'Hi Bob,\r\n\r\nplease send me the door code.\r\n\r\nAlice\r\n'
    # The relaxed body hash of this body is the SHA-256 of its bytes: no
    # trailing white space, no runs of spaces, no empty lines at the end.
    bh=$(printf '%s' "$body" | openssl dgst -sha256 -binary | openssl base64 -A)
    h=$(openssl rand -base64 32)
    now=$(date +%s)
    {
        printf 'X-XMPP-Identity: alice@a.test\r\n'
        printf 'X-XMPP-Hash: v=1; k=s1; t=%s; ip=192.0.2.10;\r\n bh=%s;\r\n h=%s\r\n' \
            "$now" "$bh" "$h"
        printf 'From: Alice <alice@a.test>\r\nTo: Bob <bob@b.test>\r\n'
        printf 'Subject: Door code\r\nDate: %s\r\nMessage-ID: <%s>\r\n\r\n%s' \
            "$(date -R)" "${DEMO_MSGID[c]}" "$body"
    } >"$file"
    _demo_outside 198.51.100.23 mail.mallory.example
    _demo_send c B "${DEMO_OUTSIDE[@]}" --from alice@a.test --to bob@b.test --data "@$file"
}

demo_send_d() {
    DEMO_MSGID[d]="demo-d.$DEMO_RUN@c.example"
    _demo_outside 198.51.100.44 mail.c.example
    _demo_send d B "${DEMO_OUTSIDE[@]}" --from carol@c.example --to bob@b.test \
        --header "From: Carol <carol@c.example>" --header "To: Bob <bob@b.test>" \
        --header "Subject: Minutes of the meeting" --header "Message-Id: <${DEMO_MSGID[d]}>" \
        --body $'Hi Bob,\n\nthe minutes are below.\n\nCarol\n'
}

demo_send_all() {
    mkdir -p "$LAB_DIR/out"
    demo_send_a && demo_send_b && demo_send_c && demo_send_d
}
