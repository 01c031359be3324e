"""common/directory.c against a real slapd, through `bastidectl user`.

One-shot commands (`user show|resolve|auth`) start with an empty cache;
`user batch` keeps one process (one cache, one connection pool) across
commands so that TTLs, failover and pooled connections can be watched.
Entries the tests add have unique names, because the slapd is shared by
the whole session.
"""
import itertools
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from conftest import BASTIDECTL, free_port

CACHE_TTL = 2.0      # what Slapd.write_conf sets
NEGATIVE_TTL = 1.0
EX_TEMPFAIL = 75

_seq = itertools.count()


def unique(prefix):
    return f"{prefix}{os.getpid()}x{next(_seq)}"


def ctl(conf, *args, input=None):
    return subprocess.run([BASTIDECTL, "-c", str(conf), "user", *args],
                          input=input, capture_output=True, text=True,
                          timeout=60)


def pairs(out):
    """name=value lines; repeated names collect into lists."""
    d = {}
    for line in out.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            d.setdefault(k, []).append(v)
    return d


class Batch:
    """`bastidectl user batch`: one command in, its lines and exit out."""

    def __init__(self, conf):
        self.p = subprocess.Popen(
            [BASTIDECTL, "-c", str(conf), "user", "batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def run(self, line, timeout=30):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer to {line.split()[0]} in {timeout}s"
            got = self.q.get(timeout=left)
            assert got is not None, "bastidectl batch exited"
            if got.startswith("exit="):
                return int(got[5:]), pairs("\n".join(out))
            out.append(got)

    def close(self):
        """End the batch; its exit status must be 0 (under ASan that also
        means no leak or memory error was reported)."""
        try:
            self.p.stdin.close()
            code = self.p.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait(timeout=10)
            raise
        assert code == 0, f"bastidectl user batch exited {code}"


@pytest.fixture
def conf(slapd, tmp_path):
    return slapd.write_conf(tmp_path / "bastide.conf")


@pytest.fixture
def batch(conf):
    b = Batch(conf)
    yield b
    b.close()


def wait_for(fn, limit, what):
    """Call fn until it returns true, for at most limit seconds."""
    deadline = time.monotonic() + limit
    while True:
        if fn():
            return time.monotonic()
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.parametrize("name", [
    "alice", "alice@example.test", "alice.smith@example.test",
    "ALICE.Smith@Example.TEST"])
def test_a_user_is_found_by_login_address_and_alias_in_any_case(conf, name):
    r = ctl(conf, "show", name)
    assert r.returncode == 0, r.stderr
    u = pairs(r.stdout)
    assert u["uid"] == ["alice"]
    assert u["mail"] == ["alice@example.test"]
    assert u["address"] == ["alice@example.test", "alice.smith@example.test"]
    assert u["quota"] == ["1073741824"]
    assert u["status"] == ["active"]
    assert u["dn"][0].startswith("uid=alice,ou=people,")


@pytest.mark.parametrize("name", [
    "nobody@example.test", "nobody", "*", "a)(uid=*", ""])
def test_unknown_names_and_filter_tricks_are_not_found(conf, name):
    r = ctl(conf, "show", name)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == ""


def test_a_group_resolves_to_its_members(conf):
    r = ctl(conf, "resolve", "Team@example.test")
    assert r.returncode == 0, r.stderr
    g = pairs(r.stdout)
    assert g["kind"] == ["group"]
    assert sorted(g["recipient"]) == ["alice@example.test",
                                      "bob@example.test"]


def test_an_alias_resolves_to_the_users_mailbox(conf):
    r = ctl(conf, "resolve", "alice.smith@example.test")
    assert r.returncode == 0, r.stderr
    assert pairs(r.stdout)["kind"] == ["user"]
    assert pairs(r.stdout)["recipient"] == ["alice@example.test"]


def test_a_routing_address_makes_a_forward(slapd, conf):
    uid = unique("fwd")
    slapd.ldapadd(slapd.ldif_user(uid, f"{uid}@example.test",
                                  mailRoutingAddress="far@elsewhere.test"))
    r = ctl(conf, "resolve", f"{uid}@example.test")
    assert r.returncode == 0, r.stderr
    assert pairs(r.stdout)["kind"] == ["forward"]
    assert pairs(r.stdout)["recipient"] == ["far@elsewhere.test"]


def test_nested_groups_are_expanded_with_loops_and_depth_bounded(
        slapd, conf, tmp_path):
    b = slapd.base
    carol = unique("carol")
    outer, inner = unique("outer"), unique("inner")
    slapd.ldapadd(slapd.ldif_user(carol, f"{carol}@example.test"))
    # outer -> team (alice, bob), inner -> carol, outer again (a loop)
    slapd.ldapadd(f"""dn: cn={inner},ou=groups,{b}
objectClass: groupOfNames
objectClass: inetLocalMailRecipient
cn: {inner}
mailLocalAddress: {inner}@example.test
member: uid={carol},ou=people,{b}
member: uid=alice,ou=people,{b}

dn: cn={outer},ou=groups,{b}
objectClass: groupOfNames
objectClass: inetLocalMailRecipient
cn: {outer}
mailLocalAddress: {outer}@example.test
member: cn=team,ou=groups,{b}
member: cn={inner},ou=groups,{b}
member: uid=ghost,ou=people,{b}
""")
    slapd.ldapmodify(f"""dn: cn={inner},ou=groups,{b}
changetype: modify
add: member
member: cn={outer},ou=groups,{b}
""")
    r = ctl(conf, "resolve", f"{outer}@example.test")
    assert r.returncode == 0, r.stderr
    got = pairs(r.stdout)
    assert got["kind"] == ["group"]
    assert sorted(got["recipient"]) == sorted([
        "alice@example.test", "bob@example.test", f"{carol}@example.test"])

    # depth 0: members of outer only, nested groups not followed
    shallow = slapd.write_conf(tmp_path / "shallow.conf",
                               ldap={"group_max_depth": "0"})
    r = ctl(shallow, "resolve", f"{outer}@example.test")
    assert r.returncode == 0, r.stderr
    assert pairs(r.stdout).get("recipient", []) == []

    # too many members is a temporary failure, not a partial list
    small = slapd.write_conf(tmp_path / "small.conf",
                             ldap={"group_max_members": "2"})
    r = ctl(small, "resolve", f"{outer}@example.test")
    assert r.returncode == EX_TEMPFAIL, r.stdout + r.stderr


@pytest.mark.parametrize("login,password,want", [
    ("alice", "right", 0),
    ("alice@example.test", "right", 0),
    ("alice", "wrong", 1),
    ("alice", "", 1),
    ("nobody", "right", 1),
])
def test_authentication_by_bind(slapd, conf, login, password, want):
    if password == "right":
        password = slapd.password("alice")
    elif password == "wrong":
        password = slapd.password("alice") + "x"
    r = ctl(conf, "auth", login, input=password + "\n")
    assert r.returncode == want, r.stdout + r.stderr
    assert slapd.password("alice") not in r.stdout + r.stderr


@pytest.mark.parametrize("status", ["locked", "disabled"])
def test_a_locked_or_disabled_account_is_refused_with_the_right_password(
        slapd, conf, status):
    uid = unique(status)
    slapd.ldapadd(slapd.ldif_user(uid, f"{uid}@example.test", "pw-" + uid,
                                  bastideAccountStatus=status))
    r = ctl(conf, "auth", uid, input="pw-" + uid + "\n")
    assert r.returncode == 1, r.stdout + r.stderr
    assert pairs(r.stdout)["auth"] == ["inactive"]
    r = ctl(conf, "show", uid)
    assert pairs(r.stdout)["status"] == [status]


def test_a_user_added_with_ldapadd_is_found_at_once_and_after_a_miss(
        slapd, conf, batch):
    uid = unique("new")
    code, _ = batch.run(f"show {uid}")
    assert code == 1
    slapd.ldapadd(slapd.ldif_user(uid, f"{uid}@example.test", "pw-" + uid))
    # a fresh process has no cache: found at once
    assert ctl(conf, "show", f"{uid}@example.test").returncode == 0
    # the process that cached the miss finds it within the negative TTL
    start = time.monotonic()
    end = wait_for(lambda: batch.run(f"show {uid}")[0] == 0,
                   NEGATIVE_TTL + 3, "new user still unknown")
    assert end - start <= NEGATIVE_TTL + 3
    assert batch.run(f"auth {uid} pw-{uid}")[0] == 0


def test_a_deleted_user_stops_authenticating_within_the_ttl(
        slapd, batch):
    uid = unique("gone")
    dn = f"uid={uid},ou=people,{slapd.base}"
    slapd.ldapadd(slapd.ldif_user(uid, f"{uid}@example.test", "pw-" + uid))
    assert batch.run(f"auth {uid} pw-{uid}")[0] == 0
    assert batch.run(f"show {uid}")[0] == 0      # now cached
    slapd.ldapdelete(dn)
    start = time.monotonic()
    # binds are never cached: refused at once
    code, out = batch.run(f"auth {uid} pw-{uid}")
    assert code == 1, out
    # and the cached lookup goes within the TTL
    end = wait_for(lambda: batch.run(f"show {uid}")[0] == 1,
                   CACHE_TTL + 3, "deleted user still shown")
    assert end - start <= CACHE_TTL + 3


def test_a_wrong_password_is_never_taken_for_the_right_one(slapd, batch):
    pw = slapd.password("bob")
    for attempt in [pw, pw + "x", pw, "x" + pw, pw[:-1]]:
        code, _ = batch.run(f"auth bob {attempt}")
        assert code == (0 if attempt == pw else 1), attempt


def test_ldap_down_is_a_temporary_failure_never_not_found(slapd, tmp_path):
    dead = slapd.write_conf(tmp_path / "dead.conf", ldap={
        "uri": f"ldap://127.0.0.1:{free_port()}/"})
    for args, stdin in [(("show", "alice"), None),
                        (("show", "nobody@example.test"), None),
                        (("resolve", "team@example.test"), None),
                        (("auth", "alice"), slapd.password("alice") + "\n")]:
        r = ctl(dead, *args, input=stdin)
        assert r.returncode == EX_TEMPFAIL, (args, r.stdout, r.stderr)
        assert "no such" not in r.stderr


def test_a_wrong_service_password_is_a_temporary_failure(slapd, tmp_path):
    bad = tmp_path / "bad.conf"
    slapd.write_conf(bad)
    text = bad.read_text().replace("bind_password_file", "#")
    bad.write_text(text + "bind_password = not-the-password\n")
    r = ctl(bad, "show", "alice")
    assert r.returncode == EX_TEMPFAIL, r.stdout + r.stderr


def test_failover_to_the_second_server_when_the_first_stops(
        slapd_factory, tmp_path):
    first = slapd_factory()
    second = slapd_factory()
    # the second replicates the first as far as this test needs: the
    # same service and alice passwords, plus one entry of its own
    second.set_password(second.service_dn, first.service_password)
    second.set_password(f"uid=alice,ou=people,{second.base}",
                        first.password("alice"))
    only = unique("only")
    second.ldapadd(second.ldif_user(only, f"{only}@example.test"))
    conf = first.write_conf(tmp_path / "two.conf", ldap={
        "uri": f"{first.uri} {second.uri}"})

    b = Batch(conf)
    try:
        assert b.run("show alice")[0] == 0
        assert b.run(f"show {only}")[0] == 1     # asked the first
        first.stop()
        assert not first.running()
        b.run("clear")
        # the pooled connection to the first is dead: retried on the second
        code, out = b.run(f"show {only}")
        assert code == 0, out
        code, _ = b.run(f"auth alice {first.password('alice')}")
        assert code == 0
        code, _ = b.run("resolve team@example.test")
        assert code == 0
    finally:
        b.close()
    # a new process with the first still down goes to the second too
    r = ctl(conf, "show", only)
    assert r.returncode == 0, r.stderr
    # both down: temporary failure
    second.stop()
    r = ctl(conf, "show", "alice")
    assert r.returncode == EX_TEMPFAIL, r.stdout + r.stderr


def test_an_instance_is_reused_by_a_second_init(slapd):
    from conftest import SLAPD_INSTANCE, read_pairs
    before = dict(slapd.credentials)
    r = subprocess.run([SLAPD_INSTANCE, "init", str(slapd.dir), "--port",
                        str(slapd.port), "--demo"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "reusing" in r.stdout
    assert read_pairs(slapd.dir / "credentials") == before
    assert oct(os.stat(slapd.dir / "credentials").st_mode & 0o777) == "0o600"
    assert slapd.running()


def test_the_service_account_cannot_read_password_hashes(slapd):
    r = subprocess.run(
        ["ldapsearch", "-x", "-LLL", "-o", "nettimeout=5", "-H", slapd.uri,
         "-D", slapd.service_dn, "-w", slapd.service_password,
         "-b", slapd.base, "(uid=alice)", "userPassword", "mail"],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "mail: alice@example.test" in r.stdout
    assert "userPassword" not in r.stdout


def make_cert(d, name, ca=None):
    """A key and certificate for 127.0.0.1 in d: self-signed CA when ca is
    None, else signed by ca (a (key, cert) pair)."""
    key, cert, tmpl = d / f"{name}.key", d / f"{name}.pem", d / f"{name}.tmpl"
    subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                    "--outfile", str(key)], check=True, capture_output=True,
                   timeout=60)
    if ca is None:
        tmpl.write_text(f'cn = "{name}"\nca\ncert_signing_key\n'
                        'expiration_days = 30\n')
        args = ["--generate-self-signed"]
    else:
        tmpl.write_text('cn = "127.0.0.1"\nip_address = "127.0.0.1"\n'
                        'dns_name = "localhost"\ntls_www_server\n'
                        'signing_key\nencryption_key\nexpiration_days = 30\n')
        args = ["--generate-certificate", "--load-ca-privkey", str(ca[0]),
                "--load-ca-certificate", str(ca[1])]
    subprocess.run(["certtool", *args, "--load-privkey", str(key),
                    "--template", str(tmpl), "--outfile", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return key, cert


def test_starttls_checks_the_server_certificate(slapd_factory, tmp_path):
    s = slapd_factory()
    ca = make_cert(tmp_path, "ca")
    other_ca = make_cert(tmp_path, "otherca")
    key, cert = make_cert(tmp_path, "server", ca=ca)
    s.config_modify(f"""dn: cn=config
changetype: modify
replace: olcTLSCACertificateFile
olcTLSCACertificateFile: {ca[1]}
-
replace: olcTLSCertificateFile
olcTLSCertificateFile: {cert}
-
replace: olcTLSCertificateKeyFile
olcTLSCertificateKeyFile: {key}
""")
    good = s.write_conf(tmp_path / "tls.conf", ldap={
        "starttls": "yes", "tls_ca_file": str(ca[1])})
    r = ctl(good, "show", "alice")
    assert r.returncode == 0, r.stderr
    r = ctl(good, "auth", "alice", input=s.password("alice") + "\n")
    assert r.returncode == 0, r.stderr
    # a certificate from a CA we do not trust: temporary failure
    bad = s.write_conf(tmp_path / "badtls.conf", ldap={
        "starttls": "yes", "tls_ca_file": str(other_ca[1])})
    r = ctl(bad, "show", "alice")
    assert r.returncode == EX_TEMPFAIL, r.stdout + r.stderr
    assert "StartTLS" in r.stderr


def test_threads_share_the_pool_with_user_binds_in_between(slapd, tmp_path):
    # no cache: every lookup goes to slapd on a connection that may just
    # have been used for a user's bind and must be bound back first
    conf = slapd.write_conf(tmp_path / "bench.conf", ldap={
        "cache_ttl": "0", "negative_cache_ttl": "0", "pool_size": "3"})
    r = ctl(conf, "bench", "6", "40", "alice",
            input=slapd.password("alice") + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    got = pairs(r.stdout)
    assert got["ok"] == [str(6 * 40 * 2)]
    assert got["failed"] == ["0"]


def test_a_hung_server_times_out_as_a_temporary_failure(
        slapd_factory, tmp_path):
    s = slapd_factory()
    conf = s.write_conf(tmp_path / "hung.conf", ldap={
        "operation_timeout": "1s", "connect_timeout": "1s"})
    assert ctl(conf, "show", "bob").returncode == 0
    pid = s.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        r = ctl(conf, "show", "alice")
        took = time.monotonic() - start
    finally:
        os.kill(pid, signal.SIGCONT)
    assert r.returncode == EX_TEMPFAIL, r.stdout + r.stderr
    assert took < 15, f"took {took:.1f}s with a 1s timeout"
    assert ctl(conf, "show", "alice").returncode == 0
