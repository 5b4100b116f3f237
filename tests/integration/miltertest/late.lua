-- late.lua -- a connection made before a stop, whose next message comes
-- after the stop began: that message is refused with on_internal_error's
-- action (tempfail by default) so the drain cannot be stretched.
-- Run: miltertest -D socket=unix:/path -D pause=2 -s late.lua

local function fail(why)
	mt.echo("FAIL: " .. why)
	error(why)
end

if socket == nil or pause == nil then
	fail("define socket and pause")
end

local conn = mt.connect(socket, 40, 0.25)
if conn == nil then
	fail("cannot connect to " .. socket)
end
if mt.negotiate(conn, nil, nil, nil) ~= nil or
   mt.conninfo(conn, "early.a.test", "127.0.0.1") ~= nil then
	fail("connect failed")
end
mt.sleep(tonumber(pause))
if mt.mailfrom(conn, "<late@a.test>") ~= nil then
	fail("mail failed")
end
if mt.getreply(conn) ~= SMFIR_TEMPFAIL then
	fail("mail: reply " .. tostring(mt.getreply(conn)) .. ", expected tempfail")
end
mt.echo("late: ok")
