#!/usr/bin/python3
"""component_client.py -- test client for xsmtp-component (Debian python3-slixmpp).

Logs in as a verifier account (and, with --alice, as a user of the component's
domain who collects headline notices), then reads one JSON command per line
on stdin and prints exactly one answer line per command, so a shell test can
compare answers with expectations.  Commands:

  {"op":"verify","attrs":{...}[,"type":"get"][,"to":JID][,"id":ID]}
        -> "result pass" | "result fail REASON" | "error TYPE CONDITION" | "timeout"
  {"op":"raw","xml":"<iq .../>","id":ID[,"wait":S]}
        sends the text as is; answer for that id in the same form, or "none"
        after S seconds (default 30)
  {"op":"disco"[,"node":N]}
        -> "info from=JID identity=CAT/TYPE/NAME features=F1,F2" or an error
  {"op":"batch","n":N,"attrs":{...}}
        sends N verify queries without waiting, then waits for all;
        -> "batch N pass=P other=O seconds=S"
  {"op":"burst","n":N,"attrs":{...}}
        like batch, but prints how many answers of each kind:
        "burst pass=P resource-constraint=R other=O seconds=S"
        (S: from the first query sent to the last answer)
  {"op":"notice","attrs":{...}[,"wait":S]}
        sends <message><progress/></message> to the component and waits for
        alice's headline (S seconds, default 30)
        -> "headline from=.. to=.. type=.. body=JSON progress=k=v,.." or "none"
  {"op":"notices","n":N,"attrs":{...},"expect":E,"barrier":{...}}
        sends N notices at once (message-id m1..mN), then a verify query with
        the barrier attributes and waits for its answer (the component
        handles a stream's stanzas in order, so by then it has dealt with
        every notice); then waits until alice has E headlines (at most 30 s)
        and another 0.5 s for any further ones.
        -> "notices n=N headlines=ID,ID,.. from=JID,.. seconds=S"
        (S: from the first notice sent to the barrier's answer)
  {"op":"until","attrs":{...},"expect":ANSWER,"timeout":S}
        repeats verify every 0.1 s until ANSWER -> "reached after S" or "gave up: LAST"

The component's JID is --component.  Nothing here shares code with xsmtp.
"""
import argparse
import asyncio
import json
import logging
import sys
import time

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "urn:xmpp:xsmtp:1"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class Session(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.started = asyncio.Event()
        self.headlines = asyncio.Queue()
        self.raw_answers = {}
        self.add_event_handler("session_start", self.on_start)
        self.register_handler(Callback(
            "xsmtp progress", MatchXPath("{jabber:client}message/{%s}progress" % NS),
            self.on_progress))
        self.register_handler(Callback(
            "any iq", MatchXPath("{jabber:client}iq"), self.on_iq))

    async def on_start(self, _event):
        self.send_presence()
        self.started.set()

    def on_progress(self, msg):
        self.headlines.put_nowait(msg)

    def on_iq(self, iq):
        if iq["type"] in ("result", "error"):
            self.raw_answers[iq["id"]] = iq


def describe(iq):
    """One line for an IQ answer."""
    if iq["type"] == "error":
        err = iq.xml.find("{jabber:client}error")
        if err is None:
            return "error ? ?"
        cond = "?"
        for child in err:
            if child.tag.startswith("{%s}" % NS_STANZAS) and not child.tag.endswith("}text"):
                cond = child.tag.split("}", 1)[1]
        return "error %s %s" % (err.get("type"), cond)
    verdict = iq.xml.find("{%s}verdict" % NS)
    if verdict is None:
        return "result (no verdict) " + str(iq)
    extra = sorted(set(verdict.keys()) - {"result", "reason"})
    line = "result %s" % verdict.get("result")
    if verdict.get("reason") is not None:
        line += " " + verdict.get("reason")
    if extra or len(verdict):
        line += " (unexpected: %s)" % ET.tostring(verdict).decode()
    return line


def verify_iq(sess, component, attrs, iq_type="get", to=None, iq_id=None):
    iq = sess.Iq()
    iq["type"] = iq_type
    iq["to"] = to or component
    if iq_id is not None:
        iq["id"] = iq_id
    el = ET.Element("{%s}verify" % NS)
    for key, value in attrs.items():
        el.set(key, value)
    iq.xml.append(el)
    return iq


async def ask(iq, timeout=60):
    try:
        return describe(await iq.send(timeout=timeout))
    except IqError as e:
        return describe(e.iq)
    except IqTimeout:
        return "timeout"


async def run_command(cmd, sess, alice, component):
    op = cmd["op"]
    if op == "verify":
        return await ask(verify_iq(sess, component, cmd["attrs"], cmd.get("type", "get"),
                                   cmd.get("to"), cmd.get("id")))
    if op == "raw":
        sess.raw_answers.pop(cmd["id"], None)
        sess.send_raw(cmd["xml"])
        deadline = time.monotonic() + cmd.get("wait", 30)
        while time.monotonic() < deadline:
            if cmd["id"] in sess.raw_answers:
                return describe(sess.raw_answers.pop(cmd["id"]))
            await asyncio.sleep(0.02)
        return "none"
    if op == "disco":
        iq = sess.make_iq_get(queryxmlns=NS_INFO, ito=component)
        if cmd.get("node"):
            iq.xml.find("{%s}query" % NS_INFO).set("node", cmd["node"])
        try:
            answer = await iq.send(timeout=10)
        except IqError as e:
            return describe(e.iq)
        except IqTimeout:
            return "timeout"
        query = answer.xml.find("{%s}query" % NS_INFO)
        idents = ["%s/%s/%s" % (i.get("category"), i.get("type"), i.get("name"))
                  for i in query.findall("{%s}identity" % NS_INFO)]
        feats = [f.get("var") for f in query.findall("{%s}feature" % NS_INFO)]
        return "info from=%s identity=%s features=%s" % (answer["from"], ",".join(idents),
                                                        ",".join(feats))
    if op in ("batch", "burst"):
        n = int(cmd["n"])
        start = time.monotonic()
        futures = [verify_iq(sess, component, cmd["attrs"]).send(timeout=300) for _ in range(n)]
        counts = {}
        for fut in futures:
            try:
                line = describe(await fut)
            except IqError as e:
                line = describe(e.iq)
            except IqTimeout:
                line = "timeout"
            counts[line] = counts.get(line, 0) + 1
        seconds = time.monotonic() - start
        passed = counts.pop("result pass", 0)
        if op == "batch":
            return "batch %d pass=%d other=%d seconds=%.3f" % (n, passed, sum(counts.values()),
                                                               seconds)
        limited = counts.pop("error wait resource-constraint", 0)
        return "burst pass=%d resource-constraint=%d other=%d seconds=%.3f" % (
            passed, limited, sum(counts.values()), seconds)
    if op == "notice":
        if alice is None:
            return "no alice session"
        while not alice.headlines.empty():
            alice.headlines.get_nowait()
        msg = sess.Message()
        msg["to"] = cmd.get("to", component)
        el = ET.Element("{%s}progress" % NS)
        for key, value in cmd["attrs"].items():
            el.set(key, value)
        msg.xml.append(el)
        msg.send()
        try:
            got = await asyncio.wait_for(alice.headlines.get(), cmd.get("wait", 30))
        except asyncio.TimeoutError:
            return "none"
        prog = got.xml.find("{%s}progress" % NS)
        attrs = ",".join("%s=%s" % (k, prog.get(k)) for k in sorted(prog.keys()))
        return "headline from=%s to=%s type=%s body=%s progress=%s children=%d" % (
            got["from"], got["to"].bare, got["type"], json.dumps(got["body"]), attrs, len(prog))
    if op == "notices":
        if alice is None:
            return "no alice session"
        while not alice.headlines.empty():
            alice.headlines.get_nowait()
        n = int(cmd["n"])
        start = time.monotonic()
        for i in range(1, n + 1):
            msg = sess.Message()
            msg["to"] = component
            el = ET.Element("{%s}progress" % NS)
            for key, value in dict(cmd["attrs"], **{"message-id": "m%d" % i}).items():
                el.set(key, value)
            msg.xml.append(el)
            msg.send()
        await ask(verify_iq(sess, component, cmd["barrier"]), timeout=60)
        seconds = time.monotonic() - start
        got = []
        deadline = time.monotonic() + 30
        while len(got) < int(cmd["expect"]) and time.monotonic() < deadline:
            try:
                got.append(await asyncio.wait_for(alice.headlines.get(),
                                                  deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
        while True:
            try:
                got.append(await asyncio.wait_for(alice.headlines.get(), 0.5))
            except asyncio.TimeoutError:
                break
        ids = [g.xml.find("{%s}progress" % NS).get("message-id") for g in got]
        froms = sorted(set("%s/%s" % (g["from"], g["type"]) for g in got))
        return "notices n=%d headlines=%s from=%s seconds=%.3f" % (
            n, ",".join(ids), ",".join(froms), seconds)
    if op == "until":
        start = time.monotonic()
        last = ""
        while time.monotonic() - start < cmd.get("timeout", 30):
            last = await ask(verify_iq(sess, component, cmd["attrs"]), timeout=2)
            if last == cmd["expect"]:
                return "reached after %.2f" % (time.monotonic() - start)
            await asyncio.sleep(0.1)
        return "gave up: " + last
    return "unknown op " + op


async def login(jid, password, port):
    sess = Session(jid, password)
    sess.connect(address=("127.0.0.1", port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(sess.started.wait(), 60)
    return sess


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--alice")
    parser.add_argument("--alice-password")
    parser.add_argument("--component", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)

    sess = await login(args.jid, args.password, args.port)
    alice = None
    if args.alice:
        alice = await login(args.alice, args.alice_password, args.port)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        answer = await run_command(json.loads(line), sess, alice, args.component)
        print(answer, flush=True)
    for s in (sess, alice):
        if s is not None:
            s.disconnect()
    await asyncio.sleep(0.1)


if __name__ == "__main__":
    asyncio.get_event_loop().run_until_complete(main())
