#!/bin/bash
# tests/integration/test_cache.sh -- milter/cache/cache.h against real redis-server and
# redis-sentinel processes.
#
# Runs tests/integration/cache_driver, either once per command (separate
# processes sharing the cache) or as a long-lived "session" fed commands
# through a FIFO (one struct cache across Redis stops, restarts and
# failovers).  Checks exact values (stored text, computed TTLs, results,
# counters); times are printed as information only, never asserted.
#
# Written for a busy machine: a TTL read back from Redis is checked to lie
# between the configured TTL less the whole seconds the check took (+1 for
# Redis' rounding) and the configured TTL; time windows the checks depend
# on (backoff, lock TTLs, redis timeouts) are far longer than the few
# milliseconds the steps inside them take unloaded.
#
# Needs redis-server; the Sentinel part also needs redis-sentinel (Debian
# package redis-sentinel).  Without it the rest runs, then the test says
# SKIP and exits 77 (or fails, if something else failed).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lab/common.sh"
. "$here/../lab/redis.sh"

DRIVER=$top_builddir/tests/integration/cache_driver
if ! command -v redis-server >/dev/null; then
    echo "SKIP: redis-server not installed"
    exit 77
fi
[ -x "$DRIVER" ] || { echo "no $DRIVER: run make check" >&2; exit 99; }

lab_init cache
info() { echo "info $*"; }
# field NAME LINE: the value of NAME=... in LINE.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
# first WORD of LINE.
first() { echo "${1%% *}"; }
# drv ARGS...: one driver process; its stderr is kept for log checks.
drv() { "$DRIVER" "$@" 2>>"$LAB_DIR/driver.err"; }

# --- sessions: one driver process kept running ---------------------------
declare -A SESSION_IN SESSION_OUT SESSION_PID
session_start() {
    local name=$1 dir=$LAB_DIR/session-$1 fd_in fd_out
    shift
    mkdir -p "$dir" && mkfifo "$dir/in" "$dir/out" || exit 99
    "$DRIVER" "$@" - <"$dir/in" >"$dir/out" 2>"$dir/err" &
    SESSION_PID[$name]=$!
    lab_track_pid $!
    exec {fd_in}>"$dir/in" {fd_out}<"$dir/out"
    SESSION_IN[$name]=$fd_in
    SESSION_OUT[$name]=$fd_out
}
# session_stop_all: asks every session to quit (not by closing its stdin:
# processes started later, redis-server among them, inherited the FIFOs'
# write ends); each must exit 0 (a sanitizer build reports otherwise).
session_stop_all() {
    local name
    for name in "${!SESSION_PID[@]}"; do
        session "$name" quit
        lab_assert_eq "session $name quits" "bye" "$REPLY_LINE"
        wait_exit "${SESSION_PID[$name]}" 30
        lab_assert_eq "session $name exits cleanly" 0 "$EXIT_STATUS"
    done
}
# wait_exit PID SECONDS: PID's exit status in $EXIT_STATUS ("running" if it
# is still alive after SECONDS).  Not in a subshell: only the parent may wait.
wait_exit() {
    local pid=$1 i
    EXIT_STATUS=running
    for ((i = 0; i < $2 * 20; i++)); do
        if ! _lab_alive "$pid"; then
            wait "$pid"
            EXIT_STATUS=$?
            return
        fi
        sleep 0.05
    done
}
# session NAME COMMAND...: sends one command, the reply line in $REPLY_LINE.
session() {
    local name=$1
    shift
    REPLY_LINE=
    echo "$*" >&"${SESSION_IN[$name]}"
    read -r -t 120 REPLY_LINE <&"${SESSION_OUT[$name]}" || REPLY_LINE="(no reply)"
}
session_err() { cat "$LAB_DIR/session-$1/err"; }
stat_of() { # stat_of SESSION NAME
    session "$1" stats
    field "$2" "$REPLY_LINE"
}

now=$(date +%s)
WEEK=604800
# redis timeout_ms of the healthy-server checks.  A loaded machine stalls
# a healthy Redis for 100+ ms at times; 1 s keeps those checks about the
# cache, not the scheduler.  The paused-Redis checks run into it.
TIMEOUT_MS=1000
# Backoff after a failure, for the checks that must see no connection
# attempt inside it: 3 s against a few milliseconds of work inside.
BACKOFF_MS=3000

# assert_ttl WHAT CONFIGURED T0 TTL: TTL (read from Redis) lies in
# [CONFIGURED - (now - T0) - 1, CONFIGURED], T0 being $(date +%s) taken
# before the key was written; Redis rounds TTL to the nearest second.
assert_ttl() {
    local what=$1 configured=$2 t0=$3 ttl=$4 low
    low=$((configured - ($(date +%s) - t0) - 1))
    lab_assert_eq "$what (in [$configured - seconds taken - 1, $configured])" yes \
        "$([[ "$ttl" =~ ^[0-9]+$ ]] && [ "$ttl" -ge "$low" ] && [ "$ttl" -le "$configured" ] &&
            echo yes || echo "no: $ttl, low $low")"
}

# === one server: formats, TTLs, processes, locks ==========================
lab_start_redis R || exit 99
TCP=(--host 127.0.0.1 --port "$R_PORT" --timeout-ms "$TIMEOUT_MS")
UNIX=(--socket "$R_SOCKET" --timeout-ms "$TIMEOUT_MS")

t0=$(date +%s)
out=$(drv "${TCP[@]}" put m1 198.51.100.7 pass - xsmtp.a.test "$now" $WEEK)
key1=$(field key "$out")
lab_assert_eq "put pass (TCP): result and ttl capped at 24 h" "ok ttl=86400" "${out% key=*}"
lab_assert_eq "key is the one derived by 'key'" "$(drv "${TCP[@]}" key m1 198.51.100.7)" "$key1"
lab_assert_match "key format" '^xsmtp:1:v:[0-9a-f]{64}$' "$key1"
lab_assert_eq "stored text" $'pass\t\txsmtp.a.test' "$(lab_redis_cli R GET "$key1")"
assert_ttl "redis TTL of a pass" 86400 "$t0" "$(lab_redis_cli R TTL "$key1")"

out=$(drv "${UNIX[@]}" get m1 198.51.100.7)
lab_assert_eq "another process reads the hit (unix socket)" "hit pass - xsmtp.a.test" \
    "${out% us=*}"
out=$(drv "${TCP[@]}" get m1 198.51.100.8)
lab_assert_eq "another relay is another key: miss" "miss" "${out% us=*}"
out=$(drv "${TCP[@]}" get m1 -)
lab_assert_eq "no relay is another key: miss" "miss" "${out% us=*}"

# A pass whose t + max_age is 5000 s ahead lives 5000 s.  The driver's
# clock is fixed (--now) so the computed ttl is exact on a slow machine.
t0=$(date +%s)
t=$((t0 - WEEK + 5000))
out=$(drv "${UNIX[@]}" --now "$t0" put m2 - pass - xsmtp.a.test "$t" $WEEK)
ttl=$(field ttl "$out")
lab_assert_eq "pass lives until t + max_age" 5000 "$ttl"
assert_ttl "redis TTL of the ttl computed" 5000 "$t0" "$(lab_redis_cli R TTL "$(field key "$out")")"

out=$(drv "${UNIX[@]}" put m3 - pass - xsmtp.a.test $((now - WEEK - 10)) $WEEK)
lab_assert_eq "expired pass: not stored (ttl 0)" "ok ttl=0" "${out% key=*}"
lab_assert_eq "expired pass: no key" 0 "$(lab_redis_cli R EXISTS "$(field key "$out")")"

t0=$(date +%s)
out=$(drv "${UNIX[@]}" put m4 192.0.2.99 fail bad-hash xsmtp.a.test "$now" $WEEK)
key4=$(field key "$out")
lab_assert_eq "fail: ttl 1 h" "ok ttl=3600" "${out% key=*}"
lab_assert_eq "fail: stored text" $'fail\tbad-hash\txsmtp.a.test' "$(lab_redis_cli R GET "$key4")"
assert_ttl "fail: redis TTL" 3600 "$t0" "$(lab_redis_cli R TTL "$key4")"
out=$(drv "${TCP[@]}" get m4 192.0.2.99)
lab_assert_eq "fail read back" "hit fail bad-hash xsmtp.a.test" "${out% us=*}"

t0=$(date +%s)
out=$(drv "${UNIX[@]}" put m5 - permerror no-component - "$now" $WEEK)
key5=$(field key "$out")
lab_assert_eq "permerror: stored text" $'permerror\tno-component\t' "$(lab_redis_cli R GET "$key5")"
assert_ttl "permerror: redis TTL" 3600 "$t0" "$(lab_redis_cli R TTL "$key5")"
out=$(drv "${TCP[@]}" get m5 -)
lab_assert_eq "permerror read back" "hit permerror no-component -" "${out% us=*}"

out=$(drv "${UNIX[@]}" put m6 - temperror timeout xsmtp.a.test "$now" $WEEK)
lab_assert_eq "temperror refused" "invalid ttl=0" "${out% key=*}"
lab_assert_eq "temperror: no key" 0 "$(lab_redis_cli R EXISTS "$(field key "$out")")"

t0=$(date +%s)
out=$(drv "${UNIX[@]}" put-component A.Test xsmtp.a.test)
lab_assert_eq "discovery found: key lowercased" "ok key=xsmtp:1:c:a.test" "$out"
lab_assert_eq "discovery found: text" $'found\txsmtp.a.test' "$(lab_redis_cli R GET xsmtp:1:c:a.test)"
assert_ttl "discovery found: TTL 24 h" 86400 "$t0" "$(lab_redis_cli R TTL xsmtp:1:c:a.test)"
t0=$(date +%s)
drv "${UNIX[@]}" put-component nocomp.test - >/dev/null
lab_assert_eq "discovery none: text" "none" "$(lab_redis_cli R GET xsmtp:1:c:nocomp.test)"
assert_ttl "discovery none: TTL 1 h" 3600 "$t0" "$(lab_redis_cli R TTL xsmtp:1:c:nocomp.test)"
out=$(drv "${TCP[@]}" get-component a.TEST)
lab_assert_eq "discovery read back" "hit found xsmtp.a.test" "${out% us=*}"
out=$(drv "${TCP[@]}" get-component NoComp.test)
lab_assert_eq "discovery none read back" "hit none" "${out% us=*}"

out=$(drv "${TCP[@]}" --prefix site-b: put m1 198.51.100.7 pass - xsmtp.a.test "$now" $WEEK)
lab_assert_match "prefix option" '^ok ttl=86400 key=site-b:v:[0-9a-f]{64}$' "$out"
out=$(drv "${TCP[@]}" --db 3 put m7 - pass - xsmtp.a.test "$now" $WEEK)
key7=$(field key "$out")
lab_assert_eq "db 3: stored there" 1 "$(lab_redis_cli R -n 3 EXISTS "$key7")"
lab_assert_eq "db 3: not in db 0" 0 "$(lab_redis_cli R EXISTS "$key7")"

# Strict parse: foreign values are misses, counted as bad values.
bad_key=$(drv "${TCP[@]}" key m8 -)
lab_redis_cli R SET "$bad_key" $'pass\t\txsmtp.a.test\n' >/dev/null
session_start S1 "${UNIX[@]}"
session S1 get m8 -
lab_assert_eq "value with a trailing LF: miss" "miss" "${REPLY_LINE% us=*}"
lab_redis_cli R DEL "$bad_key" >/dev/null
lab_redis_cli R RPUSH "$bad_key" x >/dev/null
session S1 get m8 -
lab_assert_eq "a list under the key: miss" "miss" "${REPLY_LINE% us=*}"
lab_assert_eq "both counted as bad values" 2 "$(stat_of S1 bad_values)"

# Locks across processes.  Each "busy" below must come while the lock
# lives: A's lock is released by hand, so it may live long (30 s); B's must
# expire by itself, and 3 s is far longer than one driver start even on a
# busy machine.
lock_key=$(drv "${TCP[@]}" key m9 -)
out=$(drv "${TCP[@]}" lock "$lock_key" 30000)
token=$(sed -n 's/^locked \([0-9a-f]\{32\}\) .*/\1/p' <<<"$out")
lab_assert_match "process A takes the lock" '^[0-9a-f]{32}$' "$token"
lab_assert_eq "lock value is A's token" "$token" "$(lab_redis_cli R GET "$lock_key:lock")"
pttl=$(lab_redis_cli R PTTL "$lock_key:lock")
lab_assert_eq "lock PTTL in (0, 30000]" yes "$([ "$pttl" -gt 0 ] && [ "$pttl" -le 30000 ] && echo yes)"
out=$(drv "${UNIX[@]}" lock "$lock_key" 30000)
lab_assert_eq "process B finds it busy" "busy" "${out% us=*}"
lab_assert_eq "B cannot release A's lock" "miss" \
    "$(drv "${UNIX[@]}" unlock "$lock_key" 0123456789abcdef0123456789abcdef)"
lab_assert_eq "A's lock still there" "$token" "$(lab_redis_cli R GET "$lock_key:lock")"
lab_assert_eq "A releases" "ok" "$(drv "${TCP[@]}" unlock "$lock_key" "$token")"
out=$(drv "${UNIX[@]}" lock "$lock_key" 3000)
lab_assert_eq "then B takes it" "locked" "$(first "$out")"
out=$(drv "${TCP[@]}" lock "$lock_key" 3000)
lab_assert_eq "A now busy" "busy" "${out% us=*}"
# Nobody releases B's lock: wait (10 s at most) until Redis expired it.
for ((i = 0; i < 200; i++)); do
    [ "$(lab_redis_cli R EXISTS "$lock_key:lock")" = 0 ] && break
    sleep 0.05
done
lab_assert_eq "B's lock expired by itself" 0 "$(lab_redis_cli R EXISTS "$lock_key:lock")"
out=$(drv "${TCP[@]}" lock "$lock_key" 3000)
lab_assert_eq "an expired lock can be taken" "locked" "$(first "$out")"

# Threads sharing one pool, and plain GET latency.
drv "${TCP[@]}" put m1 - pass - xsmtp.a.test "$now" $WEEK >/dev/null
out=$(drv "${TCP[@]}" --pool 4 threads 8 500 m1 -)
lab_assert_eq "8 threads x 500 gets on a pool of 4: all hits" "4000 0 0" \
    "$(field hit "$out") $(field unavailable "$out") $(field miss "$out")"
info "threads: $out"
out=$(drv "${TCP[@]}" burst 20000 m1 -)
lab_assert_eq "20000 GETs over TCP: all hits" 20000 "$(field hit "$out")"
info "GET latency over TCP: avg $(field avg_us "$out") us, max $(field max_us "$out") us"
out=$(drv "${UNIX[@]}" burst 20000 m1 -)
lab_assert_eq "20000 GETs over the unix socket: all hits" 20000 "$(field hit "$out")"
info "GET latency over unix socket: avg $(field avg_us "$out") us, max $(field max_us "$out") us"

# === Redis down: unavailable at once, backoff, recovery ===================
session_start S2 "${TCP[@]}" --backoff-ms "$BACKOFF_MS"
session S2 get m1 -
lab_assert_eq "session: hit before the stop" "hit pass - xsmtp.a.test" "${REPLY_LINE% us=*}"
lab_stop_redis R
session S2 get m1 -
lab_assert_eq "Redis stopped: unavailable" "unavailable" "${REPLY_LINE% us=*}"
info "first call after the stop: $(field us "$REPLY_LINE") us (timeout_ms $TIMEOUT_MS)"
attempts=$(stat_of S2 connect_attempts)
session S2 burst 1000 m1 -
lab_assert_eq "1000 calls during the backoff: all unavailable" 1000 \
    "$(field unavailable "$REPLY_LINE")"
info "unavailable path during backoff: avg $(field avg_us "$REPLY_LINE") us, max $(field max_us "$REPLY_LINE") us"
lab_assert_eq "no connection attempt during the backoff" "$attempts" \
    "$(stat_of S2 connect_attempts)"
lab_assert_eq "they were answered by the backoff" 1000 "$(stat_of S2 backoff_skips)"
# Past the backoff (it began at the first failure, before this sleep).
session S2 sleep $((BACKOFF_MS + 100))
session S2 get m1 -
lab_assert_eq "after the backoff one probe, still unavailable" "unavailable" \
    "${REPLY_LINE% us=*}"
lab_assert_eq "exactly one connection attempt for it" $((attempts + 1)) \
    "$(stat_of S2 connect_attempts)"
session S2 burst 200 m1 -
lab_assert_eq "backoff doubled: 200 more calls, no attempt" $((attempts + 1)) \
    "$(stat_of S2 connect_attempts)"
lab_assert_eq "one warning for the outage (rate-limited)" 1 \
    "$(session_err S2 | grep -c 'redis cache unavailable')"
lab_assert_eq "the warning holds no secret, names the cause" 1 \
    "$(session_err S2 | grep -c 'Connection refused')"

lab_restart_redis R || exit 99
t0=$(date +%s%N)
session S2 wait-hit m10 - 40
lab_assert_eq "Redis restarted: the cache recovers by itself" recovered "$(first "$REPLY_LINE")"
info "recovery after restart: $(field ms "$REPLY_LINE") ms (backoff doubling from $BACKOFF_MS ms)"
lab_assert_eq "recovery logged" 1 "$(session_err S2 | grep -c 'available again')"
lab_assert_eq "not down any more" 0 "$(stat_of S2 down)"

# A restart while the cache is healthy: the stale connection is replaced
# at once, no call fails.
session S2 get m10 -
lab_restart_redis R || exit 99
lab_redis_cli R SET "$(drv "${TCP[@]}" key m11 -)" $'pass\t\txsmtp.a.test' >/dev/null
errors=$(stat_of S2 errors)
session S2 get m11 -
lab_assert_eq "after a quick restart the next call works" "hit pass - xsmtp.a.test" \
    "${REPLY_LINE% us=*}"
lab_assert_eq "no error counted for the stale connection" "$errors" "$(stat_of S2 errors)"

# === a slow Redis (paused): bounded by timeout_ms, or the caller's deadline
lab_redis_cli R SET "$(drv "${TCP[@]}" key m1 -)" $'pass\t\txsmtp.a.test' >/dev/null
session_start S3 "${TCP[@]}" --pool 2
session S3 get m1 -
lab_assert_eq "slow: hit before" "hit pass - xsmtp.a.test" "${REPLY_LINE% us=*}"
session_start S4 "${TCP[@]}" --deadline-ms 50
session S4 get m1 -
lab_pause_redis R
session S3 get m1 -
lab_assert_eq "paused Redis: unavailable" "unavailable" "${REPLY_LINE% us=*}"
info "paused Redis, timeout_ms $TIMEOUT_MS: answered after $(field us "$REPLY_LINE") us"
lab_assert_eq "a timeout bounded by timeout_ms marks Redis down" 1 "$(stat_of S3 down)"
session S4 get m1 -
lab_assert_eq "paused Redis, caller deadline 50 ms: unavailable" "unavailable" \
    "${REPLY_LINE% us=*}"
info "paused Redis, deadline 50 ms: answered after $(field us "$REPLY_LINE") us"
lab_assert_eq "a caller's short deadline does not mark Redis down" 0 "$(stat_of S4 down)"
session_start S5 "${TCP[@]}" --pool 2
session S5 threads 6 2 m1 -
lab_assert_eq "6 threads, pool of 2, paused Redis: all 12 unavailable" 12 \
    "$(field unavailable "$REPLY_LINE")"
info "paused Redis, 6 threads on a pool of 2: slowest call $(field max_us "$REPLY_LINE") us"
lab_resume_redis R

# === AUTH ====================================================================
lab_start_redis RA "requirepass Xs3cretPw" || exit 99
umask 077
printf 'Xs3cretPw\n' >"$LAB_DIR/redis.pass"
printf 'wrongPw\n' >"$LAB_DIR/wrong.pass"
cp "$LAB_DIR/redis.pass" "$LAB_DIR/open.pass" && chmod 0644 "$LAB_DIR/open.pass"
AUTH=(--host 127.0.0.1 --port "$RA_PORT" --timeout-ms "$TIMEOUT_MS")
out=$(drv "${AUTH[@]}" --password-file "$LAB_DIR/redis.pass" put m1 - pass - xsmtp.a.test "$now" $WEEK)
lab_assert_eq "AUTH with the password file: stored" "ok ttl=86400" "${out% key=*}"
out=$(drv "${AUTH[@]}" --password-file "$LAB_DIR/redis.pass" get m1 -)
lab_assert_eq "AUTH: read back" "hit pass - xsmtp.a.test" "${out% us=*}"
out=$(drv "${AUTH[@]}" --password-file "$LAB_DIR/open.pass" get m1 -)
lab_assert_eq "password file mode 0644 refused" "open-failed" "$(first "$out")"
lab_assert_match "refusal names the file problem" 'password_file' "$out"
: >"$LAB_DIR/driver.err"
out=$(drv "${AUTH[@]}" --password-file "$LAB_DIR/wrong.pass" get m1 -)
lab_assert_eq "wrong password: unavailable" "unavailable" "${out% us=*}"
lab_assert_eq "wrong password: warning says AUTH refused" 1 \
    "$(grep -c 'AUTH refused' "$LAB_DIR/driver.err")"
lab_assert_eq "no password ever logged" 0 \
    "$(grep -c -e Xs3cretPw -e wrongPw "$LAB_DIR/driver.err")"
out=$(drv "${AUTH[@]}" get m1 -)
lab_assert_eq "no password against requirepass: unavailable" "unavailable" "${out% us=*}"

# === Sentinel failover ========================================================
if ! command -v redis-sentinel >/dev/null; then
    session_stop_all
    # A failure above is still a failure; otherwise the untested part
    # makes this a skip, not a pass.
    [ "$LAB_FAILURES" -eq 0 ] || { lab_finish; exit 1; }
    echo "$LAB_CHECKS passed, 0 failed"
    echo "SKIP: Sentinel part: redis-sentinel not installed (Debian package redis-sentinel)"
    exit 77
fi

# wait_for SECONDS COMMAND...: polls every 50 ms until COMMAND succeeds.
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}
replica_linked() { lab_redis_cli "$1" INFO replication | grep -q 'master_link_status:up'; }
# sentinel_sees_replica PORT: Sentinel lists it as a healthy, linked replica
# (redis-cli prints the replica fields as NAME and VALUE lines).
sentinel_sees_replica() {
    lab_sentinel_cli SEN SENTINEL replicas mymaster 2>/dev/null | awk -v want="$1" '
        NR % 2 == 1 { name = $0; next }
        name == "port" { port = $0 }
        name == "flags" { flags = $0 }
        name == "master-link-status" && port == want && flags == "slave" && $0 == "ok" { found = 1 }
        END { exit !found }'
}
master_is() { [ "$(lab_sentinel_master_port SEN mymaster)" = "$1" ]; }

lab_start_redis M || exit 99
lab_start_redis S "replicaof 127.0.0.1 $M_PORT" || exit 99
wait_for 15 replica_linked S || { echo "replica never linked" >&2; exit 99; }
lab_start_sentinel SEN mymaster M 500 || exit 99
wait_for 20 sentinel_sees_replica "$S_PORT" || { echo "sentinel never saw the replica" >&2; exit 99; }

session_start SS --sentinel "127.0.0.1:$SEN_PORT" --master-name mymaster --timeout-ms "$TIMEOUT_MS" \
    --backoff-ms 1000
session SS put s1 - pass - xsmtp.a.test "$now" $WEEK
lab_assert_eq "sentinel: put through the master it names" "ok ttl=86400" "${REPLY_LINE% key=*}"
skey=$(field key "$REPLY_LINE")
lab_assert_eq "sentinel: the value is on M" $'pass\t\txsmtp.a.test' "$(lab_redis_cli M GET "$skey")"
session SS get s1 -
lab_assert_eq "sentinel: read back" "hit pass - xsmtp.a.test" "${REPLY_LINE% us=*}"
lab_assert_eq "sentinel asked once" 1 "$(stat_of SS sentinel_queries)"

# 1. Master killed: Sentinel promotes S, the cache follows.
t0=$(date +%s%N)
lab_stop_redis M
session SS wait-hit s2 - 60
lab_assert_eq "master killed: cache works again" recovered "$(first "$REPLY_LINE")"
info "failover (master killed): cache usable after $(field ms "$REPLY_LINE") ms, $(field tries "$REPLY_LINE") tries"
lab_assert_eq "sentinel names S now" "$S_PORT" "$(lab_sentinel_master_port SEN mymaster)"
lab_assert_eq "the new value is on S" $'pass\t\txsmtp.a.test' \
    "$(lab_redis_cli S GET "$(drv --host 127.0.0.1 --port 1 key s2 -)")"
lab_assert_eq "the value replicated before the failover survived" \
    $'pass\t\txsmtp.a.test' "$(lab_redis_cli S GET "$skey")"
lab_assert_eq "one master change seen" 1 "$(stat_of SS master_changes)"

# 2. Old master back as a replica, then a switchover ordered through
#    Sentinel: the cache's connection to S turns read-only or is closed.
lab_restart_redis M || exit 99
wait_for 30 sentinel_sees_replica "$M_PORT" || { echo "sentinel never took M back" >&2; exit 99; }
wait_for 15 replica_linked M || { echo "M never linked to S" >&2; exit 99; }
session SS get s2 -
lab_assert_eq "before the switchover: hit on S" "hit pass - xsmtp.a.test" "${REPLY_LINE% us=*}"
t0=$(date +%s%N)
for ((i = 0; i < 40; i++)); do
    [ "$(lab_sentinel_cli SEN SENTINEL failover mymaster 2>&1)" = OK ] && break
    sleep 0.25     # "INPROG" or "NOGOODSLAVE" while Sentinel still settles
done
wait_for 30 master_is "$M_PORT"
lab_assert_eq "switchover: sentinel names M again" "$M_PORT" "$(lab_sentinel_master_port SEN mymaster)"
info "switchover by Sentinel took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# Sentinel names M at once, but S goes on taking writes until Sentinel
# turns it into a replica (its known split-brain window; what S took
# meanwhile is lost, harmless for a cache).  Then S answers READONLY or
# drops the connection, and the cache must move to M by itself.
moved=no
for ((i = 0; i < 600; i++)); do
    session SS put "sw$i" - pass - xsmtp.a.test "$now" $WEEK
    if [ "$(first "$REPLY_LINE")" = ok ] &&
        [ "$(lab_redis_cli M GET "$(field key "$REPLY_LINE")")" = $'pass\t\txsmtp.a.test' ]; then
        moved=yes
        break
    fi
    sleep 0.05
done
lab_assert_eq "switchover: the cache writes to the new master" yes "$moved"
info "switchover: cache on the new master $(( ($(date +%s%N) - t0) / 1000000 )) ms after the order, $((i + 1)) puts"
session SS get "sw$i" -
lab_assert_eq "switchover: read back from the new master" "hit pass - xsmtp.a.test" \
    "${REPLY_LINE% us=*}"
lab_assert_eq "two master changes seen" 2 "$(stat_of SS master_changes)"
info "sentinel session: $(session SS stats; echo "$REPLY_LINE")"

session_stop_all
lab_finish
