# tests/lab/common.sh -- shared plumbing for tests that run real servers.
#
# Source it from a bash test script.  It makes one private temp dir per
# run ($LAB_DIR), hands out free loopback ports, remembers every process it
# started, and stops them all (TERM, then KILL) from an EXIT trap, also when
# the test fails.  The server-specific helpers (postfix.sh, redis.sh,
# prosody.sh, milter.sh) build on it.
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.

set -u
set -o pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

LAB_PIDS=()
LAB_CLEANUP_CMDS=()
LAB_FAILURES=0
LAB_CHECKS=0

lab_init() {
    local name=${1:-lab}
    LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xsmtp-$name.XXXXXX") || exit 99
    chmod 755 "$LAB_DIR"
    trap lab_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Registers a pid to stop at exit.
lab_track_pid() { LAB_PIDS+=("$1"); }
# Registers a shell command to run at exit (before pids are killed).
lab_on_exit() { LAB_CLEANUP_CMDS+=("$1"); }

lab_cleanup() {
    local rc=$?
    local cmd pid i
    for ((i = ${#LAB_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
        cmd=${LAB_CLEANUP_CMDS[$i]}
        eval "$cmd" >/dev/null 2>&1 || true
    done
    for pid in "${LAB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${LAB_PIDS[@]}"; do
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ -n "${LAB_DIR:-}" ]; then
        echo "lab: logs kept in $LAB_DIR" >&2
    elif [ -n "${LAB_DIR:-}" ] && [ -z "${LAB_KEEP:-}" ]; then
        rm -rf "$LAB_DIR"
    fi
    exit "$rc"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on now.  Ports are
# drawn at random below Linux's ephemeral range (32768-60999): an outgoing
# connection of another test can take any port in that range between our
# check and a server's bind.  Servers that fail to bind anyway are
# restarted on new ports by their start helpers where they can tell.
lab_free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((10000 + RANDOM % 22000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "lab: no free port" >&2
    return 1
}

# lab_wait_port PORT [SECONDS]: waits until something accepts on 127.0.0.1:PORT.
lab_wait_port() {
    local port=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "lab: nothing listens on port $port after ${limit}s" >&2
    return 1
}

# lab_wait_file PATH [SECONDS]: waits until PATH exists (unix sockets, pid files).
lab_wait_file() {
    local path=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        [ -e "$path" ] && return 0
        sleep 0.05
    done
    echo "lab: $path did not appear after ${limit}s" >&2
    return 1
}

# lab_wait_log FILE REGEX [SECONDS]: waits until a line of FILE matches.
lab_wait_log() {
    local file=$1 regex=$2 limit=${3:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "lab: no line matching /$regex/ in $file after ${limit}s" >&2
    return 1
}

# Assertions: each prints one line and counts; lab_finish sets the exit code.
lab_assert_eq() {
    local what=$1 expected=$2 actual=$3
    LAB_CHECKS=$((LAB_CHECKS + 1))
    if [ "$expected" == "$actual" ]; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        echo "     expected: $(printf '%q' "$expected")"
        echo "     actual:   $(printf '%q' "$actual")"
        LAB_FAILURES=$((LAB_FAILURES + 1))
    fi
}

lab_assert_match() {
    local what=$1 regex=$2 actual=$3
    LAB_CHECKS=$((LAB_CHECKS + 1))
    if [[ "$actual" =~ $regex ]]; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        echo "     expected to match: $regex"
        echo "     actual:            $(printf '%q' "$actual")"
        LAB_FAILURES=$((LAB_FAILURES + 1))
    fi
}

lab_finish() {
    echo "$((LAB_CHECKS - LAB_FAILURES)) passed, $LAB_FAILURES failed"
    [ "$LAB_FAILURES" -eq 0 ]
}
