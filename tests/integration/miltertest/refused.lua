-- refused.lua -- a new connection while the milter is stopping.
--
-- During an orderly stop nothing new may start: the connection is answered
-- with on_internal_error's action (tempfail by default).
-- Run: miltertest -D socket=unix:/path -s refused.lua

local function fail(why)
	mt.echo("FAIL: " .. why)
	error(why)
end

if socket == nil then
	fail("define socket")
end

local conn = mt.connect(socket, 1, 0.1)
if conn == nil then
	fail("cannot connect to " .. socket)
end
if mt.negotiate(conn, nil, nil, nil) ~= nil then
	fail("negotiate failed")
end
if mt.conninfo(conn, "late.a.test", "127.0.0.1") ~= nil then
	fail("connect failed")
end
if mt.getreply(conn) ~= SMFIR_TEMPFAIL then
	fail("connect: reply " .. tostring(mt.getreply(conn)) .. ", expected tempfail")
end
mt.echo("refused: ok")
