"""bastide-smtpd against bad input: open relay attempts, routing tricks,
SMTP smuggling, STARTTLS injection, limits, timeouts, LDAP down."""
import socket
import ssl
import time

import pytest

from daemon_util import client_context
from smtpd_util import Raw, Smtpd, smtpd_fixture

smtpd = smtpd_fixture("smtpd", entries=True, smtpd={"max_errors": "6"})

# short timeouts, few connections, and the whole loopback trusted
strict = smtpd_fixture("strict",
                       smtpd={"max_connections_per_ip": "3",
                              "idle_timeout": "1s", "data_timeout": "1s",
                              "trusted_networks":
                                  "192.0.2.0/24, 127.0.0.0/8"})


def session(port, tls=False, ehlo=True):
    r = Raw(port, tls=tls)
    if ehlo:
        r.cmd("EHLO client.test")
    return r


# ---- open relay


@pytest.mark.parametrize("role", ["mx", "submission", "submissions"])
def test_no_role_relays_foreign_to_foreign_without_auth(smtpd, role):
    r = session(smtpd.ports[role], tls=role == "submissions")
    got = r.cmd("MAIL FROM:<spammer@foreign.test>")
    if role == "mx":
        assert got.startswith("250"), got
        got = r.cmd("RCPT TO:<victim@elsewhere.test>")
        assert got.startswith("554 5.7.1"), got
    else:
        assert got.startswith("530 5.7.0"), got
        got = r.cmd("RCPT TO:<victim@elsewhere.test>")
        assert got.startswith("503 5.5.1"), got
    r.close()


def test_lmtp_never_relays(smtpd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(smtpd.lmtp_path)
    s.settimeout(10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"LHLO x\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"MAIL FROM:<a@foreign.test>\r\n")
    assert f.readline().startswith(b"250 2.1.0")
    s.sendall(b"RCPT TO:<victim@elsewhere.test>\r\n")
    got = f.readline()
    assert got.startswith(b"554 5.7.1"), got
    s.close()


@pytest.mark.parametrize("rcpt,want", [
    ("victim%elsewhere.test@example.test", "550 5.7.1"),
    ("elsewhere.test!victim@example.test", "550 5.7.1"),
    ("@example.test:victim@elsewhere.test", "550 5.7.1"),
    ("@elsewhere.test:alice@example.test", "550 5.7.1"),
    ("@example.test,@mx.test:victim@elsewhere.test", "550 5.7.1"),
    ('"victim@elsewhere.test"@example.test', "550 5.1.1"),
    ('"victim%elsewhere.test"@example.test', "550 5.1.1"),
    ('"alice"@elsewhere.test', "554 5.7.1"),
    ("victim@[127.0.0.1]", "554 5.7.1"),
    ("victim@[IPv6:::1]", "554 5.7.1"),
    ("victim@elsewhere.test", "554 5.7.1"),
    ("alice@example.test.elsewhere.test", "554 5.7.1"),
])
def test_routing_tricks_and_quoted_parts_are_never_relayed(smtpd, rcpt,
                                                           want):
    r = session(smtpd.ports["mx"])
    r.cmd("MAIL FROM:<spammer@foreign.test>")
    got = r.cmd(f"RCPT TO:<{rcpt}>")
    assert got.startswith(want), f"{rcpt}: got {got!r}, want {want}"
    r.close()


def test_mx_does_not_relay_even_for_a_trusted_network(strict):
    r = session(strict.ports["mx"])
    r.cmd("MAIL FROM:<a@foreign.test>")
    got = r.cmd("RCPT TO:<victim@elsewhere.test>")
    assert got.startswith("554 5.7.1"), got
    r.close()


def test_submission_relays_for_a_trusted_network_without_auth(strict):
    r = session(strict.ports["submission"])
    assert r.cmd("MAIL FROM:<a@foreign.test>").startswith("250")
    got = r.cmd("RCPT TO:<friend@elsewhere.test>")
    assert got.startswith("250 2.1.5"), got
    # but routing tricks are still refused for local domains: the
    # address is looked up as it is, and does not exist
    got = r.cmd("RCPT TO:<x%elsewhere.test@example.test>")
    assert got.startswith("550"), got
    r.close()


def test_a_message_line_over_the_limit_refuses_the_message_and_hangs_up(
        slapd, tmp_path_factory):
    """A cut line may hide a bare-LF end of data, so the server cannot
    know where the message ends: it says so and closes, storing nothing."""
    s = Smtpd(tmp_path_factory.mktemp("longline"), slapd,
              smtpd={"max_data_line": "1000"}).start()
    try:
        bob = len(s.messages("bob@example.test"))
        r = session(s.ports["mx"])
        start_data(r)
        r.send(b"Subject: long\r\n\r\n" + b"x" * 500 + b"\r\n")
        r.send(b"y" * 2000 + b"\r\n.\r\n")
        got = r.reply()
        assert got.startswith("554 5.6.0"), got
        assert r.closed(), "the connection stayed open"
        # a line of exactly the limit, CRLF included, is fine
        r = session(s.ports["mx"])
        start_data(r)
        r.send(b"Subject: fits\r\n\r\n" + b"z" * 998 + b"\r\n.\r\n")
        got = r.reply()
        assert got.startswith("250 2.0.0"), got
        r.close()
        msgs = s.wait_messages("bob@example.test", bob + 1)
        assert len(msgs) == bob + 1
        assert not any(b"y" * 100 in m for m in msgs)
    finally:
        s.stop()


# ---- SMTP smuggling


def start_data(r):
    r.cmd("MAIL FROM:<a@foreign.test>")
    assert r.cmd("RCPT TO:<bob@example.test>").startswith("250")
    assert r.cmd("DATA").startswith("354")


@pytest.mark.parametrize("end", [b"\n.\n", b"\r.\r", b"\r\n.\n",
                                 b"\n.\r\n", b"\r.\r\n", b"\r\n.\r"])
def test_a_fake_end_of_data_never_splits_the_message(smtpd, end):
    before = len(smtpd.messages("alice@example.test"))
    bob = len(smtpd.messages("bob@example.test"))
    r = session(smtpd.ports["mx"])
    start_data(r)
    r.send(b"Subject: first\r\n\r\nbody" + end +
           b"MAIL FROM:<evil@foreign.test>\r\nRCPT TO:<alice@example.test>"
           b"\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
    got = r.reply()
    # one reply for the whole thing, which carried a bare CR or LF
    assert got.startswith("550 5.5.2"), got
    got = r.cmd("NOOP")
    assert got.startswith("250 2.0.0"), f"session out of step: {got!r}"
    r.close()
    assert len(smtpd.messages("alice@example.test")) == before
    assert len(smtpd.messages("bob@example.test")) == bob


def test_a_bare_lf_in_a_command_is_500_5_5_2_and_the_session_goes_on(smtpd):
    r = session(smtpd.ports["mx"])
    r.send(b"NOOP\n")
    got = r.reply()
    assert got.startswith("500 5.5.2"), got
    r.send(b"NO\rOP\r\n")
    got = r.reply()
    assert got.startswith("500 5.5.2"), got
    assert r.cmd("NOOP").startswith("250 2.0.0")
    r.close()


def test_plaintext_pipelined_after_starttls_is_discarded(smtpd):
    r = session(smtpd.ports["submission"])
    r.send(b"STARTTLS\r\nMAIL FROM:<evil@foreign.test>\r\n")
    assert r.reply().startswith("220 2.0.0")
    r.sock = client_context().wrap_socket(r.sock)
    r.cmd("EHLO client.test")
    # the injected MAIL was not taken: there is no transaction
    got = r.cmd("RCPT TO:<bob@example.test>")
    assert got.startswith("503 5.5.1"), got
    r.close()
    assert "discarding" in smtpd.log()


# ---- limits


def test_a_command_line_of_512_octets_is_taken_and_513_is_500_5_5_2(smtpd):
    r = session(smtpd.ports["mx"])
    line = "NOOP " + "x" * (512 - 2 - 5)
    assert len(line) + 2 == 512
    assert r.cmd(line).startswith("250 2.0.0")
    got = r.cmd(line + "x")
    assert got.startswith("500 5.5.2"), got
    assert r.cmd("NOOP").startswith("250")
    r.close()


def test_too_many_errors_end_the_session_with_421(smtpd):
    r = session(smtpd.ports["mx"])
    for _ in range(5):
        assert r.cmd("BOGUS").startswith("500 5.5.1")
    got = r.cmd("BOGUS")
    assert got.startswith("500 5.5.1"), got
    assert r.reply().startswith("421 4.7.0")
    assert r.closed()


def test_connections_over_the_per_ip_limit_get_421(strict):
    held = [Raw(strict.ports["mx"]) for _ in range(3)]
    s = socket.create_connection(("127.0.0.1", strict.ports["mx"]),
                                 timeout=10)
    data = s.recv(1000)
    assert data.startswith(b"421 4.7.0"), data
    s.close()
    for r in held:
        r.close()
    # the server notices the closes on its next loop pass: wait until a
    # slot is free again, so the next test does not meet the limit
    end = time.monotonic() + 10
    while True:
        r = Raw(strict.ports["mx"])
        free = r.greeting.startswith("220")
        r.close()
        if free:
            break
        assert time.monotonic() < end, "the held connections never ended"
        time.sleep(0.05)


def test_an_idle_client_times_out_with_421_4_4_2(strict):
    r = Raw(strict.ports["mx"])
    start = time.monotonic()
    got = r.reply()
    assert got.startswith("421 4.4.2"), got
    assert time.monotonic() - start < 5
    assert r.closed()


def test_a_stalled_message_times_out(strict):
    r = Raw(strict.ports["mx"])
    r.cmd("EHLO client.test")
    start_data(r)
    r.send(b"Subject: half a message\r\n")
    got = r.reply()
    assert got.startswith("421 4.4.2"), got
    assert r.closed()
    assert strict.messages("bob@example.test") == []


# ---- the directory is down


def test_ldap_down_gives_451_4_4_3_never_5xx(slapd_factory, tmp_path):
    own = slapd_factory()
    s = Smtpd(tmp_path, own).start()
    try:
        r = session(s.ports["mx"])
        r.cmd("MAIL FROM:<a@foreign.test>")
        assert r.cmd("RCPT TO:<alice@example.test>").startswith("250")
        own.stop()
        for rcpt in ("bob@example.test", "nobody@example.test",
                     "team@example.test", "bob+folder@example.test"):
            got = r.cmd(f"RCPT TO:<{rcpt}>")
            assert got.startswith("451 4.4.3"), f"{rcpt}: {got!r}"
        r.close()
        # and a login cannot be checked: 454, not 535
        r = session(s.ports["submissions"], tls=True)
        got = r.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
        assert got.startswith("454 4.7.0"), got
        r.close()
    finally:
        s.stop()


def test_sighup_takes_new_domains_for_new_sessions(slapd, tmp_path):
    s = Smtpd(tmp_path, slapd, smtpd={"domains": "other.test"}).start()
    try:
        r = session(s.ports["mx"])
        r.cmd("MAIL FROM:<a@foreign.test>")
        got = r.cmd("RCPT TO:<bob@example.test>")
        assert got.startswith("554 5.7.1"), got
        r.close()
        s.smtpd_keys["domains"] = "other.test example.test"
        s.write_conf(keep_ports=True)
        s.reload()
        for _ in range(100):
            if "configuration reloaded" in s.log():
                break
            time.sleep(0.05)
        r = session(s.ports["mx"])
        r.cmd("MAIL FROM:<a@foreign.test>")
        got = r.cmd("RCPT TO:<bob@example.test>")
        assert got.startswith("250 2.1.5"), got
        r.close()
    finally:
        s.stop()
