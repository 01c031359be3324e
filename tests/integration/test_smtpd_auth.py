"""bastide-smtpd: STARTTLS, implicit TLS, AUTH PLAIN/LOGIN, failure bans,
sender ownership and relaying for authenticated users; with smtplib,
swaks and gnutls-cli."""
import base64
import os
import smtplib
import subprocess
import time

import pytest

from daemon_util import client_context
from smtpd_util import Raw, smtpd_fixture

MSG = b"Subject: from submission\r\n\r\nhello\r\n"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


smtpd = smtpd_fixture("smtpd", entries=True,
                      smtpd={"auth_max_failures": "1000"})

# plaintext AUTH on loopback, no sender check, quick bans
loose = smtpd_fixture("loose",
                      smtpd={"allow_plaintext_auth_on_loopback": "yes",
                             "sender_ownership_check": "no",
                             "auth_max_failures": "3",
                             "auth_ban_time": "1h"})


def tls_session(smtpd, role="submission"):
    """A raw session after STARTTLS (or on the implicit-TLS port)."""
    if role == "submissions":
        r = Raw(smtpd.ports["submissions"], tls=True)
    else:
        r = Raw(smtpd.ports[role])
        r.cmd("EHLO client.test")
        assert r.cmd("STARTTLS").startswith("220 2.0.0")
        r.sock = client_context().wrap_socket(r.sock)
    r.cmd("EHLO client.test")
    return r


def test_starttls_then_auth_plain_then_send(smtpd, slapd):
    before = len(smtpd.messages("bob@example.test"))
    with smtpd.smtp("submission") as c:
        c.starttls(context=client_context())
        c.ehlo("client.test")
        c.login("alice", slapd.password("alice"))
        c.sendmail("alice@example.test", ["bob@example.test"], MSG)
    msgs = smtpd.messages("bob@example.test")
    assert len(msgs) == before + 1
    m = msgs[-1]
    assert b"with ESMTPSA id" in m
    assert b"(authenticated as alice)" in m
    assert b"\t(using TLS1." in m and b"with cipher " in m


def test_implicit_tls_auth_login_with_initial_response(smtpd, slapd):
    r = tls_session(smtpd, "submissions")
    got = r.cmd("AUTH LOGIN " + b64("alice"))
    assert got == "334 UGFzc3dvcmQ6", got
    got = r.cmd(b64(slapd.password("alice")))
    assert got.startswith("235 2.7.0"), got
    got = r.cmd("AUTH PLAIN " + b64("\0alice\0x"))
    assert got.startswith("503 5.5.1"), got
    r.close()


def test_auth_login_with_the_334_exchange(smtpd, slapd):
    r = tls_session(smtpd)
    assert r.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
    assert r.cmd(b64("bob")) == "334 UGFzc3dvcmQ6"
    got = r.cmd(b64(slapd.password("bob")))
    assert got.startswith("235 2.7.0"), got
    r.close()


def test_auth_plain_with_the_334_exchange_and_an_authzid(smtpd, slapd):
    r = tls_session(smtpd)
    assert r.cmd("AUTH PLAIN") == "334 "
    got = r.cmd(b64("alice\0alice\0" + slapd.password("alice")))
    assert got.startswith("235 2.7.0"), got
    r.close()


def test_an_authzid_of_someone_else_is_refused(smtpd, slapd):
    r = tls_session(smtpd)
    got = r.cmd("AUTH PLAIN " + b64("bob\0alice\0" + slapd.password("alice")))
    assert got.startswith("535"), got
    r.close()


@pytest.mark.parametrize("mech,first", [("PLAIN", "334 "),
                                        ("LOGIN", "334 VXNlcm5hbWU6")])
def test_a_star_cancels_the_exchange_with_501_5_7_0(smtpd, mech, first):
    r = tls_session(smtpd)
    assert r.cmd("AUTH " + mech) == first
    got = r.cmd("*")
    assert got.startswith("501 5.7.0"), got
    assert r.cmd("NOOP").startswith("250")
    r.close()


def test_bad_base64_and_unknown_mechanisms_are_refused(smtpd):
    r = tls_session(smtpd)
    assert r.cmd("AUTH PLAIN") == "334 "
    got = r.cmd("not base64!")
    assert got.startswith("501 5.5.2"), got
    got = r.cmd("AUTH CRAM-MD5")
    assert got.startswith("504 5.5.4"), got
    r.close()


def test_a_wrong_password_is_535_5_7_8(smtpd, slapd):
    with smtpd.smtps() as c:
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.login("alice", "wrong password")
        assert e.value.smtp_code == 535
        assert e.value.smtp_error.startswith(b"5.7.8")
        # still usable, and the right password works
        c.login("alice", slapd.password("alice"))


def test_auth_before_tls_is_530_and_mail_before_auth_is_530(smtpd):
    r = Raw(smtpd.ports["submission"])
    r.cmd("EHLO client.test")
    got = r.cmd("AUTH PLAIN " + b64("\0alice\0x"))
    assert got.startswith("530 5.7.0"), got
    got = r.cmd("MAIL FROM:<alice@example.test>")
    assert got.startswith("530 5.7.0"), got
    r.close()
    r = tls_session(smtpd, "submissions")
    got = r.cmd("MAIL FROM:<alice@example.test>")
    assert got.startswith("530 5.7.0"), got
    r.close()


def test_mx_has_no_auth(smtpd):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    got = r.cmd("AUTH PLAIN " + b64("\0alice\0x"))
    assert got.startswith("502 5.5.1"), got
    r.close()


def test_an_authenticated_user_sends_only_from_own_addresses(smtpd, slapd):
    with smtpd.smtps() as c:
        c.login("alice", slapd.password("alice"))
        got = c.mail("bob@example.test")
        assert got[0] == 553 and got[1].startswith(b"5.7.1"), got
        c.rset()
        assert c.mail("Alice.Smith@example.test")[0] == 250
        c.rset()
        assert c.mail("")[0] == 250


def test_an_authenticated_user_relays_to_other_domains(smtpd, slapd):
    with smtpd.smtps() as c:
        c.login("alice", slapd.password("alice"))
        c.mail("alice@example.test")
        assert c.rcpt("friend@elsewhere.test")[0] == 250
        assert c.rcpt("bob@example.test")[0] == 250
        code, text = c.data(MSG)
    assert code == 250, text
    # delivered to bob, and queued for the friend
    assert text.count(b",") == 1, text


def test_plaintext_auth_on_loopback_when_allowed(loose, slapd):
    with loose.smtp("submission") as c:
        assert c.has_extn("auth")
        c.login("bob", slapd.password("bob"))
        # sender_ownership_check = no
        assert c.mail("alice@example.test")[0] == 250


def test_repeated_failures_ban_the_address_with_421(loose, slapd):
    r = Raw(loose.ports["submission"])
    r.cmd("EHLO client.test")
    for i in range(2):
        got = r.cmd("AUTH PLAIN " + b64("\0bob\0wrong%d" % i))
        assert got.startswith("535 5.7.8"), got
    got = r.cmd("AUTH PLAIN " + b64("\0bob\0wrong"))
    assert got.startswith("421 4.7.0"), got
    assert r.closed()
    # a new connection from the same address is refused AUTH at once,
    # right password or not
    r = Raw(loose.ports["submission"])
    r.cmd("EHLO client.test")
    got = r.cmd("AUTH PLAIN " + b64("\0bob\0" + slapd.password("bob")))
    assert got.startswith("421 4.7.0"), got
    r.close()


def test_failures_are_slowed_down(smtpd):
    r = tls_session(smtpd)
    start = time.monotonic()
    got = r.cmd("AUTH PLAIN " + b64("\0bob\0wrong"))
    assert got.startswith("535"), got
    r.cmd("AUTH PLAIN " + b64("\0bob\0wrong again"))
    assert time.monotonic() - start >= 0.2
    r.close()


def test_gnutls_cli_implicit_tls_and_starttls(smtpd):
    r = subprocess.run(["gnutls-cli", "--insecure", "--port",
                        str(smtpd.ports["submissions"]), "127.0.0.1"],
                       input="EHLO client.test\r\nQUIT\r\n",
                       capture_output=True, text=True, timeout=30)
    assert "250-AUTH PLAIN LOGIN" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(["gnutls-cli", "--insecure", "--starttls-proto=smtp",
                        "--port", str(smtpd.ports["submission"]),
                        "127.0.0.1"],
                       input="EHLO client.test\r\nQUIT\r\n",
                       capture_output=True, text=True, timeout=30)
    assert "250-AUTH PLAIN LOGIN" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("tls", [["-tls"], ["-tlsc"]])
def test_swaks_with_tls_and_auth(smtpd, slapd, tls):
    port = smtpd.ports["submission" if tls == ["-tls"] else "submissions"]
    before = len(smtpd.messages("bob@example.test"))
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(port), *tls, "--auth", "LOGIN",
                        "--auth-user", "alice", "--auth-password",
                        slapd.password("alice"), "--from",
                        "alice@example.test", "--to", "bob@example.test"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(smtpd.messages("bob@example.test")) == before + 1


def test_dsn_parameters_and_the_user_are_carried_into_the_queue(smtpd,
                                                                 slapd):
    from smtpd_util import queued
    with smtpd.smtps() as c:
        c.login("alice", slapd.password("alice"))
        assert c.mail("alice@example.test", ["RET=HDRS", "ENVID=QQ+2B1",
                                             "BODY=8BITMIME"])[0] == 250
        got = c.rcpt("Friend@Elsewhere.test",
                     ["NOTIFY=SUCCESS,DELAY", "ORCPT=rfc822;friend+2Bx@e.test"])
        assert got[0] == 250, got
        assert c.rcpt("other@elsewhere.test", ["NOTIFY=NEVER"])[0] == 250
        code, text = c.data(MSG)
    assert code == 250, text
    qid = text.decode().rsplit(", ", 1)[1]
    env = queued(smtpd)[qid]
    assert env["sender"] == "alice@example.test"
    assert env["envid"] == "QQ+1"
    assert env["ret"] == 2          # QUEUE_RET_HDRS
    assert env["body"] == 2         # QUEUE_BODY_8BITMIME
    assert env["auth_user"] == "alice"
    rc = {r["addr"]: r for r in env["rcpts"]}
    assert rc["Friend@Elsewhere.test"]["notify"] == 0x02 | 0x08
    assert rc["Friend@Elsewhere.test"]["orcpt"] == "rfc822;friend+x@e.test"
    assert rc["other@elsewhere.test"]["notify"] == 0x01
    assert "orcpt" not in rc["other@elsewhere.test"]
    # the queued copy has our Received: but no Return-Path:
    with open(os.path.join(smtpd.queue_dir, qid + ".msg"), "rb") as f:
        m = f.read()
    assert m.startswith(b"Received: from client.test"), m[:80]
    assert m.endswith(MSG)
