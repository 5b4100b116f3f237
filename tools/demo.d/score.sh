# tools/demo.d/score.sh -- gateway B's SpamAssassin step.
#
# The demo scores the copy that gateway B delivered or quarantined, which
# carries xsmtp's X-XSMTP-Verdict and Authentication-Results headers, as a
# SpamAssassin run after the milter would see it (in production:
# spamass-milter after xsmtp-milter in smtpd_milters, or spamc from a
# delivery agent).  One function is the whole interface, so another
# backend (spamc against a private spamd, spamass-milter's headers) plugs
# in by replacing it:
#
#   demo_score FILE    sets DEMO_SA_SCORE ("2.7"), DEMO_SA_REQUIRED ("5.0")
#                      and DEMO_SA_RULES ("RULE=points ...", sorted by name,
#                      "" when none hit); returns 1 when it cannot score
#
# Backend here: `spamassassin -t -L` (local tests only: the lab has no
# network), Bayes and auto-learning off, a private empty user_prefs, and
# the project's rules (etc/spamassassin/xsmtp.cf) when the tree has them.
# One stock rule is switched off because it scores the lab, not the mail:
# the lab's Internet hosts use the documentation ranges of RFC 5737, which
# RCVD_ILLEGAL_IP flags wherever they appear in a Received header.

DEMO_SA_RULES_FILE=$top_srcdir/etc/spamassassin/xsmtp.cf

# What demo_score says about its setup, for the report's header.
demo_score_describe() {
    if ! command -v spamassassin >/dev/null; then
        echo "SpamAssassin not installed: no scores"
    elif [ -f "$DEMO_SA_RULES_FILE" ]; then
        echo "SpamAssassin $(_demo_sa_version), stock rules + etc/spamassassin/xsmtp.cf"
    else
        echo "SpamAssassin $(_demo_sa_version), stock rules (etc/spamassassin/xsmtp.cf not in this tree yet)"
    fi
}

_demo_sa_version() {
    spamassassin --version 2>/dev/null | sed -n 's/^SpamAssassin version \([0-9.]*\).*/\1/p'
}

demo_score() {
    local file=$1 dir=$LAB_DIR/spamassassin out
    local -a extra=()
    DEMO_SA_SCORE="" DEMO_SA_REQUIRED="" DEMO_SA_RULES=""
    command -v spamassassin >/dev/null || return 1
    mkdir -p "$dir"
    : >"$dir/user_prefs"
    # xsmtp.cf reads only the Authentication-Results of our authserv-id,
    # which local.cf names as a regular expression.
    [ -f "$DEMO_SA_RULES_FILE" ] &&
        extra+=(--cf "include $DEMO_SA_RULES_FILE" --cf 'replace_tag XSMTP_AUTHSERV mx\.b\.test')
    out=$dir/$(basename "$file").report
    HOME=$dir spamassassin -t -L -x -p "$dir/user_prefs" --cf "use_bayes 0" \
        --cf "bayes_auto_learn 0" --cf "score RCVD_ILLEGAL_IP 0" "${extra[@]}" <"$file" >"$out" 2>"$out.err" || return 1
    # X-Spam-Status: No, score=2.7 required=5.0 tests=A,B autolearn=no ...
    local status
    status=$(demo_header "$out" X-Spam-Status)
    [ -n "$status" ] || return 1
    DEMO_SA_SCORE=$(sed -n 's/.*score=\(-\{0,1\}[0-9.]*\).*/\1/p' <<<"$status")
    DEMO_SA_REQUIRED=$(sed -n 's/.*required=\([0-9.]*\).*/\1/p' <<<"$status")
    # Points of each rule from the report's table (" pts rule name ..."),
    # which -t appends after the message.
    DEMO_SA_RULES=$(awk '
        /^ pts rule name/ { table = 1; next }
        table && /^---/ { next }
        table && /^ *-?[0-9]+\.[0-9]+ [A-Z0-9_]+ / { print $2 "=" $1; next }
        table && /^$/ { exit }
    ' "$out" | sort | tr '\n' ' ')
    DEMO_SA_RULES=${DEMO_SA_RULES% }
    return 0
}
