-- tests/integration/miltertest/hostile.lua -- the verifier against a lying component
-- (tests/integration/hostile_component.py), driven by tests/integration/test_hostile_xmpp.sh.
--
-- Environment: XSMTP_LUA_LIB (tests/integration/miltertest/lib.lua), XSMTP_MILTER_SOCKET,
-- XSMTP_RUN (a word unique to this run).  Each message's Message-ID names
-- the component's scenario; the component decides every verdict, so the
-- MAC here is any well-formed value.  What must hold: an answer from a JID
-- other than the one asked, with an id that is not the query's, inside a
-- <message/>, or after the query was answered, never counts; a query that
-- gets no real answer ends in temperror at the deadline, never in pass.

local lib = dofile(os.getenv("XSMTP_LUA_LIB"))
local socket = os.getenv("XSMTP_MILTER_SOCKET")
local run = os.getenv("XSMTP_RUN")
local body = "Hostile XMPP test.\r\n"
local bh = lib.openssl_sha256_b64(body)

local function message(scenario, n)
    local msgid = scenario .. "-" .. n .. "." .. run .. "@a.test"
    return {
        ip = "198.51.100.7",
        headers = {
            { "X-XMPP-Identity", "alice@a.test" },
            { "X-XMPP-Hash", "v=1; k=s1; t=" .. os.time() .. "; ip=192.0.2.10;\n bh=" .. bh ..
                             ";\n h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=" },
            { "From", "Alice <alice@a.test>" },
            { "Subject", "hostile xmpp " .. scenario },
            { "Message-ID", "<" .. msgid .. ">" },
        },
        body = body,
    }
end

local expected = {
    honest = "pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)",
    spoof = "fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=no)",
    reuse = "fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=no)",
    silent = "temperror (identity=alice@a.test; reason=timeout; component=xsmtp.a.test; cached=no)",
    late = "temperror (identity=alice@a.test; reason=timeout; component=xsmtp.a.test; cached=no)",
}

local order = { "honest", "spoof", "spoof", "reuse", "silent", "late", "reuse", "honest" }
for n, scenario in ipairs(order) do
    local started = os.time()
    local conn = lib.send(socket, message(scenario, n))
    lib.check_eq(SMFIR_ACCEPT, mt.getreply(conn), scenario .. " " .. n .. ": accepted")
    if not lib.check(mt.eom_check(conn, MT_HDRINSERT, "X-XSMTP-Verdict", expected[scenario], 0),
                     scenario .. " " .. n .. ": X-XSMTP-Verdict: " .. expected[scenario]) then
        mt.echo(string.format("     inserted: %q", tostring(mt.getheader(conn, "X-XSMTP-Verdict", 0))))
    end
    lib.check(os.time() - started <= 3, scenario .. " " .. n .. ": answered within the deadline")
    mt.disconnect(conn)
    if scenario == "late" then
        os.execute("sleep 2")   -- the late pass arrives (2.5 s after its query) and is ignored
    end
end
lib.finish()
