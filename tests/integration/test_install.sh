#!/bin/bash
# tests/integration/test_install.sh -- tools/install-deps, the one install routine of
# tools/test, tools/demo and tools/bench, run against stub dpkg-query,
# apt-get, debconf-set-selections and sudo that record what they are asked.
# Nothing is installed: the stubs stand first on a PATH of our own, which
# holds only the few real tools the routine needs and, in the root runs,
# no sudo at all.
#
# Checked: as root with no sudo on PATH and as an unprivileged user with a
# stub sudo, one missing package gives exactly the preseed, `apt-get update
# -q` and `apt-get install -y -q --no-install-recommends PKG` with
# DEBIAN_FRONTEND=noninteractive; with nothing missing nothing runs at all;
# a user without sudo is told what to run and nothing runs; a failing
# apt-get makes the routine fail.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
not_ok() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
# expect NAME EXPECTED ACTUAL
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        not_ok "$1"; printf '   expected: %q\n   actual:   %q\n' "$2" "$3"; fi
}

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the unprivileged run needs root to switch to user nobody"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) is missing"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: there is no user nobody"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/xsmtp-install.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
# The routine is copied out: the checkout may sit in a directory that
# nobody cannot enter (root's home, under CI).
cp "$top_srcdir/tools/install-deps" "$T/install-deps"
printf '# test list\npkg-a\npkg-b  # a comment\n\npkg-c\n' >"$T/packages"
chmod 755 "$T/install-deps"; chmod 644 "$T/packages"

# The real tools the routine uses, and nothing else (no sudo).
mkdir "$T/realbin"
for tool in bash env sed dirname id wc tr cat grep; do
    ln -s "$(command -v "$tool")" "$T/realbin/$tool" || exit 99
done

# Stubs.  $STUB_STATE/installed lists the packages dpkg-query reports
# installed; apt-get install adds to it; every call is logged.
mkdir "$T/stubs" "$T/sudo"
cat >"$T/stubs/dpkg-query" <<'STUB'
#!/bin/bash
pkg=${!#}
if grep -qxF -- "$pkg" "$STUB_STATE/installed"; then
    printf 'install ok installed'
else
    echo "dpkg-query: no packages found matching $pkg" >&2
    exit 1
fi
STUB
cat >"$T/stubs/apt-get" <<'STUB'
#!/bin/bash
echo "DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} uid=$(id -u) apt-get $*" >>"$STUB_STATE/calls"
[ -e "$STUB_STATE/apt-fails" ] && exit 100
if [ "$1" = install ]; then
    for a in "$@"; do case $a in -*|install) ;; *) echo "$a" >>"$STUB_STATE/installed" ;; esac; done
fi
exit 0
STUB
cat >"$T/stubs/debconf-set-selections" <<'STUB'
#!/bin/bash
echo "uid=$(id -u) debconf-set-selections <<< $(cat)" >>"$STUB_STATE/calls"
STUB
cat >"$T/sudo/sudo" <<'STUB'
#!/bin/bash
echo "sudo $*" >>"$STUB_STATE/calls"
exec "$@"
STUB
chmod 755 "$T"/stubs/* "$T/sudo/sudo"

# run_case NAME USER WITH_SUDO INSTALLED...: a fresh state with INSTALLED
# present, then the routine as USER (root or nobody); sets $rc, $out, $calls.
run_case() {
    local name=$1 user=$2 with_sudo=$3 path
    shift 3
    local state=$T/state.$name
    mkdir "$state"
    printf '%s\n' "$@" >"$state/installed"
    : >"$state/calls"
    chmod 777 "$state"; chmod 666 "$state/installed" "$state/calls"
    path=$T/stubs:$T/realbin
    [ "$with_sudo" = yes ] && path=$T/sudo:$path
    if [ "$user" = root ]; then
        out=$(cd "$T" && env -i PATH="$path" STUB_STATE="$state" XSMTP_PACKAGES="$T/packages" \
            "$T/realbin/bash" "$T/install-deps" 2>&1)
        rc=$?
    else
        out=$(cd "$T" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
            env -i PATH="$path" STUB_STATE="$state" XSMTP_PACKAGES="$T/packages" \
            "$T/realbin/bash" "$T/install-deps" 2>&1)
        rc=$?
    fi
    calls=$(cat "$state/calls")
    STATE=$state
}

preseed="debconf-set-selections <<< postfix postfix/main_mailer_type select No configuration"
nl=$'\n'

# 1. Root, no sudo anywhere on PATH, pkg-b missing.
run_case root-one root no pkg-a pkg-c
expect "root, one missing: exit 0" 0 "$rc"
expect "root, one missing: exactly preseed, update, install (no sudo, no stray words)" \
    "uid=0 $preseed${nl}DEBIAN_FRONTEND= uid=0 apt-get update -q${nl}DEBIAN_FRONTEND=noninteractive uid=0 apt-get install -y -q --no-install-recommends pkg-b" \
    "$calls"
expect "root, one missing: says what it installs" yes \
    "$(grep -qx 'tools/install-deps: installing 1 missing packages: pkg-b' <<<"$out" && echo yes)"
expect "root, one missing: no 'command not found'" no \
    "$(grep -q 'command not found' <<<"$out" && echo yes || echo no)"

# 2. Root, nothing missing: nothing runs.
run_case root-none root no pkg-a pkg-b pkg-c
expect "root, none missing: exit 0" 0 "$rc"
expect "root, none missing: no command run" "" "$calls"
expect "root, none missing: says so" "tools/install-deps: all 3 packages are installed" "$out"

# 3. Unprivileged user with sudo, two missing: the three system commands go
#    through sudo, in this order, with nothing else.
run_case user-two nobody yes pkg-b
expect "user, two missing: exit 0" 0 "$rc"
expect "user, two missing: sudo for preseed, update and install only" \
    "sudo debconf-set-selections${nl}uid=65534 $preseed${nl}sudo apt-get update -q${nl}DEBIAN_FRONTEND= uid=65534 apt-get update -q${nl}sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pkg-a pkg-c${nl}DEBIAN_FRONTEND=noninteractive uid=65534 apt-get install -y -q --no-install-recommends pkg-a pkg-c" \
    "$calls"

# 4. Unprivileged user with sudo, nothing missing: not even sudo runs.
run_case user-none nobody yes pkg-a pkg-b pkg-c
expect "user, none missing: exit 0" 0 "$rc"
expect "user, none missing: no command run, no sudo prompt" "" "$calls"

# 5. Unprivileged user without sudo: refused with what to run, exit 2.
run_case user-nosudo nobody no pkg-a pkg-b
expect "user without sudo: exit 2" 2 "$rc"
expect "user without sudo: no command run" "" "$calls"
expect "user without sudo: says what to run as root" yes \
    "$(grep -qx 'tools/install-deps: as root, run: apt-get install pkg-c' <<<"$out" && echo yes)"

# 6. apt-get fails: so does the routine, and it says which step.
run_case_fail() {
    local state=$T/state.root-aptfail
    mkdir "$state"; printf 'pkg-a\npkg-c\n' >"$state/installed"; : >"$state/calls"; : >"$state/apt-fails"
    out=$(cd "$T" && env -i PATH="$T/stubs:$T/realbin" STUB_STATE="$state" XSMTP_PACKAGES="$T/packages" \
        "$T/realbin/bash" "$T/install-deps" 2>&1)
    rc=$?
}
run_case_fail
expect "apt-get fails: exit 1" 1 "$rc"
expect "apt-get fails: says which step" "tools/install-deps: apt-get update failed" "$(tail -n 1 <<<"$out")"

# 7. The real package list: every name is a Debian package name, and the
#    names the tests and the demo depend on are in it.
listed=$("$top_srcdir/tools/install-deps" --list)
for pkg in groff systemd procps miltertest redis-sentinel spamd spamass-milter sasl2-bin \
    libfuzzer-14-dev postfix prosody redis-server swaks python3-slixmpp valgrind clang check; do
    expect "the package list has $pkg" yes "$(grep -qxF "$pkg" <<<"$listed" && echo yes)"
done
expect "the package list holds only package names" "" \
    "$(grep -vE '^[a-z0-9][a-z0-9+.-]+$' <<<"$listed")"

echo "$((checks - fails)) of $checks checks passed"
[ "$fails" -eq 0 ]
