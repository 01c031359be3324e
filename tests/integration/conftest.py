"""Shared pytest fixtures for Bastide's integration tests.

Environment:
  BASTIDE_SRC    source tree (default /work/main)
  BASTIDE_BUILD  build directory (default $BASTIDE_SRC/build)

Fixtures:
  slapd          (session) a private slapd made with tools/slapd-instance
                 --demo on a free 127.0.0.1 port: domain example.test, users
                 alice (alice@example.test, alias alice.smith@example.test,
                 quota 1 GiB) and bob, group team@example.test.  Shared by
                 every test of the session: add your own entries with
                 unique names rather than changing alice, bob or team.
  slapd_factory  (function) make(demo=True, base=...) -> another Slapd,
                 stopped when the test ends (failover tests and the like).

A Slapd has:
  .dir .port .uri .base .credentials (dict of DIR/credentials)
  .admin_dn .admin_password .service_dn .service_password
  .password(user)          the demo user's password ("alice", "bob")
  .start() .stop() .running()   (stop kills by the pid in DIR/slapd)
  .write_conf(path, ldap=None, extra="")
                           writes a bastide.conf whose [ldap] section points
                           at this slapd with short cache TTLs (cache_ttl 2s,
                           negative_cache_ttl 1s); `ldap` overrides or adds
                           [ldap] keys (e.g. {"uri": "..."}), `extra` is
                           appended verbatim (your own sections); returns
                           the path
  .ldapadd(ldif) .ldapmodify(ldif) .ldapdelete(dn) .ldapsearch(filter, *attrs)
                           run the ldap-utils as the admin; raise on failure
  .set_password(dn, password)   ldappasswd as the admin
  .config_modify(ldif)     ldapmodify cn=config over ldapi (.ldapi_uri) as
                           the local user that started slapd
  .ldif_user(uid, mail, password=None, **attrs) -> str   LDIF for a person
"""
import os
import signal
import socket
import subprocess
import time

import pytest

SRC = os.environ.get("BASTIDE_SRC", "/work/main")
BUILD = os.environ.get("BASTIDE_BUILD", os.path.join(SRC, "build"))
SLAPD_INSTANCE = os.path.join(SRC, "tools", "slapd-instance")
BASTIDECTL = os.path.join(BUILD, "tools", "bastidectl")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def read_pairs(path):
    """name=value lines of a file as a dict."""
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f
                    if "=" in line)


def _run(args, input=None, timeout=60):
    return subprocess.run(args, input=input, capture_output=True, text=True,
                          timeout=timeout)


class Slapd:
    """A private slapd in dir, made and driven by tools/slapd-instance."""

    def __init__(self, dir, demo=True, base="dc=example,dc=test"):
        self.dir = dir
        self.demo = demo
        self.base = base
        self.port = None
        self.credentials = {}

    @property
    def uri(self):
        return f"ldap://127.0.0.1:{self.port}/"

    admin_dn = property(lambda self: self.credentials["ldap_admin_dn"])
    admin_password = property(
        lambda self: self.credentials["ldap_admin_password"])
    service_dn = property(lambda self: self.credentials["ldap_service_dn"])
    service_password = property(
        lambda self: self.credentials["ldap_service_password"])

    def password(self, user):
        return self.credentials[f"{user}_password"]

    def create(self):
        """init and start on a free port; retry if the port was taken."""
        last = None
        for _ in range(3):
            self.port = free_port()
            args = [SLAPD_INSTANCE, "init", str(self.dir), "--port",
                    str(self.port), "--base", self.base]
            if self.demo:
                args.append("--demo")
            r = _run(args)
            assert r.returncode == 0, r.stdout + r.stderr
            self.credentials = read_pairs(os.path.join(self.dir,
                                                       "credentials"))
            r = _run([SLAPD_INSTANCE, "start", str(self.dir)])
            if r.returncode == 0:
                return self
            last = r
        pytest.fail("slapd-instance start failed: " + last.stdout
                    + last.stderr)

    def pid(self):
        try:
            with open(os.path.join(self.dir, "slapd", "slapd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        return _run([SLAPD_INSTANCE, "status", str(self.dir)]).returncode == 0

    def start(self):
        r = _run([SLAPD_INSTANCE, "start", str(self.dir)])
        assert r.returncode == 0, r.stdout + r.stderr

    def stop(self):
        """Stop by pid, and make sure that pid is gone."""
        pid = self.pid()
        _run([SLAPD_INSTANCE, "stop", str(self.dir)])
        if pid is None:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def write_conf(self, path, ldap=None, extra=""):
        pwfile = os.path.join(self.dir, "ldap-service-password")
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.service_password + "\n")
        keys = {
            "uri": self.uri,
            "base": self.base,
            "bind_dn": self.service_dn,
            "bind_password_file": pwfile,
            "connect_timeout": "2s",
            "operation_timeout": "5s",
            "cache_ttl": "2s",
            "negative_cache_ttl": "1s",
        }
        keys.update(ldap or {})
        with open(path, "w") as f:
            f.write("[ldap]\n")
            for k, v in keys.items():
                f.write(f"{k} = {v}\n")
            if extra:
                f.write("\n" + extra + "\n")
        return path

    def _tool(self, tool, *args, input=None):
        r = _run([tool, "-x", "-H", self.uri, "-o", "nettimeout=5",
                  "-D", self.admin_dn, "-w", self.admin_password, *args],
                 input=input)
        assert r.returncode == 0, f"{tool} {args}: {r.stderr}"
        return r.stdout

    def ldapadd(self, ldif):
        return self._tool("ldapadd", input=ldif)

    def ldapmodify(self, ldif):
        return self._tool("ldapmodify", input=ldif)

    def ldapdelete(self, dn):
        return self._tool("ldapdelete", dn)

    def ldapsearch(self, filter, *attrs):
        return self._tool("ldapsearch", "-LLL", "-b", self.base, filter,
                          *attrs)

    @property
    def ldapi_uri(self):
        from urllib.parse import quote
        return "ldapi://" + quote(os.path.join(str(self.dir), "slapd",
                                               "ldapi"), safe="")

    def config_modify(self, ldif):
        """ldapmodify cn=config over ldapi as the local root (peercred)."""
        r = _run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H",
                  self.ldapi_uri], input=ldif)
        assert r.returncode == 0, f"cn=config modify: {r.stderr}"
        return r.stdout

    def set_password(self, dn, password):
        return self._tool("ldappasswd", "-s", password, dn)

    def ldif_user(self, uid, mail, password=None, **attrs):
        """LDIF for a person under ou=people; attrs: name -> value or
        list of values (e.g. mailLocalAddress=[...],
        bastideAccountStatus="locked")."""
        lines = [f"dn: uid={uid},ou=people,{self.base}",
                 "objectClass: inetOrgPerson",
                 "objectClass: inetLocalMailRecipient",
                 "objectClass: bastideAccount",
                 f"uid: {uid}", f"cn: {uid}", f"sn: {uid}", f"mail: {mail}"]
        if password is not None:
            lines.append(f"userPassword: {password}")
        for k, v in attrs.items():
            for one in (v if isinstance(v, (list, tuple)) else [v]):
                lines.append(f"{k}: {one}")
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """The session's private slapd with the demo domain."""
    s = Slapd(tmp_path_factory.mktemp("slapd")).create()
    yield s
    s.stop()


@pytest.fixture
def slapd_factory(tmp_path_factory):
    """make(demo=True, base=...) -> a new started Slapd, stopped at the
    end of the test."""
    made = []

    def make(demo=True, base="dc=example,dc=test"):
        s = Slapd(tmp_path_factory.mktemp("slapd"), demo=demo, base=base)
        made.append(s)
        return s.create()

    yield make
    for s in made:
        s.stop()
