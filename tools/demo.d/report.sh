# tools/demo.d/report.sh -- what tools/demo prints for each message.
#
# One block per message, one "label: value" line per fact, so that a
# person can read it and tests/integration/test_demo.sh can check every value:
#
#   (a) alice@a.test -> bob@b.test through gateway A and gateway B
#       verdict:       X-XSMTP-Verdict as gateway B wrote it
#       auth-results:  gateway B's Authentication-Results (authserv-id mx.b.test)
#       spamassassin:  score=S required=R rules=RULE=points,... | (none)
#       ended in:      inbox | quarantine (Postfix hold queue, QUEUE-ID) | refused CODE
#       notice:        the headline alice@a.test received for this message, or "none"
#
# Notices: gateway B sends one for a pass only (XSMTP-1 s8); alice.py writes
# each as a JSON line.  For a pass the report waits for it (bounded).

declare -A DEMO_TITLE=(
    [a]="alice@a.test -> bob@b.test through gateway A and gateway B"
    [b]="replay of (a)'s headers with another body, straight into B from 203.0.113.66"
    [c]="forged X-XMPP-Hash (made-up h) claiming alice@a.test, from 198.51.100.23"
    [d]="plain message from carol@c.example, no XSMTP headers, from 198.51.100.44"
)

# demo_notice X: "from=JID type=TYPE status=S body=TEXT" for each notice
# about message X that alice got after X was sent and before the next
# message was, one per line.
demo_notice() {
    local x=$1 last="" i
    for ((i = 0; i < ${#DEMO_ORDER[@]} - 1; i++)); do
        [ "${DEMO_ORDER[$i]}" = "$x" ] && last=${DEMO_NOTICES_BEFORE[${DEMO_ORDER[$((i + 1))]}]:-}
    done
    /usr/bin/python3 - "$LAB_DIR/alice/notices" "${DEMO_MSGID[$x]}" \
        "${DEMO_NOTICES_BEFORE[$x]:-0}" "$last" <<'EOF'
import json, sys
path, msgid, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(path, encoding="utf-8") as f:
    lines = f.readlines()
for line in lines[first:int(last) if last else None]:
    note = json.loads(line)
    progress = note.get("progress", {})
    if progress.get("message-id") == msgid:
        print("from=%s type=%s status=%s body=%s" % (
            note["from"], note["type"], progress.get("status"), note["body"]))
EOF
}

# demo_wait_notice X SECONDS: true once a notice about message X arrived.
demo_wait_notice() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ -n "$(demo_notice "$1")" ] && return 0
        sleep 0.1
    done
    return 1
}

# demo_our_auth_results FILE: gateway B's own Authentication-Results value.
demo_our_auth_results() {
    awk '
        /^\r?$/ { exit }
        found && /^[ \t]/ { sub(/^[ \t]+/, " "); value = value $0; next }
        found { exit }
        /^Authentication-Results: mx\.b\.test;/ { value = substr($0, 25); found = 1 }
        END { sub(/\r$/, "", value); printf "%s", value }
    ' "$1"
}

# The rules that hit, comma-separated, or "(none)".
_demo_rules_text() {
    if [ -n "$DEMO_SA_RULES" ]; then echo "${DEMO_SA_RULES// /,}"; else echo "(none)"; fi
}

demo_report_one() {
    local x=$1 file=$LAB_DIR/out/$1.eml where=${DEMO_WHERE[$1]:-lost} verdict notice
    printf '\n(%s) %s\n' "$x" "${DEMO_TITLE[$x]}"
    printf '    message-id:    <%s>\n' "${DEMO_MSGID[$x]}"
    case $where in
    refused\ *)
        printf '    verdict:       (refused in SMTP, no copy)\n'
        printf '    ended in:      %s\n' "$where"
        return 0
        ;;
    lost)
        printf '    ended in:      nowhere (see the logs)\n'
        return 1
        ;;
    esac
    verdict=$(demo_header "$file" X-XSMTP-Verdict)
    printf '    verdict:       %s\n' "${verdict:-(no X-XSMTP-Verdict header)}"
    printf '    auth-results:  %s\n' "$(demo_our_auth_results "$file")"
    if demo_score "$file"; then
        printf '    spamassassin:  score=%s required=%s rules=%s\n' "$DEMO_SA_SCORE" \
            "$DEMO_SA_REQUIRED" "$(_demo_rules_text)"
    else
        printf '    spamassassin:  (not scored: %s)\n' "$(demo_score_describe)"
    fi
    case $where in
    inbox\ *) printf '    ended in:      inbox (%s)\n' "${where#inbox "$LAB_DIR"/}" ;;
    quarantine\ *)
        printf '    ended in:      quarantine (Postfix hold queue of mx.b.test, queue id %s)\n' \
            "${where#quarantine }"
        ;;
    esac
    notice=$(demo_notice "$x")
    if [ -z "$notice" ]; then
        printf '    notice:        none\n'
    else
        printf '    notice:        %s\n' "$notice"
    fi
}

# _demo_stats NAME LOG KEY...: asks daemon NAME (demo.pids) for its counters
# with SIGUSR1 and prints "KEY=VALUE ..." from the "stats:" line it logs.
_demo_stats() {
    local name=$1 log=$2 pid before i line="" key out=""
    shift 2
    pid=$(awk -v n="$name" '$1 == n { print $2 }' "$LAB_DIR/demo.pids")
    before=$(grep -c 'stats: reason=sigusr1' "$log")
    kill -USR1 "$pid" 2>/dev/null || return 1
    for ((i = 0; i < 50; i++)); do
        [ "$(grep -c 'stats: reason=sigusr1' "$log")" -gt "$before" ] && break
        sleep 0.1
    done
    line=$(grep 'stats: reason=sigusr1' "$log" | tail -1)
    for key in "$@"; do
        out+=" $key=$(sed -n "s/.* ${key//./\\.}=\([^ ]*\).*/\1/p" <<<"$line")"
    done
    echo "${out# }"
}

# A few of the counters each daemon keeps (the full lines are in the logs).
demo_report_counters() {
    printf '\nCounters (SIGUSR1; every stats_interval seconds they are logged anyway):\n'
    printf '    gateway A milter:  %s\n' "$(_demo_stats milterA "$LAB_DIR/milterA/milter.log" \
        messages signed not_signed)"
    printf '    gateway B milter:  %s\n' "$(_demo_stats milterB "$LAB_DIR/milterB/milter.log" \
        messages verify.verified verify.queries cache.hits cache.misses xmpp.queries \
        xmpp.rtt_ms.p50 xmpp.notices_sent)"
    printf '    xsmtp.a.test:      %s\n' "$(_demo_stats componentA \
        "$LAB_DIR/componentA/component.log" queries pass fail.bad-hash disco notices.forwarded)"
}

demo_report_all() {
    local x status=0
    for x in "${DEMO_ORDER[@]}"; do
        demo_report_one "$x" || status=1
    done
    demo_report_counters
    return $status
}
