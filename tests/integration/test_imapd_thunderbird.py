"""bastide-imapd with a real Thunderbird (Debian's package), headless,
driven over Marionette (marionette_util.py) in chrome context through
Thunderbird's own MailServices APIs.

One Thunderbird with a fresh profile serves the whole module: it adds an
IMAP account over implicit TLS (the self-signed certificate gets a
certificate override), syncs the folder tree and INBOX, downloads every
message for offline use, marks a message read, creates folders and moves
a message, and learns of new mail through IDLE; a second account logs in
over STARTTLS.  Thunderbird's sessions use COMPRESS=DEFLATE when the
server offers it.  After each step the effect is checked on the server
side, through imaplib and in the Maildir, and Thunderbird's IMAP traffic
(MOZ_LOG=IMAP:5) must hold no BAD or NO answer.  When an assertion fails
its message carries the end of that traffic.

Set BASTIDE_TB_TRANSCRIPT=FILE to keep the whole IMAP transcript.

Skipped only when Thunderbird is not installed or cannot start headless
here.
"""
import base64
import email.header
import os
import re
import time

import pytest

from imapd_util import Imapd, fresh_user
from marionette_util import Thunderbird, ThunderbirdUnavailable

TIMEOUT = 20


# Every script starts with this: MailServices and a few helpers.
PRELUDE = r"""
const { MailServices } = ChromeUtils.importESModule(
    "resource:///modules/MailServices.sys.mjs");
function server(key) {
  return MailServices.accounts.getAccount(key).incomingServer;
}
// a folder by its path on the server ("Projects/Café"), or null
function folder(key, path) {
  let f = server(key).rootFolder;
  for (let part of path.split("/")) {
    if (!f.containsChildNamed(part))
      return null;
    f = f.getChildNamed(part);
  }
  return f;
}
function hdrs(f) {
  return [...f.messages];
}
function bySubject(f, subject) {
  return hdrs(f).filter(h => h.mime2DecodedSubject == subject);
}
"""

# an async script: the body runs with `done`; an exception is returned
ASYNC = PRELUDE + r"""
const done = arguments[arguments.length - 1];
try {
%s
} catch (e) {
  done({error: String(e) + "\n" + e.stack});
}
"""

ADD_ACCOUNT = PRELUDE + r"""
const [user, password, port, socketType, certB64, subscribedOnly] =
    arguments;
const certdb = Cc["@mozilla.org/security/x509certdb;1"]
    .getService(Ci.nsIX509CertDB);
const overrides = Cc["@mozilla.org/security/certoverride;1"]
    .getService(Ci.nsICertOverrideService);
overrides.rememberValidityOverride("127.0.0.1", port, {},
    certdb.constructX509FromBase64(certB64), false);
let srv = MailServices.accounts.createIncomingServer(user, "127.0.0.1",
    "imap");
srv.port = port;
srv.socketType = socketType == "ssl" ? Ci.nsMsgSocketType.SSL
    : Ci.nsMsgSocketType.alwaysSTARTTLS;
srv.authMethod = Ci.nsMsgAuthMethod.passwordCleartext;
srv.password = password;
// false: the folder tree from every mailbox (LIST), not the subscribed ones
srv.QueryInterface(Ci.nsIImapIncomingServer).usingSubscription =
    subscribedOnly;
let id = MailServices.accounts.createIdentity();
id.email = user;
let account = MailServices.accounts.createAccount();
account.addIdentity(id);
account.incomingServer = srv;
srv.QueryInterface(Ci.nsIImapIncomingServer).performExpand(null);
return account.key;
"""

# the folder tree Thunderbird knows: [server path, folder flags]
FOLDERS = PRELUDE + r"""
const [key] = arguments;
return server(key).rootFolder.descendants.map(f => [
    f.QueryInterface(Ci.nsIMsgImapMailFolder).onlineName, f.flags]);
"""

# one folder's messages as Thunderbird has them
MESSAGES = PRELUDE + r"""
const [key, path] = arguments;
let f = folder(key, path);
if (f == null)
  return null;
return hdrs(f).map(h => ({subject: h.mime2DecodedSubject,
    size: h.messageSize, flags: h.flags, uid: h.messageKey,
    messageId: h.messageId}));
"""

UPDATE_FOLDER = ASYNC % r"""
const [key, path] = arguments;
let f = folder(key, path).QueryInterface(Ci.nsIMsgImapMailFolder);
f.updateFolderWithListener(null, {
  OnStartRunningUrl() {},
  OnStopRunningUrl(url, status) {
    done({status: status, total: f.getTotalMessages(false)});
  },
});
"""

DOWNLOAD_FOR_OFFLINE = ASYNC % r"""
const [key, path] = arguments;
let f = folder(key, path);
f.downloadAllForOffline({
  OnStartRunningUrl() {},
  OnStopRunningUrl(url, status) {
    done({status: status});
  },
}, null);
"""

# the offline copy of each message: [subject, text or null]
OFFLINE_COPIES = PRELUDE + r"""
const { NetUtil } = ChromeUtils.importESModule(
    "resource://gre/modules/NetUtil.sys.mjs");
const [key, path] = arguments;
let f = folder(key, path);
return hdrs(f).map(h => {
  if (!(h.flags & Ci.nsMsgMessageFlags.Offline))
    return [h.mime2DecodedSubject, null];
  let s = f.getMsgInputStream(h, {});
  let text = NetUtil.readInputStreamToString(s, h.offlineMessageSize);
  s.close();
  return [h.mime2DecodedSubject, btoa(text)];
});
"""

MARK_READ = PRELUDE + r"""
const [key, path, subject] = arguments;
let f = folder(key, path);
let found = bySubject(f, subject);
if (found.length != 1)
  return "found " + found.length + " messages with that subject";
f.markMessagesRead(found, true);
return "ok";
"""

CREATE_FOLDER = PRELUDE + r"""
const [key, parent, name] = arguments;
let p = parent == "" ? server(key).rootFolder : folder(key, parent);
p.createSubfolder(name, null);
return "ok";
"""

MOVE = ASYNC % r"""
const [key, from, to, subject] = arguments;
let src = folder(key, from), dst = folder(key, to);
let found = bySubject(src, subject);
if (found.length != 1)
  throw new Error("found " + found.length + " messages with that subject");
MailServices.copy.copyMessages(src, found, dst, true, {
  onStartCopy() {},
  onProgress() {},
  setMessageKey() {},
  getMessageId() { return null; },
  onStopCopy(status) { done({status: status}); },
}, null, false);
"""

# nsMsgFolderFlags and nsMsgMessageFlags values (stable, from the IDL)
FOLDER_FLAG = {"Trash": 0x100, "Sent": 0x200, "Drafts": 0x400,
               "Archive": 0x4000, "Junk": 0x40000000}
MSG_READ = 0x1
MSG_OFFLINE = 0x80


def plain_message(subject, body, msgid):
    return ("From: Carol <carol@example.org>\r\n"
            "To: tb@example.test\r\n"
            f"Subject: {subject}\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            f"Message-ID: <{msgid}@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n" + body).encode()


def multipart_message(subject, msgid):
    attachment = base64.encodebytes(bytes(range(256)) * 8).decode() \
        .replace("\n", "\r\n")
    return ("From: Dave <dave@example.org>\r\n"
            "To: tb@example.test\r\n"
            f"Subject: {subject}\r\n"
            "Date: Tue, 2 Jan 2024 11:00:00 +0100\r\n"
            f"Message-ID: <{msgid}@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n'
            "\r\n"
            "--b1\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            "See the attachment.\r\n"
            "--b1\r\n"
            "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
            "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "\r\n" + attachment +
            "--b1--\r\n").encode()


# subject (as Thunderbird decodes it) -> message bytes
def inbox_messages(tag):
    big = "".join(f"line {i:05d} of a longer message\r\n"
                  for i in range(3000))
    utf8 = "Gr\u00fc\u00dfe aus K\u00f6ln"
    return {
        "plain one": plain_message("plain one", "hello\r\n", f"p1.{tag}"),
        "to be read": plain_message("to be read", "read me\r\n",
                                    f"r.{tag}"),
        "with attachment": multipart_message("with attachment",
                                             f"mp.{tag}"),
        "to be moved": plain_message("to be moved", "move me\r\n",
                                     f"mv.{tag}"),
        "big one": plain_message("big one", big, f"big.{tag}"),
        utf8: plain_message(email.header.Header(utf8, "utf-8").encode(),
                            "8-bit body: \u00e9t\u00e9\r\n", f"u.{tag}"),
    }


def new_user(slapd):
    """A fresh directory user: (address, password)."""
    return fresh_user(slapd, "tbird")


def login_as(imapd, user, pw):
    """imaplib over implicit TLS, logged in."""
    return imapd.imaps(user, pw, timeout=TIMEOUT)


def cert_b64(path):
    """The DER certificate of a PEM file, base64 without line breaks."""
    with open(path) as f:
        pem = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE",
                  pem, re.S)
    return "".join(m.group(1).split())


class Env:
    """The module's imapd, Thunderbird and account."""

    def __init__(self, imapd, tb, user, pw, key, sent):
        self.imapd = imapd
        self.tb = tb
        self.user = user
        self.pw = pw
        self.key = key
        self.sent = sent        # subject -> bytes delivered to INBOX
        self.mark = 0           # IMAP events already checked

    def server(self):
        """imaplib over implicit TLS, logged in as the account's user."""
        return login_as(self.imapd, self.user, self.pw)

    def server_messages(self, mailbox):
        """{subject: (uid, flags, message bytes)} of a mailbox by imaplib,
        subjects decoded as Thunderbird decodes them."""
        c = self.server()
        try:
            typ, _ = c.select(f'"{mailbox}"', readonly=True)
            assert typ == "OK", mailbox
            typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            assert typ == "OK", data
        finally:
            c.logout()
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta, body = item
            meta = meta.decode()
            uid = int(re.search(r"UID (\d+)", meta).group(1))
            flags = re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split()
            m = re.search(rb"^Subject: (.*?)\r\n", body, re.M)
            subject = str(email.header.make_header(
                email.header.decode_header(m.group(1).decode())))
            out[subject] = (uid, flags, body)
        return out

    def traffic(self):
        return ("\n--- Thunderbird's IMAP traffic (end) ---\n"
                + self.tb.imap_transcript(60))

    def check(self, cond, what):
        assert cond, what + self.traffic()

    def no_errors(self):
        """No BAD or NO answered to Thunderbird since the last call."""
        events = self.tb.imap_events()
        # except NO [ALREADYEXISTS]: a new account may CREATE "Trash"
        # before its folder discovery has seen it (a race inside
        # Thunderbird, which takes the refusal as "it exists"); that
        # answer is the RFC's, and Dovecot's too
        bad = [text for _, _, who, text in events[self.mark:]
               if who == "S" and (re.match(r"\S+ (BAD|NO)\b", text)
                                  or text.startswith("* BAD"))
               and not re.match(r"\S+ NO \[ALREADYEXISTS\]", text)]
        self.mark = len(events)
        assert not bad, ("Bastide answered Thunderbird with:\n"
                         + "\n".join(bad) + self.traffic())

    def poll(self, fn, what, timeout=TIMEOUT):
        """fn() until it returns something true; that value."""
        end = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > end:
                raise AssertionError(f"timed out: {what}" + self.traffic())
            time.sleep(0.1)

    def run_async(self, script, *args, timeout=TIMEOUT):
        r = self.tb.js_async(script, *args, timeout=timeout)
        assert isinstance(r, dict) and "error" not in r, \
            f"script failed: {r}" + self.traffic()
        return r

    def tb_messages(self, path="INBOX"):
        return self.tb.js(MESSAGES, self.key, path)

    def update(self, path="INBOX"):
        r = self.run_async(UPDATE_FOLDER, self.key, path)
        self.check(r["status"] == 0, f"updating {path}: {r}")
        return r

    def tb_create(self, parent, name):
        """Create parent/name from Thunderbird, wait until it knows it."""
        assert self.tb.js(CREATE_FOLDER, self.key, parent, name) == "ok"
        path = f"{parent}/{name}" if parent else name
        self.poll(lambda: any(p == path for p, _ in
                              self.tb.js(FOLDERS, self.key)),
                  f"Thunderbird shows folder {path}")
        return path


def maildir_files(imapd, user, folder=None):
    """Every message file of a Maildir folder: {name: bytes}."""
    d = imapd.maildir(user, folder)
    out = {}
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            for n in os.listdir(p):
                with open(os.path.join(p, n), "rb") as f:
                    out[n] = f.read()
    return out


@pytest.fixture(scope="module")
def env(slapd, tmp_path_factory):
    imapd = Imapd(tmp_path_factory.mktemp("imapd"), slapd).start()
    tb = Thunderbird(tmp_path_factory.mktemp("thunderbird"), prefs={
        # offline download happens when the test asks for it
        "mail.server.default.autosync_offline_stores": False,
        "mail.server.default.offline_download": True,
        # no periodic checks racing the test's own commands
        "mail.server.default.check_new_mail": False,
        "mail.server.default.login_at_startup": False,
    })
    try:
        try:
            tb.start()
        except ThunderbirdUnavailable as e:
            pytest.skip(f"Thunderbird cannot run here: {e}")
        user, pw = new_user(slapd)
        tag = f"{os.getpid()}.{time.monotonic_ns()}"
        sent = inbox_messages(tag)
        for msg in sent.values():
            imapd.deliver(user, msg)
        key = tb.js(ADD_ACCOUNT, user, pw, imapd.ports["imaps"], "ssl",
                    cert_b64(imapd.cert), True)
        yield Env(imapd, tb, user, pw, key, sent)
    finally:
        dump = os.environ.get("BASTIDE_TB_TRANSCRIPT")
        if dump and tb.proc is not None:
            with open(dump, "w") as f:
                f.write(tb.imap_transcript(10 ** 9) + "\n")
        tb.stop()
        imapd.stop()


def test_thunderbird_adds_the_account_and_syncs_the_folder_tree(env):
    c = env.server()
    typ, data = c.list()
    assert typ == "OK"
    names = sorted(line.decode().rsplit(' "/" ', 1)[1].strip('"')
                   for line in data)
    c.logout()
    assert "INBOX" in names and "Drafts" in names, names

    def tree():
        have = dict(env.tb.js(FOLDERS, env.key))
        return have if all(n in have for n in names) else None
    have = env.poll(tree, f"Thunderbird's folder tree holds {names}")
    assert sorted(have) == names, f"got {sorted(have)}, want {names}"
    for name, flag in FOLDER_FLAG.items():
        env.check(have[name] & flag,
                  f"{name} has flags {have[name]:#x}, want {flag:#x} "
                  "(SPECIAL-USE)")
    env.no_errors()


def test_thunderbird_syncs_the_inbox(env):
    r = env.update("INBOX")
    want = env.server_messages("INBOX")
    assert sorted(want) == sorted(env.sent)
    got = {m["subject"]: m for m in env.tb_messages("INBOX")}
    assert sorted(got) == sorted(want), \
        f"got {sorted(got)}, want {sorted(want)}"
    assert r["total"] == len(want)
    for subject, (uid, flags, body) in want.items():
        assert got[subject]["uid"] == uid, subject
        assert got[subject]["size"] == len(body), subject
        # syncing only peeks: nothing became \Seen on the server
        assert "\\Seen" not in flags, (subject, flags)
    env.no_errors()


def test_thunderbird_downloads_every_message_for_offline_use(env):
    env.update("INBOX")
    r = env.run_async(DOWNLOAD_FOR_OFFLINE, env.key, "INBOX")
    env.check(r["status"] == 0, f"downloadAllForOffline: {r}")

    def copies():
        got = env.tb.js(OFFLINE_COPIES, env.key, "INBOX")
        return got if all(text is not None for _, text in got) else None
    got = env.poll(copies, "every INBOX message has an offline copy")
    want = env.server_messages("INBOX")
    assert sorted(s for s, _ in got) == sorted(want)
    files = maildir_files(env.imapd, env.user)
    for subject, text in got:
        offline = base64.b64decode(text).replace(b"\r\n", b"\n")
        body = want[subject][2]
        assert body in files.values(), subject
        # the offline store may add its own headers (X-Mozilla-Status)
        # in front, but the message is all there, byte for byte
        env.check(offline.endswith(body.replace(b"\r\n", b"\n"))
                  or body.replace(b"\r\n", b"\n") in offline,
                  f"offline copy of {subject!r} differs from the server's")
        # downloading used BODY.PEEK: still not \Seen on the server
        assert "\\Seen" not in want[subject][1], subject
    env.no_errors()


def test_marking_a_message_read_sets_seen_on_the_server(env):
    env.update("INBOX")
    assert env.tb.js(MARK_READ, env.key, "INBOX", "to be read") == "ok"

    def seen():
        msgs = env.server_messages("INBOX")
        return msgs if "\\Seen" in msgs["to be read"][1] else None
    msgs = env.poll(seen, "\\Seen on the server")
    for subject, (uid, flags, body) in msgs.items():
        if subject != "to be read":
            assert "\\Seen" not in flags, (subject, flags)
    # and in the store: the Maildir file carries the S flag
    names = [n for n, b in maildir_files(env.imapd, env.user).items()
             if b"Subject: to be read\r\n" in b]
    assert len(names) == 1 and re.search(r":2,[A-Z]*S", names[0]), names
    got = {m["subject"]: m for m in env.tb_messages("INBOX")}
    assert got["to be read"]["flags"] & MSG_READ
    env.no_errors()


def test_folders_created_in_thunderbird_exist_on_the_server(env):
    env.tb_create("", "Projects")
    env.tb_create("Projects", "Caf\u00e9")

    def listed():
        c = env.server()
        typ, data = c.list('""', "Projects*")
        typ2, sub = c.lsub('""', "Projects*")
        c.logout()
        lines = [x.decode() for x in data if x]
        subs = [x.decode() for x in sub if x]
        return (lines, subs) if len(lines) == 2 and len(subs) == 2 \
            else None
    lines, subs = env.poll(listed, "Projects and Projects/Café listed")
    # imaplib speaks IMAP4rev1 without UTF8=ACCEPT: modified UTF-7
    assert sorted(lines) == [
        '(\\HasChildren) "/" Projects',
        '(\\HasNoChildren) "/" Projects/Caf&AOk-'], lines
    assert sorted(subs) == ['() "/" Projects',
                            '() "/" Projects/Caf&AOk-'], subs
    for name in ("Projects", "Projects/Caf\u00e9"):
        d = env.imapd.maildir(env.user, name)
        assert os.path.isdir(os.path.join(d, "cur")), d
    env.no_errors()


def test_a_message_moved_in_thunderbird_is_moved_on_the_server(env):
    env.update("INBOX")
    dest = env.tb_create("", "Moved here")
    env.update(dest)
    before = env.server_messages("INBOX")
    body = before["to be moved"][2]
    r = env.run_async(MOVE, env.key, "INBOX", dest, "to be moved")
    env.check(r["status"] == 0, f"move: {r}")

    def moved():
        inbox = env.server_messages("INBOX")
        there = env.server_messages(dest)
        return (inbox, there) if "to be moved" not in inbox and \
            "to be moved" in there else None
    inbox, there = env.poll(moved, "the message left INBOX for " + dest)
    assert there["to be moved"][2] == body
    assert sorted(inbox) == sorted(s for s in before if s != "to be moved")
    # in the store: the file left the INBOX Maildir for the folder's
    assert not [b for b in maildir_files(env.imapd, env.user).values()
                if b == body]
    assert [b for b in maildir_files(env.imapd, env.user, dest).values()
            if b == body]
    env.update(dest)
    subjects = [m["subject"] for m in env.tb_messages(dest)]
    assert subjects == ["to be moved"], subjects
    env.no_errors()


def idling_on_inbox(events):
    """The connection that is in IDLE on INBOX now (its last IDLE got
    "+ idling" and no DONE followed), or None."""
    state = {}
    for conn, st, who, text in events:
        if st != "S-INBOX":
            state.pop(conn, None)
        elif who == "C":
            state[conn] = "sent" if re.match(r"\S+ IDLE$", text, re.I) \
                else None
        elif text.startswith("+") and state.get(conn) == "sent":
            state[conn] = "idling"
    idle = [c for c, v in state.items() if v == "idling"]
    return idle[0] if idle else None


def test_a_message_delivered_during_idle_reaches_thunderbird(env):
    env.update("INBOX")
    n = len(env.tb_messages("INBOX"))
    conn = env.poll(lambda: idling_on_inbox(env.tb.imap_events()),
                    "Thunderbird idles on INBOX")
    mark = len(env.tb.imap_events())
    env.imapd.deliver(env.user, plain_message(
        "while idling", "pushed\r\n", f"idle.{time.monotonic_ns()}"))
    # no update call: Thunderbird learns it from its IDLE on INBOX
    env.poll(lambda: len(env.tb_messages("INBOX")) == n + 1,
             "Thunderbird sees the new message without polling")
    got = [m["subject"] for m in env.tb_messages("INBOX")]
    assert "while idling" in got, got
    # the server pushed EXISTS during the IDLE, before Thunderbird's DONE
    after = [(who, text) for c, _, who, text in
             env.tb.imap_events()[mark:] if c == conn]
    want = ("S", f"* {n + 1} EXISTS")
    env.check(want in after and ("C", "DONE") in after
              and after.index(want) < after.index(("C", "DONE")),
              f"no EXISTS pushed during IDLE: {after[:6]}")
    env.no_errors()


def test_thunderbird_talks_deflate_compressed_when_offered(env):
    env.update("INBOX")
    events = env.tb.imap_events()
    caps = [text for _, _, who, text in events
            if who == "S" and "[CAPABILITY " in text and "Logged in" in text]
    assert caps, "no login seen" + env.traffic()
    if "COMPRESS=DEFLATE" not in caps[0]:
        pytest.skip("bastide-imapd does not offer COMPRESS=DEFLATE")
    used = 0
    for i, (conn, _, who, text) in enumerate(events):
        if who != "C" or not re.match(r"\S+ COMPRESS DEFLATE$", text, re.I):
            continue
        tag = text.split()[0]
        rest = [t for c, _, w, t in events[i + 1:] if c == conn]
        env.check(rest and rest[0].startswith(tag + " OK"),
                  f"COMPRESS answered {rest[:1]}")
        # and the connection went on, compressed, for more commands
        env.check(len(rest) > 3, f"nothing after COMPRESS: {rest}")
        used += 1
    env.check(used > 0, "Thunderbird never sent COMPRESS DEFLATE")
    env.no_errors()


def test_thunderbird_over_starttls_lists_every_mailbox(env, slapd):
    user, pw = new_user(slapd)
    env.imapd.deliver(user, plain_message("over starttls", "hi\r\n",
                                          f"tls.{time.monotonic_ns()}"))
    c = login_as(env.imapd, user, pw)
    assert c.create("Unsubscribed")[0] == "OK"
    c.logout()
    key = env.tb.js(ADD_ACCOUNT, user, pw, env.imapd.ports["imap"],
                    "starttls", cert_b64(env.imapd.cert), False)
    # without subscriptions Thunderbird lists every mailbox
    want = ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash",
            "Unsubscribed"]
    env.poll(lambda: sorted(p for p, _ in env.tb.js(FOLDERS, key)) == want,
             f"the STARTTLS account's folder tree is {want}")
    r = env.run_async(UPDATE_FOLDER, key, "INBOX")
    env.check(r["status"] == 0 and r["total"] == 1, f"update: {r}")
    subjects = [m["subject"] for m in env.tb.js(MESSAGES, key, "INBOX")]
    assert subjects == ["over starttls"], subjects
    transcript = env.tb.imap_transcript(100000)
    assert re.search(r"C: \S+ STARTTLS", transcript, re.I), \
        "Thunderbird did not use STARTTLS" + env.traffic()
    assert re.search(r'^C: \S+ list "" "\*"$', transcript, re.I | re.M), \
        "Thunderbird did not use a plain LIST" + env.traffic()
    env.no_errors()
