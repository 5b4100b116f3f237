-- tests/integration/miltertest/lib.lua -- shared steps for the miltertest scripts.
--
-- miltertest drives the real xsmtp-milter over its socket, the way
-- OpenDKIM tests itself.  The helpers here send one whole SMTP transaction
-- and offer checks that stop the script with a clear message; openssl is
-- the independent oracle for every hash a test compares.

local lib = {}

lib.failures = 0
lib.checks = 0

function lib.check(ok, what)
    lib.checks = lib.checks + 1
    if ok then
        mt.echo("ok   " .. what)
    else
        lib.failures = lib.failures + 1
        mt.echo("FAIL " .. what)
    end
    return ok
end

function lib.check_eq(expected, actual, what)
    local ok = (expected == actual)
    lib.check(ok, what)
    if not ok then
        mt.echo(string.format("     expected: %q", tostring(expected)))
        mt.echo(string.format("     actual:   %q", tostring(actual)))
    end
    return ok
end

function lib.finish()
    mt.echo(string.format("%d passed, %d failed", lib.checks - lib.failures, lib.failures))
    if lib.failures > 0 then
        error("failures")
    end
end

local function expect_continue(conn, step)
    local reply = mt.getreply(conn)
    if reply ~= SMFIR_CONTINUE then
        error(step .. ": unexpected milter reply " .. tostring(reply))
    end
end

-- Sends one message; returns the connection after EOM for checks.
-- message = { host, ip, auth (optional {auth_authen} value), from,
--             headers = { {name, value}, ... }, body (string, "" allowed) }
function lib.send(socket, message)
    local conn = mt.connect(socket, 40, 0.25)
    if conn == nil then
        error("cannot connect to " .. socket)
    end
    if mt.conninfo(conn, message.host or "client.example", message.ip) ~= nil then
        error("mt.conninfo failed")
    end
    expect_continue(conn, "connect")
    if mt.helo(conn, message.host or "client.example") ~= nil then
        error("mt.helo failed")
    end
    if message.auth ~= nil then
        mt.macro(conn, SMFIC_MAIL, "i", "QUEUEID", "{auth_authen}", message.auth)
    else
        mt.macro(conn, SMFIC_MAIL, "i", "QUEUEID")
    end
    if mt.mailfrom(conn, message.from or "<sender@a.test>") ~= nil then
        error("mt.mailfrom failed")
    end
    -- No RCPT step: the milter negotiates it away (SMFIP_NORCPT), and
    -- miltertest then refuses mt.rcptto().
    for _, header in ipairs(message.headers) do
        if mt.header(conn, header[1], header[2]) ~= nil then
            error("mt.header failed for " .. header[1])
        end
    end
    if mt.eoh(conn) ~= nil then
        error("mt.eoh failed")
    end
    -- Without a body step miltertest sends a dummy body of its own, and
    -- libmilter drops a zero-length chunk: an empty body cannot be sent.
    if message.body ~= nil and message.body ~= "" then
        if mt.bodystring(conn, message.body) ~= nil then
            error("mt.bodystring failed")
        end
    end
    if mt.eom(conn) ~= nil then
        error("mt.eom failed")
    end
    return conn
end

-- Runs a shell pipeline that reads data on stdin; returns its trimmed output.
function lib.pipe(command, data)
    local path = os.tmpname()
    local file = assert(io.open(path, "wb"))
    file:write(data)
    file:close()
    local handle = assert(io.popen("(" .. command .. ") < '" .. path .. "'", "r"))
    local output = handle:read("*a")
    handle:close()
    os.remove(path)
    return (output:gsub("%s+$", ""))
end

function lib.openssl_sha256_b64(data)
    return lib.pipe("openssl dgst -sha256 -binary | openssl base64 -A", data)
end

function lib.openssl_hmac_b64(hexkey, data)
    return lib.pipe("openssl dgst -sha256 -mac HMAC -macopt hexkey:" .. hexkey ..
                    " -binary | openssl base64 -A", data)
end

function lib.hex_of_base64(b64)
    return lib.pipe("openssl base64 -d -A | od -An -v -tx1 | tr -d ' \\n'", b64)
end

return lib
