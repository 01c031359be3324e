"""bastide-imapd with real clients besides Thunderbird: mbsync (isync)
syncing a mailbox both ways, NeoMutt reading and flagging in batch mode,
and a message delivered by bastide-smtpd showing up in an IDLE session.

imapd and smtpd share one store root, as in a real installation.  Each
test works on a user of its own (ldapadd), and every effect a client had
is checked on the server side: through imaplib, STATUS and in the Maildir.

mbsync and NeoMutt run on a pseudo-terminal: mbsync prints its progress
counters ("C: 1/1  B: 2/2  F: +1/1 *0/0 #0/0  N: +3/3 *0/0 #0/0") only to
a terminal, and NeoMutt needs one for its screen.  Both are killed (by
their process group, which they lead) if they overrun their time.
"""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import termios
import time

import pytest

from imapd_util import Imapd, fresh_user
from smtpd_util import Smtpd

TIMEOUT = 20


@pytest.fixture(scope="module")
def servers(slapd, tmp_path_factory):
    """(imapd, smtpd) on one store root."""
    smtpd = Smtpd(tmp_path_factory.mktemp("smtpd"), slapd).start()
    imapd = Imapd(tmp_path_factory.mktemp("imapd"), slapd)
    imapd.store = smtpd.store
    try:
        imapd.start()
    except BaseException:
        smtpd.stop()
        raise
    yield imapd, smtpd
    imapd.stop()
    smtpd.stop()


@pytest.fixture
def imapd(servers):
    return servers[0]


def new_user(slapd):
    """A fresh directory user: (address, password)."""
    return fresh_user(slapd, "cli")


def message(subject, body="hello\r\n", to="someone@example.test"):
    return ("From: Carol <carol@example.org>\r\n"
            f"To: {to}\r\n"
            f"Subject: {subject}\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}."
            f"{time.monotonic_ns()}@example.org>\r\n"
            "\r\n" + body).encode()


def login(imapd, user, pw):
    return imapd.imaps(user, pw, timeout=TIMEOUT)


def mailbox_state(imapd, user, pw):
    """Every mailbox of user: {name: (status dict, {subject: (uid, flags,
    message)})}, read by imaplib."""
    c = login(imapd, user, pw)
    try:
        typ, data = c.list()
        assert typ == "OK", data
        out = {}
        for line in data:
            name = line.decode().rsplit(' "/" ', 1)[1].strip('"')
            typ, st = c.status(f'"{name}"', "(MESSAGES UIDNEXT UIDVALIDITY "
                               "HIGHESTMODSEQ)")
            assert typ == "OK", st
            vals = re.search(r"\((.*)\)", st[0].decode()).group(1).split()
            status = {vals[i]: int(vals[i + 1])
                      for i in range(0, len(vals), 2)}
            msgs = {}
            if status["MESSAGES"]:
                typ, _ = c.select(f'"{name}"', readonly=True)
                assert typ == "OK"
                typ, data2 = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
                assert typ == "OK", data2
                for item in data2:
                    if not isinstance(item, tuple):
                        continue
                    meta = item[0].decode()
                    uid = int(re.search(r"UID (\d+)", meta).group(1))
                    flags = tuple(sorted(re.search(
                        r"FLAGS \(([^)]*)\)", meta).group(1).split()))
                    subj = re.search(rb"^Subject: (.*?)\r\n", item[1],
                                     re.M).group(1).decode()
                    msgs[subj] = (uid, flags, item[1])
                c.close()
            out[name] = (status, msgs)
        return out
    finally:
        c.logout()


def run_on_pty(args, timeout=TIMEOUT, env=None, cwd=None):
    """Run args with a pseudo-terminal (120x40) as stdin/stdout/stderr;
    returns (exit status or None if it had to be killed, output bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120,
                                                      0, 0))
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                         env=env, cwd=cwd, start_new_session=True)
    os.close(slave)
    out = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.1)
            if not r:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:         # EIO: every writer has gone
                break
            if not chunk:
                break
            out += chunk
        try:
            return p.wait(timeout=max(0.1, end - time.monotonic())), out
        except subprocess.TimeoutExpired:
            return None, out
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=TIMEOUT)
        os.close(master)


# --- mbsync

COUNTERS = re.compile(
    r"C: (\d+)/(\d+)\s+B: (\d+)/(\d+)\s+"
    r"F: \+(\d+)/(\d+) \*(\d+)/(\d+) #(\d+)/(\d+)\s+"
    r"N: \+(\d+)/(\d+) \*(\d+)/(\d+) #(\d+)/(\d+)")


def mbsync(conf):
    """Run mbsync -a; its final counters as a dict: far/near new, flags,
    trashed (done counts; each must equal its total)."""
    rc, out = run_on_pty(["mbsync", "-c", conf, "-a"])
    text = out.decode("utf-8", "replace")
    assert rc == 0, f"mbsync exited {rc}:\n{text[-3000:]}"
    found = COUNTERS.findall(text)
    assert found, f"no progress counters in:\n{text[-3000:]}"
    v = [int(x) for x in found[-1]]
    for i in range(0, len(v), 2):
        assert v[i] == v[i + 1], f"unfinished counters: {found[-1]}"
    return {"boxes": v[2], "far_new": v[4], "far_flags": v[6],
            "far_trashed": v[8], "near_new": v[10], "near_flags": v[12],
            "near_trashed": v[14]}


def local_files(root):
    """Every message file under a Maildir tree: {relative path: bytes}."""
    out = {}
    for d, _, names in os.walk(root):
        if os.path.basename(d) not in ("cur", "new"):
            continue
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def local_file(files, folder, subject):
    """(relative path, bytes) of the one local message with subject
    (mbsync stores messages with LF line ends, a local MUA may not)."""
    hits = [(p, b) for p, b in files.items()
            if p.startswith(folder + "/")
            and f"\nSubject: {subject}\n".encode()
            in b"\n" + b.replace(b"\r\n", b"\n")]
    assert len(hits) == 1, (folder, subject, sorted(files))
    return hits[0]


def same_message(a, b):
    """Equal but for line ends and mbsync's own X-TUID: header (it marks
    the messages it copies, to find them again if need be)."""
    def norm(m):
        m = m.replace(b"\r\n", b"\n")
        return re.sub(rb"(?m)^X-TUID: .*\n", b"", m, count=1)
    return norm(a) == norm(b)


def maildir_flags(path):
    return path.rsplit(":2,", 1)[1] if ":2," in path else ""


def drop_local(root, folder, msg, flags=None):
    """A message put into the local Maildir as a local MUA would."""
    d = os.path.join(root, folder)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    name = f"{int(time.time())}.{time.monotonic_ns()}.local"
    if flags is None:
        path = os.path.join(d, "new", name)
    else:
        path = os.path.join(d, "cur", name + ":2," + flags)
    with open(path, "wb") as f:
        f.write(msg)


def set_local_flags(root, relpath, flags):
    """Rename a local message to carry exactly flags (into cur/)."""
    folder = relpath.split("/")[0]
    base = os.path.basename(relpath).split(":2,")[0]
    os.rename(os.path.join(root, relpath),
              os.path.join(root, folder, "cur", f"{base}:2,{flags}"))


@pytest.mark.skipif(shutil.which("mbsync") is None,
                    reason="mbsync (isync) is not installed")
def test_mbsync_syncs_both_ways_and_a_second_run_changes_nothing(
        imapd, slapd, tmp_path):
    user, pw = new_user(slapd)
    # the server: three messages in INBOX (one seen), one in Work
    imapd.deliver(user, message("server one"))
    imapd.deliver(user, message("server seen"), flags="S")
    imapd.deliver(user, message("server three", body="x" * 5000 + "\r\n"))
    c = login(imapd, user, pw)
    assert c.create("Work")[0] == "OK"
    assert c.append("Work", "(\\Answered)", None,
                    message("server work"))[0] == "OK"
    c.logout()
    # the local side: one new message in INBOX, one in a new folder
    local = str(tmp_path / "local")
    drop_local(local, "INBOX", message("local one"))
    drop_local(local, "Local", message("local folder msg"), flags="S")
    conf = str(tmp_path / "mbsyncrc")
    with open(conf, "w") as f:
        f.write(f"""IMAPAccount bastide
Host 127.0.0.1
Port {imapd.ports["imaps"]}
User {user}
Pass {pw}
SSLType IMAPS
CertificateFile {imapd.cert}

IMAPStore remote
Account bastide

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel both
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    # run 1: everything new goes both ways
    got = mbsync(conf)
    after1 = mailbox_state(imapd, user, pw)
    # eight boxes: INBOX, the five special-use ones, Work and Local
    assert got == {"boxes": 8, "far_new": 2, "far_flags": 0,
                   "far_trashed": 0, "near_new": 4, "near_flags": 0,
                   "near_trashed": 0}, got
    assert len(after1) == 8, sorted(after1)
    assert sorted(after1["INBOX"][1]) == [
        "local one", "server one", "server seen", "server three"]
    assert sorted(after1["Local"][1]) == ["local folder msg"]
    assert after1["Local"][1]["local folder msg"][1] == ("\\Seen",)
    assert after1["Work"][1]["server work"][1] == ("\\Answered",)
    files1 = local_files(local)
    for folder, msgs in (("INBOX", after1["INBOX"][1]),
                         ("Local", after1["Local"][1]),
                         ("Work", after1["Work"][1])):
        for subject, (uid, flags, body) in msgs.items():
            path, data = local_file(files1, folder, subject)
            assert same_message(data, body), (folder, subject, data, body)
    assert "S" in maildir_flags(local_file(files1, "INBOX",
                                           "server seen")[0])
    assert "R" in maildir_flags(local_file(files1, "Work",
                                           "server work")[0])
    # and in the server's store: the uploaded message is a Maildir file
    inbox_dir = imapd.maildir(user)
    stored = [open(os.path.join(inbox_dir, s, n), "rb").read()
              for s in ("cur", "new")
              for n in os.listdir(os.path.join(inbox_dir, s))]
    assert any(b"Subject: local one\r\n" in m for m in stored)

    # run 2: nothing to do, and nothing changes on either side
    got = mbsync(conf)
    assert got == {"boxes": 8, "far_new": 0, "far_flags": 0,
                   "far_trashed": 0, "near_new": 0, "near_flags": 0,
                   "near_trashed": 0}, got
    assert mailbox_state(imapd, user, pw) == after1
    assert local_files(local) == files1

    # changes on both sides: flagged on the server; seen and deleted here
    c = login(imapd, user, pw)
    c.select("INBOX")
    uid = after1["INBOX"][1]["server one"][0]
    assert c.uid("STORE", str(uid), "+FLAGS", "(\\Flagged)")[0] == "OK"
    c.logout()
    set_local_flags(local, local_file(files1, "INBOX", "server three")[0],
                    "S")
    set_local_flags(local, local_file(files1, "INBOX", "local one")[0],
                    "T")
    # run 3 carries them over
    # (the deletion travels as a \Deleted flag, then an expunge)
    got = mbsync(conf)
    assert got == {"boxes": 8, "far_new": 0, "far_flags": 2,
                   "far_trashed": 0, "near_new": 0, "near_flags": 1,
                   "near_trashed": 0}, got
    after3 = mailbox_state(imapd, user, pw)
    inbox = after3["INBOX"][1]
    assert sorted(inbox) == ["server one", "server seen", "server three"]
    assert inbox["server three"][1] == ("\\Seen",)
    assert inbox["server one"][1] == ("\\Flagged",)
    files3 = local_files(local)
    assert "F" in maildir_flags(local_file(files3, "INBOX",
                                           "server one")[0])
    assert not [p for p, b in files3.items()
                if b"Subject: local one" in b]
    assert not any(b"Subject: local one\r\n" in
                   open(os.path.join(inbox_dir, s, n), "rb").read()
                   for s in ("cur", "new")
                   for n in os.listdir(os.path.join(inbox_dir, s)))

    # run 4: quiet again
    got = mbsync(conf)
    assert got == {"boxes": 8, "far_new": 0, "far_flags": 0,
                   "far_trashed": 0, "near_new": 0, "near_flags": 0,
                   "near_trashed": 0}, got
    assert mailbox_state(imapd, user, pw) == after3
    assert local_files(local) == files3


# --- NeoMutt

def neomutt(tmp_path, imapd, user, pw, keys):
    """Run NeoMutt on user's INBOX, typing keys (a push string); the
    screen output."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    certs = home / "certs"
    shutil.copy(imapd.cert, certs)
    rc_file = home / "muttrc"
    rc_file.write_text(f"""set imap_user = "{user}"
set imap_pass = "{pw}"
set folder = "imaps://127.0.0.1:{imapd.ports["imaps"]}/"
set spoolfile = "+INBOX"
set certificate_file = "{certs}"
set ssl_verify_host = no
set header_cache = ""
set message_cachedir = ""
set record = ""
set postponed = ""
set imap_check_subscribed = no
set imap_idle = no
set mail_check = 300
set wait_key = no
set mark_old = no
set move = no
set quit = yes
set delete = yes
set confirmappend = no
set beep = no
set sort = date
""")
    env = dict(os.environ, HOME=str(home), TERM="xterm", LANG="C.UTF-8")
    rc, out = run_on_pty(["neomutt", "-n", "-F", str(rc_file),
                          "-e", f'push "{keys}"'], env=env)
    text = out.decode("utf-8", "replace")
    assert rc == 0, f"neomutt exited {rc}; its screen:\n{text[-2000:]}"
    return text


@pytest.mark.skipif(shutil.which("neomutt") is None,
                    reason="neomutt is not installed")
def test_neomutt_reads_and_flags_a_message_then_deletes_one(
        imapd, slapd, tmp_path):
    user, pw = new_user(slapd)
    for s in ("first", "the target", "last"):
        imapd.deliver(user, message(s, body=f"body of {s}\r\n"))
    # open the message (that makes it \Seen) and flag it
    neomutt(tmp_path, imapd, user, pw,
            "<limit>~s target<enter><display-message><exit>"
            "<flag-message><sync-mailbox><quit>")
    state = mailbox_state(imapd, user, pw)["INBOX"][1]
    assert state["the target"][1] == ("\\Flagged", "\\Seen"), state
    assert state["first"][1] == state["last"][1] == (), state
    # in the store: the file's Maildir info carries F and S
    d = imapd.maildir(user)
    names = [n for n in os.listdir(os.path.join(d, "cur"))
             if b"Subject: the target\r\n" in
             open(os.path.join(d, "cur", n), "rb").read()]
    assert len(names) == 1 and maildir_flags(names[0]) == "FS", names

    # delete one and sync: it is expunged on the server
    neomutt(tmp_path, imapd, user, pw,
            "<limit>~s last<enter><delete-message><sync-mailbox><quit>")
    state = mailbox_state(imapd, user, pw)["INBOX"]
    assert sorted(state[1]) == ["first", "the target"], state
    assert state[0]["MESSAGES"] == 2
    assert not any(b"Subject: last\r\n" in
                   open(os.path.join(d, s, n), "rb").read()
                   for s in ("cur", "new")
                   for n in os.listdir(os.path.join(d, s)))


# --- smtpd delivery seen in IDLE

def test_a_message_delivered_by_smtpd_shows_up_in_idle_within_a_second(
        servers, slapd):
    imapd, smtpd = servers
    user, pw = new_user(slapd)
    c = imapd.raw(tls=True)
    assert c.line().startswith("* OK ")
    assert c.cmd("a", f'LOGIN {user} "{pw}"')[-1].startswith("a OK ")
    r = c.cmd("b", "SELECT INBOX")
    assert "* 0 EXISTS" in r and r[-1].startswith("b OK "), r
    for n in range(1, 4):
        c.send(f"i{n} IDLE\r\n")
        assert c.line() == "+ idling"
        s = smtpd.smtp("mx")
        t0 = time.monotonic()
        s.sendmail("carol@example.org", [user],
                   message(f"pushed {n}", to=user))
        s.quit()
        line = c.line(timeout=5)
        elapsed = time.monotonic() - t0
        assert line == f"* {n} EXISTS", line
        assert elapsed < 1.0, f"EXISTS came {elapsed:.3f} s after SMTP"
        c.send("DONE\r\n")
        rest = c.until_tagged(f"i{n}")
        assert rest[-1] == f"i{n} OK IDLE terminated", rest
        r = c.cmd(f"f{n}", f"FETCH {n} (BODY.PEEK[HEADER.FIELDS "
                  "(SUBJECT)])")
        assert any(f"Subject: pushed {n}" in x for x in r), r
    # the messages are files in the user's store
    assert len(smtpd.messages(user)) == 3
    c.close()
