#!/usr/bin/python3
"""hostile_mail.py -- the hostile messages of tests/integration/test_hostile.sh.

  hostile_mail.py send PORT SECRET_B64 NOW DIR
      builds every case, sends each over SMTP (XCLIENT: an outside client)
      and writes DIR/cases.txt: one line per case, "NAME RECIPIENTS VERDICT REASON"
      (REASON "-" for none).
  hostile_mail.py check DIR SINK_FILE...
      reads the delivered copies and prints one line per problem found, then
      "checked N copies of M cases".

Every X-XMPP-Hash is computed here with Python's own hashlib/hmac (not with
xsmtp's code), over the msgid and from address that XSMTP-1 s3 extracts from
the raw header values -- written out by hand for each case.
"""
import base64
import hashlib
import hmac
import os
import re
import smtplib
import sys

BODY = b"Hostile input test.\r\nSecond line.\r\n"


def b64(data):
    return base64.b64encode(data).decode()


class Case:
    def __init__(self, name, verdict, reason="-", headers=None, msgid=None, from_address=None,
                 sign=True, body=BODY, body_file=None, recipients=1, identity="alice@a.test",
                 raw_msgid=None, raw_from=b"Alice <alice@a.test>", hash_value=None):
        self.name, self.verdict, self.reason = name, verdict, reason
        self.headers = headers or []
        self.msgid = msgid if msgid is not None else ("%s.%d@a.test" % (name, os.getpid())).encode()
        self.raw_msgid = raw_msgid if raw_msgid is not None else b"<" + self.msgid + b">"
        self.from_address = from_address if from_address is not None else b"alice@a.test"
        self.raw_from = raw_from
        self.sign, self.body, self.body_file = sign, body, body_file
        self.recipients, self.identity, self.hash_value = recipients, identity, hash_value


def hash_header(secret, now, case, body_hash):
    canonical = (b"xsmtp-1\nidentity:" + case.identity.lower().encode("utf-8", "surrogateescape") +
                 b"\nmessage-id:" + case.msgid + b"\nfrom:" + case.from_address.lower() +
                 b"\ntime:" + now.encode() + b"\nip:192.0.2.10\nbody-hash:" +
                 body_hash.encode() + b"\nkey:s1\n")
    h = b64(hmac.new(secret, canonical, hashlib.sha256).digest())
    return ("v=1; k=s1; t=%s; ip=192.0.2.10;\r\n bh=%s;\r\n h=%s" % (now, body_hash, h)).encode()


def cases(run):
    long_text = b"x" * 10000
    many = []
    for i in range(1000):
        many.append(b"X-XMPP-Hash: v=1; k=s1; t=0; n=%d" % i)
    for i in range(1000):
        many.append(b"X-XSMTP-Verdict: pass (forged %d)" % i)
        many.append(b"Authentication-Results: mx.b.test; x-xsmtp=pass (forged %d)" % i)
    for i in range(5):
        many.append(b"Authentication-Results: other.example; spf=pass (kept %d)" % i)
    return [
        # ' " < & in the message-id and the From display name: the query
        # carries them escaped, the component MACs the exact bytes: pass.
        Case("markup", "pass", msgid=b"m'a\"r<k&up.%s@a.test" % run,
             raw_from=b"\"O'Brien & Co\" <alice@a.test>"),
        Case("utf8", "pass", msgid="j\u00f6rg.\u20ac.\u4e2d.{}@a.test".format(run).encode()),
        # Not UTF-8: no XMPP stanza can carry it, the query is never sent.
        Case("invalid-utf8", "permerror", "bad-query", msgid=b"\xff\xfe\xc3(.%s@a.test" % run),
        # An identity that is not UTF-8 is no JID: it must not reach our
        # verdict headers (it did before the fix in hash/identity.c).
        Case("invalid-utf8-identity", "permerror", "malformed-identity",
             identity="\udcff\udcfe(@a.test"),
        # A NUL: Postfix cuts the header line there ("<nul"), so the msgid
        # is not the one MACed.
        Case("nul-msgid", "fail", "bad-hash", raw_msgid=b"<nul\x00.%s@a.test>" % run,
             msgid=b"nul\x00.%s@a.test" % run),
        Case("long-subject", "pass", headers=[b"Subject-Long: " + long_text]),
        Case("long-from", "permerror", "malformed-from",
             raw_from=b"\"" + long_text + b"\" <alice@a.test>"),
        Case("long-msgid", "permerror", "malformed-message-id", raw_msgid=b"<" + long_text + b">"),
        Case("long-hash", "permerror", "malformed-hash",
             hash_value=b"v=1; k=s1; x=" + long_text),
        # CR/LF injection.  A folded identity is one value: unfolded, it is
        # not a JID (the tab stays).  A line break ends the header: what
        # follows is a header of its own, a forged verdict, and deleted.
        Case("fold-identity", "permerror", "malformed-identity",
             identity="alice@a.test\r\n\tX-XSMTP-Verdict: pass"),
        Case("crlf-identity", "pass", headers=[b"X-XSMTP-Verdict: pass (injected)"]),
        Case("bare-cr-identity", "permerror", "malformed-identity",
             identity="alice@a.test\rX-XSMTP-Verdict: pass"),
        # The msgid is what lies between the first < and the next >; the
        # folded rest of the value is not part of it.
        Case("fold-msgid", "pass", msgid=b"fold.%s@a.test" % run,
             raw_msgid=b"<fold.%s@a.test>\r\n\tBcc: victim@c.test" % run),
        # A bare CR inside the brackets: the sender MACs the msgid with the
        # CR deleted (s3), but Postfix hands the milter a space instead
        # (checked: the copy has "bare cr"), so the MAC cannot match.  Either
        # way no CR reaches the query or our headers.
        Case("bare-cr-msgid", "fail", "bad-hash", msgid=b"barecr.%s@a.test" % run,
             raw_msgid=b"<bare\rcr.%s@a.test>" % run),
        Case("thousand-headers", "permerror", "multiple-hash", headers=many, sign=False),
        Case("recipients", "pass", recipients=500),
        Case("big", "pass", body_file="big"),
    ]


def build(secret, now, case, folder):
    if case.body_file is not None:
        path = os.path.join(folder, case.body_file)
        body_hash = b64(hashlib.sha256(open(path, "rb").read()).digest())
    else:
        body_hash = b64(hashlib.sha256(case.body).digest())
    identity_line = b"X-XMPP-Identity: " + case.identity.encode("utf-8", "surrogateescape")
    head = []
    if case.sign:
        head.append(identity_line)
        head.append(b"X-XMPP-Hash: " + (case.hash_value or hash_header(secret, now, case, body_hash)))
    head += case.headers
    head += [b"From: " + case.raw_from, b"To: bob@b.test", b"Subject: hostile " + case.name.encode(),
             b"Message-ID: " + case.raw_msgid]
    return b"\r\n".join(head) + b"\r\n\r\n"


def send(port, secret_b64, now, folder):
    secret = base64.b64decode(secret_b64)
    run = now.encode()
    with open(os.path.join(folder, "cases.txt"), "w") as out:
        for case in cases(run):
            head = build(secret, now, case, folder)
            if case.body_file is not None:
                data = head + open(os.path.join(folder, case.body_file), "rb").read()
            else:
                data = head + case.body
            recipients = ["rcpt%d@b.test" % i for i in range(case.recipients)]
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=120)
                smtp.ehlo("hostile.example")
                code, text = smtp.docmd("XCLIENT", "ADDR=198.51.100.66 NAME=[UNAVAILABLE]")
                if code != 220:
                    raise RuntimeError("XCLIENT %d %r" % (code, text))
                smtp.ehlo("hostile.example")
                refused = smtp.sendmail("alice@a.test", recipients, data)
                smtp.quit()
                status = "sent" if not refused else "refused %d" % len(refused)
            except Exception as e:
                status = "error %r" % (e,)
            out.write("%s %d %s %s %s\n" % (case.name, case.recipients, case.verdict,
                                             case.reason, status.replace(" ", "_")))


def well_formed(line):
    """Our header lines: valid UTF-8, no control character but a folding tab."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(line) <= 998 and not any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text)


def check(folder, files):
    expected = {}
    for line in open(os.path.join(folder, "cases.txt")):
        name, recipients, verdict, reason, status = line.split()
        expected[name] = (int(recipients), verdict, reason, status)
    seen = {name: [0, 0] for name in expected}
    problems = []
    for path in files:
        data = open(path, "rb").read().replace(b"\r\n", b"\n")
        head = data.split(b"\n\n", 1)[0].split(b"\n")
        rcpts = sum(1 for l in head if l.startswith(b"X-Rcpt-Args: "))
        lines = [l for l in head if not re.match(rb"X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): ", l)]
        if lines and lines[0].startswith(b"Received: "):
            lines.pop(0)
            while lines and lines[0][:1] in (b" ", b"\t"):
                lines.pop(0)
        subject = [l for l in lines if l.startswith(b"Subject: hostile ")]
        if not subject:
            continue
        name = subject[0].split()[-1].decode()
        recipients, verdict, reason, status = expected[name]
        seen[name][0] += 1
        seen[name][1] += rcpts
        top = lines[0].decode("utf-8", "replace")
        if not top.startswith("X-XSMTP-Verdict: " + verdict):
            problems.append("%s: top line %r, expected verdict %s" % (name, top[:120], verdict))
        if reason != "-" and "reason=%s;" % reason not in top:
            problems.append("%s: %r has no reason=%s" % (name, top[:160], reason))
        if not lines[1].startswith(b"Authentication-Results: mx.b.test; x-xsmtp=" + verdict.encode()):
            problems.append("%s: second line %r" % (name, lines[1][:120]))
        for ours in lines[:2]:
            if not well_formed(ours):
                problems.append("%s: ill-formed verdict header %r" % (name, ours[:120]))
        verdicts = sum(1 for l in lines if l.lower().startswith(b"x-xsmtp-verdict:"))
        ar_ours = sum(1 for l in lines if l.lower().startswith(b"authentication-results: mx.b.test;"))
        ar_foreign = sum(1 for l in lines if l.startswith(b"Authentication-Results: other.example;"))
        if verdicts != 1 or ar_ours != 1:
            problems.append("%s: %d X-XSMTP-Verdict and %d A-R of ours" % (name, verdicts, ar_ours))
        if name == "big":
            sent = open(os.path.join(folder, "big"), "rb").read().replace(b"\r\n", b"\n")
            if data.split(b"\n\n", 1)[1].rstrip(b"\n") != sent.rstrip(b"\n"):
                problems.append("big: the body arrived changed")
        if name == "thousand-headers" and ar_foreign != 5:
            problems.append("%s: %d foreign A-R kept, expected 5" % (name, ar_foreign))
    for name, (copies, rcpts) in seen.items():
        recipients = expected[name][0]
        if copies == 0:
            problems.append("%s: not delivered (%s)" % (name, expected[name][3]))
        elif rcpts != recipients:
            problems.append("%s: delivered to %d recipients, expected %d" % (name, rcpts, recipients))
    for p in problems:
        print("problem " + p)
    print("checked %d copies of %d cases" % (sum(c for c, _ in seen.values()), len(seen)))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        check(sys.argv[2], sys.argv[3:])
