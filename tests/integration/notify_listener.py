#!/usr/bin/python3
"""notify_listener.py -- a sender's Jabber client for tests/integration/test_notify.sh
(Debian python3-slixmpp; shares no code with xsmtp).

Logs in (plain c2s on 127.0.0.1:PORT), sends presence, prints "ready", then
one line per <message/> it receives, until it is killed:

  headline from=JID to=BARE type=TYPE body=JSON progress=k=v,k=v children=N
  message from=JID to=BARE type=TYPE body=JSON (no progress)

progress lists every attribute of the urn:xmpp:xsmtp:1 <progress/> element,
sorted by name; children counts its child elements.  Every line is flushed
at once so the shell test can wait for it.
"""
import argparse
import asyncio
import json
import logging
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "urn:xmpp:xsmtp:1"


class Listener(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.add_event_handler("session_start", self.on_start)
        self.register_handler(Callback(
            "any message", MatchXPath("{jabber:client}message"), self.on_message))

    async def on_start(self, _event):
        self.send_presence()
        print("ready", flush=True)

    def on_message(self, msg):
        progress = msg.xml.find("{%s}progress" % NS)
        head = "from=%s to=%s type=%s body=%s" % (msg["from"], msg["to"].bare, msg["type"],
                                                  json.dumps(msg["body"]))
        if progress is None:
            print("message %s (no progress)" % head, flush=True)
            return
        attrs = ",".join("%s=%s" % (k, progress.get(k)) for k in sorted(progress.keys()))
        print("headline %s progress=%s children=%d" % (head, attrs, len(progress)), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    client = Listener(args.jid, args.password)
    client.connect(address=("127.0.0.1", args.port), force_starttls=False,
                   disable_starttls=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
