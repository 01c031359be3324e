"""bastide-imapd message commands: FETCH, STORE, SEARCH, SORT, THREAD,
COPY, MOVE, EXPUNGE, APPEND, with imaplib and a raw socket where the exact
bytes matter.  Each test gets a fresh user of its own, so the tests do not
see each other's messages."""
import base64
import imaplib
import itertools
import os
import re
import time

import pytest

from imapd_util import Imapd, TIMEOUT, message

_users = itertools.count()


@pytest.fixture(scope="module")
def imapd(slapd, tmp_path_factory):
    d = Imapd(tmp_path_factory.mktemp("imapd-msg"), slapd,
              imapd={"allow_plaintext_auth_on_loopback": "yes"}).start()
    yield d
    d.stop()


@pytest.fixture
def user(slapd):
    """A fresh user: (address, password)."""
    uid = "imm%d_%d" % (os.getpid(), next(_users))
    slapd.ldapadd(slapd.ldif_user(uid, uid + "@example.test",
                                  password="pw-" + uid))
    return uid + "@example.test", "pw-" + uid


@pytest.fixture
def tiny(slapd):
    """A fresh user with a 3000-byte quota."""
    uid = "immq%d_%d" % (os.getpid(), next(_users))
    slapd.ldapadd(slapd.ldif_user(uid, uid + "@example.test",
                                  password="pw-" + uid,
                                  bastideQuota="3000"))
    return uid + "@example.test", "pw-" + uid


def login(imapd, user):
    c = imaplib.IMAP4("127.0.0.1", imapd.ports["imap"], timeout=TIMEOUT)
    c.login(*user)
    return c


def deliver(imapd, user, msg, folder=None, flags=None):
    return imapd.deliver(user[0], msg, folder=folder, flags=flags)


class Raw:
    """A logged-in socket that reads responses with their literals."""

    def __init__(self, imapd, user):
        self.r = imapd.raw()
        self.r.line()
        self.n = 0
        tag, lines = self.cmd('LOGIN "%s" "%s"' % user)
        assert lines[-1].startswith(tag + b" OK"), lines

    def fill(self, n, timeout=TIMEOUT):
        self.r.sock.settimeout(timeout)
        while len(self.r.buf) < n:
            chunk = self.r.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("closed")
            self.r.buf += chunk

    def response(self, timeout=TIMEOUT):
        """One response: a line, with any literals and what follows."""
        out = b""
        while True:
            while b"\r\n" not in self.r.buf:
                self.fill(len(self.r.buf) + 1, timeout)
            line, self.r.buf = self.r.buf.split(b"\r\n", 1)
            out += line
            m = re.search(rb"~?\{(\d+)\+?\}$", line)
            if not m:
                return out
            n = int(m.group(1))
            self.fill(n, timeout)
            out += b"\r\n" + self.r.buf[:n]
            self.r.buf = self.r.buf[n:]

    def send(self, data):
        self.r.send(data)

    def cmd(self, text, timeout=TIMEOUT):
        """(tag, responses up to and including the tagged one)"""
        self.n += 1
        tag = b"t%d" % self.n
        if isinstance(text, str):
            text = text.encode()
        self.r.send(tag + b" " + text + b"\r\n")
        return tag, self.until(tag, timeout)

    def until(self, tag, timeout=TIMEOUT):
        lines = []
        while True:
            line = self.response(timeout)
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    def close(self):
        self.r.close()


def norecent(lines):
    """IMAP4rev1 sessions also hear "* n RECENT" when \\Recent messages
    go; these tests are not about that"""
    return [l for l in lines if not re.fullmatch(rb"\* \d+ RECENT", l)]


def tagged(lines):
    return lines[-1].split(b" ", 1)[1]


def ok(lines):
    assert tagged(lines).startswith(b"OK"), lines
    return lines


# ----------------------------------------------------------------------
# a small IMAP value parser, to check what the server sends is well-formed

def parse_value(s, i=0):
    """(value, next index): NIL -> None, str -> bytes, list -> list."""
    if s[i:i + 1] == b"(":
        i += 1
        v = []
        while s[i:i + 1] != b")":
            if s[i:i + 1] == b" ":
                i += 1
            x, i = parse_value(s, i)
            v.append(x)
        return v, i + 1
    if s[i:i + 1] == b'"':
        j = i + 1
        out = b""
        while s[j:j + 1] != b'"':
            if s[j:j + 1] == b"\\":
                j += 1
                assert s[j:j + 1] in (b'"', b"\\"), s[j - 5:j + 5]
            assert s[j:j + 1] not in (b"\r", b"\n"), "CR/LF in quoted"
            out += s[j:j + 1]
            j += 1
        return out, j + 1
    m = re.match(rb"~?\{(\d+)\}\r\n", s[i:])
    if m:
        n = int(m.group(1))
        start = i + m.end()
        return s[start:start + n], start + n
    m = re.match(rb"[^ ()\r\n]+", s[i:])
    assert m, s[i:i + 20]
    atom = m.group(0)
    return (None if atom.upper() == b"NIL" else atom), i + m.end()


def fetch_items(resp):
    """The attribute/value pairs of one '* n FETCH (...)' response."""
    m = re.match(rb"\* (\d+) FETCH ", resp)
    assert m, resp
    v, end = parse_value(resp, m.end())
    assert end == len(resp), (end, len(resp), resp[-40:])
    return dict(zip([x.upper() for x in v[0::2]], v[1::2]))


MULTI = (b"From: Ann <ann@example.org>\r\n"
         b"To: bob@example.test\r\n"
         b"Subject: parts\r\n"
         b"Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n"
         b"Message-ID: <multi@example.org>\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
         b"\r\n"
         b"--b1\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n"
         b"\r\n"
         b"Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n"
         b"--b1\r\n"
         b"Content-Type: application/octet-stream\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n" + base64.encodebytes(bytes(range(256))).replace(
             b"\n", b"\r\n") +
         b"--b1\r\n"
         b"Content-Type: text/plain\r\n"
         b"Content-Transfer-Encoding: x-unknown\r\n"
         b"\r\n"
         b"strange\r\n"
         b"--b1--\r\n")


# ----------------------------------------------------------------------
# FETCH

def test_fetch_envelope_matches_the_rfc_3501_example(imapd, user):
    msg = (b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
           b"From: Terry Gray <gray@cac.washington.edu>\r\n"
           b"Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
           b"To: imap@cac.washington.edu\r\n"
           b"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
           b"Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
           b"\r\n" + b"minutes\r\n" * 3)
    deliver(imapd, user, msg)
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1 (ENVELOPE BODY RFC822.SIZE)")
    ok(lines)
    assert lines[0] == (
        b'* 1 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" '
        b'"IMAP4rev1 WG mtg summary and minutes" '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'((NIL NIL "imap" "cac.washington.edu")) '
        b'((NIL NIL "minutes" "CNRI.Reston.VA.US")'
        b'("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL '
        b'"<B27397-0100000@cac.washington.edu>") '
        b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 27 3) '
        b'RFC822.SIZE %d)' % len(msg)), lines[0]
    r.close()


def test_fetch_sections_at_every_depth(imapd, user):
    deliver(imapd, user, MULTI)
    c = login(imapd, user)
    c.select("INBOX")
    typ, data = c.fetch("1", "(BODY.PEEK[1] BODY.PEEK[1.MIME] "
                        "BODY.PEEK[HEADER.FIELDS (Subject To)] "
                        "BODY.PEEK[HEADER.FIELDS.NOT (Subject To Date From "
                        "Message-ID MIME-Version Content-Type)] "
                        "BODY.PEEK[2]<0.10> BODY.PEEK[9] RFC822.HEADER "
                        "RFC822.SIZE)")
    assert typ == "OK"
    got = {}
    for d in data:
        if isinstance(d, tuple):
            name = re.search(rb"(BODY\[[^\]]*\](<\d+>)?|RFC822\.HEADER)"
                             rb" \{\d+\}$", d[0]).group(1)
            got[name] = d[1]
    assert got[b"BODY[1]"] == b"Gr=C3=BC=C3=9Fe aus K=C3=B6ln"
    assert got[b"BODY[1.MIME]"] == (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    assert got[b"BODY[HEADER.FIELDS (Subject To)]"] == (
        b"To: bob@example.test\r\nSubject: parts\r\n\r\n")
    assert got[b"BODY[HEADER.FIELDS.NOT (Subject To Date From Message-ID "
               b"MIME-Version Content-Type)]"] == b"\r\n"
    assert got[b"BODY[2]<0>"] == MULTI.split(b"base64\r\n\r\n")[1][:10]
    assert got[b"RFC822.HEADER"] == MULTI[:MULTI.index(b"\r\n\r\n") + 4]
    # a part that does not exist is an empty string
    assert b'BODY[9] ""' in b" ".join(
        d if isinstance(d, bytes) else d[0] for d in data)
    # PEEK left \Seen alone
    assert c.fetch("1", "(FLAGS)")[1][0] == b"1 (FLAGS (\\Recent))"
    c.logout()


def test_a_body_fetch_sets_seen_and_says_so(imapd, user):
    deliver(imapd, user, message("one"))
    deliver(imapd, user, message("two"))
    r = Raw(imapd, user)
    ok(r.cmd("ENABLE IMAP4rev2")[1])
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1 (BODY[TEXT])")
    ok(lines)
    assert lines[0] == b"* 1 FETCH (BODY[TEXT] {7}\r\nhello\r\n " \
        b"FLAGS (\\Seen))", lines
    # already seen: no FLAGS added
    tag, lines = r.cmd("FETCH 1 (RFC822.TEXT)")
    assert lines[0] == b"* 1 FETCH (RFC822.TEXT {7}\r\nhello\r\n)", lines
    # FLAGS asked for shows the new \Seen once, in its place
    tag, lines = r.cmd("FETCH 2 (FLAGS BODY[HEADER.FIELDS (Subject)])")
    assert lines[0] == (b"* 2 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS "
                        b"(Subject)] {16}\r\nSubject: two\r\n\r\n)"), lines
    # no other session changed anything: nothing more to report
    tag, lines = r.cmd("NOOP")
    assert lines == [tag + b" OK NOOP completed"], lines
    r.close()


def test_examine_never_sets_seen(imapd, user):
    deliver(imapd, user, message("ro"))
    c = login(imapd, user)
    c.select("INBOX", readonly=True)
    typ, data = c.fetch("1", "(RFC822)")
    assert typ == "OK" and b"FLAGS" not in data[-1]
    assert b"\\Seen" not in c.fetch("1", "(FLAGS)")[1][0]
    c.logout()


def test_binary_decodes_parts_and_refuses_unknown_encodings(imapd, user):
    deliver(imapd, user, MULTI)
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2] "
                       "BINARY.PEEK[1]<6.4>)")
    ok(lines)
    items = fetch_items(lines[0])
    assert items[b"BINARY[2]"] == bytes(range(256))
    assert items[b"BINARY.SIZE[2]"] == b"256"
    text = "Gr\u00fc\u00dfe aus K\u00f6ln".encode()
    assert items[b"BINARY[1]<6>"] == text[6:10]
    tag, lines = r.cmd("FETCH 1 (BINARY.PEEK[3])")
    assert tagged(lines).startswith(b"NO [UNKNOWN-CTE]"), lines
    assert len(lines) == 1
    r.close()


def test_modseq_changedsince_and_object_ids(imapd, user):
    deliver(imapd, user, message("a"))
    deliver(imapd, user, message("b"))
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1:2 (MODSEQ EMAILID THREADID)")
    ok(lines)
    assert lines[0].startswith(b"* OK [HIGHESTMODSEQ "), lines
    one, two = fetch_items(lines[1]), fetch_items(lines[2])
    assert re.fullmatch(rb"M[0-9a-f]{16}", one[b"EMAILID"][0])
    assert one[b"EMAILID"] != two[b"EMAILID"]
    assert re.fullmatch(rb"T[0-9a-f]{16}", one[b"THREADID"][0])
    m1 = int(one[b"MODSEQ"][0])
    ok(r.cmd("STORE 2 +FLAGS.SILENT (\\Flagged)")[1])
    tag, lines = r.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" %
                       max(m1, int(two[b"MODSEQ"][0])))
    ok(lines)
    assert len(lines) == 2 and lines[0].startswith(b"* 2 FETCH ("), lines
    assert b"MODSEQ (" in lines[0] and b"\\Flagged" in lines[0]
    # EMAILID survives a copy; SEARCH EMAILID finds it
    ok(r.cmd("CREATE Keep")[1])
    ok(r.cmd("COPY 1 Keep")[1])
    ok(r.cmd("SELECT Keep")[1])
    tag, lines = r.cmd("FETCH 1 (EMAILID)")
    assert fetch_items(lines[0])[b"EMAILID"] == one[b"EMAILID"]
    tag, lines = r.cmd(b"SEARCH EMAILID " + one[b"EMAILID"][0])
    assert lines[0] == b"* SEARCH 1", lines
    r.close()


def test_a_20_mb_message_streams_back_whole(imapd, user):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    body = line * (20 * 1024 * 1024 // len(line))
    msg = b"Subject: big\r\nFrom: a@example.org\r\n\r\n" + body
    deliver(imapd, user, msg)
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    t0 = time.monotonic()
    tag, lines = r.cmd("FETCH 1 (UID BODY.PEEK[] RFC822.SIZE)", timeout=30)
    ok(lines)
    items = fetch_items(lines[0])
    assert items[b"BODY[]"] == msg
    assert int(items[b"RFC822.SIZE"]) == len(msg)
    assert time.monotonic() - t0 < 30
    # the end of it, by partial
    tag, lines = r.cmd("FETCH 1 (BODY.PEEK[TEXT]<%d.100>)" % (len(body) - 10))
    assert fetch_items(lines[0])[b"BODY[TEXT]<%d>" % (len(body) - 10)] == \
        body[-10:]
    r.close()


def test_header_strings_come_back_quoted_or_as_literals(imapd, user):
    subjects = [b'He said "hi" \\o/', b"Gr\xc3\xbc\xc3\x9fe", b"tab\there",
                b'\\"\\', b'x' * 2000, b"raw \xe9 latin1",
                b"=?UTF-8?Q?encoded_=22word=22?=", b'"', b"\\", b"",
                b"(paren) [bracket] {3}", b"ends with {5}"]
    for s in subjects:
        deliver(imapd, user, b"From: \"Q\\\"uote\" <q@example.org>\r\n"
                b"Subject: " + s + b"\r\n\r\nbody\r\n")
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1:* (ENVELOPE BODYSTRUCTURE)")
    ok(lines)
    assert len(lines) == len(subjects) + 1
    for s, resp in zip(subjects, lines):
        env = fetch_items(resp)[b"ENVELOPE"]
        want = s.strip() if s.strip() else b""
        assert env[1] == want, (s, env[1])
        assert env[2][0][0] == b'Q"uote', env[2]
    r.close()


def test_huge_and_star_sets_cost_nothing(imapd, user):
    for i in range(3):
        deliver(imapd, user, message("s%d" % i))
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    t0 = time.monotonic()
    tag, lines = r.cmd("UID FETCH 1:4294967295 (UID)")
    ok(lines)
    assert [l.split(b" ")[1] for l in lines[:-1]] == [b"1", b"2", b"3"]
    tag, lines = r.cmd("FETCH *:* (UID)")
    assert lines[0] == b"* 3 FETCH (UID 3)", lines
    tag, lines = r.cmd("UID FETCH 1000:* (UID)")
    assert lines[0] == b"* 3 FETCH (UID 3)", lines    # n:* names the last
    tag, lines = r.cmd("UID FETCH 4294967295 (UID)")
    assert lines == [tag + b" OK UID FETCH completed"], lines
    tag, lines = r.cmd("SEARCH 1:4294967295")
    assert lines[0] == b"* SEARCH 1 2 3", lines
    tag, lines = r.cmd("UID SEARCH UID 2:4294967295")
    assert lines[0] == b"* SEARCH 2 3", lines
    tag, lines = r.cmd("FETCH 1:4294967295 (UID)")
    assert tagged(lines)[:3] in (b"OK ", b"BAD"), lines
    tag, lines = r.cmd("UID STORE 1:4294967295 +FLAGS.SILENT (\\Seen)")
    ok(lines)
    assert time.monotonic() - t0 < 5
    r.close()


def test_fetch_macros_and_qresync_vanished(imapd, user):
    for i in range(4):
        deliver(imapd, user, message("v%d" % i))
    r = Raw(imapd, user)
    ok(r.cmd("ENABLE QRESYNC")[1])
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1 FAST")
    assert re.fullmatch(rb'\* 1 FETCH \(FLAGS \(\\Recent\) INTERNALDATE '
                        rb'"[^"]+" RFC822.SIZE \d+\)', lines[0]), lines
    tag, lines = r.cmd("FETCH 1 ALL")
    assert set(fetch_items(lines[0])) == {b"FLAGS", b"INTERNALDATE",
                                          b"RFC822.SIZE", b"ENVELOPE"}
    tag, lines = r.cmd("FETCH 1 FULL")
    assert set(fetch_items(lines[0])) == {b"FLAGS", b"INTERNALDATE",
                                          b"RFC822.SIZE", b"ENVELOPE",
                                          b"BODY"}
    tag, lines = r.cmd("FETCH 4 (MODSEQ)")
    since = int(fetch_items(lines[0])[b"MODSEQ"][0])
    ok(r.cmd("STORE 2:3 +FLAGS.SILENT (\\Deleted)")[1])
    ok(r.cmd("EXPUNGE")[1])
    ok(r.cmd("UID STORE 4 +FLAGS.SILENT (\\Flagged)")[1])
    # RFC 7162 3.2.6: what went, then what changed
    tag, lines = r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)"
                       % since)
    assert lines[0] == b"* VANISHED (EARLIER) 2:3", lines
    assert re.fullmatch(rb"\* 2 FETCH \(UID 4 FLAGS \(\\Flagged "
                        rb"\\Recent\) MODSEQ \(\d+\)\)", lines[1]), lines
    ok(lines)
    r.close()
    r = Raw(imapd, user)
    tag, lines = r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert tagged(lines).startswith(b"BAD"), lines
    r.close()


def test_examine_refuses_store_expunge_and_move(imapd, user):
    deliver(imapd, user, message("ro"))
    r = Raw(imapd, user)
    ok(r.cmd("CREATE other")[1])
    ok(r.cmd("EXAMINE INBOX")[1])
    for cmd in ("STORE 1 +FLAGS (\\Seen)", "EXPUNGE", "MOVE 1 other",
                "UID EXPUNGE 1"):
        tag, lines = r.cmd(cmd)
        assert tagged(lines).startswith(b"NO"), (cmd, lines)
    tag, lines = r.cmd("COPY 1 other")
    ok(lines)
    r.close()


def test_long_replies_come_in_pieces_and_stay_whole(imapd, user):
    """FETCH, STORE and SEARCH replies past one output chunk (256 KB)"""
    d = imapd.maildir(user[0])
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    n = 1500
    for i in range(n):
        msg = message("piece %d %s" % (i, "s" * 300))
        # no fsync: this is test data, and 1500 fsyncs are slow
        with open(os.path.join(d, "cur", "%d.M%dP%d.bulk,S=%d:2," %
                               (1700000000 + i, i, os.getpid(),
                                len(msg))), "wb") as f:
            f.write(msg)
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX", timeout=30)[1])
    tag, lines = r.cmd("FETCH 1:* (UID ENVELOPE)", timeout=30)
    ok(lines)
    assert len(lines) == n + 1
    for i, l in enumerate(lines[:-1]):
        items = fetch_items(l)
        assert int(items[b"UID"]) == i + 1
        assert items[b"ENVELOPE"][1].startswith(b"piece ")
    kw = "$" + "k" * 150
    tag, lines = r.cmd("STORE 1:* +FLAGS (%s)" % kw, timeout=30)
    assert len(lines) == n + 1 and all(
        l.endswith(kw.encode() + b"))") for l in lines[:-1]), lines[-3:]
    ok(lines)
    tag, lines = r.cmd("SEARCH KEYWORD %s" % kw, timeout=30)
    assert lines[0] == b"* SEARCH " + b" ".join(
        b"%d" % i for i in range(1, n + 1))
    tag, lines = r.cmd("NOOP")
    ok(lines)
    r.close()


# ----------------------------------------------------------------------
# STORE

def test_store_answers_as_rfc_3501_shows(imapd, user):
    for i in range(4):
        deliver(imapd, user, message("st%d" % i), flags="S" if i else "")
    c = login(imapd, user)
    c.select("INBOX")       # takes \Recent, so the next session has none
    c.logout()
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("STORE 2:4 +FLAGS (\\Deleted)")
    assert lines == [b"* 2 FETCH (FLAGS (\\Deleted \\Seen))",
                     b"* 3 FETCH (FLAGS (\\Deleted \\Seen))",
                     b"* 4 FETCH (FLAGS (\\Deleted \\Seen))",
                     tag + b" OK STORE completed"], lines
    tag, lines = r.cmd("STORE 2 -FLAGS (\\Seen)")
    assert lines[0] == b"* 2 FETCH (FLAGS (\\Deleted))", lines
    tag, lines = r.cmd("STORE 1 FLAGS ($Work \\Flagged)")
    assert lines[0] == b"* 1 FETCH (FLAGS (\\Flagged $Work))", lines
    tag, lines = r.cmd("UID STORE 1 +FLAGS.SILENT (\\Answered)")
    assert lines == [tag + b" OK UID STORE completed"], lines
    tag, lines = r.cmd("FETCH 1 (FLAGS)")
    assert lines[0] == b"* 1 FETCH (FLAGS (\\Answered \\Flagged $Work))"
    tag, lines = r.cmd("UID STORE 3 FLAGS ()")
    assert lines[0] == b"* 3 FETCH (FLAGS () UID 3)", lines
    tag, lines = r.cmd("STORE 1 +FLAGS (\\Recent)")
    assert tagged(lines).startswith(b"BAD"), lines
    tag, lines = r.cmd("STORE 9 +FLAGS (\\Seen)")
    assert tagged(lines).startswith(b"BAD"), lines
    r.close()


def test_unchangedsince_reports_modified(imapd, user):
    for i in range(3):
        deliver(imapd, user, message("u%d" % i))
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX (CONDSTORE)")[1])
    tag, lines = r.cmd("FETCH 1:3 (MODSEQ)")
    mods = [int(fetch_items(l)[b"MODSEQ"][0]) for l in lines[:-1]]
    ok(r.cmd("STORE 2 +FLAGS.SILENT (\\Flagged)")[1])
    tag, lines = r.cmd("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS.SILENT "
                       "(\\Deleted)" % max(mods))
    assert tagged(lines).startswith(b"OK [MODIFIED 2]"), lines
    # RFC 7162 3.1.3: .SILENT still tells the new MODSEQs
    assert sorted(l.split(b" ")[1] for l in lines[:-1]) == [b"1", b"3"]
    assert all(b"MODSEQ (" in l and b"FLAGS" not in l for l in lines[:-1])
    tag, lines = r.cmd("UID STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
    assert tagged(lines).startswith(b"OK [MODIFIED 1:3]"), lines
    r.close()


# ----------------------------------------------------------------------
# SEARCH

def test_search_keys_and_esearch(imapd, user):
    msgs = [(message("alpha", body="the quick fox\r\n",
                     sender="Smith <smith@example.org>"), "F"),
            (message("beta", body="lazy dog\r\n"), "FS"),
            (message("gamma", body="brown\r\n"), "F"),
            (MULTI, ""),
            (message("Re: alpha", body="nothing\r\n"), "F")]
    for m, f in msgs:
        deliver(imapd, user, m, flags=f)
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])

    def search(keys):
        tag, lines = r.cmd("SEARCH " + keys)
        ok(lines)
        return lines[0]
    assert search("ALL") == b"* SEARCH 1 2 3 4 5"
    assert search("FLAGGED") == b"* SEARCH 1 2 3 5"
    assert search("UNSEEN FLAGGED") == b"* SEARCH 1 3 5"
    assert search("BODY fox") == b"* SEARCH 1"
    assert search("TEXT \"LAZY DOG\"") == b"* SEARCH 2"
    assert search("BODY k\u00f6ln") == b"* SEARCH 4"
    assert search("SUBJECT alpha") == b"* SEARCH 1 5"
    assert search("FROM smith") == b"* SEARCH 1"
    assert search("NOT FROM smith UNSEEN") == b"* SEARCH 3 4 5"
    assert search("OR BODY dog SUBJECT gamma") == b"* SEARCH 2 3"
    assert search("HEADER Content-Transfer-Encoding \"\"") == b"* SEARCH"
    assert search("HEADER MIME-Version 1.0") == b"* SEARCH 4"
    assert search("LARGER 500") == b"* SEARCH 4"
    assert search("SENTON 1-Jan-2024") == b"* SEARCH 1 2 3 5"
    assert search("SENTSINCE 2-Jan-2024") == b"* SEARCH 4"
    assert search("CHARSET UTF-8 BODY GR\u00dc\u00dfE") == b"* SEARCH 4"
    assert search("2:4 FLAGGED") == b"* SEARCH 2 3"
    # RFC 4731 examples
    tag, lines = r.cmd('SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 '
                       'NOT FROM "Smith"')
    assert lines[0] == b'* ESEARCH (TAG "%s") MIN 2 COUNT 3' % tag, lines
    tag, lines = r.cmd('UID SEARCH RETURN () FLAGGED')
    assert lines[0] == b'* ESEARCH (TAG "%s") UID ALL 1:3,5' % tag, lines
    tag, lines = r.cmd('SEARCH RETURN (MIN MAX) SUBJECT nowhere')
    assert lines[0] == b'* ESEARCH (TAG "%s")' % tag, lines
    tag, lines = r.cmd('SEARCH RETURN (COUNT) SUBJECT nowhere')
    assert lines[0] == b'* ESEARCH (TAG "%s") COUNT 0' % tag, lines
    # charsets
    tag, lines = r.cmd("SEARCH CHARSET KOI8-R BODY x")
    assert tagged(lines).startswith(b"NO [BADCHARSET"), lines
    # MODSEQ turns CONDSTORE on and is given back
    tag, lines = r.cmd("SEARCH MODSEQ 1")
    assert lines[0].startswith(b"* OK [HIGHESTMODSEQ"), lines
    assert re.fullmatch(rb"\* SEARCH 1 2 3 4 5 \(MODSEQ \d+\)", lines[1])
    r.close()


def test_searchres_saves_and_reuses_results(imapd, user):
    for i in range(5):
        deliver(imapd, user, message("r%d" % i), flags="F" if i % 2 else "")
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("SEARCH RETURN (SAVE) FLAGGED")
    assert lines == [tag + b" OK SEARCH completed"], lines
    tag, lines = r.cmd("FETCH $ (UID)")
    assert [l for l in lines[:-1]] == [b"* 2 FETCH (UID 2)",
                                       b"* 4 FETCH (UID 4)"], lines
    tag, lines = r.cmd("SEARCH NOT $")
    assert lines[0] == b"* SEARCH 1 3 5", lines
    tag, lines = r.cmd("UID SEARCH RETURN (SAVE MIN) ALL")
    assert lines[0] == b'* ESEARCH (TAG "%s") UID MIN 1' % tag, lines
    tag, lines = r.cmd("UID SEARCH UID $")
    assert lines[0] == b"* SEARCH 1", lines
    # the saved UIDs survive an expunge of another message
    ok(r.cmd("SEARCH RETURN (SAVE) 4:5")[1])
    ok(r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")[1])
    ok(r.cmd("EXPUNGE")[1])
    tag, lines = r.cmd("UID SEARCH $")
    assert lines[0] == b"* SEARCH 4 5", lines
    r.close()


def test_deep_search_nesting_is_refused_and_the_session_goes_on(imapd, user):
    deliver(imapd, user, message("deep"))
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("SEARCH " + "NOT " * 400 + "ALL")
    assert tagged(lines).startswith(b"BAD"), lines
    tag, lines = r.cmd("SEARCH " + "(" * 200 + "ALL" + ")" * 200)
    assert tagged(lines).startswith(b"BAD"), lines
    # long OR chains are flat, not deep
    tag, lines = r.cmd("SEARCH " + "OR SEEN " * 3000 + "ALL")
    assert lines[0] == b"* SEARCH 1", lines
    tag, lines = r.cmd("NOOP")
    ok(lines)
    r.close()


# ----------------------------------------------------------------------
# SORT and THREAD

def dated(subject, date, msgid, refs=None, sender="x@example.org", size=0):
    h = ("From: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n" %
         (sender, subject, date, msgid))
    if refs:
        h += "References: %s\r\n" % " ".join("<%s>" % x for x in refs)
    return (h + "\r\n" + "x" * size + "body\r\n").encode()


def test_sort_and_thread_follow_rfc_5256(imapd, user):
    for m in [dated("b topic", "Mon, 1 Jan 2024 10:00:00 +0000", "m1",
                    sender="Zed <zed@example.org>"),
              dated("Re: a topic", "Mon, 1 Jan 2024 09:00:00 +0000", "m2",
                    refs=["m4"], sender="amy@example.org", size=500),
              dated("[list] b topic", "Mon, 1 Jan 2024 11:00:00 +0000", "m3",
                    refs=["m1"], sender="Bob <bob@example.org>"),
              dated("a topic", "Mon, 1 Jan 2024 08:00:00 +0000", "m4",
                    sender="carl@example.org", size=100),
              dated("c", "Mon, 1 Jan 2024 12:00:00 +0000", "m5")]:
        deliver(imapd, user, m)
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("SORT (SUBJECT) UTF-8 ALL")
    assert lines[0] == b"* SORT 2 4 1 3 5", lines
    tag, lines = r.cmd("SORT (REVERSE DATE) UTF-8 ALL")
    assert lines[0] == b"* SORT 5 3 1 2 4", lines
    tag, lines = r.cmd("SORT (SUBJECT REVERSE DATE) UTF-8 ALL")
    assert lines[0] == b"* SORT 2 4 3 1 5", lines
    tag, lines = r.cmd("SORT (SIZE) UTF-8 NOT HEADER Message-ID m5")
    assert lines[0] == b"* SORT 1 3 4 2", lines
    tag, lines = r.cmd("UID SORT (FROM) UTF-8 ALL")
    assert lines[0] == b"* SORT 2 3 4 5 1", lines
    tag, lines = r.cmd("SORT (DISPLAYFROM) UTF-8 ALL")
    assert lines[0] == b"* SORT 2 3 4 5 1", lines
    tag, lines = r.cmd("THREAD REFERENCES UTF-8 ALL")
    assert lines[0] == b"* THREAD (4 2)(1 3)(5)", lines
    tag, lines = r.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL")
    assert lines[0] == b"* THREAD (4 2)(1 3)(5)", lines
    tag, lines = r.cmd("UID THREAD REFERENCES UTF-8 SUBJECT nowhere")
    assert lines[0] == b"* THREAD", lines
    tag, lines = r.cmd("SORT (SUBJECT) KOI8-R ALL")
    assert tagged(lines).startswith(b"NO [BADCHARSET"), lines
    tag, lines = r.cmd("THREAD NONSENSE UTF-8 ALL")
    assert tagged(lines).startswith(b"BAD"), lines
    r.close()


# ----------------------------------------------------------------------
# COPY, MOVE, EXPUNGE

def test_copy_and_move_report_copyuid(imapd, user):
    for i in range(4):
        deliver(imapd, user, message("c%d" % i))
    r = Raw(imapd, user)
    ok(r.cmd("CREATE meeting")[1])
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("COPY 2:4 meeting")
    m = re.fullmatch(rb"t\d+ OK \[COPYUID (\d+) 2:4 1:3\] COPY completed",
                     lines[-1])
    assert m, lines
    tag, lines = r.cmd("COPY 1 nosuch")
    assert tagged(lines).startswith(b"NO [TRYCREATE]"), lines
    # RFC 6851: the COPYUID OK, the expunges, then the tagged OK
    tag, lines = r.cmd("UID MOVE 2:3 meeting")
    assert re.fullmatch(rb"\* OK \[COPYUID \d+ 2:3 4:5\] Moved", lines[0]), \
        lines
    assert norecent(lines[1:]) == [b"* 3 EXPUNGE", b"* 2 EXPUNGE",
                                   tag + b" OK UID MOVE completed"], lines
    tag, lines = r.cmd("MOVE 1 INBOX")
    assert tagged(lines).startswith(b"NO [CANNOT]"), lines
    tag, lines = r.cmd("STATUS meeting (MESSAGES)")
    assert lines[0] == b"* STATUS meeting (MESSAGES 5)", lines
    # COPY of nothing is fine and says nothing about UIDs
    tag, lines = r.cmd("UID COPY 999 meeting")
    assert lines == [tag + b" OK UID COPY completed"], lines
    r.close()


def test_move_with_qresync_reports_vanished(imapd, user):
    for i in range(3):
        deliver(imapd, user, message("q%d" % i))
    r = Raw(imapd, user)
    ok(r.cmd("ENABLE QRESYNC")[1])
    ok(r.cmd("CREATE dst")[1])
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("MOVE 1:2 dst")
    assert lines[0].startswith(b"* OK [COPYUID "), lines
    assert lines[1] == b"* VANISHED 1:2", lines
    ok(lines)
    r.close()


def test_expunge_and_uid_expunge(imapd, user):
    for i in range(5):
        deliver(imapd, user, message("e%d" % i), flags="T" if i != 2 else "")
    r = Raw(imapd, user)
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("UID EXPUNGE 1:3")
    assert norecent(lines) == [b"* 2 EXPUNGE", b"* 1 EXPUNGE",
                     tag + b" OK UID EXPUNGE completed"], lines
    tag, lines = r.cmd("EXPUNGE")
    assert norecent(lines) == [b"* 3 EXPUNGE", b"* 2 EXPUNGE",
                     tag + b" OK EXPUNGE completed"], lines
    tag, lines = r.cmd("FETCH 1:* (UID)")
    assert lines[0] == b"* 1 FETCH (UID 3)", lines
    r.close()


def test_expunges_by_another_session_wait_for_a_uid_command(imapd, user):
    for i in range(3):
        deliver(imapd, user, message("x%d" % i))
    a, b = Raw(imapd, user), Raw(imapd, user)
    ok(a.cmd("SELECT INBOX")[1])
    ok(b.cmd("SELECT INBOX")[1])
    ok(b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")[1])
    ok(b.cmd("EXPUNGE")[1])
    # FETCH by sequence number: no EXPUNGE yet, message 3 keeps its number
    tag, lines = a.cmd("FETCH 3 (UID)")
    assert b"EXPUNGE" not in b"".join(lines), lines
    assert b"* 3 FETCH (UID 3)" in lines
    tag, lines = a.cmd("SEARCH ALL")
    assert b"EXPUNGE" not in b"".join(lines), lines
    tag, lines = a.cmd("UID FETCH 3 (UID)")
    assert b"* 2 EXPUNGE" in lines, lines
    a.close()
    b.close()


# ----------------------------------------------------------------------
# APPEND

def test_append_with_flags_date_and_appenduid(imapd, user):
    r = Raw(imapd, user)
    msg = message("appended")
    r.send(b'a1 APPEND INBOX (\\Seen $Work) " 5-Nov-2023 10:11:12 +0200" '
           b'{%d}\r\n' % len(msg))
    assert r.response().startswith(b"+")
    r.send(msg + b"\r\n")
    lines = r.until(b"a1")
    m = re.fullmatch(rb"a1 OK \[APPENDUID (\d+) 1\] APPEND completed",
                     lines[-1])
    assert m, lines
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])")
    items = fetch_items(lines[0])
    assert items[b"FLAGS"] == [b"\\Seen", b"$Work"] or \
        items[b"FLAGS"] == [b"\\Seen", b"\\Recent", b"$Work"], items
    assert re.fullmatch(rb"( 5|05)-Nov-2023 08:11:12 \+0000",
                        items[b"INTERNALDATE"]), items
    assert items[b"BODY[]"] == msg
    r.close()


def test_multiappend_is_all_or_nothing(imapd, user):
    r = Raw(imapd, user)
    one, two = message("m1"), message("m2")
    r.send(b"a1 APPEND INBOX {%d+}\r\n%s (\\Flagged) {%d+}\r\n%s\r\n" %
           (len(one), one, len(two), two))
    lines = r.until(b"a1")
    assert re.fullmatch(rb"a1 OK \[APPENDUID \d+ 1:2\] APPEND completed",
                        lines[-1]), lines
    # the second has a bad date: nothing of the command stays
    r.send(b'a2 APPEND INBOX {%d+}\r\n%s "99-Xyz-2023 10:11:12 +0000" '
           b'{%d+}\r\n%s\r\n' % (len(one), one, len(two), two))
    lines = r.until(b"a2")
    assert tagged(lines).startswith(b"BAD"), lines
    tag, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines[0] == b"* STATUS INBOX (MESSAGES 2)", lines
    tag, lines = r.cmd("APPEND nosuch {3+}\r\nabc")
    assert tagged(lines).startswith(b"NO [TRYCREATE]"), lines
    r.close()


def test_utf8_append_after_enable(imapd, user):
    r = Raw(imapd, user)
    msg = ("Subject: Gr\u00fc\u00dfe\r\nFrom: \u00e4@example.org\r\n\r\n"
           "k\u00f6ln\r\n").encode()
    # without ENABLE UTF8=ACCEPT the UTF8 form is refused ...
    r.send(b"a0 APPEND INBOX UTF8 (~{%d+}\r\n%s)\r\n" % (len(msg), msg))
    lines = r.until(b"a0")
    assert tagged(lines).startswith(b"BAD"), lines
    # ... and accepted after it (the form Thunderbird sends)
    ok(r.cmd("ENABLE UTF8=ACCEPT")[1])
    r.send(b"a1 APPEND INBOX UTF8 (~{%d+}\r\n%s)\r\n" % (len(msg), msg))
    lines = r.until(b"a1")
    assert tagged(lines).startswith(b"OK [APPENDUID"), lines
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("FETCH 1 (BODY.PEEK[])")
    assert fetch_items(lines[0])[b"BODY[]"] == msg
    tag, lines = r.cmd("SEARCH SUBJECT gr\u00fc\u00dfe")
    assert lines[0] == b"* SEARCH 1", lines
    r.close()


def test_appendlimit_refuses_before_the_literal(imapd, user):
    r = Raw(imapd, user)
    tag, lines = r.cmd("CAPABILITY")
    limit = int(re.search(rb"APPENDLIMIT=(\d+)", lines[0]).group(1))
    r.send(b"a1 APPEND INBOX {%d}\r\n" % (limit + 1))
    line = r.response()
    assert line.startswith(b"a1 NO [TOOBIG]"), line
    tag, lines = r.cmd("NOOP")
    ok(lines)
    r.close()


def test_quota_is_enforced_with_overquota(imapd, tiny):
    r = Raw(imapd, tiny)
    msg = message("q", body="x" * 1000 + "\r\n")
    for i in range(2):
        tag, lines = r.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(msg), msg))
        ok(lines)
    tag, lines = r.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(msg), msg))
    assert tagged(lines).startswith(b"NO [OVERQUOTA]"), lines
    ok(r.cmd("CREATE other")[1])
    ok(r.cmd("SELECT INBOX")[1])
    tag, lines = r.cmd("COPY 1 other")
    assert tagged(lines).startswith(b"NO [OVERQUOTA]"), lines
    # MOVE does not grow the mailbox
    tag, lines = r.cmd("MOVE 1 other")
    ok(lines)
    r.close()
