"""A tiny Marionette client, to drive Thunderbird (or Firefox) from tests.

    from marionette_util import Marionette

    m = Marionette(port)            # connects, reads the greeting
    m.new_session()
    m.set_context("chrome")
    m.execute("return Services.appinfo.version;")
    m.execute_async("let [a, done] = arguments; ... done(x);", [a])
    m.close()

The wire protocol (Mozilla's "Marionette protocol", level 3): every message
is "<decimal byte length>:<JSON>".  The server speaks first with a JSON
object {"applicationType": ..., "marionetteProtocol": 3}.  A command is
[0, id, name, params]; its response is [1, id, error, result], where error
is null or {"error": ..., "message": ..., "stacktrace": ...}.

Every call is bounded by a timeout (socket and script timeouts); an error
from the remote end raises MarionetteError with its message and stack.

Thunderbird(dir) starts Debian's Thunderbird headless with a fresh profile
in dir, Marionette on a free port and MOZ_LOG (IMAP:5 by default) written
to dir/moz.log*; .js()/.js_async() run chrome-context scripts, .stop()
quits it and kills what is left of its process group.
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from daemon_util import read_log

TIMEOUT = 30


class MarionetteError(Exception):
    """An error response from the remote end."""

    def __init__(self, err):
        self.error = err.get("error", "?") if isinstance(err, dict) else err
        self.message = err.get("message", "") if isinstance(err, dict) \
            else ""
        self.stacktrace = err.get("stacktrace", "") if isinstance(err,
                                                                  dict) \
            else ""
        super().__init__(f"{self.error}: {self.message}\n{self.stacktrace}")


def wait_listening(port, deadline, alive=None):
    """Until 127.0.0.1:port accepts a connection and sends the greeting,
    or the deadline (time.monotonic()) passes, or alive() turns false.
    Returns a connected Marionette or None."""
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return None
        try:
            return Marionette(port, timeout=5)
        except (OSError, ValueError, EOFError):
            time.sleep(0.2)
    return None


class Marionette:
    """One connection to a Marionette server on 127.0.0.1."""

    def __init__(self, port, timeout=TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""
        self.last_id = 0
        try:
            self.greeting = self._recv()
        except BaseException:
            self.sock.close()
            raise
        if not isinstance(self.greeting, dict) or \
                self.greeting.get("marionetteProtocol") != 3:
            self.sock.close()
            raise ValueError(f"unexpected greeting {self.greeting!r}")

    def _recv(self, timeout=None):
        """One framed message, decoded from JSON."""
        self.sock.settimeout(timeout or self.timeout)
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                n = int(self.buf[:colon])
                if len(self.buf) >= colon + 1 + n:
                    body = self.buf[colon + 1:colon + 1 + n]
                    self.buf = self.buf[colon + 1 + n:]
                    return json.loads(body)
            elif colon == 0 or len(self.buf) > 20:
                raise ValueError(f"bad frame {self.buf[:40]!r}")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("Marionette closed the connection")
            self.buf += chunk

    def command(self, name, params=None, timeout=None):
        """Send one command and wait for its response; the result."""
        self.last_id += 1
        msg = json.dumps([0, self.last_id, name, params or {}]).encode()
        self.sock.sendall(str(len(msg)).encode() + b":" + msg)
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {name}")
            r = self._recv(left)
            if not (isinstance(r, list) and len(r) == 4 and r[0] == 1):
                continue
            if r[1] != self.last_id:
                continue        # a late answer to an abandoned command
            if r[2] is not None:
                raise MarionetteError(r[2])
            return r[3]

    def new_session(self):
        """WebDriver:NewSession; the capabilities the server returns."""
        return self.command("WebDriver:NewSession",
                            {"capabilities": {"alwaysMatch": {}}})

    def set_context(self, context):
        """"chrome" (privileged, the application's own JS) or "content"."""
        self.command("Marionette:SetContext", {"value": context})

    def set_script_timeout(self, seconds):
        self.command("WebDriver:SetTimeouts",
                     {"script": int(seconds * 1000)})

    @staticmethod
    def _value(r):
        return r.get("value") if isinstance(r, dict) else r

    def execute(self, script, args=None, timeout=None):
        """WebDriver:ExecuteScript: the script's return value."""
        return self._value(self.command(
            "WebDriver:ExecuteScript",
            {"script": script, "args": args or [],
             "newSandbox": False}, timeout=timeout))

    def execute_async(self, script, args=None, timeout=None):
        """WebDriver:ExecuteAsyncScript: the script gets a callback as its
        last argument (arguments[arguments.length - 1]) and passes the
        result to it.  The script timeout must be set (set_script_timeout)
        below timeout."""
        return self._value(self.command(
            "WebDriver:ExecuteAsyncScript",
            {"script": script, "args": args or [],
             "newSandbox": False}, timeout=timeout))

    def quit(self):
        """Ask the application to quit; ignores a connection that drops."""
        try:
            self.command("Marionette:Quit", {"flags": ["eForceQuit"]},
                         timeout=10)
        except (OSError, EOFError, TimeoutError, MarionetteError):
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


THUNDERBIRD_BINARIES = ("/usr/lib/thunderbird/thunderbird", "thunderbird")

# a profile that never asks anything, never updates, never phones home
BASE_PREFS = {
    "mail.shell.checkDefaultClient": False,
    "mailnews.start_page.enabled": False,
    "mail.provider.suppress_dialog_on_startup": True,
    "mail.rights.override": True,
    "mail.biff.play_sound": False,
    "mail.biff.show_alert": False,
    "mail.biff.show_tray_icon": False,
    "mail.spotlight.firstRunDone": True,
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "extensions.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "toolkit.telemetry.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "mailnews.auto_config.fetchFromExchange.enabled": False,
}


class ThunderbirdUnavailable(Exception):
    """Thunderbird is not installed or could not start here."""


def thunderbird_binary():
    """The Thunderbird executable, or None."""
    for b in THUNDERBIRD_BINARIES:
        path = b if os.path.isabs(b) else shutil.which(b)
        if path and os.access(path, os.X_OK):
            return path
    return None


def _pref_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)


class Thunderbird:
    """A headless Thunderbird with a fresh profile, driven by Marionette in
    chrome context."""

    def __init__(self, d, prefs=None, moz_log="IMAP:5,timestamp,sync",
                 port=None):
        self.dir = str(d)
        self.profile = os.path.join(self.dir, "profile")
        self.home = os.path.join(self.dir, "home")
        self.log_path = os.path.join(self.dir, "thunderbird.log")
        self.moz_log_path = os.path.join(self.dir, "moz.log")
        self.port = port
        self.prefs = dict(BASE_PREFS)
        self.prefs.update(prefs or {})
        self.moz_log = moz_log
        self.proc = None
        self.m = None

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def _write_prefs(self):
        os.makedirs(self.profile, exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        prefs = dict(self.prefs)
        prefs["marionette.port"] = self.port
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in prefs.items():
                f.write(f"user_pref({json.dumps(k)}, {_pref_value(v)});\n")

    def start(self, timeout=45):
        """Start and connect; raises ThunderbirdUnavailable (with the end
        of its output) when it is missing or Marionette never answers."""
        binary = thunderbird_binary()
        if binary is None:
            raise ThunderbirdUnavailable("thunderbird is not installed")
        if self.port is None:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
        self._write_prefs()
        env = dict(os.environ)
        env.update({"HOME": self.home, "MOZ_HEADLESS": "1",
                    "MOZ_CRASHREPORTER_DISABLE": "1",
                    "MOZ_DISABLE_AUTO_SAFE_MODE": "1",
                    "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
                    "XDG_CACHE_HOME": os.path.join(self.home, ".cache")})
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        if self.moz_log:
            env["MOZ_LOG"] = self.moz_log
            env["MOZ_LOG_FILE"] = self.moz_log_path
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--marionette",
             "--remote-allow-system-access", "--profile", self.profile,
             "--no-remote"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
            start_new_session=True)
        log.close()
        self.m = wait_listening(self.port, time.monotonic() + timeout,
                                alive=lambda: self.proc.poll() is None)
        if self.m is None:
            tail = self.output()[-3000:]
            self.stop()
            raise ThunderbirdUnavailable(
                "Thunderbird's Marionette did not answer on port "
                f"{self.port} within {timeout} s:\n{tail}")
        self.m.new_session()
        self.m.set_context("chrome")
        return self

    def js(self, script, *args, timeout=30):
        """Run a chrome-context script; its return value."""
        return self.m.execute(script, list(args), timeout=timeout)

    def js_async(self, script, *args, timeout=30):
        """Run a chrome-context script that ends by calling its last
        argument with the result."""
        self.m.set_script_timeout(timeout)
        return self.m.execute_async(script, list(args),
                                    timeout=timeout + 5)

    def output(self):
        """What Thunderbird wrote on stdout and stderr."""
        return read_log(self.log_path)

    def moz_log_lines(self, pattern=None):
        """The MOZ_LOG lines of every process (parent first), those
        containing pattern if given."""
        out = []
        for p in sorted(glob.glob(self.moz_log_path + "*"),
                        key=lambda p: (".child-" in p, p)):
            with open(p, errors="replace") as f:
                out.extend(x.rstrip("\n") for x in f
                           if pattern is None or pattern in x)
        return out

    def imap_events(self):
        """What Thunderbird sent and read over IMAP, from MOZ_LOG=IMAP:5:
        a list of (connection, state, "C" or "S", line), where state is
        Thunderbird's own ("NA" before login, "A" authenticated,
        "S-<folder>" selected)."""
        out = []
        for line in self.moz_log_lines():
            for mark, who in ((":SendData: ", "C"),
                              (":CreateNewLineFromSocket: ", "S")):
                i = line.find(mark)
                if i < 0:
                    continue
                # "... I/IMAP <conn>:<host>:<state>:SendData: <text>"
                head = line[:i].rsplit(" ", 1)[-1]
                parts = head.split(":")
                conn = parts[0]
                state = parts[-1] if len(parts) >= 3 else ""
                out.append((conn, state, who, line[i + len(mark):]))
        return out

    def imap_transcript(self, last=80):
        """The last `last` IMAP lines, "C: ..." sent and "S: ..." read."""
        return "\n".join(f"{who}: {text}" for _, _, who, text in
                         self.imap_events()[-last:])

    def stop(self):
        """Quit over Marionette, then SIGKILL whatever is left of the
        process group it was started in (content processes too)."""
        if self.proc is None:
            return
        if self.m is not None:
            self.m.quit()
            self.m.close()
            self.m = None
        # wait for the exit without reaping it, so that the group id
        # cannot have been reused when it is killed below
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                if os.waitid(os.P_PID, self.proc.pid, os.WEXITED
                             | os.WNOWAIT | os.WNOHANG) is not None:
                    break
            except ChildProcessError:
                break
            time.sleep(0.1)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None
