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
#   lab_start_xsmtp_prosody [CFG...]   Prosody with etc/prosody/xsmtp.cfg.lua
#                                      (and the extra CFG files, if any)
#                                      and a fresh component secret ($SECRET),
#                                      account milter@b.test (milterpw); writes
#                                      $LAB_DIR/secret and $LAB_DIR/xmpp.password
#   lab_start_component [--rate N] [--burst N] [LINE...]
#                                      writes $LAB_DIR/component.conf (xsmtp.a.test
#                                      serving a.test, rate_per_domain N, 0 =
#                                      unlimited by default; each LINE appended
#                                      as a top-level setting), runs the
#                                      component and waits until it is connected
#   lab_run_component                  (re)starts the component only, log
#                                      appended to component.log; sets COMP_PID,
#                                      counts COMPONENT_STARTS
#   lab_wait_component                 waits (60 s) until component.log says
#                                      this start connected to Prosody
#   lab_stop_component                 SIGTERM to $COMP_PID and reap it
#   lab_write_verify_milter_conf SOCKET [TEXT]
#                                      $LAB_DIR/milter.conf: verify mode on
#                                      SOCKET (a port number means
#                                      inet:PORT@127.0.0.1, else e.g.
#                                      unix:PATH) as mx.b.test, TEXT
#                                      (lines of configuration) after the
#                                      header, then the xmpp (milter@b.test/gw1
#                                      over c2s) and redis ($R_SOCKET) blocks
#   lab_start_verify_milter SOCKET LOG runs the milter on milter.conf, log to
#                                      LOG; sets MILTER_PID; waits for its
#                                      socket (SOCKET as above) and its XMPP
#                                      session

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
    lab_start_prosody "$LAB_DIR/xsmtp.cfg.lua" "$@" || return 1
    lab_prosody_register milter b.test milterpw || return 1
    printf '%s\n' "$SECRET" >"$LAB_DIR/secret"
    printf 'milterpw\n' >"$LAB_DIR/xmpp.password"
    chmod 600 "$LAB_DIR/secret" "$LAB_DIR/xmpp.password"
}

lab_run_component() {
    COMPONENT_STARTS=$((COMPONENT_STARTS + 1))
    COMP_CONNECTS_BEFORE=$(grep -c "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" "$LAB_DIR/component.log" 2>/dev/null) ||
        COMP_CONNECTS_BEFORE=0
    "$COMPONENT" -f -c "$LAB_DIR/component.conf" >>"$LAB_DIR/component.log" 2>&1 &
    COMP_PID=$!
    lab_track_pid $COMP_PID
}

lab_wait_component() {
    # component.log is appended to across restarts: wait for one more
    # "connected" line than there was when the component was started.
    local want=$(( ${COMP_CONNECTS_BEFORE:-0} + 1 )) i
    for ((i = 0; i < 60 * 20; i++)); do
        [ "$(grep -c "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" "$LAB_DIR/component.log" 2>/dev/null)" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "lab: the component did not connect within 60 s" >&2
    return 1
}

lab_stop_component() {
    kill -TERM "$COMP_PID" 2>/dev/null
    wait "$COMP_PID" 2>/dev/null
}

# A port number stands for inet:PORT@127.0.0.1, anything else is a milter
# socket specification as written.
lab_milter_socket() {
    case $1 in
        *[!0-9]* | '') printf '%s' "$1" ;;
        *) printf 'inet:%s@127.0.0.1' "$1" ;;
    esac
}

lab_start_component() {
    local line rate=0 burst=""
    while [ $# -gt 0 ]; do
        case $1 in
            --rate) rate=$2; shift 2 ;;
            --burst) burst=$2; shift 2 ;;
            *) break ;;
        esac
    done
    {
        cat <<EOF
component {
  jid = "xsmtp.a.test"
  server = "127.0.0.1"
  port = $PROSODY_COMPONENT_PORT
  secret_file = "$LAB_DIR/secret"
  keys = "$LAB_DIR/keys"
  domains = { "a.test" }
  rate_per_domain = $rate
EOF
        [ -z "$burst" ] || printf '  burst = %s\n' "$burst"
        printf '}\n'
        for line in "$@"; do
            printf '%s\n' "$line"
        done
    } >"$LAB_DIR/component.conf"
    lab_run_component
    lab_wait_component
}

lab_write_verify_milter_conf() {
    local socket text=${2:-}
    socket=$(lab_milter_socket "$1")
    {
        cat <<EOF
socket = "$socket"
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
    local socket log=$2 port
    socket=$(lab_milter_socket "$1")
    "$MILTER" -f -c "$LAB_DIR/milter.conf" >"$log" 2>&1 &
    MILTER_PID=$!
    lab_track_pid $MILTER_PID
    case $socket in
        unix:*)
            lab_wait_file "${socket#unix:}" 10 || { cat "$log"; return 1; } ;;
        *)
            port=${socket#inet:}
            lab_wait_port "${port%@*}" 60 || { cat "$log"; return 1; } ;;
    esac
    lab_wait_log "$log" "xmpp: connected as" 60
}
