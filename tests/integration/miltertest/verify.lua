-- tests/integration/miltertest/verify.lua -- the verifier through the real xsmtp-milter.
--
-- Started by tests/integration/test_verify.sh, once per phase, with in the environment:
--   XSMTP_LUA_LIB      tests/integration/miltertest/lib.lua
--   XSMTP_SOCKET_A     milter A (every verify.on_* = accept)
--   XSMTP_SOCKET_B     milter B (on_fail = reject, on_permerror = quarantine,
--                      on_temperror = tempfail), same Redis as A
--   XSMTP_KEY_SECRET   base64 secret of key s1 (the component's table)
--   XSMTP_PHASE        which cases to run (see the bottom of the file)
--   XSMTP_RUN          a word unique to this run, part of every Message-ID
--   XSMTP_SEQ          a number unique to this invocation (fresh messages)
-- Every X-XMPP-Hash is built here: bh is openssl's SHA-256 of the body
-- canonicalized by hand (RFC 6376 relaxed), h openssl's HMAC of the
-- XSMTP-1 s3 canonical input.  Expected headers are written out in full.

local lib = dofile(os.getenv("XSMTP_LUA_LIB"))
local socket_a = os.getenv("XSMTP_SOCKET_A")
local socket_b = os.getenv("XSMTP_SOCKET_B")
local secret_hex = lib.hex_of_base64(os.getenv("XSMTP_KEY_SECRET"))
local phase = os.getenv("XSMTP_PHASE")
local run = os.getenv("XSMTP_RUN") .. "-" .. (os.getenv("XSMTP_SEQ") or "0")
local relay = "198.51.100.7"

local body = "Hello  Bob. \t\r\nSecond line\r\n\r\n\r\n"
local body_relaxed = "Hello Bob.\r\nSecond line\r\n"
local bh_cache = {}

local function body_hash(relaxed)
    if bh_cache[relaxed] == nil then
        bh_cache[relaxed] = lib.openssl_sha256_b64(relaxed)
    end
    return bh_cache[relaxed]
end

-- X-XMPP-Hash for m = { identity, from, msgid, t, ip, k, relaxed }; m.h
-- overrides the MAC (a forgery).
local function hash_header(m)
    local bh = body_hash(m.relaxed or body_relaxed)
    local h = m.h
    if h == nil then
        local canonical = "xsmtp-1\n" ..
            "identity:" .. m.identity:lower() .. "\n" ..
            "message-id:" .. m.msgid .. "\n" ..
            "from:" .. m.from:lower() .. "\n" ..
            "time:" .. m.t .. "\n" ..
            "ip:" .. m.ip .. "\n" ..
            "body-hash:" .. bh .. "\n" ..
            "key:" .. m.k .. "\n"
        h = lib.openssl_hmac_b64(secret_hex, canonical)
    end
    return "v=1; k=" .. m.k .. "; t=" .. m.t .. "; ip=" .. m.ip .. ";\n bh=" .. bh ..
           ";\n h=" .. h
end

-- A signed message; fields of over replace the defaults.  over.hash
-- replaces the whole X-XMPP-Hash value, over.no_identity / over.no_hash
-- leave a header out, over.extra adds headers at the end.
local function message(name, over)
    over = over or {}
    local m = {
        identity = over.identity or "alice@a.test",
        from = over.from or "alice@a.test",
        msgid = over.msgid or ("v-" .. name .. "-" .. run .. "@a.test"),
        t = tostring(over.t or os.time()),
        ip = "192.0.2.10",
        k = over.k or "s1",
        h = over.h,
        relaxed = over.relaxed,
    }
    local headers = {
        { "Received", "from mail.a.test by mx.b.test; Sun, 22 Nov 2026 10:00:00 +0000" },
        { "From", over.from_header or ("Alice <" .. m.from .. ">") },
        { "To", "bob@b.test" },
        { "Subject", "verify " .. name },
        { "Message-ID", "<" .. m.msgid .. ">" },
    }
    if not over.no_identity then
        table.insert(headers, 1, { "X-XMPP-Identity", m.identity })
    end
    if not over.no_hash then
        table.insert(headers, 2, { "X-XMPP-Hash", over.hash or hash_header(m) })
    end
    for _, extra in ipairs(over.extra or {}) do
        table.insert(headers, extra)
    end
    return { ip = relay, headers = headers, body = over.body or body }
end

local function show(conn, name)
    local value = mt.getheader(conn, name, 0)
    mt.echo(string.format("     %s inserted: %q", name, tostring(value)))
end

-- expect = { verdict = "X-XSMTP-Verdict value", results = "A-R value" }
-- or { reply = {code, xcode, text} } or with quarantine = "reason".
local function case(name, socket, msg, expect)
    local conn = lib.send(socket, msg)
    if expect.reply ~= nil then
        lib.check_eq(SMFIR_REPLYCODE, mt.getreply(conn), name .. ": answered with a reply code")
        lib.check(mt.eom_check(conn, MT_SMTPREPLY, expect.reply[1], expect.reply[2],
                               expect.reply[3]),
                  name .. ": reply " .. table.concat(expect.reply, " "))
        lib.check(not mt.eom_check(conn, MT_HDRINSERT), name .. ": no header inserted")
    else
        lib.check_eq(SMFIR_ACCEPT, mt.getreply(conn), name .. ": accepted")
        if not lib.check(mt.eom_check(conn, MT_HDRINSERT, "X-XSMTP-Verdict", expect.verdict, 0),
                         name .. ": X-XSMTP-Verdict: " .. expect.verdict) then
            show(conn, "X-XSMTP-Verdict")
        end
        if not lib.check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
                                      expect.results, 0),
                         name .. ": Authentication-Results: " .. expect.results) then
            show(conn, "Authentication-Results")
        end
        if expect.quarantine ~= nil then
            lib.check(mt.eom_check(conn, MT_QUARANTINE, expect.quarantine),
                      name .. ": quarantined: " .. expect.quarantine)
        else
            lib.check(not mt.eom_check(conn, MT_QUARANTINE), name .. ": not quarantined")
        end
    end
    if expect.deleted ~= nil then
        for _, header in ipairs(expect.deleted) do
            lib.check(mt.eom_check(conn, MT_HDRDELETE, header), name .. ": " .. header .. " deleted")
        end
    elseif expect.reply == nil then
        lib.check(not mt.eom_check(conn, MT_HDRDELETE), name .. ": nothing deleted")
    end
    mt.disconnect(conn)
end

local function pass(cached)
    return {
        verdict = "pass (identity=alice@a.test; component=xsmtp.a.test; cached=" .. cached .. ")",
        results = "mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test " ..
                  "header.from=alice@a.test",
    }
end

-- verdict word, reason, component (nil: none), identity (nil: none), from
local function outcome(verdict, reason, component, identity, from)
    local comment, results = verdict .. " (", "mx.b.test; x-xsmtp=" .. verdict
    if identity ~= nil then
        comment = comment .. "identity=" .. identity .. "; "
    end
    comment = comment .. "reason=" .. reason .. "; "
    results = results .. ' reason="' .. reason .. '"'
    if identity ~= nil then
        results = results .. " header.x-xmpp-identity=" .. identity
    end
    if from ~= nil then
        results = results .. " header.from=" .. from
    end
    if component ~= nil then
        comment = comment .. "component=" .. component .. "; "
    end
    return { verdict = comment .. "cached=no)", results = results }
end

local phases = {}

-- Every local outcome and every answer of the component, through milter A.
function phases.main()
    case("pass", socket_a, message("pass"), pass("no"))
    case("forged h", socket_a, message("forged", { h = "NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=" }),
         outcome("fail", "bad-hash", "xsmtp.a.test", "alice@a.test", "alice@a.test"))
    case("unknown key", socket_a, message("unknown-key", { k = "nokey" }),
         outcome("fail", "unknown-key", "xsmtp.a.test", "alice@a.test", "alice@a.test"))
    case("domain without a component", socket_a,
         message("no-component", { identity = "carol@c.test", from = "carol@c.test" }),
         outcome("permerror", "no-component", nil, "carol@c.test", "carol@c.test"))
    case("identity only", socket_a, message("identity-only", { no_hash = true }),
         outcome("permerror", "missing-hash", nil, "alice@a.test", "alice@a.test"))
    case("hash only", socket_a, message("hash-only", { no_identity = true }),
         outcome("permerror", "missing-identity", nil, nil, "alice@a.test"))
    local plain = message("none", { no_identity = true, no_hash = true })
    case("no X-XMPP headers", socket_a, plain,
         { verdict = "none", results = "mx.b.test; x-xsmtp=none" })
    case("body changed in transit", socket_a,
         message("body-changed", { body = "Hello Bob, changed.\r\n" }),
         outcome("fail", "body-changed", nil, "alice@a.test", "alice@a.test"))
    case("signed 8 days ago", socket_a, message("expired", { t = os.time() - 8 * 86400 }),
         outcome("fail", "expired", nil, "alice@a.test", "alice@a.test"))
    case("signed 10 minutes in the future", socket_a,
         message("future", { t = os.time() + 600 }),
         outcome("fail", "future", nil, "alice@a.test", "alice@a.test"))
    local forged = message("forged-verdict", {
        h = "NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=",
        extra = {
            { "Authentication-Results", "other.example; spf=pass smtp.mailfrom=a.test" },
            { "X-XSMTP-Verdict",
              "pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)" },
            { "Authentication-Results",
              "mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test" },
        } })
    local expect = outcome("fail", "bad-hash", "xsmtp.a.test", "alice@a.test", "alice@a.test")
    expect.deleted = { "X-XSMTP-Verdict", "Authentication-Results" }
    case("forged verdict headers removed, fail inserted", socket_a, forged, expect)
    local foreign = message("foreign-ar", { no_identity = true, no_hash = true, extra = {
        { "Authentication-Results", "other.example; spf=pass smtp.mailfrom=a.test" },
        { "Authentication-Results", "mx.b.test.example; dkim=pass" },
    } })
    case("A-R of other authserv-ids kept", socket_a, foreign,
         { verdict = "none", results = "mx.b.test; x-xsmtp=none" })
end

-- Only a malformed hash: no query may reach the component.
function phases.malformed()
    case("malformed hash header", socket_a,
         message("malformed", { hash = "v=1; k=s1; t=1795000000; ip=192.0.2.10" }),
         outcome("permerror", "malformed-hash", nil, "alice@a.test", "alice@a.test"))
end

-- The same message twice: the second answer comes from Redis.
function phases.twice()
    local msg = message("twice")
    case("first of two identical messages", socket_a, msg, pass("no"))
    case("second of two identical messages", socket_a, msg, pass("yes"))
end

-- A verdict fetched by milter A is a hit for milter B (another process).
function phases.shared()
    local msg = message("shared")
    case("milter A verifies", socket_a, msg, pass("no"))
    case("milter B finds A's verdict in Redis", socket_b, msg, pass("yes"))
end

-- Milter S finds the Redis master through Sentinel: A's verdict is a hit.
function phases.sentinel()
    local socket_s = os.getenv("XSMTP_SOCKET_S")
    local msg = message("sentinel")
    case("milter A verifies", socket_a, msg, pass("no"))
    case("milter S (Redis via Sentinel) finds A's verdict", socket_s, msg, pass("yes"))
    -- Built once: t is part of the cache key, and two calls of message()
    -- on either side of a second boundary would make two keys.
    local new = message("sentinel-new")
    case("milter S verifies a new message", socket_s, new, pass("no"))
    case("milter A finds S's verdict", socket_a, new, pass("yes"))
end

-- Milter B's actions.
function phases.actions()
    case("on_fail = reject", socket_b,
         message("reject", { h = "NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=" }),
         { reply = { "550", "5.7.1", "XSMTP verification failed for alice@a.test: bad-hash" } })
    local expect = outcome("permerror", "malformed-hash", nil, "alice@a.test", "alice@a.test")
    expect.quarantine = "XSMTP verification failed for alice@a.test: malformed-hash"
    case("on_permerror = quarantine", socket_b,
         message("quarantine", { hash = "v=1; k=s1" }), expect)
    case("none is always accepted", socket_b,
         message("b-none", { no_identity = true, no_hash = true }),
         { verdict = "none", results = "mx.b.test; x-xsmtp=none" })
end

-- After a reload of A with on_fail = reject and notify.enabled = true.
function phases.reloaded()
    case("reloaded: on_fail = reject applies at once", socket_a,
         message("reloaded-reject", { h = "NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=" }),
         { reply = { "550", "5.7.1", "XSMTP verification failed for alice@a.test: bad-hash" } })
    case("reloaded: pass (and a notice)", socket_a, message("reloaded-pass"), pass("no"))
end

-- Milter C has mode = { sign, verify }: internal and authenticated mail is
-- signed, other mail verified.
function phases.combined()
    local socket_c = os.getenv("XSMTP_SOCKET_C")
    local unsigned = message("combined-out", { no_identity = true, no_hash = true })
    unsigned.ip = "127.0.0.1"
    local conn = lib.send(socket_c, unsigned)
    lib.check(mt.eom_check(conn, MT_HDRINSERT, "X-XMPP-Identity", "alice@a.test", 0),
              "combined, internal client: signed")
    lib.check(not mt.eom_check(conn, MT_HDRINSERT, "X-XSMTP-Verdict"),
              "combined, internal client: not verified")
    mt.disconnect(conn)
    unsigned.ip = relay
    unsigned.auth = "alice"
    conn = lib.send(socket_c, unsigned)
    lib.check(mt.eom_check(conn, MT_HDRINSERT, "X-XMPP-Identity", "alice@a.test", 0),
              "combined, authenticated client: signed")
    lib.check(not mt.eom_check(conn, MT_HDRINSERT, "X-XSMTP-Verdict"),
              "combined, authenticated client: not verified")
    mt.disconnect(conn)
    case("combined, outside client: verified", socket_c, message("combined-in"), pass("no"))
end

-- One fresh message through A; the shell reads the outcome from the log.
-- XSMTP_EXPECT: "pass", or "temperror REASON" (checked here as well).
function phases.single()
    local want = os.getenv("XSMTP_EXPECT") or "pass"
    local verdict, reason = want:match("^(%S+) ?(%S*)$")
    if verdict == "pass" then
        case("fresh message", socket_a, message("single"), pass("no"))
    else
        case("fresh message", socket_a, message("single"),
             outcome(verdict, reason, "xsmtp.a.test", "alice@a.test", "alice@a.test"))
    end
end

-- on_temperror = tempfail (B), while the shell keeps the component away.
function phases.tempfail()
    local reason = os.getenv("XSMTP_EXPECT")
    case("on_temperror = tempfail", socket_b, message("tempfail"),
         { reply = { "451", "4.7.1", "XSMTP verification failed for alice@a.test: " .. reason } })
end

-- N fresh messages, then the same N again (latency of misses and hits).
function phases.latency()
    local count = tonumber(os.getenv("XSMTP_COUNT") or "20")
    local msgs = {}
    for i = 1, count do
        msgs[i] = message("latency-" .. i)
    end
    for i = 1, count do
        case("latency miss " .. i, socket_a, msgs[i], pass("no"))
    end
    for i = 1, count do
        case("latency hit " .. i, socket_a, msgs[i], pass("yes"))
    end
end

-- One copy of a message shared by several concurrent runs (XSMTP_T fixes
-- t): once its message is built it creates the file XSMTP_READY, then
-- waits for the file XSMTP_GO (the shell creates it when every run is
-- ready) so that all runs send at once, then expects pass, from the
-- component or from the cache.  The wait is bounded by the clock, not by
-- a count of sleeps, which a busy machine stretches.
function phases.same()
    local socket = os.getenv("XSMTP_TARGET") == "B" and socket_b or socket_a
    local msg = message("same", { t = tonumber(os.getenv("XSMTP_T")) })
    local go = os.getenv("XSMTP_GO")
    local ready = os.getenv("XSMTP_READY")
    if ready ~= nil then
        assert(io.open(ready, "w")):close()
    end
    local give_up = os.time() + 60
    while os.time() < give_up do
        local file = io.open(go, "r")
        if file ~= nil then
            file:close()
            break
        end
        mt.sleep(0.002)
    end
    local conn = lib.send(socket, msg)
    lib.check_eq(SMFIR_ACCEPT, mt.getreply(conn), "concurrent copy: accepted")
    local verdict = mt.getheader(conn, "X-XSMTP-Verdict", 0) or ""
    lib.check(verdict:match("^pass %(identity=alice@a%.test; component=xsmtp%.a%.test; " ..
                            "cached=[yesno]+%)$") ~= nil,
              "concurrent copy: pass (" .. verdict .. ")")
    mt.disconnect(conn)
end

if phases[phase] == nil then
    error("unknown phase " .. tostring(phase))
end
phases[phase]()
lib.finish()
