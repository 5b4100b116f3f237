# tools/bench.d/postfix.sh -- tools/bench --postfix: the milters behind a
# real MTA (sourced by tools/bench).
#
# For none (no milter), noop, sign and verify-hit: Postfix's smtp-source
# sends M copies of one realistic message (milterload --write-message: 12
# headers, 4 KiB body; for verify-hit the pre-signed copy, whose verdict a
# first message puts in Redis) over 8 sessions to a private Postfix with
# the milter, which relays to smtp-sink.  Reported: messages per second
# from the first connection to the last message in the sink.  Checked: the
# sink holds exactly M messages, and each is the message sent plus exactly
# the headers the milter must add (with the right values: identity,
# bh=, verdict word) plus Postfix's own Received -- nothing lost, nothing
# else changed.
#
# Every milter is measured on a unix socket (mode 0666 here: smtpd runs as
# user postfix) and on TCP.  Postfix leaves Nagle's algorithm on and, for a
# step the milter negotiated away (RCPT, DATA), still sends that step's
# macros in a packet of their own; the next small write then waits for a
# delayed ACK (~40 ms per message) whatever the milter does.  A last row
# shows the noop filter taking RCPT and DATA (noop_milter -r) over TCP.
# The verifier here trusts only 192.0.2.1 as internal, so smtp-source's
# 127.0.0.1 counts as an outside client (Postfix's XCLIENT is not
# available to smtp-source).

BENCH_PF_SESSIONS=8

# _bench_pf_check SCENARIO ORIGINAL BH FILE...: the awk check of every dump.
# Prints "ok N" or the first difference.
_bench_pf_check() {
    local scenario=$1 original=$2 bh=$3
    shift 3
    awk -v scenario="$scenario" -v bh="$bh" -v original="$original" '
    # Fields of a message: a header field is its first line plus continuations.
    function parse(lines, n, fields, body,    i, nf, in_body) {
        nf = 0; in_body = 0; body[0] = ""
        for (i = 1; i <= n; i++) {
            if (in_body) { body[0] = body[0] lines[i] "\n"; continue }
            if (lines[i] == "") { in_body = 1; continue }
            if (lines[i] ~ /^[ \t]/ && nf > 0) fields[nf] = fields[nf] "\n" lines[i]
            else fields[++nf] = lines[i]
        }
        return nf
    }
    function name_of(field) { return tolower(substr(field, 1, index(field, ":") - 1)) }
    function value_of(field,    v) { v = substr(field, index(field, ":") + 1); gsub(/\n/, "", v); return v }
    function problem(text) { if (bad == "") bad = FILENAME ": " text }
    function check(    nf, fields, body, i, kept, k, want, got, added_ok) {
        nf = parse(cur, ncur, fields, body)
        kept = 0; postfix_received = 0; got = ""
        for (i = 1; i <= nf; i++) {
            k = name_of(fields[i])
            if (!postfix_received && k == "received" && fields[i] ~ /by pf-[a-z-]*\.bench\.example/) {
                postfix_received = 1; continue
            }
            if (scenario == "noop" && k == "x-milterload-noop") {
                added[k]++; if (value_of(fields[i]) != " passed") problem("noop header value"); continue
            }
            if (scenario == "sign" && (k == "x-xmpp-identity" || k == "x-xmpp-hash") && i <= 2) {
                added[k]++
                if (k == "x-xmpp-identity" && value_of(fields[i]) != " user0@a.test") problem("identity")
                if (k == "x-xmpp-hash" && index(value_of(fields[i]), "bh=" bh ";") == 0) problem("bh")
                continue
            }
            if (scenario == "verify-hit" && (k == "x-xsmtp-verdict" || k == "authentication-results") && i <= 2) {
                added[k]++
                if (k == "x-xsmtp-verdict" && value_of(fields[i]) !~ /^ pass \(identity=user0@a.test;.*cached=yes\)$/)
                    problem("verdict: " value_of(fields[i]))
                if (k == "authentication-results" && index(value_of(fields[i]), "x-xsmtp=pass") == 0)
                    problem("authentication-results")
                continue
            }
            got = got fields[i] "\n"
        }
        if (!postfix_received) problem("no Received header of the Postfix")
        want_added = scenario == "noop" ? 1 : (scenario == "none" ? 0 : 2)
        total_added = 0
        for (k in added) { total_added += added[k]; delete added[k] }
        if (total_added != want_added) problem("added headers: " total_added ", expected " want_added)
        sub(/\n+$/, "\n", body[0])
        if (got "\n" body[0] != original_text) problem("the message differs from the one sent")
        messages++
    }
    BEGIN {
        n = 0
        while ((getline line < original) > 0) orig[++n] = line
        nf = parse(orig, n, of, ob)
        for (i = 1; i <= nf; i++) original_text = original_text of[i] "\n"
        sub(/\n+$/, "\n", ob[0])
        original_text = original_text "\n" ob[0]
    }
    FNR == 1 { if (ncur) check(); ncur = 0; state = 0 }
    # smtp-sink`s own lines (tests/lab/postfix.sh lab_sink_message).
    state == 0 && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
    state == 0 && /^Received: / { state = 1; next }
    state == 1 && /^[ \t]/ { next }
    { state = 2; cur[++ncur] = $0 }
    END {
        if (ncur) check()
        # Trailing empty lines are the transport`s (smtp-sink adds them):
        # both bodies are compared without them.
        print bad == "" ? "ok " messages : bad
    }' "$@"
}

# _bench_pf_scenario SCENARIO KIND MILTER-SOCKET MESSAGE-FILE BH COUNT
_bench_pf_scenario() {
    local scenario=$1 kind=$2 milter=$3 message=$4 bh=$5 count=$6 name sink start end i
    local -a milter_opt=()
    name=PF_$(echo "$scenario-$kind" | tr 'a-z+-' 'A-Z__')
    sink=SINK_$(echo "$scenario-$kind" | tr 'a-z+-' 'A-Z__')
    lab_start_sink "$sink" || return 1
    # milterload's inet:PORT@HOST is inet:HOST:PORT to Postfix.
    case $milter in
    unix:*) milter_opt=(--milter "$milter") ;;
    inet:*) milter_opt=(--milter "inet:${milter#*@}:$(echo "$milter" |
        sed 's/^inet:\([0-9]*\)@.*/\1/')") ;;
    esac
    lab_start_postfix "$name" --sink "$sink" "${milter_opt[@]}" \
        --hostname "pf-$scenario.bench.example" || return 1
    local port_var=${name}_SMTP_PORT
    start=$(date +%s.%N)
    smtp-source -s "$BENCH_PF_SESSIONS" -m "$count" -F "$message" -f user0@a.test \
        -t bob@b.test "127.0.0.1:${!port_var}" >"$LAB_DIR/smtp-source.$scenario.log" 2>&1 ||
        { echo "  $scenario: smtp-source failed"; return 1; }
    for ((i = 0; i < 1200; i++)); do
        [ "$(lab_sink_count "$sink")" -ge "$count" ] && break
        sleep 0.05
    done
    end=$(date +%s.%N)
    # Anything still queued or late would show up now.
    lab_postfix_wait_queue_empty "$name" 5 >/dev/null 2>&1
    sleep 0.5
    local got result files
    got=$(lab_sink_count "$sink")
    mapfile -t files < <(lab_sink_files "$sink")
    result=$(_bench_pf_check "$scenario" "$message" "$bh" "${files[@]}")
    printf '  %-11s %-9s %6d sent %6d received %8.0f msgs/s   check: %s\n' "$scenario" "$kind" \
        "$count" "$got" \
        "$(awk -v n="$got" -v s="$start" -v e="$end" 'BEGIN { print n / (e - s) }')" "$result"
    lab_stop_postfix "$name"
    lab_stop_sink "$sink"
    [ "$got" -eq "$count" ] && [ "$result" = "ok $count" ]
}

bench_postfix() {
    local count=$((MESSAGES < 2000 ? MESSAGES : 2000)) bh status=0 kind var
    command -v smtp-source >/dev/null && command -v postfix >/dev/null ||
        { echo "bench: --postfix needs Postfix (smtp-source, postfix)" >&2; return 1; }
    [ -n "${PROSODY_PID:-}" ] || bench_start_xmpp || return 1
    [ -n "${SOCK_VERIFY_unix:-}" ] || bench_start_verify unix || return 1
    # A verifier for which 127.0.0.1 is an outside client (see above).
    sed -e 's/^mode = verify$/mode = verify\nsign {\n    internal_hosts = { "192.0.2.1" }\n}/' \
        "$LAB_DIR/verify-unix.body" >"$LAB_DIR/verify-pf.body" || return 1
    for kind in unix inet; do
        [ -n "$(eval echo "\${SOCK_NOOP_$kind:-}")" ] || bench_start_noop "$kind" || return 1
        [ -n "$(eval echo "\${SOCK_SIGN_$kind:-}")" ] || bench_start_sign "$kind" || return 1
        sed -i "s|milter@b.test/bench-[a-z-]*\"|milter@b.test/bench-pf-$kind\"|" \
            "$LAB_DIR/verify-pf.body"
        _bench_milter verify-pf "$kind" "$LAB_DIR/verify-pf.body" || return 1
        lab_wait_log "$LAB_DIR/verify-pf-$kind.log" "XMPP session up" 10 || return 1
    done
    # Postfix's smtpd runs as user postfix: let it open our unix sockets.
    for var in SOCK_NOOP_unix SOCK_SIGN_unix SOCK_VERIFY_PF_unix; do
        chmod 666 "${!var#unix:}" || return 1
    done
    "$LOAD" --write-message "$LAB_DIR/plain.eml" --tag "postfix-$RANDOM" || return 1
    "$LOAD" --write-signed "$LAB_DIR/pf.signed" -n 1 --key "s1:$BENCH_S1" \
        --tag "postfix-$RANDOM" || return 1
    "$LOAD" --write-message "$LAB_DIR/signed.eml" --signed "$LAB_DIR/pf.signed" || return 1
    bh=$(awk -F'\t' '!/^#/ { print $7; exit }' "$LAB_DIR/pf.signed")
    # The verdict of the signed message goes into Redis first: all hits.
    # (relay= is part of the cached query: Postfix's client is 127.0.0.1.)
    "$LOAD" -s "$SOCK_VERIFY_PF_unix" -n 1 --quiet --signed "$LAB_DIR/pf.signed" \
        --client-ip 127.0.0.1 --expect verify:pass >/dev/null || return 1
    echo
    echo "end to end: smtp-source ($BENCH_PF_SESSIONS sessions, one message each) -> Postfix" \
        "with the milter -> smtp-sink, $count messages"
    _bench_pf_scenario none - "" "$LAB_DIR/plain.eml" "$bh" "$count" || status=1
    for kind in unix inet; do
        var=SOCK_NOOP_$kind
        _bench_pf_scenario noop "$kind" "${!var}" "$LAB_DIR/plain.eml" "$bh" "$count" || status=1
        var=SOCK_SIGN_$kind
        _bench_pf_scenario sign "$kind" "${!var}" "$LAB_DIR/plain.eml" "$bh" "$count" || status=1
        var=SOCK_VERIFY_PF_$kind
        _bench_pf_scenario verify-hit "$kind" "${!var}" "$LAB_DIR/signed.eml" "$bh" "$count" ||
            status=1
    done
    # The same noop filter taking RCPT and DATA (-r) instead of negotiating
    # them away: Postfix then sends no macro-only packets, and the TCP
    # stall goes (docs/PERFORMANCE.md).
    local port pid
    port=$(lab_free_port) || return 1
    "$top_builddir/tools/noop_milter" -r -s "inet:$port@127.0.0.1" >"$LAB_DIR/noop-r.log" 2>&1 &
    pid=$!
    lab_track_pid "$pid"
    _bench_wait_socket "inet:$port@127.0.0.1" "$pid" "$LAB_DIR/noop-r.log" || return 1
    _bench_pf_scenario noop inet+rcpt "inet:$port@127.0.0.1" "$LAB_DIR/plain.eml" "$bh" "$count" ||
        status=1
    return $status
}
