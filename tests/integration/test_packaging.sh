#!/bin/bash
# tests/integration/test_packaging.sh -- what make install ships besides the daemons.
#
#   - every option of both daemons' schemas (the CFG_* tables in
#     milter/config/config_*.c and xmpp/component/component_config.c) is described in
#     xsmtp.conf(5) and shown in the sample configuration;
#   - the three man pages render without a warning from groff;
#   - the systemd units name the daemons of this build, carry the
#     hardening the project asks for, and pass `systemd-analyze verify`
#     (its only allowed complaint is the not yet installed man pages of
#     Documentation=).
# Without groff or systemd-analyze the other checks still run, and the test
# then ends with SKIP (exit 77) rather than a pass.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"

lab_init packaging
MAN5=$top_srcdir/docs/xsmtp.conf.5
SKIPPED=()      # checks that could not run, each "what: why"

# options FILE...: "section.name" (or "name" at the top) of every CFG_*
# entry; the section is the one of the table the entry is in.
options() {
    awk '
        /cfg_opt_t [a-z_]*\[\] = / {
            table = $0; sub(/.*cfg_opt_t /, "", table); sub(/\[.*/, "", table)
            sub(/_options$|_opts$/, "", table)
        }
        /CFG_(STR|INT|BOOL|STR_LIST|INT_LIST)\("/ {
            name = $0; sub(/.*CFG_[A-Z_]*\("/, "", name); sub(/".*/, "", name)
            print table "." name
        }
    ' "$@" | sed -E 's/^(top|root)\.//' | sort -u
}

# The milter's tables are top_options, sign_options, verify_options, ...
mapfile -t MILTER_OPTIONS < <(options "$top_srcdir"/milter/config/config_*.c)
mapfile -t COMPONENT_OPTIONS < <(options "$top_srcdir/xmpp/component/component_config.c")
lab_assert_match "the milter has options (parsed from its tables)" '^[1-9][0-9]+$' \
    "${#MILTER_OPTIONS[@]}"
lab_assert_match "the component has options" '^[1-9][0-9]+$' "${#COMPONENT_OPTIONS[@]}"

# in_sample FILE SECTION NAME: NAME set (or shown commented out) in FILE,
# inside SECTION { } when SECTION is not empty.
in_sample() {
    awk -v section="$2" -v name="$3" '
        /^[a-z_]+ *\{/ { current = $1; next }
        /^\}/ { current = ""; next }
        {
            line = $0; sub(/^[ \t]*#?[ \t]*/, "", line)
            if (index(line, name " =") == 1 && current == section) found = 1
        }
        END { exit !found }
    ' "$1"
}

missing_man="" missing_sample=""
for option in "${MILTER_OPTIONS[@]}"; do
    section="" name=$option
    [[ "$option" == *.* ]] && section=${option%%.*} name=${option#*.}
    grep -Eq "^\.(B|BR|TQ) $name( |$)|^\.BR $name " "$MAN5" || missing_man+="$option "
    in_sample "$top_srcdir/etc/xsmtp.conf" "$section" "$name" || missing_sample+="$option "
done
lab_assert_eq "xsmtp.conf(5) describes every option of xsmtp-milter" "" "$missing_man"
lab_assert_eq "etc/xsmtp.conf shows every option of xsmtp-milter" "" "$missing_sample"

missing_man="" missing_sample=""
for option in "${COMPONENT_OPTIONS[@]}"; do
    section="" name=$option
    [[ "$option" == *.* ]] && section=${option%%.*} name=${option#*.}
    grep -Eq "^\.(B|BR) $name( |$)" "$MAN5" || missing_man+="$option "
    in_sample "$top_srcdir/etc/xsmtp-component.conf" "$section" "$name" ||
        missing_sample+="$option "
done
lab_assert_eq "xsmtp.conf(5) describes every option of xsmtp-component" "" "$missing_man"
lab_assert_eq "etc/xsmtp-component.conf shows every option of xsmtp-component" "" \
    "$missing_sample"

# ---- man pages render cleanly -----------------------------------------------------
for page in docs/xsmtp-milter.8 docs/xsmtp-component.8 docs/xsmtp.conf.5; do
    if command -v groff >/dev/null; then
        warnings=$(groff -man -Tutf8 -ww -z "$top_srcdir/$page" 2>&1)
        lab_assert_eq "$page: groff -ww has nothing to say" "" "$warnings"
    else
        SKIPPED+=("rendering $page: groff is not installed (Debian package groff-base)")
    fi
    lab_assert_eq "$page: has NAME, SYNOPSIS, DESCRIPTION and SEE ALSO" 4 \
        "$(grep -cE '^\.SH (NAME|SYNOPSIS|DESCRIPTION|"SEE ALSO")$' "$top_srcdir/$page")"
done
# has PAGE REGEX...: each extended regex matches a line of the page.
has() {
    local page=$1 regex missing=""
    shift
    for regex in "$@"; do
        grep -Eq -- "$regex" "$top_srcdir/$page" || missing+="/$regex/ "
    done
    echo "$missing"
}
lab_assert_eq "xsmtp-milter(8): SIGUSR1, the counters, Postfix and Sendmail" "" \
    "$(has docs/xsmtp-milter.8 '^\.B SIGUSR1$' '^\.SH COUNTERS$' '^smtpd_milters = ' \
        '^INPUT_MAIL_FILTER\(`xsmtp')"
lab_assert_eq "xsmtp-component(8): SIGUSR1, the counters, Prosody and ejabberd" "" \
    "$(has docs/xsmtp-component.8 '^\.B SIGUSR1$' '^\.SH COUNTERS$' '^Component "xsmtp\.a\.test"$' \
        'module: ejabberd_service$')"

# ---- systemd units ---------------------------------------------------------------
for unit in xsmtp-milter xsmtp-component; do
    template=$top_srcdir/etc/systemd/$unit.service.in
    file=$LAB_DIR/$unit.service
    case $unit in
    xsmtp-milter) bin=$top_builddir/milter/xsmtp-milter ;;
    *) bin=$top_builddir/xmpp/xsmtp-component ;;
    esac
    # What make does, with this build's daemons in place of $sbindir.
    sed -e "s|@sbindir@/$unit|$bin|g" -e "s|@sysconfdir@|/etc|g" "$template" >"$file"
    lab_assert_eq "$unit.service: no @...@ left" "" "$(grep -o '@[a-z]*@' "$file")"
    for setting in NoNewPrivileges=yes ProtectSystem=strict User=xsmtp Group=xsmtp \
        "CapabilityBoundingSet=" "ExecReload=/bin/kill -HUP \$MAINPID"; do
        lab_assert_eq "$unit.service: $setting" "$setting" "$(grep -xF -- "$setting" "$file")"
    done
    lab_assert_match "$unit.service: a RuntimeDirectory" '^RuntimeDirectory=xsmtp' \
        "$(grep '^RuntimeDirectory=' "$file")"
    lab_assert_eq "$unit.service: ExecStart runs it in the foreground" \
        "ExecStart=$bin -f -c /etc/xsmtp/$([ $unit = xsmtp-milter ] && echo xsmtp.conf || echo xsmtp-component.conf)" \
        "$(grep '^ExecStart=' "$file")"
    if command -v systemd-analyze >/dev/null; then
        complaints=$(systemd-analyze verify "$file" 2>&1 | grep -v "Command 'man .*' failed")
        lab_assert_eq "$unit.service: systemd-analyze verify" "" "$complaints"
    else
        SKIPPED+=("systemd-analyze verify $unit.service: systemd-analyze is not installed (Debian package systemd)")
    fi
done
lab_assert_eq "the milter's unit has its socket directory /run/xsmtp" "RuntimeDirectory=xsmtp" \
    "$(grep '^RuntimeDirectory=' "$LAB_DIR/xsmtp-milter.service")"
lab_finish || exit 1
# Everything that ran passed; a check that could not run is not a pass.
if [ ${#SKIPPED[@]} -gt 0 ]; then
    printf 'SKIP: %s\n' "${SKIPPED[@]}"
    exit 77
fi
