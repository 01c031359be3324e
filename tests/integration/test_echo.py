"""common/net and common/tls, proven through tests/echod.

echod greets "* OK echo ready", echoes every line (through the worker
pool), upgrades on STARTTLS, answers TLSINFO with the negotiated version and
cipher, compresses on COMPRESS (RFC 4978) and closes on QUIT.  These tests
start it with their own config and self-signed certificates in a temporary
directory and drive it with Python sockets, Python's ssl and zlib modules
and gnutls-cli.
"""
import os
import queue
import resource
import selectors
import signal
import socket
import ssl
import subprocess
import threading
import time
import zlib

import pytest

from daemon_util import LineClient, client_context, make_cert, read_log, \
    stop_process

SRC = os.environ.get("BASTIDE_SRC", "/work/main")
BUILD = os.environ.get("BASTIDE_BUILD", os.path.join(SRC, "build"))
ECHOD = os.path.join(BUILD, "tests", "echod")
TIMEOUT = 10


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def have_ipv6():
    try:
        free_port(socket.AF_INET6, "::1")
        return True
    except OSError:
        return False


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("certs"))
    return {n: make_cert(d, n, cn=n + ".localhost") for n in ("a", "b")}


class Echod:
    """One echod process with its config, log and pid file."""

    def __init__(self, d, certs, **keys):
        self.dir = d
        self.cert = os.path.join(d, "cert.pem")
        self.key = os.path.join(d, "key.pem")
        self.install_cert(certs["a"])
        self.port = free_port()
        self.tls_port = free_port()
        self.port6 = free_port(socket.AF_INET6, "::1") if have_ipv6() else None
        listen = ["127.0.0.1:%d" % self.port]
        if self.port6:
            listen.append("[::1]:%d" % self.port6)
        echod = {"listen": " ".join(listen),
                 "listen_tls": "127.0.0.1:%d" % self.tls_port,
                 "max_connections": "50", "max_connections_per_ip": "50",
                 "idle_timeout": "60s", "max_line": "1k"}
        glob = {k[len("global_"):]: v for k, v in keys.items()
                if k.startswith("global_")}
        echod.update({k: v for k, v in keys.items()
                      if not k.startswith("global_")})
        self.conf = os.path.join(d, "echod.conf")
        with open(self.conf, "w") as f:
            f.write("[global]\nrun_dir = %s\nlog_level = info\n"
                    "workers = 4\nshutdown_timeout = 5s\n" % d)
            for k, v in glob.items():
                f.write("%s = %s\n" % (k, v))
            f.write("[tls]\ncert_file = %s\nkey_file = %s\n"
                    "handshake_timeout = 5s\n" % (self.cert, self.key))
            f.write("[echod]\n")
            for k, v in echod.items():
                f.write("%s = %s\n" % (k, v))
        self.pidfile = os.path.join(d, "echod.pid")
        self.logpath = os.path.join(d, "echod.log")
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([ECHOD, "-c", self.conf],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(self.pidfile):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("echod did not start:\n" +
                                     self.read_log())
            time.sleep(0.05)

    def install_cert(self, pair):
        for src, dst in zip(pair, (self.cert, self.key)):
            with open(src, "rb") as f:
                data = f.read()
            with open(dst + ".tmp", "wb") as f:
                f.write(data)
            os.rename(dst + ".tmp", dst)

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        return read_log(self.logpath)

    def wait_log(self, text, count=1):
        deadline = time.monotonic() + TIMEOUT
        while self.read_log().count(text) < count:
            assert time.monotonic() < deadline, "no %r in log:\n%s" % (
                text, self.read_log())
            time.sleep(0.05)

    def stop(self):
        rc = stop_process(self.proc, TIMEOUT)
        self.log.close()
        return rc


@pytest.fixture
def start_echod(tmp_path, certs):
    started = []

    def start(**keys):
        d = tmp_path / ("echod%d" % len(started))
        d.mkdir()
        e = Echod(str(d), certs, **keys)
        started.append(e)
        return e

    yield start
    for e in started:
        rc = e.stop()
        log = e.read_log()
        # under --enable-sanitizers a leak or error shows here
        assert "Sanitizer" not in log, log
        assert rc == 0, "echod exited %s:\n%s" % (rc, log)


class Client(LineClient):
    """A line client over a plain or TLS socket, with timeouts; .pending
    is what was read past the last line."""

    def __init__(self, port, host="127.0.0.1", tls=False):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(socket.create_connection((host, port),
                                                  timeout=TIMEOUT))
        assert self.sock.family == family
        if tls:
            self.starttls()

    @property
    def pending(self):
        return self.buf

    @pending.setter
    def pending(self, data):
        self.buf = data

    def starttls(self, ctx=None):
        self.sock = (ctx or client_context()).wrap_socket(self.sock)

    def rest(self):
        """Everything until the server closes."""
        out = self.pending
        self.pending = b""
        while True:
            data = self.sock.recv(4096)
            if not data:
                return out.decode()
            out += data


class GnutlsCli:
    """gnutls-cli with its output read by a thread, line by line."""

    def __init__(self, args):
        self.proc = subprocess.Popen(
            ["gnutls-cli", "--insecure", "--crlf"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode(errors="replace").rstrip("\r\n"))
        self.lines.put(None)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def expect(self, pred):
        deadline = time.monotonic() + TIMEOUT
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "gnutls-cli output so far:\n" + "\n".join(
                self.seen)
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, "gnutls-cli ended:\n" + "\n".join(
                self.seen)
            self.seen.append(line)
            if pred(line):
                return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)


def test_lines_are_echoed_over_ipv4_and_ipv6(start_echod):
    e = start_echod()
    targets = [("127.0.0.1", e.port)]
    if e.port6:
        targets.append(("::1", e.port6))
    for host, port in targets:
        c = Client(port, host)
        assert c.line() == "* OK echo ready"
        c.send(b"hello\r\nsecond line\r\n")
        assert c.line() == "hello"
        assert c.line() == "second line"
        for i in range(20):       # split writes are framed too
            c.send(b"pie")
            c.send(b"ce %d\r" % i)
            c.send(b"\n")
            assert c.line() == "piece %d" % i
        c.send(b"QUIT\r\n")
        assert c.rest() == "* BYE\r\n"
        c.close()


def test_a_line_past_max_line_gets_bad_and_the_session_goes_on(start_echod):
    e = start_echod(max_line="64")
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    exact = "x" * 62               # 62 + CRLF = 64, the ceiling
    c.send(exact.encode() + b"\r\n")
    assert c.line() == exact
    c.send(b"y" * 63 + b"\r\n")    # one byte past it
    assert c.line() == "BAD line too long"
    c.send(b"z" * 5000 + b"\r\nafter\r\n")
    assert c.line() == "BAD line too long"
    assert c.line() == "after"
    c.close()


def test_implicit_tls_with_gnutls_cli(start_echod):
    e = start_echod()
    cli = GnutlsCli(["-p", str(e.tls_port), "127.0.0.1"])
    try:
        cli.expect(lambda l: l == "* OK echo ready")
        cli.send("ECHOTEST over TLS\n")
        cli.expect(lambda l: l == "ECHOTEST over TLS")
        cli.send("TLSINFO\n")
        info = cli.expect(lambda l: l.startswith("OK ") or
                          l.startswith("NO "))
        assert info.startswith("OK TLS1.3 "), info
    finally:
        cli.stop()


def test_starttls_with_gnutls_cli(start_echod):
    e = start_echod()
    cli = GnutlsCli(["--starttls", "-p", str(e.port), "127.0.0.1"])
    try:
        cli.expect(lambda l: l == "* OK echo ready")
        cli.send("STARTTLS\n")
        cli.expect(lambda l: l == "OK begin TLS")
        cli.proc.send_signal(signal.SIGALRM)   # gnutls-cli: start TLS now
        desc = cli.expect(lambda l: l.startswith("- Description:"))
        assert "TLS1." in desc
        cli.send("TLSINFO\n")
        info = cli.expect(lambda l: l.startswith("OK TLS") or
                          l.startswith("NO "))
        assert info.startswith("OK TLS1."), info
        cli.send("after starttls\n")
        cli.expect(lambda l: l == "after starttls")
    finally:
        cli.stop()


def test_plaintext_pipelined_after_starttls_is_discarded(start_echod):
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    c.send(b"STARTTLS\r\nINJECTED\r\n")
    assert c.line() == "OK begin TLS"
    assert c.pending == b""
    c.starttls()
    c.send(b"TLSINFO\r\nafter\r\nQUIT\r\n")
    rest = c.rest()
    assert rest.startswith("OK TLS1."), rest
    assert "after\r\n" in rest
    assert "INJECTED" not in rest
    c.close()
    e.wait_log("STARTTLS: discarding 10 bytes of plaintext input")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused_and_1_2_accepted(start_echod):
    e = start_echod()
    old = subprocess.run(
        ["gnutls-cli", "--insecure", "-p", str(e.tls_port),
         "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.1", "127.0.0.1"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    assert old.returncode != 0
    assert b"Handshake was completed" not in old.stdout
    tls12 = subprocess.run(
        ["gnutls-cli", "--insecure", "-p", str(e.tls_port),
         "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "127.0.0.1"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    assert b"Handshake was completed" in tls12.stdout, tls12.stdout

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    sock = socket.create_connection(("127.0.0.1", e.tls_port),
                                    timeout=TIMEOUT)
    with pytest.raises((ssl.SSLError, OSError)):
        ctx.wrap_socket(sock)
    sock.close()


def test_per_ip_limit_refuses_the_extra_connection(start_echod):
    e = start_echod(max_connections_per_ip="3")
    clients = [Client(e.port) for _ in range(3)]
    for c in clients:
        assert c.line() == "* OK echo ready"
    extra = Client(e.port)
    assert extra.rest() == "* BYE too many connections\r\n"
    extra.close()
    clients.pop().close()
    e.wait_log("disconnected")
    again = Client(e.port)
    assert again.line() == "* OK echo ready"
    for c in clients + [again]:
        c.close()


def test_global_limit_counts_every_address(start_echod):
    if not have_ipv6():
        pytest.skip("no ::1")
    e = start_echod(max_connections="2", max_connections_per_ip="0")
    a = Client(e.port)
    b = Client(e.port6, "::1")
    assert a.line() == "* OK echo ready"
    assert b.line() == "* OK echo ready"
    extra = Client(e.port6, "::1")
    assert extra.rest() == "* BYE too many connections\r\n"
    for c in (a, b, extra):
        c.close()


def test_idle_timeout_closes_a_silent_connection(start_echod):
    e = start_echod(idle_timeout="1s")
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    c.send(b"still here\r\n")
    assert c.line() == "still here"
    start = time.monotonic()
    assert c.rest() == "* BYE idle timeout\r\n"
    assert 0.5 < time.monotonic() - start < 5
    c.close()


def test_a_thousand_concurrent_connections_are_greeted_and_echoed(
        start_echod):
    n = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 100:
        pytest.skip("RLIMIT_NOFILE hard limit %d" % hard)
    if soft != resource.RLIM_INFINITY and soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, hard))
    e = start_echod(max_connections=str(n + 10),
                    max_connections_per_ip=str(n + 10))
    sel = selectors.DefaultSelector()
    socks = []
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", e.port),
                                         timeout=TIMEOUT)
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ, i)
        got = [b""] * n
        want = [b"* OK echo ready\r\n"] * n

        def collect():
            deadline = time.monotonic() + 60
            done = sum(1 for i in range(n) if got[i] == want[i])
            while done < n:
                assert time.monotonic() < deadline, "%d of %d" % (done, n)
                for key, _ in sel.select(timeout=1):
                    i = key.data
                    data = key.fileobj.recv(4096)
                    assert data, "connection %d closed" % i
                    got[i] += data
                    assert want[i].startswith(got[i]), (i, got[i])
                    if got[i] == want[i]:
                        done += 1

        collect()
        for i, s in enumerate(socks):
            s.sendall(b"ping %d\r\n" % i)
        want = [w + b"ping %d\r\n" % i for i, w in enumerate(want)]
        collect()
    finally:
        sel.close()
        for s in socks:
            s.close()


def test_sighup_reloads_the_certificate_and_keeps_it_on_a_bad_one(
        start_echod, certs):
    e = start_echod()

    def served():
        c = Client(e.tls_port, tls=True)
        der = c.sock.getpeercert(binary_form=True)
        assert c.line() == "* OK echo ready"
        c.close()
        return der

    assert served() == der_of(certs["a"][0])
    old = Client(e.tls_port, tls=True)
    assert old.line() == "* OK echo ready"
    e.install_cert(certs["b"])
    e.proc.send_signal(signal.SIGHUP)
    e.wait_log("TLS certificate reloaded")
    assert served() == der_of(certs["b"][0])
    old.send(b"old session\r\n")       # still on the old credentials
    assert old.line() == "old session"
    old.close()

    with open(e.cert, "w") as f:
        f.write("not a certificate\n")
    e.proc.send_signal(signal.SIGHUP)
    e.wait_log("TLS reload failed")
    assert served() == der_of(certs["b"][0])


def test_sigterm_says_bye_exits_cleanly_and_removes_the_pid_file(
        start_echod):
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    t = Client(e.tls_port, tls=True)
    assert t.line() == "* OK echo ready"
    assert os.path.exists(e.pidfile)
    e.proc.send_signal(signal.SIGTERM)
    assert c.rest() == "* BYE shutting down\r\n"
    assert t.rest() == "* BYE shutting down\r\n"
    assert e.proc.wait(timeout=TIMEOUT) == 0, e.read_log()
    assert not os.path.exists(e.pidfile)
    assert "Sanitizer" not in e.read_log()
    c.close()
    t.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_started_as_root_it_serves_as_the_configured_user(start_echod):
    import pwd
    nobody = pwd.getpwnam("nobody")
    e = start_echod(global_user="nobody")
    c = Client(e.port)
    assert c.line().startswith("* OK")
    c.send(b"after the drop\r\n")
    assert c.line() == "after the drop"
    c.close()
    with open("/proc/%d/status" % e.proc.pid) as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    uids = status["Uid"].split()
    gids = status["Gid"].split()
    assert uids == [str(nobody.pw_uid)] * 4, uids
    assert gids == [str(nobody.pw_gid)] * 4, gids
    assert status["Groups"].split() in ([], [str(nobody.pw_gid)])


def test_sighup_with_a_broken_config_keeps_serving_with_the_old_one(
        start_echod):
    e = start_echod()
    with open(e.conf) as f:
        good = f.read()
    with open(e.conf, "a") as f:
        f.write("no_such_key = 1\n")
    e.proc.send_signal(signal.SIGHUP)
    e.wait_log("unknown key 'no_such_key' in [echod]; keeping the running "
               "configuration")
    c = Client(e.port)
    assert c.line().startswith("* OK")
    c.send(b"still here\r\n")
    assert c.line() == "still here"
    c.close()
    with open(e.conf, "w") as f:
        f.write(good)
    e.proc.send_signal(signal.SIGHUP)
    e.wait_log("reload: %s read" % e.conf)
    assert e.proc.poll() is None


# COMPRESS=DEFLATE (RFC 4978): Python's zlib plays the client, raw deflate
# (wbits -15) both ways, with the flush modes real clients use.

class ZClient:
    """A Client after COMPRESS: deflates what it sends, inflates what it
    reads."""

    def __init__(self, client):
        self.c = client
        self.co = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.do = zlib.decompressobj(-15)
        self.pending = b""

    def adopt(self):
        """After the OK: what the Client read beyond it is compressed."""
        self.pending = self.do.decompress(self.c.pending)
        self.c.pending = b""

    def compress(self, data, flush=zlib.Z_SYNC_FLUSH):
        out = self.co.compress(data)
        if flush != zlib.Z_NO_FLUSH:
            out += self.co.flush(flush)
        return out

    def send(self, data, flush=zlib.Z_SYNC_FLUSH):
        self.c.send(self.compress(data, flush))

    def line(self):
        while b"\r\n" not in self.pending:
            data = self.c.sock.recv(65536)
            if not data:
                raise EOFError("closed; pending %r" % self.pending)
            self.pending += self.do.decompress(data)
        line, self.pending = self.pending.split(b"\r\n", 1)
        return line.decode()

    def rest(self):
        """Everything until the server closes, decompressed."""
        out = self.pending
        self.pending = b""
        while True:
            data = self.c.sock.recv(65536)
            if not data:
                return out.decode()
            out += self.do.decompress(data)


def compress_on(c, command=b"COMPRESS", also=b""):
    """COMPRESS (optionally with compressed bytes right behind it)."""
    z = ZClient(c)
    c.send(command + b"\r\n" + (z.compress(also) if also else b""))
    assert c.line() == "OK deflate active"
    z.adopt()
    return z


@pytest.mark.parametrize("command", [b"COMPRESS", b"COMPRESS NOW"])
def test_compress_echoes_lines_sent_with_sync_flush(start_echod, command):
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    z = compress_on(c, command)
    z.send(b"hello\r\n")
    assert z.line() == "hello"
    z.send(b"one\r\ntwo\r\nthree\r\n")     # several in one flush
    assert [z.line() for _ in range(3)] == ["one", "two", "three"]
    z.send(b"TLSINFO\r\n")
    assert z.line() == "NO not TLS"
    z.send(b"STARTTLS\r\n")              # TLS can not go under it now
    assert z.line() == "NO compression is active"
    z.send(b"x" * 2000 + b"\r\nafter\r\n")   # max_line still applies
    assert z.line() == "BAD line too long"
    assert z.line() == "after"
    z.send(b"QUIT\r\n")
    assert z.rest() == "* BYE\r\n"
    c.close()
    e.wait_log("COMPRESS=DEFLATE started")


@pytest.mark.parametrize("command", [b"COMPRESS", b"COMPRESS NOW"])
def test_compressed_bytes_right_behind_compress_are_inflated(start_echod,
                                                             command):
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    z = compress_on(c, command, also=b"early\r\n")
    assert z.line() == "early"
    z.send(b"later\r\n")
    assert z.line() == "later"
    c.close()


def test_partial_flush_lines_are_answered_without_more_input(start_echod):
    """Thunderbird ends its commands with Z_PARTIAL_FLUSH, not a sync
    marker: each must be answered before the client sends anything else."""
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    z = compress_on(c)
    for i in range(30):
        z.send(b"a%d NOOP with some text %d\r\n" % (i, i * i),
               zlib.Z_PARTIAL_FLUSH)
        assert z.line() == "a%d NOOP with some text %d" % (i, i * i)
    z.send(b"pie", zlib.Z_PARTIAL_FLUSH)  # one line over two flushes
    z.send(b"ce\r\n", zlib.Z_PARTIAL_FLUSH)
    assert z.line() == "piece"
    z.send(b"full\r\n", zlib.Z_FULL_FLUSH)
    assert z.line() == "full"
    c.close()


def test_compressed_input_byte_at_a_time_is_framed(start_echod):
    e = start_echod()
    c = Client(e.port)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert c.line() == "* OK echo ready"
    z = compress_on(c)
    lines = [b"byte %d at a time" % i for i in range(5)]
    data = b"".join(z.compress(l + b"\r\n", zlib.Z_PARTIAL_FLUSH)
                    for l in lines)
    for i in range(len(data)):
        c.send(data[i:i + 1])
        time.sleep(0.001)
    assert [z.line() for _ in lines] == [l.decode() for l in lines]
    c.close()


def test_a_megabyte_of_compressed_lines_comes_back_intact(start_echod):
    import random
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    z = compress_on(c)
    rnd = random.Random(4978)
    alphabet = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789"
    lines = []
    total = 0
    while total < 1 << 20:
        line = b"%d " % len(lines) + bytes(
            rnd.choice(alphabet) for _ in range(rnd.randrange(1, 200)))
        lines.append(line)
        total += len(line) + 2
    failure = []

    def sender():
        try:
            for i in range(0, len(lines), 50):
                chunk = b"".join(l + b"\r\n" for l in lines[i:i + 50])
                mode = (zlib.Z_PARTIAL_FLUSH, zlib.Z_SYNC_FLUSH,
                        zlib.Z_NO_FLUSH)[(i // 50) % 3]
                z.send(chunk, mode)
            z.send(b"", zlib.Z_SYNC_FLUSH)
        except Exception as ex:           # reported by the main thread
            failure.append(ex)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    c.sock.settimeout(30)
    for i, want in enumerate(lines):
        got = z.line()
        assert got == want.decode(), "line %d: got %r, want %r" % (
            i, got, want)
    t.join(timeout=TIMEOUT)
    assert not failure, failure
    z.send(b"QUIT\r\n")
    assert z.rest() == "* BYE\r\n"
    c.close()


def test_compress_works_over_starttls(start_echod):
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    c.send(b"STARTTLS\r\n")
    assert c.line() == "OK begin TLS"
    c.starttls()
    z = compress_on(c)
    z.send(b"TLSINFO\r\n")
    info = z.line()
    assert info.startswith("OK TLS1."), info
    z.send(b"under tls\r\n", zlib.Z_PARTIAL_FLUSH)
    assert z.line() == "under tls"
    big = b"y" * 1000
    z.send(b"".join(big + b"%d\r\n" % i for i in range(300)))
    for i in range(300):
        assert z.line() == (big + b"%d" % i).decode()
    z.send(b"QUIT\r\n")
    assert z.rest() == "* BYE\r\n"
    c.close()


def test_garbage_compressed_input_closes_only_that_connection(start_echod):
    e = start_echod()
    good = Client(e.port)
    bad = Client(e.port)
    plain = Client(e.port)
    for c in (good, bad, plain):
        assert c.line() == "* OK echo ready"
    zgood = compress_on(good)
    zbad = compress_on(bad)
    zbad.send(b"fine so far\r\n")
    assert zbad.line() == "fine so far"
    bad.send(b"\xff\xfe\xfd\xfc")         # an invalid block type
    assert zbad.rest() == ""
    e.wait_log("COMPRESS: bad compressed input from 127.0.0.1, closing: "
               "invalid block type")
    zgood.send(b"still here\r\n")
    assert zgood.line() == "still here"
    plain.send(b"me too\r\n")
    assert plain.line() == "me too"
    for c in (good, bad, plain):
        c.close()


def test_compress_twice_is_refused_and_the_session_goes_on(start_echod):
    e = start_echod()
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    z = compress_on(c)
    for command in (b"COMPRESS", b"COMPRESS NOW"):
        z.send(command + b"\r\n")
        assert z.line() == "NO compression is already active"
    z.send(b"still compressed\r\n")
    assert z.line() == "still compressed"
    c.close()


def test_compressed_input_that_expands_a_thousandfold_is_framed_in_steps(
        start_echod):
    """16 MB of one byte compress to about 16 KB; the server inflates them
    in bounded steps (letting other connections run) and goes on."""
    e = start_echod()
    c = Client(e.port)
    other = Client(e.port)
    assert c.line() == "* OK echo ready"
    assert other.line() == "* OK echo ready"
    z = compress_on(c)
    bomb = z.compress(b"x" * (16 << 20) + b"\r\nafter\r\n")
    assert len(bomb) < 64 * 1024
    c.send(bomb)
    other.send(b"meanwhile\r\n")
    assert other.line() == "meanwhile"
    assert z.line() == "BAD line too long"
    assert z.line() == "after"
    c.close()
    other.close()


def test_a_reply_larger_than_a_write_chunk_is_compressed_whole(start_echod):
    """A 200 KB reply is deflated in several chunks, flushed only at the
    end: it must come back whole, and smaller than it went."""
    import random
    e = start_echod(max_line="256k")
    c = Client(e.port)
    assert c.line() == "* OK echo ready"
    z = compress_on(c)
    rnd = random.Random(16384)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"%d" % rnd.random()]
    line = b" ".join(rnd.choice(words) for _ in range(200 * 1024 // 6))
    z.send(line + b"\r\n")
    raw = 0
    while b"\r\n" not in z.pending:
        data = c.sock.recv(65536)
        assert data, "closed"
        raw += len(data)
        z.pending += z.do.decompress(data)
    assert z.line() == line.decode()
    assert raw < len(line) // 2, (raw, len(line))
    c.close()
