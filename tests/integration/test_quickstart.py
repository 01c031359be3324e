"""tools/quickstart: a private instance that a script can provision.

Runs quickstart with --detach into a temporary directory (the build is
reused through BASTIDE_BUILD, and --no-install keeps apt out of it), then
checks what the README promises: the ports and credentials files, a slapd
of our own that answers with those credentials, a second run that reuses
the instance, and `quickstart stop` stopping everything it started.
"""
import os
import random
import socket
import stat
import subprocess
import time

import pytest

SRC = os.environ.get("BASTIDE_SRC", "/work/main")
BUILD = os.environ.get("BASTIDE_BUILD", os.path.join(SRC, "build"))
QUICKSTART = os.path.join(SRC, "tools", "quickstart")
PORT_NAMES = ["ldap", "smtp", "submission", "submissions", "imap", "imaps",
              "http", "https"]


def ports_free(base, count):
    """True when base .. base+count-1 can all be bound on 127.0.0.1."""
    for port in range(base, base + count):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_base():
    for _ in range(50):
        base = random.randrange(20000, 60000, 10)
        if ports_free(base, 8):
            return base
    pytest.skip("no run of 8 free ports")


def read_pairs(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def quickstart(*args):
    env = dict(os.environ, BASTIDE_BUILD=BUILD)
    return subprocess.run([QUICKSTART, *args], env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    d = tmp_path_factory.mktemp("qs")
    base = free_base()
    r = quickstart("--detach", "--no-install", "--dir", str(d),
                   "--base-port", str(base))
    assert r.returncode == 0, r.stdout + r.stderr
    yield d, base, r.stdout
    quickstart("stop", "--dir", str(d))


def ldapsearch(port, dn, password, *args):
    return subprocess.run(
        ["ldapsearch", "-x", "-LLL", "-o", "nettimeout=5",
         "-H", f"ldap://127.0.0.1:{port}/", "-D", dn, "-w", password, *args],
        capture_output=True, text=True, timeout=30)


def test_ports_file_names_every_service_from_the_base_port(instance):
    d, base, _ = instance
    ports = read_pairs(d / "ports")
    assert sorted(ports) == sorted(PORT_NAMES)
    assert sorted(int(p) for p in ports.values()) == list(range(base, base + 8))


def test_credentials_file_is_private_and_complete(instance):
    d, _, _ = instance
    path = d / "credentials"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    creds = read_pairs(path)
    for key in ["ldap_admin_dn", "ldap_admin_password", "ldap_base",
                "alice_password", "bob_password"]:
        assert creds.get(key), f"credentials lack {key}"


def test_the_printed_settings_tell_a_thunderbird_user_what_to_type(instance):
    d, base, out = instance
    creds = read_pairs(d / "credentials")
    assert "alice@example.test" in out
    assert creds["alice_password"] in out
    assert str(base + 5) in out  # IMAPS port


def test_private_slapd_answers_with_the_admin_credentials(instance):
    d, _, _ = instance
    creds = read_pairs(d / "credentials")
    port = read_pairs(d / "ports")["ldap"]
    r = ldapsearch(port, creds["ldap_admin_dn"], creds["ldap_admin_password"],
                   "-b", creds["ldap_base"], "(mail=alice@example.test)", "uid")
    assert r.returncode == 0, r.stderr
    assert "uid: alice" in r.stdout


def test_demo_users_can_bind_with_their_printed_passwords(instance):
    d, _, _ = instance
    creds = read_pairs(d / "credentials")
    port = read_pairs(d / "ports")["ldap"]
    dn = f"uid=bob,ou=people,{creds['ldap_base']}"
    ok = ldapsearch(port, dn, creds["bob_password"], "-b", dn, "-s", "base",
                    "(objectClass=*)", "uid")
    assert ok.returncode == 0, ok.stderr
    bad = ldapsearch(port, dn, creds["bob_password"] + "x", "-b", dn, "-s",
                     "base", "(objectClass=*)", "uid")
    assert bad.returncode == 49  # invalidCredentials


def test_generated_config_is_accepted_by_bastidectl(instance):
    d, _, _ = instance
    r = subprocess.run([os.path.join(BUILD, "tools", "bastidectl"), "-c",
                        str(d / "bastide.conf"), "conf", "check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_a_second_run_reuses_the_instance_and_stop_stops_it(tmp_path):
    base = free_base()
    r = quickstart("--detach", "--no-install", "--dir", str(tmp_path),
                   "--base-port", str(base))
    assert r.returncode == 0, r.stdout + r.stderr
    first = read_pairs(tmp_path / "credentials")
    pidfile = tmp_path / "slapd" / "slapd.pid"
    pid = int(pidfile.read_text())
    r = quickstart("stop", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"slapd {pid} still running after quickstart stop")
    r = quickstart("--detach", "--no-install", "--dir", str(tmp_path),
                   "--base-port", str(base))
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert read_pairs(tmp_path / "credentials") == first
        creds = first
        port = read_pairs(tmp_path / "ports")["ldap"]
        s = ldapsearch(port, creds["ldap_admin_dn"],
                       creds["ldap_admin_password"], "-b", creds["ldap_base"],
                       "(uid=alice)", "uid")
        assert "uid: alice" in s.stdout
    finally:
        quickstart("stop", "--dir", str(tmp_path))
