# tools/demo.d/setup.sh -- what tools/demo needs before it can start:
# Debian packages (installed only when missing) and a build of the tree.
#
#   demo_install_missing   tools/install-deps: installs what tools/packages
#                          lists and dpkg does not; nothing when none is missing
#   demo_build             autoreconf / configure only when their output is
#                          missing, then make (which does nothing when the
#                          daemons are up to date)
#
# Both need the source tree in $top_srcdir; demo_build builds in place.

# demo_install_missing: the project's one install routine (tools/packages
# lists what the demo, the build and the tests need).
demo_install_missing() {
    "$top_srcdir/tools/install-deps" >&2
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
