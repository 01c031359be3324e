"""Start and drive a private bastide-imapd, for the test_imapd*.py files.

    from imapd_util import Imapd

    @pytest.fixture(scope="module")
    def imapd(slapd, tmp_path_factory):
        d = Imapd(tmp_path_factory.mktemp("imapd"), slapd).start()
        yield d
        d.stop()        # asserts a clean exit (check=False: does not)

An Imapd lives in its own directory with its own store root, run_dir, log
and a self-signed certificate made with certtool; it talks to the given
Slapd (conftest.py).  Ports come from free_port(): .ports["imap"] (plain,
STARTTLS) and .ports["imaps"] (implicit TLS).

Attributes: .dir .conf .store .run_dir .log_path .cert .ports .pid
Methods: start() stop() kill() restart() reload() running() log()
             (from daemon_util.Daemon)
         imap(login=None) / imaps(login=None, password=None): imaplib
             clients, connected (and logged in as login, a demo user name
             or, with password, any address, over STARTTLS for imap())
         raw(tls=False): a RawClient (line-level socket)
         deliver(user, msg, folder=None, flags=""): drop a message into
             the user's Maildir the way another program would (tmp/, then
             rename into new/, or cur/ with flags), returns the file name
         maildir(user, folder=None)
Also: fresh_user(slapd, prefix, **attrs) (a new directory user),
message() (a small RFC 5322 message).
"""
import imaplib
import itertools
import os
import socket
import ssl
import time

from conftest import BUILD, free_port
from daemon_util import (TIMEOUT, Daemon, LineClient, client_context,
                         conf_section, make_cert)

IMAPD = os.path.join(BUILD, "imapd", "bastide-imapd")

_seq = [0]
_users = itertools.count(1)


class RawClient(LineClient):
    """Bytes in, lines out: for what imaplib will not send."""

    def __init__(self, port, tls=False, timeout=TIMEOUT):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            s = client_context().wrap_socket(s, server_hostname="localhost")
        super().__init__(s)

    def line(self, timeout=TIMEOUT):
        """One line without its CRLF; raises socket.timeout."""
        return super().line(timeout)

    def until_tagged(self, tag, timeout=TIMEOUT):
        """Lines up to and including the one starting with tag + SP."""
        lines = []
        end = time.monotonic() + timeout
        while True:
            line = self.line(max(0.1, end - time.monotonic()))
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def cmd(self, tag, text, timeout=TIMEOUT):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag, timeout)

    def closed(self, timeout=TIMEOUT):
        """True when the server closes (after whatever it still sends)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False


class Imapd(Daemon):
    """One bastide-imapd with its config, directories and ports."""

    binary = IMAPD
    name = "bastide-imapd"

    def __init__(self, d, slapd, imapd=None, global_=None, extra=""):
        self.dir = str(d)
        self.slapd = slapd
        self.conf = os.path.join(self.dir, "bastide.conf")
        self.store = os.path.join(self.dir, "store")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_path = os.path.join(self.dir, "imapd.log")
        self.cert, self.key = make_cert(self.dir, "imapd")
        self.ports = {}
        self.imapd_keys = {"allow_plaintext_auth_on_loopback": "no"}
        self.imapd_keys.update(imapd or {})
        self.global_keys = {"hostname": "imap.test",
                            "run_dir": self.run_dir, "log_level": "debug",
                            "workers": "8", "shutdown_timeout": "3s"}
        self.global_keys.update(global_ or {})
        self.extra = extra

    def write_conf(self):
        self.ports = {"imap": free_port(), "imaps": free_port()}
        keys = dict(self.imapd_keys)
        keys.setdefault("listen", f"127.0.0.1:{self.ports['imap']}")
        keys.setdefault("listen_tls", f"127.0.0.1:{self.ports['imaps']}")
        extra = (conf_section("global", self.global_keys)
                 + conf_section("tls", {"cert_file": self.cert,
                                        "key_file": self.key})
                 + conf_section("store", {"root": self.store})
                 + conf_section("imapd", keys)
                 + self.extra)
        self.slapd.write_conf(self.conf, extra=extra)

    def start(self):
        """Start in the foreground (-f), wait for both ports."""
        os.makedirs(self.run_dir, exist_ok=True)
        return self.spawn(lambda attempt: self.write_conf())

    def stop(self, check=True):
        """SIGTERM by pid, then SIGKILL if it lingers; waits for it.  With
        check, a clean exit is asserted: status 0, no sanitizer report."""
        super().stop(check)

    def imap(self, login=None, starttls=True):
        """imaplib on the plain port; with login, STARTTLS then LOGIN."""
        c = imaplib.IMAP4("127.0.0.1", self.ports["imap"], timeout=TIMEOUT)
        if login is not None:
            if starttls:
                c.starttls(client_context())
            c.login(self.address(login), self.slapd.password(login))
        return c

    def imaps(self, login=None, password=None, timeout=TIMEOUT):
        """imaplib on the implicit-TLS port, logged in as login (with the
        demo user's password unless password is given)."""
        c = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"],
                              ssl_context=client_context(),
                              timeout=timeout)
        if login is not None:
            if password is None:
                password = self.slapd.password(login)
            c.login(self.address(login), password)
        return c

    def raw(self, tls=False):
        return RawClient(self.ports["imaps" if tls else "imap"], tls=tls)

    @staticmethod
    def address(user):
        return user if "@" in user else f"{user}@example.test"

    def maildir(self, user, folder=None):
        local, domain = self.address(user).split("@")
        d = os.path.join(self.store, domain, local, "Maildir")
        if folder is not None and folder.upper() != "INBOX":
            d = os.path.join(d, "." + folder.replace("/", "."))
        return d

    def deliver(self, user, msg, folder=None, flags=None):
        """Write msg (bytes or str) into tmp/ and rename it into new/
        (or into cur/ with ":2,<flags>"), as a foreign MDA would."""
        if isinstance(msg, str):
            msg = msg.encode()
        d = self.maildir(user, folder)
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        _seq[0] += 1
        now = time.time()
        base = "%d.M%dP%dQ%d.imaptest,S=%d" % (
            int(now), int((now % 1) * 1e6), os.getpid(), _seq[0], len(msg))
        tmp = os.path.join(d, "tmp", base)
        with open(tmp, "wb") as f:
            f.write(msg)
            f.flush()
            os.fsync(f.fileno())
        if flags is None:
            dst = os.path.join(d, "new", base)
        else:
            dst = os.path.join(d, "cur", base + ":2," + flags)
        os.rename(tmp, dst)
        return os.path.basename(dst)


def fresh_user(slapd, prefix, **attrs):
    """A fresh directory user "<prefix><n>x<pid>@example.test" with the
    given extra LDAP attributes: (address, password)."""
    uid = f"{prefix}{next(_users)}x{os.getpid()}"
    mail = f"{uid}@example.test"
    pw = f"pw-{uid}"
    slapd.ldapadd(slapd.ldif_user(uid, mail, pw, **attrs))
    return mail, pw


def message(subject="test", body="hello\r\n", sender="carol@example.org",
            to="alice@example.test"):
    """A small RFC 5322 message as bytes."""
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            "Message-ID: <%s.%d@example.org>\r\n\r\n%s" % (
                sender, to, subject, subject.replace(" ", "."),
                time.monotonic_ns(), body)).encode()
