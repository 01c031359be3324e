"""What every integration test needs to run a daemon of its own.

    from daemon_util import Daemon, started, make_cert, client_context

A Daemon subclass (smtpd_util.Smtpd, imapd_util.Imapd) sets .binary,
.name, .conf, .log_path and .ports, writes its config in write_conf(), and
gets from here: start() in the foreground with its output appended to its
log and a bounded wait for every TCP port (three tries with fresh ports),
stop() by pid (SIGTERM, then SIGKILL if it lingers), kill(), restart(),
reload(), running(), log() and .pid.  started(daemon) stops it however the
block ends, for fixtures:

    @pytest.fixture(scope="module")
    def smtpd(slapd, tmp_path_factory):
        with started(Smtpd(tmp_path_factory.mktemp("smtpd"), slapd)) as s:
            yield s

Also: make_cert() (self-signed, by certtool), client_context() (TLS that
accepts it), wait_port(), stop_process(), read_log(), conf_section() and
LineClient (a CRLF line socket).  Nothing here knows about LDAP or about
one daemon in particular; conftest.py has free_port() and the slapd.
"""
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time

TIMEOUT = 10


def make_cert(d, name, cn="localhost"):
    """A self-signed ECDSA certificate and key <d>/<name>-{cert,key}.pem
    for localhost and 127.0.0.1, made by certtool: (cert, key).  One
    already there is kept."""
    key = os.path.join(d, name + "-key.pem")
    cert = os.path.join(d, name + "-cert.pem")
    if os.path.exists(cert):
        return cert, key
    tmpl = os.path.join(d, name + ".tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "%s"\ndns_name = "localhost"\n'
                'ip_address = "127.0.0.1"\nexpiration_days = 2\n'
                'tls_www_server\n' % cn)
    subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                    "--outfile", key], check=True, capture_output=True,
                   timeout=60)
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey",
                    key, "--template", tmpl, "--outfile", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def client_context():
    """A TLS client context that accepts our self-signed certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def wait_port(port, pid=None, timeout=TIMEOUT):
    """Until 127.0.0.1:port accepts, or the process pid is gone."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pid is not None:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return False
            except ChildProcessError:
                return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(proc, timeout=TIMEOUT):
    """SIGTERM a Popen by pid, then SIGKILL if it lingers past timeout;
    waits for it and returns its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    return proc.returncode


def read_log(path):
    """The whole text of a log file, "" when there is none yet."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def conf_section(name, keys):
    """One INI section "[name]" with a "key = value" line per item."""
    return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())


@contextlib.contextmanager
def started(daemon):
    """daemon.start(), and daemon.stop() when the block ends, however."""
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


class Daemon:
    """A bastide daemon run in the foreground (-f -c conf), stopped by its
    pid.  Subclasses set binary, name, conf, log_path and ports (a dict of
    TCP ports to wait for) and define write_conf()."""

    binary = None
    name = "daemon"
    proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def spawn(self, write_conf):
        """Up to three times: write_conf(attempt) (attempt 0, 1, 2), start,
        wait for every port; a port taken meanwhile or an early exit
        means another try.  Returns self; raises AssertionError with the
        end of the log when all three fail."""
        last = ""
        for attempt in range(3):
            write_conf(attempt)
            log = open(self.log_path, "a")
            self.proc = subprocess.Popen([self.binary, "-f", "-c",
                                          self.conf],
                                         stdout=log, stderr=log)
            log.close()
            if all(wait_port(p, self.proc.pid) for p in self.ports.values()):
                return self
            last = self.log()
            Daemon.stop(self)
        raise AssertionError(f"{self.name} did not start:\n" + last[-3000:])

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=False):
        """SIGTERM by pid, then SIGKILL if it lingers; waits for it.  With
        check, a clean exit is asserted: status 0, no sanitizer report."""
        if self.proc is None:
            return
        rc = stop_process(self.proc)
        self.proc = None
        if check:
            log = self.log()
            assert "Sanitizer" not in log, log[-5000:]
            assert rc == 0, "%s exited %s:\n%s" % (self.name, rc,
                                                   log[-3000:])

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def log(self):
        return read_log(self.log_path)


class LineClient:
    """A socket read as CRLF-ended lines, for what the stock clients will
    not send; .buf holds what was read past the last line."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self, timeout=None):
        """One line without its CRLF, as text; with timeout, at most that
        long between reads (raises socket.timeout)."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
