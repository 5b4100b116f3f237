-- xsmtp.cfg.lua -- Prosody snippet declaring the xsmtp component (XEP-0114).
--
-- Include it from prosody.cfg.lua (Include "/etc/prosody/conf.d/xsmtp.cfg.lua")
-- after the VirtualHost of the domain, or paste it there.  The secret must
-- equal the first line of xsmtp-component's component.secret_file; keep this
-- file readable by Prosody only.  Component connections arrive on
-- component_ports (default 5347); bind them to loopback unless the component
-- runs on another host:
--   component_ports = { 5347 }
--   component_interfaces = { "127.0.0.1" }
-- Without a disco_items entry Prosody already lists xsmtp.a.test in a.test's
-- disco#items (it is a subdomain), which is how verifiers find it (XSMTP-1 s5).

Component "xsmtp.a.test"
    component_secret = "change-me-to-a-long-random-secret"
