#!/bin/bash
# tests/lab/selftest.sh -- proves the lab helpers themselves.
#
# A private Postfix (no milter) relays three messages to an smtp-sink, one
# of them from a faked IPv6 client (XCLIENT); a private Redis answers
# SET/GET; afterwards nothing of the lab may be left running.  Postfix
# needs root and the SASL part saslpasswd2: without them the rest still
# runs, and the test then ends with SKIP (exit 77) rather than a pass.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"
. "$here/postfix.sh"
. "$here/redis.sh"

lab_init selftest
SKIPPED=()      # parts that could not run, each "what: why"
# Waits for something the test has just caused end as soon as it shows;
# their limit only stops a hung run.  It is generous because a loaded
# 2-core machine can take seconds for what takes milliseconds when idle.
# The times measured are printed, not asserted.
GUARD=30

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# wait_deferred NAME N: waits until N messages sit in NAME's deferred queue.
# smtp logs status=deferred before qmgr moves the file there, so the log
# line alone does not mean the queue shows it yet.
wait_deferred() {
    local i
    for ((i = 0; i < GUARD * 20; i++)); do
        [ "$(lab_postfix_queue_count "$1" deferred)" -ge "$2" ] && return 0
        sleep 0.05
    done
    echo "Postfix $1: not $2 deferred after ${GUARD}s" >&2
    return 1
}

# --- smtp-sink -----------------------------------------------------------
lab_start_sink SINK || exit 99
lab_assert_match "sink listens on a port" '^[0-9]+$' "$SINK_PORT"

# --- Postfix -------------------------------------------------------------
have_postfix=no have_sasl=no
if [ "$(id -u)" -eq 0 ]; then
    have_postfix=yes
    t0=$(date +%s%N)
    lab_start_postfix PF --sink SINK || exit 99
    start_ms=$(ms_since "$t0")

    t0=$(date +%s%N)
    lab_swaks PF --from alice@example.org --to bob@example.net \
        --header "Subject: lab one" \
        --body $'first line\n.starts with a dot\ntrailing blanks   \nlast line'
    lab_assert_eq "message 1 accepted (swaks exit code)" 0 "$?"
    lab_sink_wait SINK 1 "$GUARD"
    first_ms=$(ms_since "$t0")

    lab_swaks PF --client 2001:db8::7 --from carol@example.org \
        --to dave@example.net --header "Subject: lab two (IPv6 via XCLIENT)"
    lab_assert_eq "message 2 accepted (XCLIENT IPv6)" 0 "$?"
    lab_swaks PF --client 198.51.100.7 --from erin@example.org \
        --to frank@example.net --header "Subject: lab three"
    lab_assert_eq "message 3 accepted (XCLIENT IPv4)" 0 "$?"

    lab_sink_wait SINK 3 "$GUARD"
    lab_postfix_wait_queue_empty PF "$GUARD"
    lab_assert_eq "Postfix queue empty" 0 "$(lab_postfix_queue_count PF)"
    mapfile -t files < <(lab_sink_files SINK)
    lab_assert_eq "exactly 3 messages in the sink" 3 "${#files[@]}"

    # Files come oldest first; each message's first header is Postfix's
    # Received with the client address smtpd saw.
    subjects=("lab one" "lab two (IPv6 via XCLIENT)" "lab three")
    clients=("127.0.0.1" "IPv6:2001:db8::7" "198.51.100.7")
    for i in 0 1 2; do
        f=${files[$i]:-/nonexistent}
        msg=$(lab_sink_message "$f" 2>/dev/null)
        lab_assert_eq "message $((i + 1)) Subject" "Subject: ${subjects[$i]}" \
            "$(grep -m1 '^Subject: ' <<<"$msg")"
        lab_assert_match "message $((i + 1)) Received by the lab Postfix" \
            "^Received: from [^ ]+ \\(unknown \\[${clients[$i]//./\\.}\\]\\)"$'\n\t'"by pf\\.lab\\.example \\(Postfix\\) with ESMTP id [0-9A-F]+" \
            "$msg"
    done

    # The body arrives as sent (dot unstuffed, blanks kept); swaks adds
    # one empty line after it.
    msg=$(lab_sink_message "${files[0]:-/nonexistent}" 2>/dev/null)
    lab_assert_eq "message 1 body as sent" \
        $'first line\n.starts with a dot\ntrailing blanks   \nlast line\n' \
        "$(sed '1,/^$/d' <<<"$msg")"$'\n'

    lab_assert_match "maillog written by postlogd" \
        'postfix/smtpd\[[0-9]+\]: [0-9A-F]+: client=unknown\[2001:db8::7\]' \
        "$(cat "$PF_LOG")"

    # Deferral and flush: with the sink gone the message waits in the queue.
    lab_stop_sink SINK
    lab_swaks PF --from alice@example.org --to bob@example.net \
        --header "Subject: lab deferred"
    lab_assert_eq "message 4 accepted while the sink is down" 0 "$?"
    lab_wait_log "$PF_LOG" 'status=deferred' "$GUARD"
    lab_assert_match "message 4 deferred (maillog)" 'status=deferred' "$(cat "$PF_LOG")"
    wait_deferred PF 1
    lab_assert_eq "message 4 in the deferred queue" 1 "$(lab_postfix_queue_count PF deferred)"
    lab_restart_sink SINK
    lab_postfix_flush PF
    lab_sink_wait SINK 4 "$GUARD"
    lab_postfix_wait_queue_empty PF "$GUARD"
    lab_assert_eq "message 4 delivered after flush" 4 "$(lab_sink_count SINK)"

    # Second instance: SMTP AUTH (Cyrus sasldb) and local maildir delivery.
    if command -v saslpasswd2 >/dev/null; then
        have_sasl=yes
        lab_start_postfix AUTH --local --mynetworks 192.0.2.0/24 \
            --sasl alice@example.org:secret-1 || exit 99
        lab_swaks AUTH --auth PLAIN --auth-user alice@example.org \
            --auth-password secret-1 --from alice@example.org \
            --to bob@example.net --header "Subject: lab auth"
        lab_assert_eq "SASL PLAIN login accepted" 0 "$?"
        lab_swaks AUTH --auth LOGIN --auth-user alice@example.org \
            --auth-password wrong --from alice@example.org --to bob@example.net
        lab_assert_eq "SASL wrong password refused (swaks 28)" 28 "$?"
        lab_postfix_wait_queue_empty AUTH "$GUARD"
        lab_assert_eq "one message in the local maildir" 1 "$(lab_mailbox_count AUTH)"
        lab_assert_match "maildir message has the Subject" $'\nSubject: lab auth\n' \
            "$(cat "$(lab_mailbox_files AUTH | head -n 1)" 2>/dev/null)"
        lab_assert_match "maillog names the SASL user" \
            'client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice@example\.org' \
            "$(cat "$AUTH_LOG")"
    else
        SKIPPED+=("SMTP AUTH and local delivery: saslpasswd2 is not installed (Debian package sasl2-bin)")
    fi
else
    SKIPPED+=("the private Postfix (relay, XCLIENT, deferral, SMTP AUTH): it needs root")
fi

# --- the sample Postfix settings parse cleanly -----------------------------
# postconf warns about unknown parameters and bad master.cf lines.
snip=$LAB_DIR/snippets
mkdir -p "$snip"
cp "${top_srcdir:?}/etc/postfix/main.cf.snippet" "$snip/main.cf"
cp "${top_srcdir:?}/etc/postfix/master.cf.snippet" "$snip/master.cf"
lab_assert_eq "main.cf.snippet: postconf has no warnings" "" \
    "$(postconf -c "$snip" -n 2>&1 >/dev/null)"
lab_assert_eq "main.cf.snippet: milters resolve to the milter's default socket" \
    "inet:127.0.0.1:8893" "$(postconf -c "$snip" -xh smtpd_milters 2>&1)"
lab_assert_eq "master.cf.snippet: postconf has no warnings" "" \
    "$(postconf -c "$snip" -M 2>&1 >/dev/null)"

# --- Redis ---------------------------------------------------------------
t0=$(date +%s%N)
lab_start_redis RDS || exit 99
redis_ms=$(ms_since "$t0")
lab_assert_eq "redis SET over TCP" OK \
    "$(redis-cli -h 127.0.0.1 -p "$RDS_PORT" SET lab:key value-1)"
lab_assert_eq "redis GET over the unix socket" value-1 \
    "$(lab_redis_cli RDS GET lab:key)"
lab_assert_eq "redis socket is private (700)" 700 "$(stat -c %a "$RDS_SOCKET")"
lab_restart_redis RDS
lab_assert_eq "redis restarted empty on the same port" "" \
    "$(redis-cli -h 127.0.0.1 -p "$RDS_PORT" GET lab:key)"

# --- everything stops ----------------------------------------------------
pids=("$SINK_PID" "$RDS_PID")
instances=()
[ "$have_postfix" = yes ] && instances+=(PF)
[ "$have_sasl" = yes ] && instances+=(AUTH)
lab_stop_sink SINK
lab_stop_redis RDS
for name in "${instances[@]}"; do
    pid_var=${name}_PID
    pids+=("${!pid_var}")
    lab_stop_postfix "$name"
done
still_running() {
    local pid name left=""
    for pid in "${pids[@]}"; do
        _lab_alive "$pid" && left+=" $pid"
    done
    for name in "${instances[@]}"; do
        left+=" $(lab_postfix_pids "$name" | tr '\n' ' ')"
    done
    echo $left
}
# The stop helpers end with KILL for what outlived TERM; a killed process
# may still need a moment (a busy CPU) to be gone, hence the bounded wait.
t0=$(date +%s%N)
for ((i = 0; i < GUARD * 20; i++)); do
    [ -z "$(still_running)" ] && break
    sleep 0.05
done
[ "$i" -gt 0 ] && echo "info: the last lab process was gone $(ms_since "$t0") ms after the stop helpers returned"
lab_assert_eq "no lab process left running" "" "$(still_running)"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
closed=yes
for port in "$SINK_PORT" "$RDS_PORT" ${PF_SMTP_PORT:+"$PF_SMTP_PORT"} \
    ${AUTH_SMTP_PORT:+"$AUTH_SMTP_PORT"}; do
    port_open "$port" && closed="no ($port)"
done
lab_assert_eq "no lab port left open" yes "$closed"

if [ "$have_postfix" = yes ]; then
    echo "info: Postfix start ${start_ms} ms, first message through to the sink ${first_ms} ms, Redis start ${redis_ms} ms"
else
    echo "info: Redis start ${redis_ms} ms"
fi
lab_finish || exit 1
# Everything that ran passed; a part that could not run is not a pass.
if [ ${#SKIPPED[@]} -gt 0 ]; then
    printf 'SKIP: %s\n' "${SKIPPED[@]}"
    exit 77
fi
