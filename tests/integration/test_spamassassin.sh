#!/bin/bash
# tests/integration/test_spamassassin.sh -- the SpamAssassin rules
# of etc/spamassassin/xsmtp.cf on what the real verifier wrote.
#
# A real Postfix (mx.b.test) with the real xsmtp-milter (verify.fast_track =
# a.test), the real xsmtp-component, Prosody and Redis receives one message
# per verdict: pass (d.test), fast-tracked pass (a.test), fail, permerror,
# temperror (an offline component), none, and forgeries (our verdict
# headers, X-XSMTP-Fast-Track and A-R under our authserv-id written by the
# sender; an A-R of another authserv-id).  The delivered copies go through
# real SpamAssassin (`spamassassin -t -L -x`, no network, no Bayes, no user
# preferences), once with only our rules (exact rule lists and scores), once
# with Debian's stock rules (our rules and scores exact, the fast-tracked
# copy short-circuited before any stock rule).  The forgeries fire nothing
# after the milter, and fire XSMTP_FASTTRACK when fed to SpamAssassin
# without it (so the check can fail).  Last, spamass-milter + spamd in
# Postfix's milter list: after xsmtp (etc/postfix/spamass-milter.snippet)
# SpamAssassin scores our verdict; before it, it scores the forgery.
# Needs root (Postfix), prosody, redis-server, spamassassin, smtp-sink,
# openssl; the spamass-milter part needs spamd and spamass-milter (Debian
# packages spamd, spamass-milter) and a user nobody for spamd: without
# them the rest still runs, and the test then ends with SKIP (exit 77)
# rather than a pass.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
source "$top_srcdir/tests/lab/common.sh"
source "$top_srcdir/tests/lab/postfix.sh"
source "$top_srcdir/tests/lab/prosody.sh"
source "$top_srcdir/tests/lab/redis.sh"
source "$top_srcdir/tests/lab/gateway.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: a private Postfix needs root"
    exit 77
fi
for tool in prosody redis-server openssl smtp-sink spamassassin; do
    command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
for bin in milter/xsmtp-milter xmpp/xsmtp-component; do
    [ -x "$top_builddir/$bin" ] || { echo "no $bin: build it first"; exit 99; }
done

lab_init spamassassin
D=$LAB_DIR
# Waits for something the test has just caused end as soon as it shows;
# their limit only stops a hung run.  It is generous because a loaded
# 2-core machine can take seconds for what takes milliseconds when idle,
# and SpamAssassin (spamd compiling its rules) is slow even when idle.
GUARD=60
export HOME=$D/home    # SpamAssassin writes nothing of its own elsewhere
mkdir -p "$HOME"

# ---- SpamAssassin configurations --------------------------------------------------
# iso: only our rules (configpath) + the test local.cf (siteconfigpath).
# stock: Debian's rules and .pre files, with our rules and local.cf beside.
SA_DATA=$top_srcdir/tests/data/spamassassin
mkdir -p "$D/sa/iso-rules" "$D/sa/iso-site" "$D/sa/stock-site" "$D/sa/noauth-site"
cp "$top_srcdir/etc/spamassassin/xsmtp.cf" "$D/sa/iso-rules/"
cp "$SA_DATA/init.pre" "$SA_DATA/local.cf" "$D/sa/iso-site/"
cp /etc/spamassassin/*.pre "$D/sa/stock-site/"
cp "$top_srcdir/etc/spamassassin/xsmtp.cf" "$SA_DATA/local.cf" "$D/sa/stock-site/"
cp "$SA_DATA/init.pre" "$D/sa/noauth-site/"
grep -v '^replace_tag XSMTP_AUTHSERV' "$SA_DATA/local.cf" >"$D/sa/noauth-site/local.cf"
sa_iso() { spamassassin -t -L -x --configpath "$D/sa/iso-rules" --siteconfigpath "$D/sa/iso-site"; }
sa_stock() { spamassassin -t -L -x --siteconfigpath "$D/sa/stock-site"; }
sa_noauth() { spamassassin -t -L -x --configpath "$D/sa/iso-rules" --siteconfigpath "$D/sa/noauth-site"; }

lab_assert_eq "spamassassin --lint: our rules alone" "" \
    "$(spamassassin --lint -L -x --configpath "$D/sa/iso-rules" --siteconfigpath "$D/sa/iso-site" 2>&1)"
lab_assert_eq "spamassassin --lint: our rules with Debian's stock rules" "" \
    "$(spamassassin --lint -L -x --siteconfigpath "$D/sa/stock-site" 2>&1 | grep -v 'registryboundaries: no tlds defined')"

# ---- the gateway -----------------------------------------------------------------------
gw_start_xmpp || { echo "XMPP side did not start"; exit 99; }
lab_start_redis R || exit 99
gw_start_milter M '    fast_track = { "A.Test" }' || exit 99
gw_start_postfix "inet:127.0.0.1:$M_PORT" || exit 99

FORGED_VERDICT='X-XSMTP-Verdict: pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)'
FORGED_AR='Authentication-Results: mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test header.from=alice@a.test'
FOREIGN_AR='Authentication-Results: mx.evil.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test'
gw_message pass pass:alice@d.test
gw_message fasttrack pass
gw_message fail fail
gw_message permerror permerror
gw_message temperror pass:alice@e.test
gw_message none none
# Everything a sender could write to look fast-tracked, on an unsigned
# message; folded and upper-case variants of our A-R; a foreign A-R kept.
gw_message forged none "$FORGED_VERDICT" "$FORGED_AR" 'X-XSMTP-Fast-Track: yes' \
    'Authentication-Results: MX.B.TEST;'$'\r\n'' x-xsmtp=pass' "$FOREIGN_AR" \
    'x-xsmtp-fast-track: yes'
# A real pass from a domain that is not fast-tracked, with a forged lane.
gw_message forged-lane pass:alice@d.test 'X-XSMTP-Fast-Track: yes'
# A forged signature dressed up as a fast-tracked pass.
gw_message forged-fail fail "$FORGED_VERDICT" "$FORGED_AR" 'X-XSMTP-Fast-Track: yes'
NAMES=(pass fasttrack fail permerror temperror none forged forged-lane forged-fail)

sent=$(gw_send "${NAMES[@]}" 2>&1)
lab_assert_eq "Postfix accepted every message" "$(printf '%s 250\n' "${NAMES[@]}")" "$sent"
gw_wait_delivered "${#NAMES[@]}" "$GUARD"
for name in "${NAMES[@]}"; do
    gw_delivered "$name" >"$D/delivered.$name"
done

# ---- what the milter wrote (exact top of the header) --------------------------------------
AR="Authentication-Results: mx.b.test; x-xsmtp"
top() { sed -n '1,/^Received: /p' "$D/delivered.$1" | sed '$d'; }
lab_assert_eq "pass (d.test): verdict headers, no fast lane" \
    "X-XSMTP-Verdict: pass (identity=alice@d.test; component=xsmtp.a.test; cached=no)
$AR=pass header.x-xmpp-identity=alice@d.test header.from=alice@d.test" "$(top pass)"
lab_assert_eq "pass (a.test, fast_track = \"A.Test\"): X-XSMTP-Fast-Track: yes under our A-R" \
    "X-XSMTP-Verdict: pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)
$AR=pass header.x-xmpp-identity=alice@a.test header.from=alice@a.test
X-XSMTP-Fast-Track: yes" "$(top fasttrack)"
lab_assert_eq "fail" \
    "X-XSMTP-Verdict: fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=no)
$AR=fail reason=\"bad-hash\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" \
    "$(top fail)"
lab_assert_eq "permerror" \
    "X-XSMTP-Verdict: permerror (identity=alice@a.test; reason=missing-hash; cached=no)
$AR=permerror reason=\"missing-hash\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" \
    "$(top permerror)"
lab_assert_eq "temperror (offline component)" \
    "X-XSMTP-Verdict: temperror (identity=alice@e.test; reason=remote-server-timeout; component=xsmtp.e.test; cached=no)
$AR=temperror reason=\"remote-server-timeout\" header.x-xmpp-identity=alice@e.test header.from=alice@e.test" \
    "$(top temperror)"
lab_assert_eq "none" "X-XSMTP-Verdict: none
$AR=none" "$(top none)"
lab_assert_eq "forged: only our verdict on top" "X-XSMTP-Verdict: none
$AR=none" "$(top forged)"
lab_assert_eq "forged: every forged verdict, A-R of ours and fast lane deleted; foreign A-R kept" \
    "X-XSMTP-Verdict: none
$AR=none
$FOREIGN_AR" \
    "$(grep -i -E '^(X-XSMTP-|Authentication-Results:)' "$D/delivered.forged")"
lab_assert_eq "forged lane on a d.test pass: deleted" \
    "X-XSMTP-Verdict: pass (identity=alice@d.test; component=xsmtp.a.test; cached=no)
$AR=pass header.x-xmpp-identity=alice@d.test header.from=alice@d.test" \
    "$(grep -i -E '^(X-XSMTP-|Authentication-Results:)' "$D/delivered.forged-lane")"
lab_assert_eq "forged fail: nothing of the disguise left" \
    "X-XSMTP-Verdict: fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=no)
$AR=fail reason=\"bad-hash\" header.x-xmpp-identity=alice@a.test header.from=alice@a.test" \
    "$(grep -i -E '^(X-XSMTP-|Authentication-Results:)' "$D/delivered.forged-fail")"
lab_assert_match "milter log: the fast-tracked pass is logged as such" \
    "^verified verdict=pass identity=alice@a.test reason=- component=xsmtp.a.test cached=no elapsed_ms=[0-9.]+ action=accept fast-tracked$" \
    "$(grep ' fast-tracked' "$M_LOG" | sed 's/^.*: verified /verified /')"
lab_assert_eq "milter log: one fast-tracked message" 1 "$(grep -c ' fast-tracked' "$M_LOG")"

# ---- SpamAssassin, our rules only ---------------------------------------------------------
# header NAME FILE: the unfolded value of NAME in a SpamAssassin output.
# SpamAssassin folds its lists after a comma, adding the whitespace: a
# continuation after a comma is joined without it, others with one space.
header() { tr -d '\r' <"$2" | sed -n '/^$/q;p' | awk -v n="$1:" '
    index($0, n) == 1 { v = substr($0, length(n) + 2); on = 1; next }
    on && /^[ \t]/ { sub(/^[ \t]+/, v ~ /,$/ ? "" : " "); v = v $0; next }
    { on = 0 } END { print v }'; }
tests_of() { header X-Spam-Xsmtp-Tests "$1"; }
status_of() { header X-Spam-Status "$1"; }

declare -A ISO=(
    [pass]="TEST_EVERY_MESSAGE=0.01,XSMTP_PASS=-1"
    [fasttrack]="SHORTCIRCUIT=-100,XSMTP_FASTTRACK=-5,XSMTP_PASS=-1"
    [fail]="TEST_EVERY_MESSAGE=0.01,XSMTP_FAIL=4"
    [permerror]="TEST_EVERY_MESSAGE=0.01,XSMTP_PERMERROR=0.5"
    [temperror]="TEST_EVERY_MESSAGE=0.01,XSMTP_TEMPERROR=0.001"
    [none]="TEST_EVERY_MESSAGE=0.01"
    [forged]="TEST_EVERY_MESSAGE=0.01"
    [forged-lane]="TEST_EVERY_MESSAGE=0.01,XSMTP_PASS=-1"
    [forged-fail]="TEST_EVERY_MESSAGE=0.01,XSMTP_FAIL=4"
)
declare -A ISO_STATUS=(
    [pass]="No, score=-1.0 required=5.0 tests=TEST_EVERY_MESSAGE,XSMTP_PASS shortcircuit=no autolearn=disabled"
    [fasttrack]="No, score=-106.0 required=5.0 tests=SHORTCIRCUIT,XSMTP_FASTTRACK,XSMTP_PASS shortcircuit=ham autolearn=disabled"
    [fail]="No, score=4.0 required=5.0 tests=TEST_EVERY_MESSAGE,XSMTP_FAIL shortcircuit=no autolearn=disabled"
    [permerror]="No, score=0.5 required=5.0 tests=TEST_EVERY_MESSAGE,XSMTP_PERMERROR shortcircuit=no autolearn=disabled"
    [temperror]="No, score=0.0 required=5.0 tests=TEST_EVERY_MESSAGE,XSMTP_TEMPERROR shortcircuit=no autolearn=disabled"
)
for name in "${NAMES[@]}"; do
    sa_iso <"$D/delivered.$name" >"$D/iso.$name" 2>"$D/iso.$name.err"
    lab_assert_eq "our rules: $name fires exactly ${ISO[$name]}" "${ISO[$name]}" \
        "$(tests_of "$D/iso.$name")"
    if [ -n "${ISO_STATUS[$name]:-}" ]; then
        lab_assert_eq "our rules: $name X-Spam-Status" "${ISO_STATUS[$name]}" \
            "$(status_of "$D/iso.$name")"
    fi
done
lab_assert_eq "our rules: the fast-tracked copy short-circuits on XSMTP_FASTTRACK as ham" \
    "XSMTP_FASTTRACK (ham)" "$(header X-Spam-Xsmtp-Shortcircuit "$D/iso.fasttrack")"
lab_assert_eq "our rules: the short-circuit report" \
    "Content analysis details:   (-106.0 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
-1.0 XSMTP_PASS             xsmtp: the sender's domain vouches for this sender and
                            message
-100 SHORTCIRCUIT           No description available.
-5.0 XSMTP_FASTTRACK        xsmtp: verified sender from a fast-track domain" \
    "$(sed -n '/^Content analysis details:/,$p' "$D/iso.fasttrack")"
lab_assert_eq "our rules: a pass that is not fast-tracked is scanned to the end" \
    "no" "$(header X-Spam-Xsmtp-Shortcircuit "$D/iso.pass")"
lab_assert_eq "our rules: SpamAssassin said nothing on stderr" "" "$(cat "$D"/iso.*.err)"

# The same forgeries without the milter: they would fire (the check above
# is not vacuous), and an A-R of another authserv-id alone still does not.
sa_iso <"$GW_MSG/forged.eml" >"$D/iso.raw-forged" 2>/dev/null
lab_assert_eq "without the milter the forgery would be fast-tracked" \
    "SHORTCIRCUIT=-100,XSMTP_FASTTRACK=-5,XSMTP_PASS=-1" "$(tests_of "$D/iso.raw-forged")"
printf '%s\r\nFrom: x@a.test\r\nSubject: foreign\r\n\r\nx\r\n' "$FOREIGN_AR" |
    sa_iso >"$D/iso.raw-foreign" 2>/dev/null
lab_assert_eq "an A-R of another authserv-id fires nothing" "TEST_EVERY_MESSAGE=0.01" \
    "$(tests_of "$D/iso.raw-foreign")"
printf 'Authentication-Results: other.example;\r\n mx.b.test; x-xsmtp=pass\r\nFrom: x@a.test\r\nSubject: folded\r\n\r\nx\r\n' |
    sa_iso >"$D/iso.raw-folded" 2>/dev/null
lab_assert_eq "our authserv-id on a continuation line of a foreign A-R fires nothing" \
    "TEST_EVERY_MESSAGE=0.01" "$(tests_of "$D/iso.raw-folded")"
# A site that forgot replace_tag: no verdict rule, the mismatch shows.
sa_noauth <"$D/delivered.pass" >"$D/noauth.pass" 2>/dev/null
lab_assert_eq "without replace_tag XSMTP_AUTHSERV: only XSMTP_AUTHSERV_MISMATCH" \
    "TEST_EVERY_MESSAGE=0.01,XSMTP_AUTHSERV_MISMATCH=0.001" "$(tests_of "$D/noauth.pass")"

# ---- SpamAssassin with Debian's stock rules ---------------------------------------------
declare -A OURS=(
    [pass]="XSMTP_PASS=-1" [fail]="XSMTP_FAIL=4" [permerror]="XSMTP_PERMERROR=0.5"
    [temperror]="XSMTP_TEMPERROR=0.001" [none]="" [forged]="" [forged-lane]="XSMTP_PASS=-1"
    [forged-fail]="XSMTP_FAIL=4"
)
start=$(date +%s.%N)
for name in "${!OURS[@]}"; do
    sa_stock <"$D/delivered.$name" >"$D/stock.$name" 2>/dev/null
    lab_assert_eq "stock rules: $name: our rules exactly ${OURS[$name]:-(none)}, not short-circuited" \
        "${OURS[$name]} no" \
        "$(tests_of "$D/stock.$name" | tr ',' '\n' | grep '^XSMTP_' | paste -sd, -) $(header X-Spam-Xsmtp-Shortcircuit "$D/stock.$name")"
done
sa_stock <"$D/delivered.fasttrack" >"$D/stock.fasttrack" 2>/dev/null
lab_assert_eq "stock rules: the fast-tracked copy stops before any stock rule" \
    "SHORTCIRCUIT=-100,XSMTP_FASTTRACK=-5,XSMTP_PASS=-1" "$(tests_of "$D/stock.fasttrack")"
lab_assert_match "stock rules: the copies were really scanned by the stock rules" \
    "(^|,)TEST_EVERY_MESSAGE=0.01(,|$)" "$(tests_of "$D/stock.pass")"
awk -v a="$start" -v b="$(date +%s.%N)" -v n="${#OURS[@]}" \
    'BEGIN { printf "info: spamassassin -t with stock rules: %.2f s per message (process start included)\n", (b - a) / n }'

# ---- spamass-milter in Postfix's milter list ----------------------------------------------
SKIPPED=()      # parts that could not run, each "what: why"
missing=""
for tool in spamd spamass-milter; do
    command -v "$tool" >/dev/null || missing+=" $tool"
done
if [ -n "$missing" ]; then
    SKIPPED+=("spamass-milter in Postfix's milter list: not installed:$missing (Debian packages spamd, spamass-milter)")
elif ! id nobody >/dev/null 2>&1; then
    SKIPPED+=("spamass-milter in Postfix's milter list: spamd runs its children as user nobody, and there is none")
else
    SPAMD_PORT=$(lab_free_port) || exit 99
    mkdir -p "$D/spamd-home"
    chown nobody "$D/spamd-home"
    spamd -L -x -u nobody -H "$D/spamd-home" -i "127.0.0.1:$SPAMD_PORT" -A 127.0.0.1 \
        --configpath "$D/sa/iso-rules" --siteconfigpath "$D/sa/iso-site" \
        --max-children 2 --min-children 1 -s stderr >"$D/spamd.log" 2>&1 &
    lab_track_pid $!
    lab_wait_port "$SPAMD_PORT" "$GUARD" || { cat "$D/spamd.log"; exit 99; }
    SPAMASS_PORT=$(lab_free_port) || exit 99
    # -m: headers only (no Subject or body rewriting); spamc flags after --.
    spamass-milter -p "inet:$SPAMASS_PORT@127.0.0.1" -m -- -d 127.0.0.1 -p "$SPAMD_PORT" \
        >"$D/spamass-milter.log" 2>&1 &
    lab_track_pid $!
    lab_wait_port "$SPAMASS_PORT" "$GUARD" || { cat "$D/spamass-milter.log"; exit 99; }
    mkdir -p "$D/snippet"
    cp "$top_srcdir/etc/postfix/spamass-milter.snippet" "$D/snippet/main.cf"
    cp "$top_srcdir/etc/postfix/master.cf.snippet" "$D/snippet/master.cf"
    lab_assert_eq "spamass-milter.snippet: postconf has no warnings" "" \
        "$(postconf -c "$D/snippet" -n 2>&1 >/dev/null)"
    # The order etc/postfix/spamass-milter.snippet prescribes: xsmtp first.
    snippet=$(postconf -c "$D/snippet" -h smtpd_milters)
    lab_assert_eq "spamass-milter.snippet: xsmtp, then spamass-milter" \
        'inet:127.0.0.1:8893, inet:127.0.0.1:8895' "$snippet"
    # Postfix waits for the whole chain with the deadline the snippet sets
    # for it (SpamAssassin is the slow part), not the xsmtp-only one.
    lab_assert_eq "spamass-milter.snippet: milter_content_timeout" 120s \
        "$(postconf -c "$D/snippet" -h milter_content_timeout)"
    ordered=${snippet//8893/$M_PORT}
    lab_postfix_set PF "milter_content_timeout = $(postconf -c "$D/snippet" -h milter_content_timeout)" \
        "smtpd_milters = ${ordered//8895/$SPAMASS_PORT}"
    for name in fasttrack forged; do
        cp "$GW_MSG/$name.eml" "$GW_MSG/after-$name.eml"
        sed -i "s/^Subject: gw $name\r\$/Subject: gw after-$name\r/" "$GW_MSG/after-$name.eml"
    done
    t0=$(date +%s%N)
    sent=$(gw_send after-fasttrack after-forged)
    echo "info: two messages through xsmtp and spamass-milter in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    lab_assert_eq "xsmtp then spamass-milter: both accepted" \
        "after-fasttrack 250
after-forged 250" "$sent"
    gw_wait_delivered "$((${#NAMES[@]} + 2))" "$GUARD"
    gw_delivered after-fasttrack >"$D/delivered.after-fasttrack"
    gw_delivered after-forged >"$D/delivered.after-forged"
    lab_assert_eq "xsmtp then spamass-milter: SpamAssassin saw our fast-tracked pass" \
        "No, score=-106.0 required=5.0 tests=SHORTCIRCUIT,XSMTP_FASTTRACK,XSMTP_PASS shortcircuit=ham autolearn=disabled" \
        "$(status_of "$D/delivered.after-fasttrack")"
    lab_assert_eq "xsmtp then spamass-milter: the forgery scores nothing of ours" \
        "No, score=0.0 required=5.0 tests=TEST_EVERY_MESSAGE shortcircuit=no autolearn=disabled" \
        "$(status_of "$D/delivered.after-forged")"
    # The wrong order: spamass-milter sees the message before xsmtp cleans it.
    lab_postfix_set PF "smtpd_milters = inet:127.0.0.1:$SPAMASS_PORT, inet:127.0.0.1:$M_PORT"
    cp "$GW_MSG/forged.eml" "$GW_MSG/before-forged.eml"
    sed -i "s/^Subject: gw forged\r\$/Subject: gw before-forged\r/" "$GW_MSG/before-forged.eml"
    lab_assert_eq "spamass-milter then xsmtp: accepted" "before-forged 250" \
        "$(gw_send before-forged)"
    gw_wait_delivered "$((${#NAMES[@]} + 3))" "$GUARD"
    gw_delivered before-forged >"$D/delivered.before-forged"
    lab_assert_eq "spamass-milter then xsmtp (wrong order): the forgery is fast-tracked" \
        "No, score=-106.0 required=5.0 tests=SHORTCIRCUIT,XSMTP_FASTTRACK,XSMTP_PASS shortcircuit=ham autolearn=disabled" \
        "$(status_of "$D/delivered.before-forged")"
    lab_assert_eq "spamass-milter then xsmtp: xsmtp still cleaned the delivered header" \
        "X-XSMTP-Verdict: none" "$(grep '^X-XSMTP-' "$D/delivered.before-forged")"
fi

lab_assert_eq "milter log: no error" "" "$(grep -E ': (err|crit|alert|emerg):' "$M_LOG" | head -3)"
kill -TERM "$M_PID"
wait "$M_PID"
lab_assert_eq "milter: exit status 0 after SIGTERM" 0 "$?"
lab_assert_match "milter counters: fast-tracked messages counted" \
    "verifier: verified=[0-9]+ .* fast_tracked=[12] " "$(cat "$M_LOG")"
lab_finish || exit 1
# Everything that ran passed; a part that could not run is not a pass.
if [ ${#SKIPPED[@]} -gt 0 ]; then
    printf 'SKIP: %s\n' "${SKIPPED[@]}"
    exit 77
fi
