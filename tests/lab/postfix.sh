# tests/lab/postfix.sh -- private Postfix instances and smtp-sink catchers.
#
# Source it (after common.sh) from a bash test that has called lab_init.
# Everything lives under $LAB_DIR/NAME, listens on 127.0.0.1 only, uses no
# DNS and no syslog, and is stopped from the EXIT trap, also on failure.
#
#   lab_start_sink NAME [smtp-sink options]
#       smtp-sink on 127.0.0.1:free port; every mail transaction is dumped to
#       its own file $LAB_DIR/NAME/msg.*.  Sets NAME_PORT, NAME_DIR, NAME_PID.
#   lab_stop_sink NAME / lab_restart_sink NAME (same port) for fault tests
#   lab_sink_files NAME     complete dump files, oldest first, one per line
#   lab_sink_count NAME     how many complete dump files there are
#   lab_sink_wait NAME N [SECONDS]   waits until at least N are complete
#   lab_sink_message FILE   the message of a dump file as received (headers
#                           and body, LF line ends, without the sink's own
#                           X-*/Received lines and trailing empty line)
#
#   lab_start_postfix NAME [options]    (see the function for the options;
#                                       root only, returns 77 otherwise)
#       Sets NAME_SMTP_PORT, NAME_DIR, NAME_CONF (config_directory),
#       NAME_QUEUE (queue_directory), NAME_LOG (maillog file), NAME_PID.
#   lab_stop_postfix NAME                stops it (idempotent)
#   lab_postfix_set NAME "p = v"...      changes main.cf and reloads
#   lab_postfix_queue_count NAME [QUEUE] messages in its queue (all, or only
#                                        maildrop/incoming/active/deferred/hold)
#   lab_postfix_flush NAME               retries deferred mail now
#   lab_postfix_wait_queue_empty NAME [SECONDS]
#   lab_postfix_sendmail NAME ARGS...    Postfix sendmail(1) for this instance
#                                        (message on stdin; runs the
#                                        non_smtpd_milters path)
#   lab_mailbox_files NAME / lab_mailbox_count NAME  (--local delivery)
#   lab_swaks NAME [--client ADDR] ARGS...
#                                        swaks against the instance's smtpd;
#                                        --client fakes the client address
#                                        (XCLIENT); returns swaks' exit code,
#                                        keeps the transcript in $LAB_SWAKS_LOG
#
# Facts this relies on (Postfix 3.7 / Debian 12, checked here):
# - Postfix runs only as root: master and the postfix command refuse other
#   users ("reserved for the superuser"), so lab_start_postfix returns 77
#   (automake's "skip") for them.  smtp-sink works for anyone.
# - `postfix -c DIR start` as root needs no entry in /etc/postfix/main.cf
#   (which may not exist at all); `post-install create-missing` (run by
#   start) makes queue_directory and data_directory with the right owners,
#   so we must NOT pre-create data_directory (master.lock would be
#   unwritable for mail_owner).
# - A daemonised master is re-parented to PID 1, which on these machines
#   does not reap: dead Postfix processes linger as zombies, and `kill -0`
#   succeeds on a zombie.  So liveness is judged from /proc/PID/stat, and
#   Postfix pids are not handed to lab_track_pid (its 5 s kill -0 wait).
# - Every Postfix process inherits MAIL_CONFIG=<config_directory>, which
#   identifies the processes of one private instance exactly.
# - An smtpd that dies at start-up (bad restriction list, say) makes master
#   throttle the service for 60 s while clients hang: the start-up check
#   below therefore waits for a real "220" banner.
# - smtp-sink creates its dump file at MAIL FROM and writes it at the final
#   "."; a file is complete once smtp-sink no longer holds it open.
# - Postfix re-reads a main.cf/master.cf written in the current second
#   (300 ms sleeps until the second is over); files are back-dated.
# - What a milter sees (checked with a probe milter): every SMTP connection
#   is a milter connection, including lab_start_postfix's banner probe (a
#   connect, then close).  With XCLIENT the milter gets a connect from
#   127.0.0.1 that ends without a message, then a second connect from the
#   XCLIENT address (AF_INET6 for IPv6; macro "_" = "unknown [ADDR]").
#   {auth_authen} arrives at MAIL FROM after SMTP AUTH; "i" is empty at
#   MAIL FROM for SMTP mail.  A later milter in the list sees headers added
#   by an earlier one.  sendmail(1) mail reaches non_smtpd_milters as
#   connect "localhost" [127.0.0.1].
# - Postfix's SMTP client folds lines over 998 octets when relaying (to the
#   sink as well): a body with such lines arrives changed.

# ---------------------------------------------------------------------------
# process helpers

# _lab_alive PID: true while PID exists and is not a zombie.  (Same
# definition in redis.sh; whichever is sourced first wins.)
declare -F _lab_alive >/dev/null || _lab_alive() {
    local stat state
    [ -n "${1:-}" ] || return 1
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    state=${stat##*) }
    state=${state%% *}
    [ "$state" != Z ] && [ "$state" != X ]
}

# _lab_pids_with_env NAME=VALUE: live pids whose environment has it.
_lab_pids_with_env() {
    local want=$1 p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$$" ] && continue
        if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF -- "$want"; then
            _lab_alive "$p" && echo "$p"
        fi
    done
    return 0
}

_lab_check_name() {
    if ! [[ "${1:-}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        echo "lab: bad instance name '${1:-}' (must be a shell identifier)" >&2
        return 1
    fi
    if [ -z "${LAB_DIR:-}" ]; then
        echo "lab: call lab_init first" >&2
        return 1
    fi
}

# ---------------------------------------------------------------------------
# smtp-sink

lab_start_sink() {
    local name=$1
    shift || true
    _lab_check_name "$name" || return 1
    local dir=$LAB_DIR/$name port try
    mkdir -p "$dir" || return 1
    # smtp-sink refuses to run as root; it drops to -u after binding.
    [ "$(id -u)" -eq 0 ] && { chown nobody "$dir" || return 1; }
    printf -v "${name}_DIR" '%s' "$dir"
    # Options are kept for lab_restart_sink.
    : >"$dir/sink.options"
    [ $# -gt 0 ] && printf '%s\0' "$@" >"$dir/sink.options"
    for try in 1 2 3; do
        port=$(lab_free_port) || return 1
        _lab_run_sink "$name" "$port" "$@" && return 0
    done
    echo "lab: smtp-sink $name did not start; see $dir/sink.log" >&2
    cat "$dir/sink.log" >&2
    return 1
}

# _lab_run_sink NAME PORT [options]: one attempt; sets NAME_PORT, NAME_PID.
_lab_run_sink() {
    local name=$1 port=$2 dir=$LAB_DIR/$1 pid
    shift 2
    local -a user_opt=()
    [ "$(id -u)" -eq 0 ] && user_opt=(-u nobody)
    # -d: one file per transaction; the template goes through strftime,
    #     smtp-sink appends a random hex id.
    # -4: IPv4 only, we listen on 127.0.0.1 anyway.
    # -t 30: command timeout (default 100 s) so a stuck client fails fast.
    smtp-sink "${user_opt[@]}" -4 -t 30 -d "$dir/msg.%Y%m%d%H%M%S." \
        "$@" "127.0.0.1:$port" 64 \
        >>"$dir/sink.log" 2>&1 </dev/null &
    pid=$!
    lab_track_pid "$pid"
    if lab_wait_port "$port" 5 2>/dev/null && _lab_alive "$pid"; then
        printf -v "${name}_PORT" '%s' "$port"
        printf -v "${name}_PID" '%s' "$pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}

# lab_stop_sink NAME: the relay target goes away (Postfix then defers).
lab_stop_sink() {
    local pid_var=${1}_PID pid i
    pid=${!pid_var:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        _lab_alive "$pid" || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    printf -v "$pid_var" '%s' ""
    return 0
}

# lab_restart_sink NAME: starts it again on the same port, same options.
lab_restart_sink() {
    local name=$1 port_var=${1}_PORT i
    local -a opts=()
    lab_stop_sink "$name"
    [ -f "$LAB_DIR/$name/sink.options" ] &&
        mapfile -d '' -t opts <"$LAB_DIR/$name/sink.options"
    # The port may sit in TIME_WAIT for a moment; smtp-sink sets
    # SO_REUSEADDR, so a few retries are enough.
    for ((i = 0; i < 20; i++)); do
        _lab_run_sink "$name" "${!port_var}" "${opts[@]}" && return 0
        sleep 0.1
    done
    echo "lab: smtp-sink $name did not restart on port ${!port_var}" >&2
    return 1
}

# Complete dump files, oldest first.  The directory is listed before the
# open files are read: a file created after the listing is not in it, and
# a listed file that is still open shows up among the open ones.
lab_sink_files() {
    local name=$1 dir=$LAB_DIR/$1 pidvar=${1}_PID pid f
    local -a files
    local -A open=()
    mapfile -t files < <(cd "$dir" 2>/dev/null && ls -1tr -- msg.* 2>/dev/null)
    pid=${!pidvar:-}
    if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then
        for f in "/proc/$pid/fd/"*; do
            f=$(readlink "$f" 2>/dev/null) || continue
            open[$f]=1
        done
    fi
    for f in "${files[@]}"; do
        [ -n "${open[$dir/$f]:-}" ] && continue
        [ -s "$dir/$f" ] || continue
        echo "$dir/$f"
    done
}

lab_sink_count() {
    lab_sink_files "$1" | wc -l | tr -d ' '
}

lab_sink_wait() {
    local name=$1 want=$2 limit=${3:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        [ "$(lab_sink_count "$name")" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "lab: sink $name has $(lab_sink_count "$name") messages, wanted $want after ${limit}s" >&2
    return 1
}

# Strips what smtp-sink adds: the X-Client-*/X-Helo-Args/X-Mail-Args/
# X-Rcpt-Args lines, its three-line Received header, and the empty line it
# appends.  Line ends are LF (smtp-sink converts them); dots are unstuffed.
lab_sink_message() {
    awk '
        state == 0 && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
        state == 0 && /^Received: / { state = 1; next }
        state == 1 && /^[ \t]/ { next }
        { state = 2; if (have) print held; held = $0; have = 1 }
    ' "$1"
}

# ---------------------------------------------------------------------------
# Postfix

# lab_start_postfix NAME [options]
#   --sink SINKNAME         relay all mail to smtp-sink SINKNAME
#   --relay-port PORT       relay all mail to [127.0.0.1]:PORT (e.g. another
#                           instance's NAME_SMTP_PORT)
#   --local                 deliver every recipient into one maildir,
#                           $LAB_DIR/NAME/mailbox/new/ (virtual(8))
#                           (default without any of these: discard(8))
#   --milter SOCKET         smtpd_milters and non_smtpd_milters, e.g.
#                           unix:/path or inet:127.0.0.1:PORT
#   --smtpd-milter SOCKET / --non-smtpd-milter SOCKET    just one of them
#   --default-action ACTION milter_default_action (default tempfail)
#   --mynetworks "LIST"     default "127.0.0.0/8 [::1]/128".  Only Postfix's
#                           own restrictions use it, and the lab relays for
#                           anyone unless --set changes
#                           smtpd_relay_restrictions.  It does not reach the
#                           milter: xsmtp decides "internal" from the client
#                           address and its own config, so a test presents
#                           an outside address with lab_swaks --client.
#   --sasl USER:PASSWORD    enable SMTP AUTH (Cyrus SASL, private sasldb,
#                           PLAIN/LOGIN); repeatable.  Needs saslpasswd2
#                           (package sasl2-bin).
#   --no-xclient            do not let 127.0.0.1 use XCLIENT
#   --hostname NAME         myhostname (default NAME.lab.example)
#   --set "param = value"   any other main.cf setting; repeatable, applied last
lab_start_postfix() {
    local name=$1
    shift || true
    _lab_check_name "$name" || return 1
    local dir=$LAB_DIR/$name
    local conf=$dir/conf queue=$dir/queue data=$dir/data log=$dir/maillog
    local deliver=discard relay_port="" smtpd_milters="" non_smtpd_milters=""
    local default_action=tempfail mynetworks="127.0.0.0/8 [::1]/128"
    local xclient=yes hostname=""
    local -a sasl_users=() settings=()
    while [ $# -gt 0 ]; do
        case $1 in
        --sink)
            local sink_port_var=${2}_PORT
            relay_port=${!sink_port_var:-}
            [ -n "$relay_port" ] || { echo "lab: no sink named '$2'" >&2; return 1; }
            deliver=relay; shift 2 ;;
        --relay-port) relay_port=$2; deliver=relay; shift 2 ;;
        --local) deliver=local; shift ;;
        --milter) smtpd_milters=$2; non_smtpd_milters=$2; shift 2 ;;
        --smtpd-milter) smtpd_milters=$2; shift 2 ;;
        --non-smtpd-milter) non_smtpd_milters=$2; shift 2 ;;
        --default-action) default_action=$2; shift 2 ;;
        --mynetworks) mynetworks=$2; shift 2 ;;
        --sasl) sasl_users+=("$2"); shift 2 ;;
        --no-xclient) xclient=no; shift ;;
        --hostname) hostname=$2; shift 2 ;;
        --set) settings+=("$2"); shift 2 ;;
        *) echo "lab_start_postfix: unknown option '$1'" >&2; return 1 ;;
        esac
    done
    # Postfix's master (and the postfix command) refuse to run as anyone
    # but root: "the master command is reserved for the superuser".
    if [ "$(id -u)" -ne 0 ]; then
        echo "lab: a private Postfix needs root (master refuses other users)" >&2
        return 77
    fi
    if [ -e "$dir/conf" ]; then
        echo "lab: Postfix instance $name exists already" >&2
        return 1
    fi
    # Host names allow no '_'.
    [ -n "$hostname" ] || hostname="$(echo "$name" | tr 'A-Z_' 'a-z-').lab.example"

    local owner=postfix
    # queue_directory itself belongs to root; post-install fills it in.
    mkdir -p "$conf" "$queue" || return 1

    # -- main.cf ------------------------------------------------------------
    cat >"$conf/main.cf" <<EOF
# Private lab instance "$name", generated by tests/lab/postfix.sh.
compatibility_level = 3.6

# Own directories.  data_directory holds master.lock; post-install
# (run by "postfix start") creates it and the queue with the right owners.
config_directory = $conf
queue_directory = $queue
data_directory = $data
# The daemons run as the usual postfix user (Debian's defaults, stated).
mail_owner = $owner
setgid_group = postdrop

# Log to a file through postlogd (Postfix >= 3.4), no syslog needed.  The
# file must lie under one of maillog_file_prefixes.
maillog_file = $log
maillog_file_prefixes = $dir

myhostname = $hostname
mydomain = lab.example
myorigin = \$myhostname
# Nothing is local unless --local; no aliases or local(8) lookups.
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no

# Loopback only.  inet_protocols = all lets smtpd accept IPv6 client
# addresses handed in by XCLIENT and lets mynetworks hold IPv6 ranges.
inet_interfaces = 127.0.0.1
inet_protocols = all
mynetworks = $mynetworks

# No DNS anywhere: no reverse lookup of clients, no MX/A lookups for the
# (bracketed) relayhost; "native" uses /etc/hosts and the like.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_connect_timeout = 5s

# Relay for anyone: a lab instance on loopback, and inbound tests send to
# arbitrary domains from "external" addresses.  smtpd refuses to run (and
# master then throttles it for 60 s) unless the list holds a reject-type
# entry that is not straight after "permit"; the static map answers OK
# for every recipient, so the final "reject" is never reached.
smtpd_relay_restrictions = check_recipient_access static:OK, reject
smtpd_recipient_restrictions =

# Lets a test choose the client address (IPv4 or IPv6) that smtpd, its
# Received header and the milter's connect callback see:
#   swaks ... --xclient "ADDR=IPV6:2001:db8::7"   or   --xclient-addr 198.51.100.7
smtpd_authorized_xclient_hosts = $([ "$xclient" = yes ] && echo 127.0.0.1)

# Fast failures and retries for tests (defaults: 1 s / 300 s / 300 s / 4000 s
# and a 1 s in-flow delay that slows bursts of messages).
smtpd_error_sleep_time = 0
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s

# Milters.  milter_protocol 6 is what libmilter 8.14+ speaks.  The default
# action applies when the milter is unreachable or misbehaves (Debian's
# default is tempfail).  Timeouts are shorter than the defaults (30 s /
# 30 s / 300 s) so a hung milter fails a test in seconds, not minutes.
smtpd_milters = $smtpd_milters
non_smtpd_milters = $non_smtpd_milters
milter_protocol = 6
milter_default_action = $default_action
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
EOF

    case $deliver in
    relay)
        cat >>"$conf/main.cf" <<EOF

# All mail goes to the lab relay; brackets: no MX lookup.
relayhost = [127.0.0.1]:$relay_port
default_transport = smtp
EOF
        ;;
    local)
        mkdir -p "$dir/mailbox" || return 1
        # virtual(8) writes as this uid; any unprivileged one will do.
        local box_uid box_gid
        box_uid=$(id -u nobody) box_gid=$(id -g nobody)
        chown "$box_uid:$box_gid" "$dir/mailbox" || return 1
        cat >>"$conf/main.cf" <<EOF

# Every recipient, whatever its domain, lands in one maildir
# ($dir/mailbox/new/, one file per message): the static map answers any
# address; the trailing '/' means maildir.
default_transport = virtual
virtual_mailbox_base = $dir
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:$box_uid
virtual_gid_maps = static:$box_gid
EOF
        ;;
    discard)
        cat >>"$conf/main.cf" <<EOF

# No delivery target given: accept and throw away.
default_transport = discard
EOF
        ;;
    esac

    if [ ${#sasl_users[@]} -gt 0 ]; then
        _lab_postfix_sasl "$name" "$owner" "$hostname" "${sasl_users[@]}" || return 1
    fi

    # -- master.cf ----------------------------------------------------------
    # chroot is off everywhere ('n' in the 5th column): a private instance
    # has no chroot jail to copy files into.  No local(8), no tlsmgr.
    # The smtpd line is filled in below once a port is chosen.
    cat >"$conf/master.cf.tail" <<'EOF'
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

    # The smtpd line is written here and again for each port tried.
    _lab_postfix_master_cf() {
        {
            echo "# smtpd on a private loopback port (no chroot)."
            echo "127.0.0.1:$1 inet  n       -       n       -       -       smtpd"
            cat "$2/master.cf.tail"
        } >"$2/master.cf"
    }
    local port try pid
    port=$(lab_free_port) || return 1
    _lab_postfix_master_cf "$port" "$conf"

    local setting
    for setting in "${settings[@]}"; do
        postconf -c "$conf" -e "$setting" || return 1
    done

    _lab_postfix_age_conf "$conf"

    # postconf warns about unknown or misspelt parameters: treat as errors.
    local warnings
    # (-n: the full listing stalls ~2 s on some default lookup.)
    warnings=$(postconf -c "$conf" -n 2>&1 >/dev/null)
    if [ -n "$warnings" ]; then
        echo "lab: Postfix $name configuration: $warnings" >&2
        return 1
    fi

    for try in 1 2 3; do
        if [ "$try" -gt 1 ]; then
            port=$(lab_free_port) || return 1
            _lab_postfix_master_cf "$port" "$conf"
            _lab_postfix_age_conf "$conf"
        fi
        if ! postfix -c "$conf" start >>"$dir/start.log" 2>&1; then
            if grep -q 'Address already in use' "$log" 2>/dev/null; then
                continue
            fi
            echo "lab: Postfix $name did not start:" >&2
            cat "$dir/start.log" "$log" >&2 2>/dev/null
            return 1
        fi
        lab_on_exit "lab_stop_postfix $name"
        pid=$(tr -dc '0-9' <"$queue/pid/master.pid")
        printf -v "${name}_SMTP_PORT" '%s' "$port"
        printf -v "${name}_DIR" '%s' "$dir"
        printf -v "${name}_CONF" '%s' "$conf"
        printf -v "${name}_QUEUE" '%s' "$queue"
        printf -v "${name}_LOG" '%s' "$log"
        printf -v "${name}_PID" '%s' "$pid"
        if _lab_smtp_banner "$port" 10; then
            return 0
        fi
        echo "lab: Postfix $name smtpd gives no 220 banner on port $port:" >&2
        cat "$log" >&2
        return 1
    done
    echo "lab: Postfix $name: no free port after 3 tries" >&2
    return 1
}

# _lab_postfix_age_conf CONF: Postfix re-reads a main.cf (or master.cf,
# or any table file) that changed during the current second, sleeping
# 300 ms per try, until the clock has moved on: ~1.5 s per start when the
# files were just written.  Dating them a few seconds back avoids that.
# (After editing a running instance's main.cf, call it before reload too.)
_lab_postfix_age_conf() {
    local conf=$1 f
    for f in "$conf"/*; do
        [ -f "$f" ] && touch -d "@$(($(date +%s) - 5))" "$f"
    done
    return 0
}

# lab_postfix_set NAME "param = value"...: changes a running instance and
# reloads it (milter settings for a later phase of a test, say).
lab_postfix_set() {
    local name=$1 conf=$LAB_DIR/$1/conf setting
    shift
    for setting in "$@"; do
        postconf -c "$conf" -e "$setting" || return 1
    done
    _lab_postfix_age_conf "$conf"
    # master logs "reload -- version ..." once it has re-read main.cf;
    # wait for that so the next connection sees the new settings.
    local log=$LAB_DIR/$name/maillog before i
    before=$(grep -c 'postfix/master\[[0-9]*\]: reload ' "$log")
    postfix -c "$conf" reload >>"$LAB_DIR/$name/start.log" 2>&1 || return 1
    # 30 s: a busy machine can hold master back for seconds.
    for ((i = 0; i < 600; i++)); do
        [ "$(grep -c 'postfix/master\[[0-9]*\]: reload ' "$log")" -gt "$before" ] && return 0
        sleep 0.05
    done
    echo "lab: Postfix $name did not log its reload within 30 s" >&2
    return 1
}

# _lab_postfix_sasl NAME OWNER MYHOSTNAME USER:PASS...: Cyrus SASL with a
# private sasldb.  Postfix tells libsasl to read
# $cyrus_sasl_config_path/smtpd.conf (smtpd_sasl_path = smtpd).  A login
# "alice@example.org" is looked up as user alice in realm example.org; a
# bare "bob" in the server's realm, which with smtpd_sasl_local_domain
# empty is $myhostname.  {auth_authen} is the login name as the client
# gave it.
_lab_postfix_sasl() {
    local name=$1 owner=$2 server_realm=$3
    shift 3
    local dir=$LAB_DIR/$name conf=$LAB_DIR/$name/conf entry user pass realm
    if ! command -v saslpasswd2 >/dev/null; then
        echo "lab: --sasl needs saslpasswd2 (Debian package sasl2-bin)" >&2
        return 1
    fi
    mkdir -p "$conf/sasl" || return 1
    cat >"$conf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $dir/sasldb2
mech_list: PLAIN LOGIN
EOF
    for entry in "$@"; do
        user=${entry%%:*} pass=${entry#*:}
        realm=$server_realm
        if [[ "$user" == *@* ]]; then
            realm=${user##*@} user=${user%@*}
        fi
        printf '%s' "$pass" | saslpasswd2 -f "$dir/sasldb2" -p -c \
            -u "$realm" "$user" || return 1
    done
    # smtpd runs as mail_owner and must read the database.
    chown "$owner" "$dir/sasldb2" && chmod 600 "$dir/sasldb2" || return 1
    cat >>"$conf/main.cf" <<EOF

# SMTP AUTH for the "authenticated client" case (Cyrus SASL, sasldb in
# $dir/sasldb2).  Plaintext AUTH is allowed: there is no TLS in the lab.
# With smtpd_sasl_local_domain empty the login name is used as given.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $conf/sasl
smtpd_sasl_security_options = noanonymous
smtpd_sasl_local_domain =
smtpd_tls_auth_only = no
EOF
}

# _lab_smtp_banner PORT SECONDS: true once a "220" greeting arrives.  In a
# subshell: writing QUIT to a socket the server already closed raises
# SIGPIPE, which would kill the calling shell without running its traps.
_lab_smtp_banner() {
    local port=$1 limit=${2:-10} i rc
    for ((i = 0; i < limit * 10; i++)); do
        (
            exec 7<>"/dev/tcp/127.0.0.1/$port" || exit 2
            line=""
            read -r -t "$limit" line <&7
            [[ "$line" == 220* ]] || exit 1
            printf 'QUIT\r\n' >&7
            read -r -t 1 line <&7
            exit 0
        ) 2>/dev/null
        rc=$?
        [ $rc -ne 2 ] && return $rc
        sleep 0.1
    done
    return 1
}

lab_stop_postfix() {
    local name=$1 dir=$LAB_DIR/$1 pid i p
    local conf=$dir/conf
    [ -e "$conf/main.cf" ] || return 0
    pid=$(tr -dc '0-9' 2>/dev/null <"$dir/queue/pid/master.pid")
    if [ -n "$pid" ] && _lab_alive "$pid" &&
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "MAIL_CONFIG=$conf"; then
        # master passes TERM on to its process group and exits.
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            _lab_alive "$pid" || break
            sleep 0.1
        done
        _lab_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    # Children that outlive master (busy, or master was killed) are found
    # by the config directory they inherited; give them a moment, then KILL.
    for ((i = 0; i < 20; i++)); do
        [ -z "$(_lab_pids_with_env "MAIL_CONFIG=$conf")" ] && return 0
        sleep 0.1
    done
    for p in $(_lab_pids_with_env "MAIL_CONFIG=$conf"); do
        kill -KILL "$p" 2>/dev/null
    done
    return 0
}

# lab_postfix_pids NAME: live processes of this instance (should be none
# after lab_stop_postfix).
lab_postfix_pids() {
    _lab_pids_with_env "MAIL_CONFIG=$LAB_DIR/$1/conf"
}

# lab_postfix_queue_count NAME [QUEUE...]: queue files, by default in
# maildrop, incoming, active, deferred and hold.
lab_postfix_queue_count() {
    local name=$1
    shift
    local queue=$LAB_DIR/$name/queue q
    local -a queues=("$@")
    [ ${#queues[@]} -gt 0 ] || queues=(maildrop incoming active deferred hold)
    for q in "${queues[@]}"; do
        [ -d "$queue/$q" ] && find "$queue/$q" -type f
    done | wc -l | tr -d ' '
}

# Retries deferred mail now.  (postqueue is set-gid; it accepts a private
# -c directory from root without an alternate_config_directories entry.)
lab_postfix_flush() {
    postqueue -c "$LAB_DIR/$1/conf" -f
}

lab_postfix_wait_queue_empty() {
    local name=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        [ "$(lab_postfix_queue_count "$name")" -eq 0 ] && return 0
        sleep 0.05
    done
    echo "lab: Postfix $name still has $(lab_postfix_queue_count "$name") queued after ${limit}s" >&2
    return 1
}

# Local submission (sendmail -> postdrop -> maildrop -> pickup -> cleanup),
# the path that non_smtpd_milters see.
lab_postfix_sendmail() {
    local name=$1
    shift
    sendmail -C "$LAB_DIR/$name/conf" "$@"
}

# lab_swaks NAME [--client ADDR] ARGS...: swaks to NAME's smtpd.
#   --client ADDR  (lab option, anywhere in ARGS) makes Postfix treat the
#                  session as coming from ADDR, IPv4 or IPv6, via XCLIENT;
#                  smtpd, its Received header and the milter's connect
#                  callback then all see ADDR.  Postfix wants IPv6 as
#                  "IPV6:2001:db8::7", which swaks' --xclient-addr does not
#                  add, so this builds the --xclient argument itself.
# The transcript goes to a new file whose path is left in LAB_SWAKS_LOG
# (also copied to stderr when LAB_VERBOSE is set); the return value is
# swaks' exit code (0 accepted; 23 MAIL, 24 RCPT, 25 DATA, 26 message
# refused; 2/21 no server).  Later swaks options override earlier ones, so
# ARGS may change the --timeout.
LAB_SWAKS_SEQ=0
lab_swaks() {
    local name=$1
    shift
    local port_var=${name}_SMTP_PORT rc addr
    local -a args=()
    if [ -z "${!port_var:-}" ]; then
        echo "lab: no Postfix instance named '$name'" >&2
        return 2
    fi
    while [ $# -gt 0 ]; do
        if [ "$1" = --client ] && [ $# -ge 2 ]; then
            addr=$2
            [[ "$addr" == *:* ]] && addr="IPV6:$addr"
            args+=(--xclient "ADDR=$addr")
            shift 2
        else
            args+=("$1")
            shift
        fi
    done
    LAB_SWAKS_SEQ=$((LAB_SWAKS_SEQ + 1))
    LAB_SWAKS_LOG=$LAB_DIR/$name/swaks.$LAB_SWAKS_SEQ.log
    swaks --server "127.0.0.1:${!port_var}" --timeout 15 "${args[@]}" \
        >"$LAB_SWAKS_LOG" 2>&1
    rc=$?
    [ -n "${LAB_VERBOSE:-}" ] && cat "$LAB_SWAKS_LOG" >&2
    return $rc
}

# lab_mailbox_files NAME: messages delivered by a --local instance, oldest
# first (maildir: a file appears in new/ only once it is complete).
lab_mailbox_files() {
    local dir=$LAB_DIR/$1/mailbox/new
    [ -d "$dir" ] || return 0
    (cd "$dir" && ls -1tr) | sed "s|^|$dir/|"
}

lab_mailbox_count() {
    lab_mailbox_files "$1" | wc -l | tr -d ' '
}
