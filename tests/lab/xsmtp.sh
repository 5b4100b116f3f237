# tests/lab/xsmtp.sh -- the xsmtp side of a lab, shared by the shell tests
# that run the verifying xsmtp-milter against a real Prosody and the real
# xsmtp-component (test_faults, test_hostile, test_verify_postfix, ...).
#
# Source after tests/lab/common.sh and tests/lab/prosody.sh, once lab_init
# has made $LAB_DIR; the component needs $COMPONENT, the milter $MILTER.
# Every file goes into $LAB_DIR; secret and key files are mode 600 because
# both daemons refuse key files that group or other can read.
#
#   lab_write_keys B64SECRET           $LAB_DIR/keys: key "s1" for *@a.test
#   lab_start_xsmtp_prosody            Prosody with etc/prosody/xsmtp.cfg.lua
#                                      and a fresh component secret ($SECRET),
#                                      account milter@b.test (milterpw); writes
#                                      $LAB_DIR/secret and $LAB_DIR/xmpp.password
#   lab_start_component [LINE...]      writes $LAB_DIR/component.conf (xsmtp.a.test
#                                      serving a.test; each LINE appended as a
#                                      top-level setting), runs the component
#                                      and waits until it is connected
#   lab_run_component                  (re)starts the component only, log
#                                      appended to component.log; sets COMP_PID,
#                                      counts COMPONENT_STARTS
#   lab_stop_component                 SIGTERM to $COMP_PID and reap it
#   lab_write_verify_milter_conf PORT [TEXT]
#                                      $LAB_DIR/milter.conf: verify mode on
#                                      inet:PORT@127.0.0.1 as mx.b.test, TEXT
#                                      (lines of configuration) after the
#                                      header, then the xmpp (milter@b.test/gw1
#                                      over c2s) and redis ($R_SOCKET) blocks
#   lab_start_verify_milter PORT LOG   runs the milter on milter.conf, log to
#                                      LOG; sets MILTER_PID; waits for its port
#                                      and its XMPP session

COMP_PID=""
COMPONENT_STARTS=0

lab_write_keys() {
    printf 's1  %s  *@a.test\n' "$1" >"$LAB_DIR/keys"
    chmod 600 "$LAB_DIR/keys"
}

lab_start_xsmtp_prosody() {
    SECRET=$(openssl rand -hex 24)
    sed "s/change-me-to-a-long-random-secret/$SECRET/" \
        "$top_srcdir/etc/prosody/xsmtp.cfg.lua" >"$LAB_DIR/xsmtp.cfg.lua"
    lab_start_prosody "$LAB_DIR/xsmtp.cfg.lua" || return 1
    lab_prosody_register milter b.test milterpw || return 1
    printf '%s\n' "$SECRET" >"$LAB_DIR/secret"
    printf 'milterpw\n' >"$LAB_DIR/xmpp.password"
    chmod 600 "$LAB_DIR/secret" "$LAB_DIR/xmpp.password"
}

lab_run_component() {
    COMPONENT_STARTS=$((COMPONENT_STARTS + 1))
    "$COMPONENT" -f -c "$LAB_DIR/component.conf" >>"$LAB_DIR/component.log" 2>&1 &
    COMP_PID=$!
    lab_track_pid $COMP_PID
}

lab_stop_component() {
    kill -TERM "$COMP_PID" 2>/dev/null
    wait "$COMP_PID" 2>/dev/null
}

lab_start_component() {
    local line
    {
        cat <<EOF
component {
  jid = "xsmtp.a.test"
  server = "127.0.0.1"
  port = $PROSODY_COMPONENT_PORT
  secret_file = "$LAB_DIR/secret"
  keys = "$LAB_DIR/keys"
  domains = { "a.test" }
  rate_per_domain = 0
}
EOF
        for line in "$@"; do
            printf '%s\n' "$line"
        done
    } >"$LAB_DIR/component.conf"
    lab_run_component
    lab_wait_log "$LAB_DIR/component.log" "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" 10
}

lab_write_verify_milter_conf() {
    local port=$1 text=${2:-}
    {
        cat <<EOF
socket = "inet:$port@127.0.0.1"
mode = verify
authserv_id = "mx.b.test"
EOF
        [ -z "$text" ] || printf '%s\n' "$text"
        cat <<EOF
xmpp {
    jid = "milter@b.test/gw1"
    password_file = "$LAB_DIR/xmpp.password"
    server = "127.0.0.1"
    port = $PROSODY_C2S_PORT
    tls = optional
}
redis {
    socket = "$R_SOCKET"
}
EOF
    } >"$LAB_DIR/milter.conf"
}

lab_start_verify_milter() {
    local port=$1 log=$2
    "$MILTER" -f -c "$LAB_DIR/milter.conf" >"$log" 2>&1 &
    MILTER_PID=$!
    lab_track_pid $MILTER_PID
    lab_wait_port "$port" 10 || { cat "$log"; return 1; }
    lab_wait_log "$log" "XMPP session up" 10
}
