# tools/bench.d/servers.sh -- the servers tools/bench measures, all private
# and on loopback (sourced by tools/bench after tests/lab/*.sh).
#
#   bench_start_noop KIND            tools/noop_milter on a unix socket or inet port
#   bench_start_sign KIND            xsmtp-milter, mode sign, key s1 for *@a.test
#   bench_start_xmpp                 Prosody (a.test, b.test), xsmtp-component for
#                                    a.test, accounts milter@ and bench@b.test, Redis
#   bench_start_verify KIND          xsmtp-milter, mode verify, through that stack
#   bench_start_opendkim             Debian's opendkim signing a.test (RSA-2048)
# KIND is unix or inet.  Each sets SOCK_<NAME>_<KIND> (the milter socket in
# milterload's syntax) and PID_<NAME>_<KIND>, NAME being NOOP, SIGN, VERIFY
# or DKIM.  Settings are what an administrator would run (log_level info,
# the shipped defaults otherwise); the milters run in the foreground (-f),
# so each log line also goes to a file, as syslog would take it.

BENCH_S1=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=   # XSMTP-1 s3 vector key
# A client outside every internal_hosts list: what the verifier verifies.
BENCH_EXTERNAL_IP=198.51.100.7

# _bench_socket NAME KIND: prints the libmilter socket for a new milter.
_bench_socket() {
    local port
    if [ "$2" = unix ]; then
        echo "unix:$LAB_DIR/$1.sock"
    else
        port=$(lab_free_port) || return 1
        echo "inet:$port@127.0.0.1"
    fi
}

# _bench_wait_socket SPEC PID LOG: waits until the milter listens.
_bench_wait_socket() {
    local spec=$1 pid=$2 log=$3 ok=1
    case $spec in
    unix:*) lab_wait_file "${spec#unix:}" 10 && ok=0 ;;
    inet:*) spec=${spec#inet:}; lab_wait_port "${spec%@*}" 10 && ok=0 ;;
    esac
    if [ "$ok" -ne 0 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "bench: milter $pid did not start; its log:" >&2
        cat "$log" >&2
        return 1
    fi
}

# _bench_record NAME KIND SPEC PID
_bench_record() {
    printf -v "SOCK_$1_$2" '%s' "$3"
    printf -v "PID_$1_$2" '%s' "$4"
}

bench_start_noop() {
    local kind=$1 spec pid
    spec=$(_bench_socket noop-"$kind" "$kind") || return 1
    "$top_builddir/tools/noop_milter" -s "$spec" >"$LAB_DIR/noop-$kind.log" 2>&1 &
    pid=$!
    lab_track_pid "$pid"
    _bench_wait_socket "$spec" "$pid" "$LAB_DIR/noop-$kind.log" || return 1
    _bench_record NOOP "$kind" "$spec" "$pid"
}

_bench_keys() {
    [ -f "$LAB_DIR/keys" ] && return 0
    printf 's1  %s  *@a.test\n' "$BENCH_S1" >"$LAB_DIR/keys"
    chmod 600 "$LAB_DIR/keys"
}

# _bench_milter NAME KIND CONF: starts xsmtp-milter with CONF (socket added).
_bench_milter() {
    local name=$1 kind=$2 conf=$LAB_DIR/$1-$2.conf spec pid
    spec=$(_bench_socket "$name-$kind" "$kind") || return 1
    # milterload's "inet:PORT@HOST" is libmilter's syntax as well.
    { echo "socket = \"$spec\""; cat "$3"; } >"$conf"
    "$top_builddir/milter/xsmtp-milter" -f -c "$conf" >"$LAB_DIR/$name-$kind.log" 2>&1 &
    pid=$!
    lab_track_pid "$pid"
    _bench_wait_socket "$spec" "$pid" "$LAB_DIR/$name-$kind.log" || return 1
    _bench_record "$(echo "$name" | tr 'a-z-' 'A-Z_')" "$kind" "$spec" "$pid"
}

bench_start_sign() {
    _bench_keys
    cat >"$LAB_DIR/sign.body" <<EOF
mode = sign
log_level = info
sign {
    domains = { "a.test" }
    internal_hosts = { "127.0.0.0/8", "::1" }
    keys = "$LAB_DIR/keys"
}
EOF
    _bench_milter sign "$1" "$LAB_DIR/sign.body"
}

bench_start_xmpp() {
    local secret
    _bench_keys
    secret=$(openssl rand -hex 24)
    sed "s/change-me-to-a-long-random-secret/$secret/" \
        "$top_srcdir/etc/prosody/xsmtp.cfg.lua" >"$LAB_DIR/xsmtp.cfg.lua"
    lab_start_prosody "$LAB_DIR/xsmtp.cfg.lua" || return 1
    lab_prosody_register milter b.test milterpw || return 1
    lab_prosody_register bench b.test benchpw || return 1
    printf '%s\n' "$secret" >"$LAB_DIR/component.secret"
    printf 'milterpw\n' >"$LAB_DIR/xmpp.password"
    printf 'benchpw\n' >"$LAB_DIR/bench.password"
    chmod 600 "$LAB_DIR/component.secret" "$LAB_DIR/xmpp.password" "$LAB_DIR/bench.password"
    # rate_per_domain = 0: the benchmark is one "domain" sending thousands
    # of queries a second; a production component would rate-limit it.
    cat >"$LAB_DIR/component.conf" <<EOF
log_level = "info"
component {
  jid = "xsmtp.a.test"
  server = "127.0.0.1"
  port = $PROSODY_COMPONENT_PORT
  secret_file = "$LAB_DIR/component.secret"
  keys = "$LAB_DIR/keys"
  domains = { "a.test" }
  rate_per_domain = 0
}
EOF
    "$top_builddir/xmpp/xsmtp-component" -f -c "$LAB_DIR/component.conf" \
        >>"$LAB_DIR/component.log" 2>&1 &
    COMPONENT_PID=$!
    lab_track_pid "$COMPONENT_PID"
    lab_wait_log "$LAB_DIR/component.log" "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" 10 ||
        return 1
    lab_start_redis R || return 1
}

bench_start_verify() {
    local kind=$1
    cat >"$LAB_DIR/verify-$kind.body" <<EOF
mode = verify
log_level = info
authserv_id = "mx.b.test"
xmpp {
    jid = "milter@b.test/bench-$kind"
    password_file = "$LAB_DIR/xmpp.password"
    server = "127.0.0.1"
    port = $PROSODY_C2S_PORT
    tls = optional
}
redis {
    socket = "$R_SOCKET"
}
EOF
    _bench_milter verify "$kind" "$LAB_DIR/verify-$kind.body" || return 1
    lab_wait_log "$LAB_DIR/verify-$kind.log" "XMPP session up" 10
}

bench_start_opendkim() {
    local dir=$LAB_DIR/opendkim pid
    command -v opendkim >/dev/null || return 77
    mkdir -p "$dir"
    openssl genrsa -out "$dir/bench.private" 2048 2>/dev/null || return 1
    chmod 600 "$dir/bench.private"
    # Debian's opendkim as an administrator would run it for one domain.
    cat >"$dir/opendkim.conf" <<EOF
Mode                s
Domain              a.test
Selector            bench
KeyFile             $dir/bench.private
Socket              local:$dir/opendkim.sock
Canonicalization    relaxed/relaxed
InternalHosts       127.0.0.1
Background          no
Syslog              no
PidFile             $dir/opendkim.pid
# The lab lives under /tmp, which other users may write: opendkim would
# refuse the key (in production the key sits in a root-only directory).
RequireSafeKeys     false
EOF
    opendkim -f -x "$dir/opendkim.conf" >"$dir/opendkim.log" 2>&1 &
    pid=$!
    lab_track_pid "$pid"
    _bench_wait_socket "unix:$dir/opendkim.sock" "$pid" "$dir/opendkim.log" || return 1
    _bench_record DKIM unix "unix:$dir/opendkim.sock" "$pid"
}
