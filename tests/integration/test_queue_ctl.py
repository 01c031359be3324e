"""bastidectl queue list | flush [ID] | delete ID | hold ID | release ID.

Queue entries are written by tests/mkqueue (common/queue.c itself), so
the listing is checked against the real envelope format.  "list" reads
the directory; the other commands go to smtpd's control socket, here a
small Python Unix-socket server that records the request line and
answers like smtpd would; with nobody listening, delete/hold/release
work on the files and flush says smtpd is not running (exit 75).
"""
import os
import socket
import subprocess
import threading
import time

import pytest

SRC = os.environ.get("BASTIDE_SRC", "/work/main")
BUILD = os.environ.get("BASTIDE_BUILD", os.path.join(SRC, "build"))
CTL = os.path.join(BUILD, "tools", "bastidectl")
MKQUEUE = os.path.join(BUILD, "tests", "mkqueue")
ARRIVAL = 1764000000            # 2025-11-24T16:00:00Z


class Env:
    """A bastide.conf with its own run_dir and queue dir."""

    def __init__(self, tmp_path):
        self.run = tmp_path / "run"
        self.queue = tmp_path / "queue"
        self.hold = self.queue / "hold"
        self.run.mkdir()
        self.conf = tmp_path / "bastide.conf"
        self.conf.write_text("[global]\nrun_dir = %s\n\n[queue]\ndir = %s\n"
                             % (self.run, self.queue))
        self.sock = self.run / "bastide-smtpd.sock"

    def ctl(self, *args):
        return subprocess.run([CTL, "-c", str(self.conf), "queue", *args],
                              capture_output=True, text=True, timeout=30)

    def mkqueue(self, id, sender, *rcpts, held=False, arrival=ARRIVAL,
                size=None):
        d = self.hold if held else self.queue
        d.mkdir(parents=True, exist_ok=True)
        args = [MKQUEUE, "-a", str(arrival)]
        if size is not None:
            args += ["-s", str(size)]
        r = subprocess.run(args + [str(d), id, sender, *rcpts],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr

    def files(self):
        """Every file under the queue dir, as relative paths."""
        out = set()
        for root, _, names in os.walk(self.queue):
            for n in names:
                out.add(os.path.relpath(os.path.join(root, n), self.queue))
        return out


class FakeSmtpd:
    """Answers each connection's one request line with answer(line)."""

    def __init__(self, path, answer=lambda line: "OK\n"):
        self.path = str(path)
        self.answer = answer
        self.lines = []
        self.stopping = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except socket.timeout:
                    continue
                line = data.split(b"\n", 1)[0].decode()
                self.lines.append(line)
                conn.sendall(self.answer(line).encode())

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


@pytest.fixture
def fake(env):
    made = []

    def make(answer=lambda line: "OK\n"):
        f = FakeSmtpd(env.sock, answer)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


def stale_socket(path):
    """What a crashed daemon leaves: a socket file nobody listens on."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()


def test_an_empty_or_missing_queue_is_listed_as_empty(env):
    r = env.ctl("list")
    assert (r.returncode, r.stdout) == (0, "Queue is empty\n"), r.stderr
    env.queue.mkdir()
    (env.queue / "tmp").mkdir()
    r = env.ctl("list")
    assert (r.returncode, r.stdout) == (0, "Queue is empty\n"), r.stderr


def test_list_shows_each_message_its_recipients_and_what_is_held(env):
    env.mkqueue("m-2", "sender@example.org",
                "bob@remote.example|deferred|3|1764003600|"
                "451 4.7.1 Greylisted, try later",
                "carol@remote.example",
                "dan@other.example|failed|5|0|550 5.1.1 No such user",
                "erin@other.example|delivered|1|0")
    env.mkqueue("m-1", "", "alice@example.org", arrival=ARRIVAL - 3600,
                size=5000)
    env.mkqueue("m-3", "held@example.org", "x@remote.example", held=True,
                arrival=ARRIVAL + 60)
    (env.queue / "bad-1.env").write_bytes(b"BSTQ\x00\x01\x00\x00junk")
    (env.queue / "bad-1.msg").write_bytes(b"x")
    # not queue entries: temporary files, odd names
    (env.queue / "m-4.env.tmp").write_bytes(b"")
    (env.queue / "..env").write_bytes(b"")
    (env.queue / "corrupt").mkdir()
    (env.queue / "corrupt" / "old-1.env").write_bytes(b"junk")
    r = env.ctl("list")
    assert r.returncode == 0, r.stderr
    blocks = r.stdout.split("\n\n")
    assert blocks[0] == (
        "m-1  5000  2025-11-24T15:00:00Z  <>\n"
        "    <alice@example.org>  pending  attempts 0  next now")
    assert blocks[1] == (
        "m-2  47  2025-11-24T16:00:00Z  <sender@example.org>\n"
        "    <bob@remote.example>  deferred  attempts 3  "
        "next 2025-11-24T17:00:00Z  "
        "last error: 451 4.7.1 Greylisted, try later\n"
        "    <carol@remote.example>  pending  attempts 0  next now\n"
        "    <dan@other.example>  failed  attempts 5  "
        "last error: 550 5.1.1 No such user\n"
        "    <erin@other.example>  delivered  attempts 1")
    assert blocks[2] == (
        "m-3  47  2025-11-24T16:01:00Z  <held@example.org>  held\n"
        "    <x@remote.example>  pending  attempts 0  next now")
    assert blocks[3].startswith("bad-1  damaged envelope: ")
    assert blocks[4] == (
        "-- 4 messages, 1 held, 1 damaged\n"
        "-- 1 damaged envelope set aside in %s/corrupt\n" % env.queue)
    assert len(blocks) == 5


def test_delete_hold_and_release_work_on_the_files_without_smtpd(env):
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    env.mkqueue("m-2", "s@example.org", "b@remote.example")
    r = env.ctl("hold", "m-1")
    assert r.returncode == 0, r.stderr
    assert "smtpd is not running" in r.stdout
    assert env.files() == {"hold/m-1.env", "hold/m-1.msg", "m-2.env",
                           "m-2.msg"}
    assert oct(os.stat(env.hold).st_mode & 0o777) == "0o700"
    assert "m-1  47  2025-11-24T16:00:00Z  <s@example.org>  held\n" \
        in env.ctl("list").stdout

    r = env.ctl("hold", "m-1")
    assert r.returncode == 1 and "already held" in r.stderr
    r = env.ctl("release", "m-2")
    assert r.returncode == 1 and "not held" in r.stderr
    r = env.ctl("release", "m-1")
    assert r.returncode == 0, r.stderr
    assert env.files() == {"m-1.env", "m-1.msg", "m-2.env", "m-2.msg"}
    r = env.ctl("release", "m-1")
    assert r.returncode == 1 and "not held" in r.stderr

    env.ctl("hold", "m-2")
    for id in ("m-1", "m-2"):         # queued and held alike
        r = env.ctl("delete", id)
        assert r.returncode == 0, r.stderr
    assert env.files() == set()
    for cmd in ("delete", "hold", "release"):
        r = env.ctl(cmd, "m-1")
        assert r.returncode == 1, cmd
        assert "no such message" in r.stderr, cmd
    assert env.ctl("list").stdout == "Queue is empty\n"


def test_a_hold_interrupted_after_the_message_moved_can_be_redone(env):
    """Message moved, envelope not yet: the envelope still says where
    the entry is, and holding again finishes the job."""
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    env.hold.mkdir()
    os.rename(env.queue / "m-1.msg", env.hold / "m-1.msg")
    r = env.ctl("hold", "m-1")
    assert r.returncode == 0, r.stderr
    assert env.files() == {"hold/m-1.env", "hold/m-1.msg"}


def test_ids_are_checked_before_anything_is_touched(env):
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    (env.queue.parent / "outside.env").write_text("x")
    (env.queue.parent / "outside.msg").write_text("x")
    before = env.files()
    for bad in ("../outside", "a/b", "", "x" * 65, "m-1.env", "m 1",
                ".", "m\n1"):
        for cmd in ("delete", "hold", "release", "flush"):
            r = env.ctl(cmd, bad)
            assert r.returncode == 64, (cmd, bad, r.stderr)
    assert env.files() == before
    assert (env.queue.parent / "outside.env").exists()
    for args in ((), ("frob",), ("list", "x"), ("delete",), ("hold",),
                 ("release", "a", "b"), ("flush", "a", "b")):
        assert env.ctl(*args).returncode == 64, args


def test_flush_without_smtpd_is_a_temporary_failure(env):
    r = env.ctl("flush")
    assert r.returncode == 75
    assert "smtpd is not running" in r.stderr
    stale_socket(env.sock)
    r = env.ctl("flush", "m-1")
    assert r.returncode == 75
    assert "smtpd is not running" in r.stderr


def test_a_stale_socket_and_pid_file_mean_smtpd_is_gone(env):
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    stale_socket(env.sock)
    p = subprocess.Popen(["true"])
    p.wait()
    (env.run / "bastide-smtpd.pid").write_text("%d\n" % p.pid)
    r = env.ctl("delete", "m-1")
    assert r.returncode == 0, r.stderr
    assert env.files() == set()


def test_a_live_smtpd_without_its_socket_is_not_bypassed(env):
    """Starting up or shutting down, its runner may hold the message."""
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    (env.run / "bastide-smtpd.pid").write_text("%d\n" % os.getpid())
    for cmd in ("delete", "hold", "release"):
        r = env.ctl(cmd, "m-1")
        assert r.returncode == 75, (cmd, r.stderr)
        assert "does not answer" in r.stderr
    assert env.files() == {"m-1.env", "m-1.msg"}


def test_commands_go_to_a_running_smtpd(env, fake):
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    f = fake(lambda line: "1 message flushed\nOK\n"
             if line.startswith("flush") else "OK\n")
    cases = [(("flush",), "flush"), (("flush", "m-1"), "flush m-1"),
             (("hold", "m-1"), "hold m-1"),
             (("release", "m-1"), "release m-1"),
             (("delete", "m-1"), "delete m-1")]
    for args, line in cases:
        r = env.ctl(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert f.lines[-1] == line
        if args[0] == "flush":
            assert r.stdout == "1 message flushed\n"
    assert f.lines == [line for _, line in cases]
    # smtpd did the work (here: nothing), bastidectl touched no file
    assert env.files() == {"m-1.env", "m-1.msg"}
    # list reads the directory itself and never asks
    assert env.ctl("list").returncode == 0
    assert len(f.lines) == len(cases)


def test_an_err_from_smtpd_is_reported_and_not_redone_on_the_files(env,
                                                                   fake):
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    f = fake(lambda line: "ERR no such message\n")
    for cmd in ("delete", "hold", "release", "flush"):
        r = env.ctl(cmd, "m-1")
        assert r.returncode == 1, (cmd, r.stderr)
        assert r.stderr == "bastidectl: queue %s m-1: no such message\n" \
            % cmd
    assert len(f.lines) == 4
    assert env.files() == {"m-1.env", "m-1.msg"}


def test_a_daemon_that_answers_nonsense_is_a_temporary_failure(env, fake):
    env.mkqueue("m-1", "s@example.org", "a@remote.example")
    fake(lambda line: "what?\n")
    r = env.ctl("delete", "m-1")
    assert r.returncode == 75, r.stderr
    assert "did not answer" in r.stderr
    assert env.files() == {"m-1.env", "m-1.msg"}


def wait_for(cond, timeout=10):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_the_commands_drive_a_real_smtpd(slapd, tmp_path):
    """End to end: bastidectl, ctlsock and smtpd's queue; the relay host
    is a closed port, so messages stay queued."""
    from smtpd_util import Smtpd
    d = tmp_path / "smtpd"
    d.mkdir()
    s = Smtpd(d, slapd)
    env = Env(tmp_path)
    env.queue, env.hold = d / "queue", d / "queue" / "hold"
    now = int(time.time())      # not expired: lifetime is 5 days
    env.mkqueue("m-1", "s@example.test", "a@remote.example", arrival=now)
    env.mkqueue("m-2", "s@example.test", "b@remote.example", arrival=now)
    s.start()
    try:
        env.conf = s.conf
        # the SMTP ports open before the control socket does
        sock = os.path.join(s.run_dir, "bastide-smtpd.sock")
        assert wait_for(lambda: os.path.exists(sock)), s.log()
        r = env.ctl("hold", "m-1")
        assert r.returncode == 0, r.stderr
        assert "on disk" not in r.stdout
        # an attempt running at start-up delays the hold until it ends
        assert wait_for(lambda: (env.hold / "m-1.env").exists()), s.log()
        assert "m-1  47  %s  <s@example.test>  held\n" % time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)) in env.ctl("list").stdout
        r = env.ctl("hold", "m-1")
        assert r.returncode == 1
        assert "already held" in r.stderr
        r = env.ctl("flush", "m-1")
        assert r.returncode == 1 and "held" in r.stderr
        r = env.ctl("release", "m-1")
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: (env.queue / "m-1.env").exists()), s.log()
        for args in (("flush",), ("flush", "m-2")):
            r = env.ctl(*args)
            assert r.returncode == 0, (args, r.stderr)
        r = env.ctl("flush", "nosuch")
        assert r.returncode == 1 and "no such message" in r.stderr
        r = env.ctl("delete", "m-2")
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: not (env.queue / "m-2.env").exists()), \
            s.log()
        assert not (env.queue / "m-2.msg").exists()
        assert wait_for(lambda: "m-2: deleted by the administrator"
                        in s.log())
    finally:
        s.stop()
    # its socket went with it
    assert not os.path.exists(sock)
    r = env.ctl("flush")
    assert r.returncode == 75 and "not running" in r.stderr
    r = env.ctl("delete", "m-1")
    assert r.returncode == 0 and "on disk" in r.stdout
    assert not (env.queue / "m-1.env").exists()
