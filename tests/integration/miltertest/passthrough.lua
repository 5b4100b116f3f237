-- passthrough.lua -- miltertest script for tests/integration/test_daemon.sh.
--
-- Connects to xsmtp-milter, sends one message with headers that the signer
-- and verifier will care about later (From, Message-ID, a forged
-- X-XMPP-Identity) from an external, unauthenticated client, and checks
-- that the milter accepts it and asks for no change at all: such mail is
-- neither signed nor cleaned by a signing gateway.  Run: miltertest -D socket=unix:/path -s passthrough.lua
-- Each failure prints "FAIL: why" (miltertest does not print Lua errors)
-- and raises an error, which makes miltertest exit non-zero.  No RCPT step:
-- the milter negotiates it away and miltertest then refuses mt.rcptto().

local function fail(why)
	mt.echo("FAIL: " .. why)
	error(why)
end

if socket == nil then
	fail("define socket, e.g. -D socket=unix:/tmp/x.sock")
end

local function check(what, result)
	if result ~= nil then
		fail(what .. " failed: " .. tostring(result))
	end
end

local function expect_reply(conn, what, wanted)
	local reply = mt.getreply(conn)
	if reply ~= wanted then
		fail(what .. ": reply " .. tostring(reply) .. ", expected " .. tostring(wanted))
	end
end

local conn = mt.connect(socket, 40, 0.25)
if conn == nil then
	fail("cannot connect to " .. socket)
end

check("negotiate", mt.negotiate(conn, nil, nil, nil))
-- Only the steps the milter needs: no unknown commands; no RCPT or DATA
-- on a unix socket.  Over TCP the milter keeps RCPT and DATA: answering
-- them avoids a Nagle/delayed-ACK stall of ~40 ms a message in Postfix.
local unix = socket:sub(1, 5) == "unix:" or socket:sub(1, 6) == "local:"
for _, step in ipairs({{"NORCPT", SMFIP_NORCPT, unix}, {"NODATA", SMFIP_NODATA, unix},
                       {"NOUNKNOWN", SMFIP_NOUNKNOWN, true}}) do
	if mt.test_option(conn, step[2]) ~= step[3] then
		fail("milter negotiated " .. step[1] .. " " .. tostring(mt.test_option(conn, step[2])) ..
		     ", expected " .. tostring(step[3]))
	end
end
if not mt.test_action(conn, SMFIF_ADDHDRS) or not mt.test_action(conn, SMFIF_CHGHDRS) then
	fail("milter did not ask for header changes (the signer needs them)")
end
-- An external, unauthenticated client: neither signed nor changed.
check("connect", mt.conninfo(conn, "client.example", "198.51.100.7"))
expect_reply(conn, "connect", SMFIR_CONTINUE)
check("helo", mt.helo(conn, "client.a.test"))
check("mail", mt.mailfrom(conn, "<alice@a.test>"))
expect_reply(conn, "mail", SMFIR_CONTINUE)
check("header From", mt.header(conn, "From", "Alice <alice@a.test>"))
check("header Message-ID", mt.header(conn, "Message-ID", "<20261122.abc@a.test>"))
check("header X-XMPP-Identity", mt.header(conn, "X-XMPP-Identity", "mallory@a.test"))
check("header Subject", mt.header(conn, "Subject", "pass-through test"))
check("eoh", mt.eoh(conn))
check("body", mt.bodystring(conn, "Hello Bob.\r\nSecond line\r\n"))
check("eom", mt.eom(conn))
expect_reply(conn, "eom", SMFIR_ACCEPT)

-- Nothing may be changed, added, removed or replaced.  (An SMTP reply would
-- have shown as reply 'y' above; recipient changes are not negotiated, and
-- miltertest's MT_RCPT* and MT_SMTPREPLY checks need an argument.)
local forbidden = {
	{"header added", MT_HDRADD},
	{"header inserted", MT_HDRINSERT},
	{"header changed", MT_HDRCHANGE},
	{"header deleted", MT_HDRDELETE},
	{"body replaced", MT_BODYCHANGE},
	{"quarantined", MT_QUARANTINE},
}
for _, item in ipairs(forbidden) do
	if mt.eom_check(conn, item[2]) then
		fail("message modified: " .. item[1])
	end
end

-- A second message on the same connection gets the same treatment.
check("mail 2", mt.mailfrom(conn, "<carol@a.test>"))
check("header 2", mt.header(conn, "From", "carol@a.test"))
check("eoh 2", mt.eoh(conn))
check("body 2", mt.bodystring(conn, "Second message.\r\n"))
check("eom 2", mt.eom(conn))
expect_reply(conn, "eom 2", SMFIR_ACCEPT)
if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_HDRINSERT) then
	fail("second message modified")
end

check("disconnect", mt.disconnect(conn))
mt.echo("passthrough: ok")
