-- slow.lua -- a message still in flight when the milter is told to stop.
--
-- Sends a message up to the body, prints "slow: waiting" (the test then
-- sends SIGTERM), sleeps `pause` seconds, and finishes the message: an
-- orderly stop must let it end with an accept.
-- Run: miltertest -D socket=unix:/path -D pause=3 -s slow.lua

local function fail(why)
	mt.echo("FAIL: " .. why)
	error(why)
end

local function check(what, result)
	if result ~= nil then
		fail(what .. " failed: " .. tostring(result))
	end
end

if socket == nil or pause == nil then
	fail("define socket and pause")
end

local conn = mt.connect(socket, 40, 0.25)
if conn == nil then
	fail("cannot connect to " .. socket)
end
check("negotiate", mt.negotiate(conn, nil, nil, nil))
check("connect", mt.conninfo(conn, "client.a.test", "127.0.0.1"))
check("mail", mt.mailfrom(conn, "<alice@a.test>"))
check("header", mt.header(conn, "From", "alice@a.test"))
check("eoh", mt.eoh(conn))
check("body", mt.bodystring(conn, "in flight\r\n"))
mt.echo("slow: waiting")
mt.sleep(tonumber(pause))
check("eom", mt.eom(conn))
if mt.getreply(conn) ~= SMFIR_ACCEPT then
	fail("eom: not accepted")
end
check("disconnect", mt.disconnect(conn))
mt.echo("slow: ok")
