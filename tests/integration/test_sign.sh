#!/bin/bash
# tests/integration/test_sign.sh -- the signer in the real xsmtp-milter, driven by
# miltertest (tests/integration/miltertest/sign.lua): internal and authenticated clients
# signed, unauthenticated and foreign-domain mail untouched, client
# X-XMPP-* headers replaced, a missing Message-ID added and signed, two
# From headers or two mailboxes not signed, an IPv6 client.  Every bh and h
# is recomputed with openssl from what the script sent.  Then the log must
# name each decision, and must not contain the secret.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lab/common.sh"

MILTER=$top_builddir/milter/xsmtp-milter
[ -x "$MILTER" ] || { echo "no $MILTER: build it first" >&2; exit 99; }
command -v miltertest >/dev/null || { echo "miltertest not installed" >&2; exit 99; }
command -v openssl >/dev/null || { echo "openssl not installed" >&2; exit 99; }

lab_init sign
SECRET=c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE=
cat >"$LAB_DIR/keys" <<EOF2
# s0 is revoked and must never be used; s1 is XSMTP-1's test key.
s0  YWxpY2Utb25seS1zZWNyZXQtMTZieXRlcyEhIQ==  *@a.test  revoked
s1  $SECRET  *@a.test
EOF2
chmod 600 "$LAB_DIR/keys"
cat >"$LAB_DIR/milter.conf" <<EOF2
socket = "unix:$LAB_DIR/milter.sock"
mode = sign
log_level = debug
sign {
    domains = { "a.test" }
    internal_hosts = { "127.0.0.0/8", "::1" }
    keys = "$LAB_DIR/keys"
}
EOF2

"$MILTER" -f -c "$LAB_DIR/milter.conf" >"$LAB_DIR/milter.log" 2>&1 &
lab_track_pid $!
lab_wait_file "$LAB_DIR/milter.sock" 10 || exit 99

XSMTP_MILTER_SOCKET="unix:$LAB_DIR/milter.sock" XSMTP_LUA_LIB="$top_srcdir/tests/integration/miltertest/lib.lua" \
XSMTP_KEY_SECRET=$SECRET miltertest -s "$top_srcdir/tests/integration/miltertest/sign.lua" >"$LAB_DIR/sign.out" 2>&1
rc=$?
cat "$LAB_DIR/sign.out"
lab_assert_eq "miltertest sign.lua exit code" 0 "$rc"
lab_assert_eq "sign.lua reported no failure" "" "$(grep '^FAIL' "$LAB_DIR/sign.out")"

log=$(cat "$LAB_DIR/milter.log")
lab_assert_eq "log: signed messages" 5 "$(grep -c ': signed identity=alice@a.test key=s1 ip=' <<<"$log")"
lab_assert_eq "log: Message-ID added" 1 "$(grep -c 'key=s1 ip=127.0.0.1 (Message-ID added)' <<<"$log")"
lab_assert_eq "log: unauthenticated client (debug)" 1 \
    "$(grep -c 'not signed: client 198.51.100.7 is neither internal nor authenticated' <<<"$log")"
lab_assert_eq "log: foreign domain (debug)" 1 \
    "$(grep -c 'not signed: From domain is not a signing domain' <<<"$log")"
lab_assert_eq "log: two From headers" 1 "$(grep -c 'not signed: several From headers' <<<"$log")"
lab_assert_eq "log: two mailboxes" 1 "$(grep -c 'not signed: From holds several mailboxes' <<<"$log")"
lab_assert_eq "log never holds the secret" 0 "$(grep -c -F "$SECRET" <<<"$log")"

kill -TERM "$(jobs -p | head -1)" 2>/dev/null

# XSMTP-1 s9: even when a fault of our own stops the signing and
# on_internal_error = accept lets the message go, client X-XMPP-* headers
# must not pass.  The fault: a preloaded EVP_DigestUpdate that fails on a
# marker, so the body hasher fails mid-message (bodies over 4 KiB reach the
# digest before the end of the message).
cat >"$LAB_DIR/fault.c" <<'EOF2'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
typedef int (*update_fn)(void *, const void *, size_t);
int EVP_DigestUpdate(void *context, const void *data, size_t length)
{
    update_fn real = (update_fn)dlsym(RTLD_NEXT, "EVP_DigestUpdate");
    if (data != NULL && memmem(data, length, "XSMTP-FAULT-INJECT", 18) != NULL)
        return 0;
    return real(context, data, length);
}
EOF2
${CC:-cc} -shared -fPIC -o "$LAB_DIR/fault.so" "$LAB_DIR/fault.c" -ldl || exit 99
sed -e "s|milter.sock|fault.sock|" -e "s|^mode = sign|mode = sign\non_internal_error = accept|" \
    "$LAB_DIR/milter.conf" >"$LAB_DIR/fault.conf"
# ASan insists on coming first in the library list; the shim is harmless to it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" LD_PRELOAD="$LAB_DIR/fault.so" "$MILTER" -f -c "$LAB_DIR/fault.conf" >"$LAB_DIR/fault.log" 2>&1 &
lab_track_pid $!
lab_wait_file "$LAB_DIR/fault.sock" 10 || exit 99
cat >"$LAB_DIR/fault.lua" <<'EOF2'
local lib = dofile(os.getenv("XSMTP_LUA_LIB"))
local body = "XSMTP-FAULT-INJECT\r\n" .. string.rep(string.rep("y", 78) .. "\r\n", 80)
local conn = lib.send(os.getenv("XSMTP_MILTER_SOCKET"), { ip = "127.0.0.1",
    headers = { { "X-XMPP-Identity", "mallory@a.test" }, { "From", "alice@a.test" },
                { "Message-ID", "<fault-1@a.test>" }, { "X-XMPP-Hash", "v=1; k=s1" } },
    body = body })
lib.check_eq(SMFIR_ACCEPT, mt.getreply(conn), "digest fault: accepted (on_internal_error = accept)")
lib.check(mt.eom_check(conn, MT_HDRDELETE, "X-XMPP-Identity"),
          "digest fault: client X-XMPP-Identity deleted")
lib.check(mt.eom_check(conn, MT_HDRDELETE, "X-XMPP-Hash"), "digest fault: client X-XMPP-Hash deleted")
lib.check(not mt.eom_check(conn, MT_HDRINSERT), "digest fault: nothing inserted")
mt.disconnect(conn)
lib.finish()
EOF2
XSMTP_MILTER_SOCKET="unix:$LAB_DIR/fault.sock" XSMTP_LUA_LIB="$top_srcdir/tests/integration/miltertest/lib.lua" \
miltertest -s "$LAB_DIR/fault.lua" >"$LAB_DIR/fault.out" 2>&1
rc=$?
cat "$LAB_DIR/fault.out"
lab_assert_eq "miltertest fault.lua exit code" 0 "$rc"
lab_assert_eq "digest fault: logged as an internal error, message accepted" 1 \
    "$(grep -c 'internal error while signing (body hasher); accepting unsigned' "$LAB_DIR/fault.log")"

lab_finish
