#!/bin/bash
# tests/integration/test_daemon.sh -- xsmtp-milter as a running daemon, driven by
# miltertest (Debian package miltertest).
#
# 1. -V, -h, a bad option, a refused start (bad configuration).
# 2. Foreground on a unix socket (config derived from etc/xsmtp.conf):
#    a message is accepted unchanged; SIGHUP with a broken file keeps the
#    old configuration; SIGHUP twice in a row reloads twice; a burst of
#    SIGHUPs leaves it running; SIGUSR1 logs counters; SIGTERM with a
#    message in flight lets it finish, refuses new work (tempfail), exits 0
#    and removes the pid file.
# 3. An inet socket: TCP_NODELAY set on the listener, a message passes.
# 4. In the background (no -f): detaches, pid file, SIGTERM stops it.
# 5. As root: switches to user nobody, gives it the unix socket (0660).
#    Without root or without a user nobody the rest still runs, and the
#    test then ends with SKIP (exit 77) rather than a pass.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lab/common.sh"

MILTER=$top_builddir/milter/xsmtp-milter
SCRIPTS=$top_srcdir/tests/integration/miltertest
[ -x "$MILTER" ] || { echo "no $MILTER: build it first" >&2; exit 99; }
command -v miltertest >/dev/null ||
    { echo "SKIP: miltertest is not installed (Debian package miltertest)"; exit 77; }
# slow.lua's "slow: waiting" must reach its file while it waits: miltertest
# writes through stdio, fully buffered into a file, so run it line-buffered.
command -v stdbuf >/dev/null || { echo "SKIP: needs stdbuf (coreutils)"; exit 77; }

# Waits for something the test has just caused end as soon as it shows;
# their limit only stops a hung run.  It is generous because a loaded
# 2-core machine can take seconds for what takes milliseconds when idle.
GUARD=30

lab_init daemon
cp "$top_srcdir/tests/data/config/test.keys" "$LAB_DIR/keys"
chmod 600 "$LAB_DIR/keys"

# make_config FILE SOCKET [EXTRA-SED]: the shipped sample with our paths.
make_config() {
    local file=$1 socket=$2 extra=${3:-}
    sed -e "s|/etc/xsmtp/|$LAB_DIR/|g" \
        -e "s|^socket = .*|socket = \"$socket\"|" \
        -e "s|^pidfile = .*|pidfile = \"$LAB_DIR/milter.pid\"|" \
        -e "s|^log_level = .*|log_level = debug|" \
        -e 's|^    domains = .*|    domains = { "a.test" }|' \
        ${extra:+-e "$extra"} \
        "$top_srcdir/etc/xsmtp.conf" > "$file"
}

count_lines() { grep -c -E -- "$2" "$1" 2>/dev/null || true; }

# wait_count FILE REGEX N [SECONDS]: waits until N lines of FILE match.
# A wait for the Nth occurrence, not for any: an earlier signal may have
# written the same line already.
wait_count() {
    local file=$1 regex=$2 want=$3 limit=${4:-$GUARD} i
    for ((i = 0; i < limit * 20; i++)); do
        [ "$(count_lines "$file" "$regex")" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "no $want lines matching /$regex/ in $file after ${limit}s" >&2
    return 1
}

# wait_gone PID SECONDS: waits for a process that is not our child.
wait_gone() {
    local pid=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# passthrough SOCKET: runs the miltertest script, prints its last line.
passthrough() {
    miltertest -D socket="$1" -s "$SCRIPTS/passthrough.lua" 2>&1 | tail -1
}

### 1. Command line ##########################################################
version=$(grep -o 'PACKAGE_VERSION "[^"]*"' "$top_builddir/config.h" | cut -d'"' -f2)
output=$("$MILTER" -V); rc=$?
lab_assert_match "-V names version and libmilter" \
    "^xsmtp-milter $version \\(libmilter [0-9]+\\.[0-9]+\\.[0-9]+, built for milter API 0x[0-9a-f]{8}; libconfuse [0-9.]+\\)\$" \
    "$output"
lab_assert_eq "-V exit code" 0 "$rc"
output=$("$MILTER" -h); rc=$?
lab_assert_eq "-h first line" "usage: xsmtp-milter [-f] [-c FILE]     run the milter" \
    "$(head -1 <<<"$output")"
lab_assert_eq "-h exit code" 0 "$rc"
"$MILTER" -Z >/dev/null 2>&1; rc=$?
lab_assert_eq "unknown option: exit code" 2 "$rc"

CONF=$LAB_DIR/milter.conf
SOCK=$LAB_DIR/milter.sock
PIDFILE=$LAB_DIR/milter.pid
LOG=$LAB_DIR/milter.log

make_config "$CONF" "unix:$SOCK" 's|^mode = .*|mode = { sign, sing }|'
output=$("$MILTER" -f -c "$CONF" 2>&1); rc=$?
mode_line=$(grep -n '^mode = ' "$CONF" | cut -d: -f1)
lab_assert_eq "bad configuration: exit code" 1 "$rc"
lab_assert_match "bad configuration: the problem line" \
    "xsmtp-milter\\[[0-9]+\\]: err: $CONF:$mode_line: mode: bad mode 'sing' \\(expected sign or verify\\)" \
    "$output"
lab_assert_match "bad configuration: refusal" "err: not starting: 1 problem in $CONF" "$output"
lab_assert_eq "bad configuration: no socket" "absent" "$([ -e "$SOCK" ] && echo present || echo absent)"

### 2. Foreground, unix socket ###############################################
make_config "$CONF" "unix:$SOCK"
"$MILTER" -f -c "$CONF" 2>"$LOG" &
PID=$!
lab_track_pid "$PID"
lab_wait_file "$SOCK" "$GUARD" && lab_wait_file "$PIDFILE" "$GUARD" || { cat "$LOG"; exit 1; }
lab_assert_eq "pid file holds the pid" "$PID" "$(cat "$PIDFILE")"
lab_assert_match "start logged" "info: xsmtp-milter $version starting: socket unix:$SOCK, mode sign, configuration generation 1 \\(2 keys, 0 identities\\)" "$(cat "$LOG")"

lab_assert_eq "message accepted unchanged" "passthrough: ok" "$(passthrough "unix:$SOCK")"
lab_assert_match "both messages seen" "debug: NOQUEUE: message from \\[198.51.100.7\\]: 4 headers, 25 body bytes, passed on" "$(cat "$LOG")"

# A broken file: the reload is refused, the old configuration stays.
cp "$CONF" "$CONF.good"
printf 'bogus = 1\n' >> "$CONF"
bogus_line=$(wc -l < "$CONF")
kill -HUP "$PID"
wait_count "$LOG" "reload failed: keeping configuration generation 1" 1
lab_assert_match "broken reload names the problem" \
    "err: reload failed: $CONF:$bogus_line: bogus: unknown option" "$(cat "$LOG")"
lab_assert_eq "alive after broken reload" "yes" "$(kill -0 "$PID" 2>/dev/null && echo yes)"
lab_assert_eq "still accepting after broken reload" "passthrough: ok" "$(passthrough "unix:$SOCK")"

# A key table that became readable by others is refused as well: the
# second refusal writes the same line as the first, so wait for line two.
cp "$CONF.good" "$CONF"
chmod 644 "$LAB_DIR/keys"
kill -HUP "$PID"
wait_count "$LOG" "reload failed: keeping configuration generation 1" 2
lab_assert_eq "bad key table: refused" "2" "$(count_lines "$LOG" 'reload failed: keeping configuration generation 1')"
lab_assert_match "bad key table: why" "reload failed: .*sign\\.keys: $LAB_DIR/keys: group or other may access it \\(mode 0644\\)" "$(cat "$LOG")"
chmod 600 "$LAB_DIR/keys"

# Two SIGHUPs in a row: the second is sent as soon as the first has been
# taken (not before: the kernel keeps one pending SIGHUP, not two).
# If the first is never taken, a second SIGHUP would only merge with it.
taken=$(count_lines "$LOG" 'SIGHUP from pid [0-9]+: reloading')
kill -HUP "$PID"
if wait_count "$LOG" 'SIGHUP from pid [0-9]+: reloading' $((taken + 1)); then
    kill -HUP "$PID"
    lab_wait_log "$LOG" "reload ok: configuration generation 3 " "$GUARD"
fi
lab_assert_eq "first quick reload" 1 "$(count_lines "$LOG" 'reload ok: configuration generation 2 \(mode sign, 2 keys, 0 identities\)')"
lab_assert_eq "second quick reload" 1 "$(count_lines "$LOG" 'reload ok: configuration generation 3 \(mode sign, 2 keys, 0 identities\)')"
lab_assert_eq "alive after two reloads" "yes" "$(kill -0 "$PID" 2>/dev/null && echo yes)"

# A burst: HUPs may merge, but the milter must keep running and reloading.
kill -HUP "$PID"; kill -HUP "$PID"; kill -HUP "$PID"
lab_wait_log "$LOG" "reload ok: configuration generation 4 " "$GUARD"
lab_assert_eq "alive after a burst of SIGHUPs" "yes" "$(kill -0 "$PID" 2>/dev/null && echo yes)"
lab_assert_eq "accepting after reloads" "passthrough: ok" "$(passthrough "unix:$SOCK")"
lab_assert_eq "no stop on SIGHUP" 0 "$(count_lines "$LOG" 'stopping|stopped')"

# The counters line (milter/stats.h): 6 pass-through messages so far, none
# signed (their client is external).
kill -USR1 "$PID"
lab_wait_log "$LOG" "stats: reason=sigusr1 " "$GUARD"
lab_assert_match "SIGUSR1 logs counters" \
    "notice: stats: reason=sigusr1 uptime=[0-9]+ generation=[0-9]+ connections=0 in_flight=0 messages=6 signed=0 not_signed=0 verdict.none=0 " \
    "$(cat "$LOG")"

# SIGTERM while a message is in flight and another connection is idle:
# the message finishes; nothing new starts (a new connection, the idle
# connection's next MAIL: tempfail); then exit 0.  Events set the order;
# the two pauses of the scripts are the only deadlines:
#   late.lua connects, then sends MAIL after LATE_PAUSE s;
#   slow.lua, started once late is connected, sends a message up to its
#   body, says "slow: waiting" and ends the message SLOW_PAUSE s later;
#   SIGTERM goes out as soon as both have happened.
# So only slow.lua's start lies between late's connect and SIGTERM, which
# must come first (LATE_PAUSE s for it); late's MAIL comes at most
# LATE_PAUSE s after slow waits and must be answered before slow's end
# lets the milter exit, and refused.lua must run before that too: they
# share the SLOW_PAUSE - LATE_PAUSE s left.  Generous, at the cost of
# SLOW_PAUSE s of waiting.
LATE_PAUSE=6 SLOW_PAUSE=12
connects=$(count_lines "$LOG" 'debug: connect from')
miltertest -D socket="unix:$SOCK" -D pause=$LATE_PAUSE -s "$SCRIPTS/late.lua" > "$LAB_DIR/late.out" 2>&1 &
LATE=$!
wait_count "$LOG" 'debug: connect from' $((connects + 1))
late_seen=$(date +%s%N)
stdbuf -oL miltertest -D socket="unix:$SOCK" -D pause=$SLOW_PAUSE -s "$SCRIPTS/slow.lua" \
    > "$LAB_DIR/slow.out" 2>&1 &
SLOW=$!
wait_count "$LAB_DIR/slow.out" '^slow: waiting$' 1
kill -TERM "$PID"
echo "info: SIGTERM sent $(( ($(date +%s%N) - late_seen) / 1000000 )) ms after late.lua's connect" \
    "was logged (its MAIL follows ${LATE_PAUSE} s after the connect)"
lab_wait_log "$LOG" "SIGTERM from pid [0-9]+: stopping" "$GUARD"
lab_assert_eq "new connection while stopping: tempfail" "refused: ok" \
    "$(miltertest -D socket="unix:$SOCK" -s "$SCRIPTS/refused.lua" 2>&1 | tail -1)"
wait "$SLOW"; slow_rc=$?
wait "$LATE"; late_rc=$?
wait "$PID"; rc=$?
lab_assert_eq "in-flight message finished" "slow: ok" "$(tail -1 "$LAB_DIR/slow.out")"
lab_assert_eq "in-flight miltertest exit code" 0 "$slow_rc"
lab_assert_eq "MAIL while stopping: tempfail" "late: ok" "$(tail -1 "$LAB_DIR/late.out")"
lab_assert_eq "late miltertest exit code" 0 "$late_rc"
lab_assert_eq "SIGTERM: exit code" 0 "$rc"
lab_assert_match "SIGTERM logged with the message in flight" \
    "info: SIGTERM from pid [0-9]+: stopping; 1 messages in flight on 2 connections, new ones refused" \
    "$(cat "$LOG")"
lab_assert_match "drain logged" "info: no message in flight: closing the socket" "$(cat "$LOG")"
lab_assert_match "stop logged" "info: stopped" "$(tail -1 "$LOG")"
lab_assert_eq "pid file removed" "absent" "$([ -e "$PIDFILE" ] && echo present || echo absent)"

### 3. inet socket ###########################################################
PORT=$(lab_free_port)
LOG=$LAB_DIR/inet.log
make_config "$CONF" "inet:$PORT@127.0.0.1"
"$MILTER" -f -c "$CONF" 2>"$LOG" &
PID=$!
lab_track_pid "$PID"
lab_wait_port "$PORT" "$GUARD" || { cat "$LOG"; exit 1; }
lab_assert_match "TCP_NODELAY on the inet listener" "debug: TCP_NODELAY set on listening descriptor [0-9]+" "$(cat "$LOG")"
lab_assert_eq "inet: message accepted unchanged" "passthrough: ok" "$(passthrough "inet:$PORT@127.0.0.1")"
kill -TERM "$PID"
wait "$PID"; rc=$?
lab_assert_eq "inet: SIGTERM exit code" 0 "$rc"

### 4. Background ############################################################
LOG=$LAB_DIR/background.log
make_config "$CONF" "unix:$SOCK" 's|^log_level = .*|log_level = info|'
"$MILTER" -c "$CONF" 2>"$LOG"; rc=$?
lab_assert_eq "background: parent exit code" 0 "$rc"
lab_wait_file "$PIDFILE" "$GUARD" || exit 1
BGPID=$(cat "$PIDFILE")
lab_track_pid "$BGPID"
lab_assert_eq "background: running" "yes" "$(kill -0 "$BGPID" 2>/dev/null && echo yes)"
lab_assert_eq "background: a session of its own" "yes" \
    "$([ "$(ps -o sid= -p "$BGPID" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] && echo yes)"
lab_assert_eq "background: accepts" "passthrough: ok" "$(passthrough "unix:$SOCK")"
kill -TERM "$BGPID"
wait_gone "$BGPID" "$GUARD"; gone=$?
lab_assert_eq "background: stops on SIGTERM" 0 "$gone"
lab_assert_eq "background: pid file removed" "absent" "$([ -e "$PIDFILE" ] && echo present || echo absent)"

### 5. Dropping root #########################################################
skipped=""
if [ "$(id -u)" -ne 0 ]; then
    skipped="dropping root to user nobody (part 5): not running as root"
elif ! id nobody >/dev/null 2>&1; then
    skipped="dropping root to user nobody (part 5): this system has no user nobody"
else
    RUN=$LAB_DIR/run
    LOG=$LAB_DIR/nobody.log
    mkdir -p "$RUN"
    chown nobody "$RUN" "$LAB_DIR/keys"
    make_config "$CONF" "unix:$RUN/milter.sock" \
        "s|^user = .*|user = \"nobody\"|;s|^pidfile = .*|pidfile = \"$RUN/milter.pid\"|"
    "$MILTER" -f -c "$CONF" 2>"$LOG" &
    PID=$!
    lab_track_pid "$PID"
    lab_wait_log "$LOG" "starting: socket" "$GUARD"
    lab_assert_eq "runs as nobody" "$(id -u nobody)" \
        "$(awk '/^Uid:/ {print $2 "," $3 "," $4 "," $5}' "/proc/$PID/status" | tr ',' '\n' | sort -u)"
    lab_assert_eq "socket given to nobody, mode 660" "nobody 660" "$(stat -c '%U %a' "$RUN/milter.sock")"
    lab_assert_eq "as nobody: accepts" "passthrough: ok" "$(passthrough "unix:$RUN/milter.sock")"
    kill -HUP "$PID"
    lab_wait_log "$LOG" "reload ok: configuration generation 2" "$GUARD"
    lab_assert_match "as nobody: reload reads the key table" "reload ok: configuration generation 2" "$(cat "$LOG")"
    kill -TERM "$PID"
    wait "$PID"; rc=$?
    lab_assert_eq "as nobody: exit code" 0 "$rc"
    lab_assert_eq "as nobody: pid file removed" "absent" "$([ -e "$RUN/milter.pid" ] && echo present || echo absent)"
fi

lab_finish || exit 1
# Everything that ran passed; a part that could not run is not a pass.
if [ -n "$skipped" ]; then
    echo "SKIP: $skipped"
    exit 77
fi
