"""Start and drive a private bastide-smtpd, for the test_smtpd*.py files.

    from smtpd_util import Smtpd, smtpd_fixture

    smtpd = smtpd_fixture("smtpd", smtpd={"max_errors": "6"})

or, for one test, Smtpd(tmp_path, slapd).start() and stop() in a finally.

An Smtpd lives in its own directory with its own store root, spool, queue,
run_dir, log and a self-signed certificate made with certtool; it talks to
the given Slapd (conftest.py).  Ports come from free_port(); the LMTP
listener is a Unix socket in the directory.

Attributes: .dir .conf .store .spool .queue_dir .run_dir .log_path .cert
.ports (dict: mx, submission, submissions) .lmtp_path .pid .domain
Methods: start() stop() kill() restart() reload() running() log()
         (from daemon_util.Daemon)
         smtp(role) / smtps() (smtplib clients, already connected)
         maildir(user, folder=None) messages(user, folder=None)
         wait_messages(user, n, folder=None, timeout=10)
"""
import os
import smtplib
import socket
import time

import pytest

from conftest import BUILD, free_port
# make_cert and wait_port are re-exported: test files import them from here
from daemon_util import (TIMEOUT, Daemon, LineClient, client_context,  # noqa
                         conf_section, make_cert, started, wait_port)

SMTPD = os.path.join(BUILD, "smtpd", "bastide-smtpd")


class Smtpd(Daemon):
    """One bastide-smtpd with its config, directories and ports."""

    binary = SMTPD
    name = "bastide-smtpd"

    def __init__(self, d, slapd, smtpd=None, queue=None, extra="",
                 global_=None, domain="example.test"):
        self.dir = str(d)
        self.slapd = slapd
        self.domain = domain
        self.conf = os.path.join(self.dir, "bastide.conf")
        self.store = os.path.join(self.dir, "store")
        self.spool = os.path.join(self.dir, "spool")
        self.queue_dir = os.path.join(self.dir, "queue")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_path = os.path.join(self.dir, "smtpd.log")
        self.lmtp_path = os.path.join(self.dir, "lmtp.sock")
        self.cert, self.key = make_cert(self.dir, "smtpd")
        self.ports = {}
        self.smtpd_keys = {
            "domains": domain,
            "spool_dir": self.spool,
            "allow_plaintext_auth_on_loopback": "no",
        }
        self.smtpd_keys.update(smtpd or {})
        # remote mail goes nowhere: a port nobody listens on, so that it
        # stays queued (test_smtpd_relay.py tests the relay client)
        self.queue_keys = {"dir": self.queue_dir,
                           "relay_host": f"127.0.0.1:{free_port()}"}
        self.queue_keys.update(queue or {})
        self.global_keys = {"hostname": "mx.test", "run_dir": self.run_dir,
                            "log_level": "debug", "workers": "8",
                            "shutdown_timeout": "3s"}
        self.global_keys.update(global_ or {})
        self.extra = extra

    def write_conf(self, keep_ports=False):
        if not keep_ports or not self.ports:
            self.ports = {r: free_port() for r in
                          ("mx", "submission", "submissions")}
        keys = dict(self.smtpd_keys)
        keys.setdefault("mx_listen", f"127.0.0.1:{self.ports['mx']}")
        keys.setdefault("submission_listen",
                        f"127.0.0.1:{self.ports['submission']}")
        keys.setdefault("submissions_listen",
                        f"127.0.0.1:{self.ports['submissions']}")
        keys.setdefault("lmtp_listen", self.lmtp_path)
        extra = (conf_section("global", self.global_keys)
                 + conf_section("tls", {"cert_file": self.cert,
                                        "key_file": self.key})
                 + conf_section("store", {"root": self.store})
                 + conf_section("smtpd", keys)
                 + conf_section("queue", self.queue_keys)
                 + self.extra)
        self.slapd.write_conf(self.conf, extra=extra)

    def start(self, keep_ports=False):
        """Start in the foreground (-f), wait for every TCP port; with
        keep_ports the ports of the last run (after a kill) at the first
        try, fresh ones after that."""
        return self.spawn(lambda attempt:
                          self.write_conf(keep_ports and attempt == 0))

    def smtp(self, role="mx", ehlo=True):
        """An smtplib client on a plain port (mx or submission)."""
        c = smtplib.SMTP("127.0.0.1", self.ports[role], timeout=TIMEOUT)
        if ehlo:
            c.ehlo("client.test")
        return c

    def smtps(self, ehlo=True):
        """An smtplib client on the implicit-TLS submissions port."""
        c = smtplib.SMTP_SSL("127.0.0.1", self.ports["submissions"],
                             timeout=TIMEOUT, context=client_context())
        if ehlo:
            c.ehlo("client.test")
        return c

    def maildir(self, user, folder=None):
        """The Maildir (or Maildir++ folder) of user "local@domain"."""
        local, domain = user.lower().rsplit("@", 1)
        d = os.path.join(self.store, domain, local, "Maildir")
        return d if folder is None else os.path.join(d, "." + folder)

    def messages(self, user, folder=None):
        """The messages in new/ and cur/, oldest first, as bytes."""
        d = self.maildir(user, folder)
        files = []
        for sub in ("new", "cur"):
            try:
                names = os.listdir(os.path.join(d, sub))
            except FileNotFoundError:
                continue
            for n in names:
                p = os.path.join(d, sub, n)
                files.append((os.stat(p).st_mtime_ns, p))
        out = []
        for _, p in sorted(files):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, user, n, folder=None, timeout=TIMEOUT):
        """Until user has at least n messages; returns them."""
        end = time.monotonic() + timeout
        while True:
            msgs = self.messages(user, folder)
            if len(msgs) >= n or time.monotonic() > end:
                return msgs
            time.sleep(0.05)


def body_of(stored):
    """A stored message without the Return-Path: and Received: we add."""
    lines = stored.split(b"\r\n")
    i = 0
    if lines and lines[0].startswith(b"Return-Path:"):
        i = 1
    if i < len(lines) and lines[i].startswith(b"Received:"):
        i += 1
        while i < len(lines) and lines[i].startswith(b"\t"):
            i += 1
    return b"\r\n".join(lines[i:])


class Raw(LineClient):
    """A raw socket client for sequences smtplib will not send."""

    def __init__(self, port, tls=False):
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if tls:
            s = client_context().wrap_socket(s)
        super().__init__(s)
        self.greeting = self.reply()

    def reply(self):
        """One whole reply (all its lines), as text."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=TIMEOUT):
        """True once the server has closed the connection."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except OSError:
            return True


def ensure_entries(slapd, entries):
    """ldapadd each (filter, ldif) whose filter finds nothing yet, so that
    several test modules sharing the session's slapd can ask for the same
    entries."""
    for filt, ldif in entries:
        if "dn:" not in slapd.ldapsearch(filt, "dn"):
            slapd.ldapadd(ldif)


def smtpd_fixture(name, entries=False, **kwargs):
    """A module-scoped pytest fixture called name: Smtpd(**kwargs) in a
    fresh directory, started, stopped at the end of the module; with
    entries, smtpd_entries() are in the directory first.

        strict = smtpd_fixture("strict", smtpd={"idle_timeout": "1s"})
    """
    @pytest.fixture(scope="module", name=name)
    def fixture(slapd, tmp_path_factory):
        if entries:
            ensure_entries(slapd, smtpd_entries(slapd))
        with started(Smtpd(tmp_path_factory.mktemp(name), slapd,
                           **kwargs)) as s:
            yield s
    return fixture


def smtpd_entries(slapd):
    """The directory entries the smtpd tests use, beside alice, bob and
    team: a disabled user, a tiny-quota user, a local and a remote
    forward, a list with a remote member."""
    b = slapd.base
    return [
        ("(uid=sd_disabled)", slapd.ldif_user(
            "sd_disabled", "sd-disabled@example.test",
            bastideAccountStatus="disabled")),
        ("(uid=sd_locked)", slapd.ldif_user(
            "sd_locked", "sd-locked@example.test",
            bastideAccountStatus="locked")),
        ("(uid=sd_quota)", slapd.ldif_user(
            "sd_quota", "sd-quota@example.test", bastideQuota="100")),
        ("(uid=sd_fwd)", slapd.ldif_user(
            "sd_fwd", "sd-fwd@example.test",
            mailRoutingAddress="bob@example.test")),
        ("(uid=sd_out)", slapd.ldif_user(
            "sd_out", "sd-out@example.test",
            mailRoutingAddress="someone@elsewhere.test")),
        ("(cn=sd-list)", "\n".join([
            f"dn: cn=sd-list,ou=groups,{b}",
            "objectClass: groupOfNames",
            "objectClass: inetLocalMailRecipient",
            "cn: sd-list",
            "mailLocalAddress: sd-list@example.test",
            f"member: uid=alice,ou=people,{b}",
            f"member: uid=sd_out,ou=people,{b}",
            f"member: uid=sd_disabled,ou=people,{b}"]) + "\n"),
    ]


def read_env(path):
    """A queue envelope file (common/queue.h, "BSTQ" version 1) as a dict:
    id, arrival, sender, envid, ret, body, smtputf8, auth_user, and rcpts,
    a list of dicts (addr, orcpt, notify, status, attempts, next, error).
    The record numbers are those of common/queue.c."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"BSTQ", data[:8]
    names = {1: "id", 2: "arrival", 3: "sender", 4: "envid", 5: "ret",
             6: "body", 7: "smtputf8", 8: "auth_user"}
    rnames = {1: "addr", 2: "orcpt", 3: "notify", 4: "status",
              5: "attempts", 6: "next", 7: "error"}
    strings = {"id", "sender", "envid", "auth_user", "addr", "orcpt",
               "error"}

    def value(name, v):
        if name in strings:
            return v.decode("utf-8", "replace")
        return int.from_bytes(v, "big")

    def records(buf):
        off = 0
        while off < len(buf):
            typ, n = struct.unpack(">HI", buf[off:off + 6])
            yield typ, buf[off + 6:off + 6 + n]
            off += 6 + n

    env = {"rcpts": []}
    off = 8
    while True:
        typ, n = struct.unpack(">HI", data[off:off + 6])
        if typ == 0xffff:
            crc = int.from_bytes(data[off + 6:off + 10], "big")
            assert crc == zlib.crc32(data[:off + 6]), "bad CRC"
            return env
        v = data[off + 6:off + 6 + n]
        if typ == 9:
            env["rcpts"].append({rnames[t]: value(rnames[t], rv)
                                 for t, rv in records(v)})
        else:
            env[names[typ]] = value(names[typ], v)
        off += 6 + n


def queued(smtpd):
    """Every envelope in the queue directory, parsed, by id."""
    out = {}
    for name in os.listdir(smtpd.queue_dir):
        if name.endswith(".env"):
            e = read_env(os.path.join(smtpd.queue_dir, name))
            out[e["id"]] = e
    return out


def control(smtpd, line, timeout=TIMEOUT):
    """One request on <run_dir>/bastide-smtpd.sock; the reply lines."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(os.path.join(smtpd.run_dir, "bastide-smtpd.sock"))
    s.sendall(line.encode() + b"\n")
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode().splitlines()
