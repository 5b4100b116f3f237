#!/usr/bin/python3
"""alice.py -- the demo's Jabber user alice@a.test (Debian's python3-slixmpp).

Logs in, sends presence (a headline to a bare JID only reaches resources that
are available), writes "ready" to stdout once the session is up, then appends
one JSON object per line to --out for every XSMTP-1 s8 delivery notice it
receives: {"from", "type", "body", "progress": {attribute: value}}.  Runs
until SIGTERM or SIGINT.  Plain c2s on loopback: the lab's Prosody offers no
TLS.  Nothing here shares code with xsmtp.
"""
import argparse
import asyncio
import json
import logging
import signal
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "urn:xmpp:xsmtp:1"


class Alice(slixmpp.ClientXMPP):
    def __init__(self, jid, password, out_path):
        super().__init__(jid, password)
        self.out_path = out_path
        self.add_event_handler("session_start", self.on_start)
        self.register_handler(Callback(
            "xsmtp progress", MatchXPath("{jabber:client}message/{%s}progress" % NS),
            self.on_progress))

    async def on_start(self, _event):
        self.send_presence()
        print("ready", flush=True)

    def on_progress(self, msg):
        progress = msg.xml.find("{%s}progress" % NS)
        record = {
            "from": str(msg["from"]),
            "type": msg["type"],
            "body": msg["body"],
            "progress": {key: progress.get(key) for key in sorted(progress.keys())},
        }
        with open(self.out_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, sort_keys=True) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    with open(args.password_file, encoding="utf-8") as f:
        password = f.readline().strip()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    alice = Alice(args.jid, password, args.out)
    stop = asyncio.Event()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stop.set)
    alice.connect(address=("127.0.0.1", args.port), force_starttls=False,
                  disable_starttls=True)
    loop.run_until_complete(stop.wait())
    alice.disconnect()
    loop.run_until_complete(asyncio.sleep(0.1))


if __name__ == "__main__":
    main()
