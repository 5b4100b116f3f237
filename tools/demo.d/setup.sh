# tools/demo.d/setup.sh -- what tools/demo needs before it can start:
# Debian packages (installed only when missing) and a build of the tree.
#
#   demo_install_missing   apt-get install -y, non-interactive, of the
#                          packages below that dpkg does not list as
#                          installed; nothing at all when none is missing
#   demo_build             autoreconf / configure only when their output is
#                          missing, then make (which does nothing when the
#                          daemons are up to date)
#
# Both need the source tree in $top_srcdir; demo_build builds in place.

# Build dependencies, the servers of the lab, the client tools.  The same
# names as tools/test, plus SpamAssassin for gateway B's scoring.
DEMO_PACKAGES=(
    build-essential pkg-config autoconf automake libtool
    libmilter-dev libstrophe-dev libssl-dev libconfuse-dev libhiredis-dev check
    openssl postfix swaks redis-server prosody python3-slixmpp
    spamassassin
)

demo_missing_packages() {
    local pkg
    for pkg in "${DEMO_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || echo "$pkg"
    done
}

demo_install_missing() {
    local -a missing
    local sudo=
    if ! command -v dpkg-query >/dev/null; then
        echo "tools/demo: not a Debian system; install by hand: ${DEMO_PACKAGES[*]}" >&2
        return 1
    fi
    mapfile -t missing < <(demo_missing_packages)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "tools/demo: installing missing packages: ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null ||
            { echo "tools/demo: need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
        sudo=sudo
    fi
    # Postfix asks a question at install time: answer it first.
    echo "postfix postfix/main_mailer_type select No configuration" |
        $sudo debconf-set-selections || return 1
    $sudo apt-get update -q >&2 || return 1
    DEBIAN_FRONTEND=noninteractive $sudo -E apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >&2
}

demo_build() {
    local log=${TMPDIR:-/tmp}/xsmtp-demo-build.log
    local steps=make
    [ -x "$top_srcdir/configure" ] || steps="autoreconf, configure, make"
    [ -f "$top_srcdir/Makefile" ] || [ "$steps" != make ] || steps="configure, make"
    echo "tools/demo: building ($steps; output in $log)" >&2
    (
        cd "$top_srcdir" || exit 1
        if [ ! -x configure ]; then
            autoreconf -fi || exit 1
        fi
        if [ ! -f Makefile ]; then
            ./configure --quiet || exit 1
        fi
        make -j2 milter/xsmtp-milter xmpp/xsmtp-component
    ) >"$log" 2>&1 || { tail -n 30 "$log" >&2; return 1; }
}
