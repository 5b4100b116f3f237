-- tests/integration/miltertest/sign.lua -- the signer through the real xsmtp-milter.
--
-- Started by tests/integration/test_sign.sh with XSMTP_MILTER_SOCKET, XSMTP_LUA_LIB and
-- XSMTP_KEY_SECRET (base64 secret of key s1) in the environment.  For every
-- signed message the script rebuilds the canonical input of XSMTP-1 s3 by
-- hand from what it sent, and recomputes bh and h with openssl.

local lib = dofile(os.getenv("XSMTP_LUA_LIB"))
local socket = os.getenv("XSMTP_MILTER_SOCKET")
local secret_hex = lib.hex_of_base64(os.getenv("XSMTP_KEY_SECRET"))

local function pattern_escape(text)
    return (text:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

local function base_headers(from, msgid)
    local headers = {
        { "Received", "from client.example by gw.a.test; Sun, 22 Nov 2026 10:00:00 +0000" },
        { "From", from },
        { "To", "Bob <bob@b.test>" },
        { "Subject", "signing test" },
        { "Date", "Sun, 22 Nov 2026 10:00:00 +0000" },
    }
    if msgid ~= nil then
        table.insert(headers, { "Message-ID", msgid })
    end
    return headers
end

-- expect = { identity, from_address, msgid (nil: the milter must add one),
--            ip, canonical_body (written by hand per RFC 6376 relaxed) }
local function check_signed(name, conn, expect)
    lib.check(mt.eom_check(conn, MT_HDRINSERT, "X-XMPP-Identity", expect.identity, 0),
              name .. ": X-XMPP-Identity: " .. expect.identity .. " inserted at index 0")
    local hash = mt.getheader(conn, "X-XMPP-Hash", 0)
    if not lib.check(hash ~= nil, name .. ": X-XMPP-Hash inserted") then
        return
    end
    lib.check(mt.eom_check(conn, MT_HDRINSERT, "X-XMPP-Hash", hash, 0),
              name .. ": X-XMPP-Hash inserted at index 0")
    local t, bh, h = hash:match("^v=1; k=s1; t=(%d+); ip=" .. pattern_escape(expect.ip) ..
                                ";\n bh=([%w+/]+=*);\n h=([%w+/]+=*)$")
    if not lib.check(t ~= nil, name .. ": X-XMPP-Hash has the exact XSMTP-1 layout") then
        mt.echo(string.format("     value: %q", hash))
        return
    end
    lib.check(math.abs(tonumber(t) - os.time()) <= 10, name .. ": t is the signing time")

    local msgid = expect.msgid
    if msgid == nil then
        local added = mt.getheader(conn, "Message-ID", 0)
        lib.check(added ~= nil and added:match("^<[0-9a-f]+%." .. t .. "@a%.test>$") ~= nil and
                  #added:match("^<([0-9a-f]+)%.") == 32,
                  name .. ": Message-ID <RANDOM.T@a.test> added")
        if added == nil then
            return
        end
        msgid = added:match("^<(.*)>$")
    end

    lib.check_eq(lib.openssl_sha256_b64(expect.canonical_body), bh,
                 name .. ": bh equals openssl's SHA-256 of the relaxed body")
    local canonical = "xsmtp-1\n" ..
        "identity:" .. expect.identity .. "\n" ..
        "message-id:" .. msgid .. "\n" ..
        "from:" .. expect.from_address .. "\n" ..
        "time:" .. t .. "\n" ..
        "ip:" .. expect.ip .. "\n" ..
        "body-hash:" .. bh .. "\n" ..
        "key:s1\n"
    lib.check_eq(lib.openssl_hmac_b64(secret_hex, canonical), h,
                 name .. ": h equals openssl's HMAC-SHA256 of the canonical input")
end

local function check_untouched(name, conn)
    lib.check(not mt.eom_check(conn, MT_HDRINSERT) and not mt.eom_check(conn, MT_HDRADD) and
              not mt.eom_check(conn, MT_HDRCHANGE) and not mt.eom_check(conn, MT_HDRDELETE),
              name .. ": no header added, changed or deleted")
    lib.check_eq(SMFIR_ACCEPT, mt.getreply(conn), name .. ": accepted")
end

local body1 = "Hello  Bob. \t\r\nSecond line\r\n\r\n\r\n"
local body1_relaxed = "Hello Bob.\r\nSecond line\r\n"

-- 1. internal client
local conn = lib.send(socket, { ip = "127.0.0.1",
    headers = base_headers("alice@a.test", "<sign-1@a.test>"), body = body1 })
check_signed("internal client", conn, { identity = "alice@a.test",
    from_address = "alice@a.test", msgid = "sign-1@a.test", ip = "127.0.0.1",
    canonical_body = body1_relaxed })
lib.check_eq(SMFIR_ACCEPT, mt.getreply(conn), "internal client: accepted")
mt.disconnect(conn)

-- 2. authenticated external client, display name and mixed case
conn = lib.send(socket, { ip = "198.51.100.7", auth = "alice",
    headers = base_headers("\"Alice Example\" <Alice@A.test>", " <sign-2@a.test> (two)"),
    body = "Line one\r\n" })
check_signed("authenticated client", conn, { identity = "alice@a.test",
    from_address = "alice@a.test", msgid = "sign-2@a.test", ip = "198.51.100.7",
    canonical_body = "Line one\r\n" })
mt.disconnect(conn)

-- 3. unauthenticated external client: untouched, even with X-XMPP headers
local forged = base_headers("alice@a.test", "<sign-3@a.test>")
table.insert(forged, { "X-XMPP-Identity", "alice@a.test" })
conn = lib.send(socket, { ip = "198.51.100.7", headers = forged, body = body1 })
check_untouched("unauthenticated external client", conn)
mt.disconnect(conn)

-- 4. foreign From domain from an internal client
conn = lib.send(socket, { ip = "127.0.0.1",
    headers = base_headers("carol@c.test", "<sign-4@c.test>"), body = body1 })
check_untouched("foreign From domain", conn)
mt.disconnect(conn)

-- 5. client-supplied X-XMPP-* headers are deleted and replaced
local supplied = base_headers("alice@a.test", "<sign-5@a.test>")
table.insert(supplied, 1, { "X-XMPP-Identity", "mallory@a.test" })
table.insert(supplied, { "X-XMPP-Hash", "v=1; k=s1; t=1; ip=192.0.2.1; bh=x; h=y" })
table.insert(supplied, { "x-xmpp-identity", "eve@a.test" })
-- A body of blank lines only canonicalizes to the empty string.  (A truly
-- empty body cannot be sent: miltertest then invents one of its own.)
conn = lib.send(socket, { ip = "127.0.0.1", headers = supplied, body = " \r\n\t\r\n\r\n" })
lib.check(mt.eom_check(conn, MT_HDRDELETE, "X-XMPP-Identity"),
          "supplied headers: X-XMPP-Identity deleted")
lib.check(mt.eom_check(conn, MT_HDRDELETE, "X-XMPP-Hash"), "supplied headers: X-XMPP-Hash deleted")
check_signed("supplied headers", conn, { identity = "alice@a.test",
    from_address = "alice@a.test", msgid = "sign-5@a.test", ip = "127.0.0.1",
    canonical_body = "" })
mt.disconnect(conn)

-- 6. no Message-ID: one is added and signed
conn = lib.send(socket, { ip = "127.0.0.1", headers = base_headers("alice@a.test", nil),
    body = "x\r\n" })
check_signed("missing Message-ID", conn, { identity = "alice@a.test",
    from_address = "alice@a.test", msgid = nil, ip = "127.0.0.1", canonical_body = "x\r\n" })
mt.disconnect(conn)

-- 7. two From headers: not signed
local two_from = base_headers("alice@a.test", "<sign-7@a.test>")
table.insert(two_from, { "From", "bob@a.test" })
conn = lib.send(socket, { ip = "127.0.0.1", headers = two_from, body = body1 })
check_untouched("two From headers", conn)
mt.disconnect(conn)

-- 8. a From with two mailboxes: not signed
conn = lib.send(socket, { ip = "127.0.0.1",
    headers = base_headers("alice@a.test, bob@a.test", "<sign-8@a.test>"), body = body1 })
check_untouched("two mailboxes in From", conn)
mt.disconnect(conn)

-- 9. IPv6 authenticated client
conn = lib.send(socket, { ip = "2001:db8::25", auth = "alice",
    headers = base_headers("alice@a.test", "<sign-9@a.test>"), body = "v6\r\n" })
check_signed("IPv6 client", conn, { identity = "alice@a.test", from_address = "alice@a.test",
    msgid = "sign-9@a.test", ip = "2001:db8::25", canonical_body = "v6\r\n" })
mt.disconnect(conn)

lib.finish()
