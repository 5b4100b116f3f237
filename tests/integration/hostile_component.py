#!/usr/bin/python3
"""hostile_component.py -- a lying xsmtp.a.test for tests/integration/test_hostile_xmpp.sh.

Connects to Prosody as the XEP-0114 component (Debian's python3-slixmpp)
and answers each verify query by the scenario its message-id starts with:

  spoof-...    first a pass from JIDs that are not the one asked
               (mallory@xsmtp.a.test, xsmtp.a.test/other), a pass with an
               id that is not the query's (same prefix, unknown serial; and
               a foreign one), a pass inside a <message/>, a progress notice
               from the component; then the real answer, fail bad-hash; then
               the same pass again with the query's id (reused by now).
  reuse-...    first a pass carrying the id of the previous query (answered
               already), then the real answer, fail bad-hash.
  silent-...   only the forged passes of spoof-, never a real answer.
  late-...     the real answer pass, but 2.5 s late (past the deadline).
  honest-...   the real answer pass at once.

Every stanza is written as raw XML, so nothing here depends on xsmtp's
code.  One line per query goes to stdout: "query SCENARIO ID".
"""
import argparse
import asyncio
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "urn:xmpp:xsmtp:1"


class Liar(slixmpp.ComponentXMPP):
    def __init__(self, jid, secret, host, port):
        super().__init__(jid, secret, host, port)
        self.previous_id = None
        self.register_handler(Callback(
            "verify", MatchXPath("{jabber:component:accept}iq/{%s}verify" % NS), self.on_verify))

    def answer(self, to, iq_id, sender, result, payload_in_message=False):
        verdict = "<verdict xmlns='%s' result='%s'%s/>" % (
            NS, result, " reason='bad-hash'" if result == "fail" else "")
        if payload_in_message:
            self.send_raw("<message from='%s' to='%s' id='m-%s'>%s</message>"
                          % (sender, to, iq_id, verdict))
        else:
            self.send_raw("<iq type='result' id='%s' from='%s' to='%s'>%s</iq>"
                          % (iq_id, sender, to, verdict))

    def forged(self, to, iq_id):
        prefix = iq_id.rsplit("-", 1)[0]
        self.answer(to, iq_id, "mallory@xsmtp.a.test", "pass")
        self.answer(to, iq_id, "xsmtp.a.test/other", "pass")
        self.answer(to, prefix + "-ffffffff", "xsmtp.a.test", "pass")
        self.answer(to, "evil-" + iq_id, "xsmtp.a.test", "pass")
        self.answer(to, iq_id, "xsmtp.a.test", "pass", payload_in_message=True)
        self.send_raw("<message from='xsmtp.a.test' to='%s'><progress xmlns='%s' "
                      "identity='alice@a.test' message-id='x' status='accepted' by='a.test' "
                      "t='1795000000'/></message>" % (to, NS))

    def on_verify(self, iq):
        to, iq_id = str(iq["from"]), iq["id"]
        msgid = iq.xml.find("{%s}verify" % NS).get("message-id", "")
        scenario = msgid.split("-", 1)[0]
        print("query %s %s" % (scenario, iq_id), flush=True)
        if scenario == "spoof":
            self.forged(to, iq_id)
            self.answer(to, iq_id, "xsmtp.a.test", "fail")
            self.answer(to, iq_id, "xsmtp.a.test", "pass")
        elif scenario == "reuse":
            if self.previous_id is not None:
                self.answer(to, self.previous_id, "xsmtp.a.test", "pass")
            self.answer(to, iq_id, "xsmtp.a.test", "fail")
        elif scenario == "silent":
            self.forged(to, iq_id)
        elif scenario == "late":
            asyncio.get_event_loop().call_later(
                2.5, lambda: self.answer(to, iq_id, "xsmtp.a.test", "pass"))
        else:
            self.answer(to, iq_id, "xsmtp.a.test", "pass")
        self.previous_id = iq_id


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    liar = Liar("xsmtp.a.test", args.secret, "127.0.0.1", args.port)
    liar.add_event_handler("session_start", lambda _e: print("connected", flush=True))
    liar.connect()
    liar.process(forever=True)


if __name__ == "__main__":
    sys.exit(main())
