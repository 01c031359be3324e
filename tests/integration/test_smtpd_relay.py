"""bastide-smtpd's outbound queue and relay client against a test SMTP sink.

The sink is a small threaded SMTP server in this file: EHLO with
PIPELINING, 8BITMIME, SIZE, STARTTLS (a certificate made by certtool),
AUTH PLAIN after TLS, scripted replies per recipient, and a record of
every message it took.  smtpd relays to it ([queue] relay_host) with
retries of about a second, so a temporary failure is retried, a
permanent one bounced to the local sender's Maildir, a SIGKILLed smtpd's
queue delivered after the restart, and every relay uses STARTTLS and
AUTH PLAIN.
"""
import base64
import os
import socket
import ssl
import threading
import time

import pytest

from conftest import free_port
from smtpd_util import Smtpd, client_context, control, make_cert, queued

TIMEOUT = 15
RELAY_USER = "relayuser"
RELAY_PASSWORD = "s3cret relay password"


class Sink:
    """A threaded SMTP server on 127.0.0.1 that records what it gets.

    replies: address -> list of RCPT replies used one per attempt (the
    last one repeats); others get "250 2.1.5 ok".  starttls: offer it
    (required for AUTH).  auth: require AUTH PLAIN with RELAY_USER."""

    def __init__(self, cert, key, port=None, starttls=True, auth=True,
                 replies=None):
        self.cert, self.key = cert, key
        self.starttls = starttls
        self.auth = auth
        self.replies = dict(replies or {})
        self.attempts = {}
        self.messages = []      # dicts: sender, rcpts, data, tls, user
        self.sessions = 0
        self.lock = threading.Lock()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port or 0))
        self.port = self.lsock.getsockname()[1]
        self.lsock.listen(16)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        self.thread.join(timeout=TIMEOUT)

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,),
                             daemon=True).start()

    def wait(self, n, timeout=TIMEOUT):
        """Until n messages arrived; returns them."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)

    def rcpt_reply(self, addr):
        with self.lock:
            n = self.attempts.get(addr, 0)
            self.attempts[addr] = n + 1
        script = self.replies.get(addr)
        if not script:
            return "250 2.1.5 ok"
        return script[min(n, len(script) - 1)]

    def session(self, sock):
        with self.lock:
            self.sessions += 1
        sock.settimeout(TIMEOUT)
        buf = b""
        tls = False
        user = None

        def send(s):
            sock.sendall(s.encode() + b"\r\n")

        def line():
            nonlocal buf
            while b"\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            ln, buf = buf.split(b"\n", 1)
            return ln.rstrip(b"\r")

        sender, rcpts = None, []
        try:
            send("220 sink.test ESMTP")
            while True:
                cmd = line().decode("utf-8", "replace")
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    ext = ["sink.test", "PIPELINING", "8BITMIME",
                           "SIZE 10000000", "ENHANCEDSTATUSCODES"]
                    if self.starttls and not tls:
                        ext.append("STARTTLS")
                    if tls:
                        ext.append("AUTH PLAIN")
                    for e in ext[:-1]:
                        send("250-" + e)
                    send("250 " + ext[-1])
                elif verb == "STARTTLS" and self.starttls and not tls:
                    send("220 2.0.0 go ahead")
                    assert buf == b"", "pipelined after STARTTLS"
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(self.cert, self.key)
                    sock = ctx.wrap_socket(sock, server_side=True)
                    tls = True
                    sender, rcpts = None, []
                elif verb == "AUTH" and tls:
                    parts = cmd.split(" ")
                    raw = base64.b64decode(parts[2]) if len(parts) > 2 \
                        else b""
                    fields = raw.split(b"\0")
                    if fields[1:] == [RELAY_USER.encode(),
                                      RELAY_PASSWORD.encode()]:
                        user = RELAY_USER
                        send("235 2.7.0 ok")
                    else:
                        send("535 5.7.8 bad credentials")
                elif verb == "MAIL":
                    if self.auth and user is None:
                        send("530 5.7.0 authentication required")
                        continue
                    sender = cmd[cmd.index("<") + 1:cmd.index(">")]
                    rcpts = []
                    send("250 2.1.0 ok")
                elif verb == "RCPT":
                    addr = cmd[cmd.index("<") + 1:cmd.index(">")]
                    reply = self.rcpt_reply(addr)
                    if reply.startswith("2"):
                        rcpts.append(addr)
                    send(reply)
                elif verb == "DATA":
                    if sender is None or not rcpts:
                        send("554 5.5.1 no valid recipients")
                        continue
                    send("354 go ahead")
                    data = []
                    while True:
                        ln = line()
                        if ln == b".":
                            break
                        data.append(ln[1:] if ln.startswith(b".") else ln)
                    with self.lock:
                        self.messages.append({
                            "sender": sender, "rcpts": rcpts,
                            "data": b"\r\n".join(data) + b"\r\n",
                            "tls": tls, "user": user})
                    sender, rcpts = None, []
                    send("250 2.0.0 queued")
                elif verb == "RSET":
                    sender, rcpts = None, []
                    send("250 2.0.0 ok")
                elif verb == "NOOP":
                    send("250 2.0.0 ok")
                elif verb == "QUIT":
                    send("221 2.0.0 bye")
                    break
                else:
                    send("502 5.5.1 not here")
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass


def relay_keys(d, port, **more):
    """[queue] keys: the sink as relay host, fast retries, AUTH."""
    pw = os.path.join(str(d), "relay-password")
    with open(pw, "w") as f:
        f.write(RELAY_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    keys = {"relay_host": f"127.0.0.1:{port}", "retry_min": "1s",
            "retry_max": "1s", "connect_timeout": "2s",
            "command_timeout": "5s", "relay_user": RELAY_USER,
            "relay_password_file": pw, "tls": "encrypt"}
    keys.update(more)
    return keys


def wait_until(pred, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_cert(str(tmp_path_factory.mktemp("sinkcert")), "sink")


@pytest.fixture(scope="module")
def sink(certs):
    s = Sink(*certs, replies={
        "later@remote.test": ["451 4.3.0 greylisted, try again later",
                              "250 2.1.5 ok"],
        "gone@remote.test": ["550 5.1.1 <gone@remote.test>: no such user"],
    })
    yield s
    s.close()


@pytest.fixture(scope="module")
def smtpd(slapd, sink, tmp_path_factory):
    d = tmp_path_factory.mktemp("relay")
    s = Smtpd(d, slapd, queue=relay_keys(d, sink.port)).start()
    yield s
    s.stop()


def submit(smtpd, slapd, sender, rcpts, body):
    """Submission over implicit TLS as alice."""
    with smtpd.smtps() as c:
        c.login("alice", slapd.password("alice"))
        refused = c.sendmail(sender, rcpts, body)
    assert refused == {}


def message(subject):
    return (f"From: alice@example.test\r\nTo: someone@remote.test\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject}@example.test>"
            f"\r\n\r\nHello from the relay test.\r\n.leading dot\r\n"
            ).encode()


def for_rcpt(msgs, addr):
    return [m for m in msgs if addr in m["rcpts"]]


def test_remote_mail_is_relayed_with_starttls_and_auth(smtpd, slapd, sink):
    body = message("relay1")
    submit(smtpd, slapd, "alice@example.test", ["friend@remote.test"], body)
    assert wait_until(lambda: for_rcpt(sink.messages, "friend@remote.test"))
    m = for_rcpt(sink.messages, "friend@remote.test")[0]
    assert m["sender"] == "alice@example.test"
    assert m["tls"] is True
    assert m["user"] == RELAY_USER
    # what alice sent, after smtpd's own trace header
    assert m["data"].endswith(body), m["data"]
    assert b"Received: " in m["data"]
    assert wait_until(lambda: not queued(smtpd)), queued(smtpd)


def test_a_temporary_failure_is_retried_until_it_goes_through(smtpd, slapd,
                                                               sink):
    body = message("relay2")
    submit(smtpd, slapd, "alice@example.test", ["later@remote.test"], body)
    assert wait_until(lambda: for_rcpt(sink.messages, "later@remote.test"))
    assert sink.attempts["later@remote.test"] >= 2
    m = for_rcpt(sink.messages, "later@remote.test")[0]
    assert m["data"].endswith(body)
    assert wait_until(lambda: not queued(smtpd)), queued(smtpd)
    assert "status=deferred (host 127.0.0.1[127.0.0.1] said: 451 4.3.0" \
        in smtpd.log()


def test_a_permanent_failure_bounces_to_the_local_sender(smtpd, slapd, sink):
    before = len(smtpd.messages("alice@example.test"))
    body = message("relay3")
    submit(smtpd, slapd, "alice@example.test",
           ["gone@remote.test", "fine@remote.test"], body)
    msgs = smtpd.wait_messages("alice@example.test", before + 1)
    assert len(msgs) == before + 1
    dsn = msgs[-1]
    assert dsn.startswith(b"Return-Path: <>\r\n"), dsn[:200]
    for want in (b"Subject: Undelivered Mail Returned to Sender",
                 b"Auto-Submitted: auto-replied",
                 b"report-type=delivery-status",
                 b"Content-Type: message/delivery-status",
                 b"Reporting-MTA: dns; mx.test",
                 b"Final-Recipient: rfc822; gone@remote.test",
                 b"Action: failed", b"Status: 5.1.1",
                 b"Remote-MTA: dns; 127.0.0.1",
                 b"Diagnostic-Code: smtp; 550 5.1.1 <gone@remote.test>: "
                 b"no such user",
                 b"Content-Type: message/rfc822",
                 b"Subject: relay3"):
        assert want in dsn, (want, dsn)
    assert b"Final-Recipient: rfc822; fine@remote.test" not in dsn
    # the other recipient went through, once
    assert wait_until(lambda: for_rcpt(sink.messages, "fine@remote.test"))
    assert len(for_rcpt(sink.messages, "fine@remote.test")) == 1
    assert wait_until(lambda: not queued(smtpd)), queued(smtpd)


def test_encrypt_keeps_mail_queued_for_a_server_without_starttls(
        slapd, certs, tmp_path_factory):
    plain = Sink(*certs, starttls=False, auth=False)
    d = tmp_path_factory.mktemp("encrypt")
    s = Smtpd(d, slapd, queue=relay_keys(d, plain.port, relay_user="",
                                         retry_min="1h",
                                         retry_max="1h")).start()
    try:
        submit(s, slapd, "alice@example.test", ["x@remote.test"],
               message("relay4"))
        assert wait_until(lambda: any(
            r.get("attempts", 0) >= 1 for e in queued(s).values()
            for r in e["rcpts"]))
        env = list(queued(s).values())[0]
        assert env["rcpts"][0]["error"].startswith(
            "4.7.4 TLS is required, but 127.0.0.1[127.0.0.1] does not "
            "offer STARTTLS"), env
        assert plain.messages == []
        # the envelope is written before the attempt is over in memory
        assert wait_until(lambda: "(4.7.4 TLS is required" in
                          "\n".join(control(s, "list")))
    finally:
        s.stop()
        plain.close()


def test_the_queue_survives_sigkill_and_a_restart(slapd, certs,
                                                   tmp_path_factory):
    port = free_port()          # nothing listens there yet
    d = tmp_path_factory.mktemp("restart")
    s = Smtpd(d, slapd, queue=relay_keys(d, port))
    s.start()
    sink2 = None
    try:
        body = message("relay5")
        submit(s, slapd, "alice@example.test", ["later2@remote.test"], body)
        assert len(queued(s)) == 1
        s.kill()
        # the acknowledged message is on disk, envelope and all
        envs = queued(s)
        assert len(envs) == 1
        qid, env = next(iter(envs.items()))
        assert env["rcpts"][0]["addr"] == "later2@remote.test"
        assert os.path.exists(os.path.join(s.queue_dir, qid + ".msg"))
        sink2 = Sink(*certs, port=port)
        s.start(keep_ports=True)
        msgs = sink2.wait(1)
        assert len(msgs) == 1, s.log()[-3000:]
        assert msgs[0]["rcpts"] == ["later2@remote.test"]
        assert msgs[0]["data"].endswith(body)
        assert wait_until(lambda: not queued(s)), queued(s)
    finally:
        s.stop()
        if sink2 is not None:
            sink2.close()
