#!/bin/bash
# tests/integration/test_secrets.sh -- secrets and privileges.
#
# 1. Files that hold secrets are refused when group or other may read or
#    write them: the milter's xmpp.password_file, redis.password_file and
#    sign.keys, the component's secret_file and keys; each with modes 640,
#    604, 620, 602, 644, 660 and 666 (-t fails and names the file; a real
#    start fails too), accepted with 600 and 400.
# 2. No log line at any level holds a secret: the milter (sign and verify,
#    log_level = debug) and the component (debug) run signing, verifying,
#    a reload, SIGUSR1 statistics; a second milter with a wrong XMPP and a
#    wrong Redis password fails to log in; a key table with the secret in
#    the wrong column is refused by -t and by a reload.  Every byte the
#    daemons and -t wrote is searched for each secret, its base64/hex forms
#    and the SASL PLAIN blob that would carry the password.
# 3. Started as root with user = nobody (needs root; the secret files are
#    nobody's, 0600, as documented): both daemons run as nobody (real,
#    effective, saved and file-system ids, in every thread; nobody's own
#    groups only; no capabilities), still verify, and cannot read
#    a root-only file: a reload whose key table became root:root 0600 fails
#    with "Permission denied".  Without root or without a user nobody,
#    parts 1 and 2 still run and the test then ends with SKIP (exit 77)
#    rather than a pass.
# Needs prosody, redis-server, openssl and tools/milterload (built by make).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/prosody.sh"
source "$top_srcdir/tests/lab/redis.sh"

MILTER=$top_builddir/milter/xsmtp-milter
COMPONENT=$top_builddir/xmpp/xsmtp-component
LOAD=$top_builddir/tools/milterload
for tool in openssl redis-server; do
    command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
lab_prosody_available || { echo "SKIP: needs prosody"; exit 77; }
for bin in "$MILTER" "$COMPONENT" "$LOAD"; do
    [ -x "$bin" ] || { echo "no $bin: build it first"; exit 99; }
done

# Waits for something the test has just caused end as soon as it shows;
# their limit only stops a hung run.  It is generous because a loaded
# 2-core machine can take seconds for what takes milliseconds when idle.
GUARD=30
# Deadlines the daemons are configured with.  This test is about secrets,
# not speed: a verification or Redis call cut short by a busy machine
# would turn a pass into a temperror, so both are far above what they
# need (milliseconds), and milterload waits longer than the verifier may
# take, so that the milter's answer, whatever it is, is what gets checked.
VERIFY_TIMEOUT_MS=20000
REDIS_TIMEOUT_MS=5000
LOAD_TIMEOUT_MS=$((VERIFY_TIMEOUT_MS * 2))

lab_init secrets
D=$LAB_DIR
KEY_SECRET=$(openssl rand -base64 32)
XMPP_PASSWORD="Xmpp-Pw-$(openssl rand -hex 12)"
REDIS_PASSWORD="Redis-Pw-$(openssl rand -hex 12)"
COMPONENT_SECRET="Comp-Secret-$(openssl rand -hex 12)"
WRONG_XMPP="Wrong-Xmpp-$(openssl rand -hex 12)"
WRONG_REDIS="Wrong-Redis-$(openssl rand -hex 12)"
private() { printf '%s\n' "$2" >"$1"; chmod 600 "$1"; }
private "$D/keys" "s1  $KEY_SECRET  *@a.test"
private "$D/xmpp.password" "$XMPP_PASSWORD"
private "$D/redis.password" "$REDIS_PASSWORD"
private "$D/secret" "$COMPONENT_SECRET"
private "$D/wrong-xmpp.password" "$WRONG_XMPP"
private "$D/wrong-redis.password" "$WRONG_REDIS"

sed "s/change-me-to-a-long-random-secret/$COMPONENT_SECRET/" \
    "$top_srcdir/etc/prosody/xsmtp.cfg.lua" >"$D/xsmtp.cfg.lua"
lab_start_prosody "$D/xsmtp.cfg.lua" || exit 99
lab_prosody_register milter b.test "$XMPP_PASSWORD" || exit 99
lab_start_redis R "requirepass $REDIS_PASSWORD" || exit 99

component_conf() {   # FILE [user]
    cat >"$1" <<EOF
${2:+user = "$2"}
log_level = debug
component {
  jid = "xsmtp.a.test"
  server = "127.0.0.1"
  port = $PROSODY_COMPONENT_PORT
  secret_file = "$D/secret"
  keys = "$D/keys"
  domains = { "a.test" }
}
EOF
}
milter_conf() {   # FILE SOCKET XMPP-PASSWORD-FILE REDIS-PASSWORD-FILE [user]
    cat >"$1" <<EOF
socket = "unix:$2"
mode = { sign, verify }
authserv_id = "mx.b.test"
log_level = debug
${5:+user = "$5"}
sign {
    domains = { "a.test" }
    keys = "$D/keys"
}
verify {
    timeout_ms = $VERIFY_TIMEOUT_MS
}
xmpp {
    jid = "milter@b.test/gw1"
    password_file = "$3"
    server = "127.0.0.1"
    port = $PROSODY_C2S_PORT
    tls = optional
}
redis {
    socket = "$R_SOCKET"
    password_file = "$4"
    timeout_ms = $REDIS_TIMEOUT_MS
}
EOF
}
component_conf "$D/component.conf"
milter_conf "$D/milter.conf" "$D/milter.sock" "$D/xmpp.password" "$D/redis.password"

# ---- 1. permissions -------------------------------------------------------------------
OUTPUTS=()      # every file a daemon wrote: searched for secrets in part 2
check_modes() {   # LABEL FILE PROGRAM CONFIG
    local label=$1 file=$2 program=$3 conf=$4 mode out rc refused=""
    for mode in 640 604 620 602 644 660 666; do
        chmod "$mode" "$file"
        out=$D/t.$label.$mode
        "$program" -t -c "$conf" >"$out" 2>&1
        rc=$?
        OUTPUTS+=("$out")
        if [ "$rc" -eq 0 ] || ! grep -qF "$file" "$out"; then
            refused+=" $mode(rc=$rc)"
        fi
    done
    lab_assert_eq "$label: refused (-t fails, names the file) with group/other bits" "" "$refused"
    chmod 644 "$file"
    "$program" -f -c "$conf" >"$D/start.$label" 2>&1 &
    local pid=$! i
    # It refuses while reading its configuration: waiting is only a guard.
    for ((i = 0; i < GUARD * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"; wait "$pid" 2>/dev/null
        lab_assert_eq "$label: a real start with mode 644 fails" "exited" "still running"
    else
        wait "$pid"
        lab_assert_eq "$label: a real start with mode 644 fails" 1 "$(( $? != 0 ))"
    fi
    OUTPUTS+=("$D/start.$label")
    for mode in 600 400; do
        chmod "$mode" "$file"
        "$program" -t -c "$conf" >"$D/t.$label.ok" 2>&1
        lab_assert_eq "$label: accepted with mode $mode" 0 "$?"
        OUTPUTS+=("$D/t.$label.ok")
    done
    chmod 600 "$file"
}
check_modes milter-xmpp.password_file "$D/xmpp.password" "$MILTER" "$D/milter.conf"
check_modes milter-redis.password_file "$D/redis.password" "$MILTER" "$D/milter.conf"
check_modes milter-sign.keys "$D/keys" "$MILTER" "$D/milter.conf"
check_modes component-secret_file "$D/secret" "$COMPONENT" "$D/component.conf"
check_modes component-keys "$D/keys" "$COMPONENT" "$D/component.conf"

# ---- 2. no secret in any log line -------------------------------------------------------
"$COMPONENT" -f -c "$D/component.conf" >"$D/component.log" 2>&1 &
COMP_PID=$!
lab_track_pid $COMP_PID
lab_wait_log "$D/component.log" "connected to 127.0.0.1:$PROSODY_COMPONENT_PORT" "$GUARD" || exit 99
"$MILTER" -f -c "$D/milter.conf" >"$D/milter.log" 2>&1 &
MILTER_PID=$!
lab_track_pid $MILTER_PID
lab_wait_file "$D/milter.sock" "$GUARD" || { cat "$D/milter.log"; exit 99; }
# The client's own line: "verifier: XMPP session up" is written only when
# the login beats the milter's fixed start-up wait, which a loaded machine
# may miss; the session counts once it is up, whenever that is.
lab_wait_log "$D/milter.log" "xmpp: connected as milter@b.test/gw1" "$GUARD" || exit 99

"$LOAD" -s "unix:$D/milter.sock" -n 20 -c 2 --expect sign --key "s1:$KEY_SECRET" --quiet \
    --timeout-ms "$LOAD_TIMEOUT_MS" >"$D/load.sign" 2>&1
lab_assert_eq "milterload: 20 messages signed" 0 "$?"
"$LOAD" --write-signed "$D/signed" -n 20 --key "s1:$KEY_SECRET" >/dev/null 2>&1
"$LOAD" -s "unix:$D/milter.sock" -n 20 -c 2 --signed "$D/signed" --client-ip 198.51.100.7 \
    --expect verify:pass --quiet --timeout-ms "$LOAD_TIMEOUT_MS" >"$D/load.verify" 2>&1
lab_assert_eq "milterload: 20 messages verified (pass)" 0 "$?"
kill -USR1 "$MILTER_PID" "$COMP_PID"
kill -HUP "$MILTER_PID" "$COMP_PID"
lab_wait_log "$D/milter.log" "reload ok" "$GUARD"
lab_wait_log "$D/component.log" "reloaded" "$GUARD"

# A key table with the secret in the pattern column: refused, never quoted.
cp "$D/keys" "$D/keys.good"
private "$D/keys" "s1  *@a.test  $KEY_SECRET"
"$MILTER" -t -c "$D/milter.conf" >"$D/t.badkeys.milter" 2>&1
lab_assert_eq "misplaced secret: milter -t refuses the key table" 1 "$(( $? != 0 ))"
"$COMPONENT" -t -c "$D/component.conf" >"$D/t.badkeys.component" 2>&1
lab_assert_eq "misplaced secret: component -t refuses the key table" 1 "$(( $? != 0 ))"
OUTPUTS+=("$D/t.badkeys.milter" "$D/t.badkeys.component")
kill -HUP "$MILTER_PID" "$COMP_PID"
lab_wait_log "$D/milter.log" "reload failed" "$GUARD"
lab_wait_log "$D/component.log" "not reloaded" "$GUARD"
cp "$D/keys.good" "$D/keys"

# Wrong XMPP and Redis passwords: the login failures are logged, not the passwords.
milter_conf "$D/wrong.conf" "$D/wrong.sock" "$D/wrong-xmpp.password" "$D/wrong-redis.password"
"$MILTER" -f -c "$D/wrong.conf" >"$D/wrong.log" 2>&1 &
WRONG_PID=$!
lab_track_pid $WRONG_PID
lab_wait_file "$D/wrong.sock" "$GUARD" || exit 99
"$LOAD" -s "unix:$D/wrong.sock" -n 5 --signed "$D/signed" --client-ip 198.51.100.7 \
    --expect any --quiet --timeout-ms "$LOAD_TIMEOUT_MS" >/dev/null 2>&1
# Both refusals are logged (the first login at start, AUTH on the first
# verification); wait for them rather than for a fixed while.
lab_wait_log "$D/wrong.log" "xmpp: cannot connect as milter@b.test/gw1" "$GUARD"
lab_wait_log "$D/wrong.log" "redis cache unavailable" "$GUARD"
kill -TERM "$WRONG_PID" "$MILTER_PID" "$COMP_PID"
wait "$WRONG_PID" "$MILTER_PID" "$COMP_PID" 2>/dev/null
lab_assert_match "the wrong XMPP password was noticed" "cannot connect|authentication|login" \
    "$(grep -iE 'xmpp' "$D/wrong.log" | tail -3)"
lab_assert_match "the wrong Redis password was noticed" "redis.*(auth|wrongpass|password|denied)" \
    "$(grep -i redis "$D/wrong.log" | tr 'A-Z' 'a-z' | head -3)"
OUTPUTS+=("$D/milter.log" "$D/component.log" "$D/wrong.log")

plain_blob() { printf '\0%s\0%s' "$1" "$2" | base64 -w0; }
b64() { printf '%s' "$1" | base64 -w0; }
needles=("$KEY_SECRET" "$(printf '%s' "$KEY_SECRET" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
         "$XMPP_PASSWORD" "$(b64 "$XMPP_PASSWORD")" "$(plain_blob milter "$XMPP_PASSWORD")"
         "$REDIS_PASSWORD" "$COMPONENT_SECRET" "$WRONG_XMPP" "$(plain_blob milter "$WRONG_XMPP")"
         "$WRONG_REDIS")
found=""
for needle in "${needles[@]}"; do
    for file in "${OUTPUTS[@]}"; do
        grep -qF -- "${needle:0:24}" "$file" && found+=" ${needle:0:8}...@$(basename "$file")"
    done
done
lab_assert_eq "no secret or password in $(cat "${OUTPUTS[@]}" | wc -l) lines of logs and -t output" "" "$found"
lab_assert_match "the milter's log really is at debug level" "^[1-9]" "$(grep -c ': debug: ' "$D/milter.log")"

# ---- 3. privileges: started as root, running as nobody ---------------------------------------
skip=""
if [ "$(id -u)" -ne 0 ]; then
    skip="the privilege checks (part 3): not running as root"
elif ! id nobody >/dev/null 2>&1; then
    skip="the privilege checks (part 3): this system has no user nobody"
fi
if [ -n "$skip" ]; then
    lab_finish || exit 1
    # Parts 1 and 2 passed; a part that could not run is not a pass.
    echo "SKIP: $skip"
    exit 77
fi
NOBODY_UID=$(id -u nobody) NOBODY_GID=$(id -g nobody)
component_conf "$D/component.nobody.conf" nobody
milter_conf "$D/milter.nobody.conf" "$D/nobody/milter.sock" "$D/xmpp.password" "$D/redis.password" nobody
mkdir -p "$D/nobody"
# As documented (xsmtp.conf(5)): the files are the user's, mode 0600 -- the
# milter's verifier reads its password files after the switch, and both
# daemons read the key table again on SIGHUP.
chown nobody "$D/nobody" "$D/keys" "$D/xmpp.password" "$D/redis.password" "$D/secret"
"$COMPONENT" -f -c "$D/component.nobody.conf" >"$D/component.nobody.log" 2>&1 &
COMP_PID=$!
lab_track_pid $COMP_PID
"$MILTER" -f -c "$D/milter.nobody.conf" >"$D/milter.nobody.log" 2>&1 &
MILTER_PID=$!
lab_track_pid $MILTER_PID
lab_wait_log "$D/component.nobody.log" "connected to" "$GUARD" || exit 99
lab_wait_file "$D/nobody/milter.sock" "$GUARD" || { cat "$D/milter.nobody.log"; exit 99; }
lab_wait_log "$D/milter.nobody.log" "xmpp: connected as milter@b.test/gw1" "$GUARD" || exit 99
ids() {   # PID: "uid uid uid uid / gid gid gid gid / groups / CapEff"
    awk '/^Uid:/ { u = $2 " " $3 " " $4 " " $5 } /^Gid:/ { g = $2 " " $3 " " $4 " " $5 }
         /^Groups:/ { $1 = ""; gr = $0 } /^CapEff:/ { c = $2 }
         END { sub(/^ */, "", gr); print u " / " g " / [" gr "] / " c }' "/proc/$1/status"
}
# Supplementary groups: exactly nobody's own (initgroups), none of root's.
want="$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID / $NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID / [$(id -G nobody)] / 0000000000000000"
lab_assert_eq "milter runs as nobody (uids / gids / groups / capabilities)" "$want" "$(ids "$MILTER_PID")"
lab_assert_eq "component runs as nobody (uids / gids / groups / capabilities)" "$want" "$(ids "$COMP_PID")"
for task in /proc/"$MILTER_PID"/task/*; do
    [ "$(awk '/^Uid:/ { print $3 }' "$task/status")" = "$NOBODY_UID" ] || echo "thread ${task##*/} not nobody"
done >"$D/threads"
lab_assert_eq "every thread of the milter runs as nobody" "" "$(cat "$D/threads")"
"$LOAD" -s "unix:$D/nobody/milter.sock" -n 10 --signed "$D/signed" --client-ip 198.51.100.7 \
    --expect verify:pass --quiet --timeout-ms "$LOAD_TIMEOUT_MS" >"$D/load.nobody" 2>&1
lab_assert_eq "as nobody: verifying still works" 0 "$?"
# The key table now belongs to root alone: a reload must fail to read it.
chown root:root "$D/keys"
chmod 600 "$D/keys"
kill -HUP "$MILTER_PID" "$COMP_PID"
lab_wait_log "$D/milter.nobody.log" "reload failed" "$GUARD"
lab_wait_log "$D/component.nobody.log" "not reloaded" "$GUARD"
lab_assert_match "milter as nobody cannot read a root-only key table" "Permission denied" \
    "$(grep -A2 'reload failed' "$D/milter.nobody.log" | head -3)"
lab_assert_match "component as nobody cannot read a root-only key table" "Permission denied" \
    "$(grep 'not reloaded' "$D/component.nobody.log")"
lab_finish
