"""bastide-smtpd: the protocol and local delivery, with smtplib and swaks.

One smtpd for the module, against the session's slapd (example.test,
alice, bob, team) plus the entries of smtpd_util.smtpd_entries().  Security
tests are in test_smtpd_security.py, AUTH and TLS in test_smtpd_auth.py,
the crash test in test_smtpd_durability.py.
"""
import os
import re
import smtplib
import socket
import subprocess

import pytest

from smtpd_util import Raw, Smtpd, body_of, ensure_entries, smtpd_entries

MSG = (b"From: someone@foreign.test\r\nTo: alice@example.test\r\n"
       b"Subject: hello\r\n\r\nHello Alice.\r\n")


@pytest.fixture(scope="module")
def smtpd(slapd, tmp_path_factory):
    ensure_entries(slapd, smtpd_entries(slapd))
    s = Smtpd(tmp_path_factory.mktemp("smtpd"), slapd,
              smtpd={"max_recipients": "5", "max_message_size": "200k",
                     "message_memory": "8k"}).start()
    yield s
    s.stop()


def send(smtpd, rcpts, msg=MSG, sender="someone@foreign.test", role="mx",
         **kw):
    with smtpd.smtp(role) as c:
        return c.sendmail(sender, rcpts, msg, **kw)


def keywords(reply):
    """The EHLO keywords of a multi-line 250 reply, upper case."""
    return [line[4:].split()[0].upper() for line in reply.split("\n")[1:]]


# ---- greeting and EHLO


def test_the_greeting_and_quit_carry_the_session_id_of_the_log(smtpd):
    r = Raw(smtpd.ports["mx"])
    m = re.match(r"220 mx\.test ESMTP ready, session (\w+)$", r.greeting)
    assert m, f"got greeting {r.greeting!r}"
    sid = m.group(1)
    bye = r.cmd("QUIT")
    assert bye.startswith("221 2.0.0") and sid in bye, f"got {bye!r}"
    assert f"[{sid}]" in smtpd.log()


@pytest.mark.parametrize("role,starttls,auth", [
    ("mx", True, False),
    ("submission", True, False),
])
def test_ehlo_offers_each_keyword_on_the_plain_ports(smtpd, role, starttls,
                                                     auth):
    r = Raw(smtpd.ports[role])
    reply = r.cmd("EHLO client.test")
    kw = keywords(reply)
    for want in ("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8",
                 "ENHANCEDSTATUSCODES", "DSN", "CHUNKING"):
        assert want in kw, f"{role}: {want} missing from {reply!r}"
    assert "250-SIZE 204800" in reply, reply
    assert ("STARTTLS" in kw) == starttls, reply
    assert ("AUTH" in kw) == auth, reply
    r.close()


def test_submission_offers_auth_only_after_starttls_and_no_starttls_twice(
        smtpd):
    with smtpd.smtp("submission") as c:
        assert not c.has_extn("auth")
        c.starttls(context=__import__("smtpd_util").client_context())
        c.ehlo("client.test")
        assert c.has_extn("auth")
        assert c.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert not c.has_extn("starttls")


def test_submissions_is_implicit_tls_with_auth_and_without_starttls(smtpd):
    with smtpd.smtps() as c:
        assert c.has_extn("auth")
        assert not c.has_extn("starttls")
        for want in ("pipelining", "size", "8bitmime", "smtputf8",
                     "enhancedstatuscodes", "dsn", "chunking"):
            assert c.has_extn(want), want


def test_helo_is_plain_smtp_without_extension_parameters(smtpd):
    r = Raw(smtpd.ports["mx"])
    assert r.cmd("HELO client.test") == "250 mx.test Hello client.test"
    got = r.cmd("MAIL FROM:<a@foreign.test> SIZE=10")
    assert got.startswith("555 5.5.4"), got
    got = r.cmd("BDAT 1 LAST")
    assert got.startswith("502 5.5.1"), got
    r.close()


# ---- simple commands and errors


@pytest.mark.parametrize("line,want", [
    ("NOOP", "250 2.0.0"),
    ("NOOP anything", "250 2.0.0"),
    ("RSET", "250 2.0.0"),
    ("VRFY alice", "252 2.5.0"),
    ("VRFY nobody-at-all", "252 2.5.0"),
    ("HELP", "214 2.0.0"),
    ("EXPN team", "502 5.5.1"),
    ("FOO bar", "500 5.5.1"),
    ("HELO", "501 5.5.4"),
    ("EHLO two words", "501 5.5.4"),
    ("MAIL FROM:alice@foreign.test", "501 5.1.7"),
    ("RCPT TO:<alice@example.test>", "503 5.5.1"),
    ("DATA", "503 5.5.1"),
    ("LHLO client.test", "500 5.5.1"),
    ("MAIL FROM:<a@foreign.test> FOO=BAR", "555 5.5.4"),
])
def test_each_command_gets_its_reply(smtpd, line, want):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    got = r.cmd(line)
    assert got.startswith(want), f"{line}: got {got!r}, want {want}"
    # the session goes on
    assert r.cmd("NOOP").startswith("250 2.0.0")
    r.close()


def test_vrfy_answers_the_same_for_users_and_strangers(smtpd):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    a = r.cmd("VRFY alice@example.test")
    b = r.cmd("VRFY nobody@example.test")
    assert a == b, f"got {a!r} and {b!r}"
    r.close()


def test_mail_before_ehlo_and_nested_mail_are_out_of_sequence(smtpd):
    r = Raw(smtpd.ports["mx"])
    got = r.cmd("MAIL FROM:<a@foreign.test>")
    assert got.startswith("503 5.5.1"), got
    r.cmd("EHLO client.test")
    assert r.cmd("MAIL FROM:<a@foreign.test>").startswith("250 2.1.0")
    got = r.cmd("MAIL FROM:<a@foreign.test>")
    assert got.startswith("503 5.5.1"), got
    r.close()


def test_data_with_only_refused_recipients_is_554(smtpd):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    r.cmd("MAIL FROM:<a@foreign.test>")
    assert r.cmd("RCPT TO:<nobody@example.test>").startswith("550 5.1.1")
    got = r.cmd("DATA")
    assert got.startswith("554 5.5.1"), got
    r.close()


def test_every_reply_but_greeting_and_ehlo_has_an_enhanced_code(smtpd):
    r = Raw(smtpd.ports["mx"])
    replies = [r.cmd(line) for line in (
        "EHLO client.test", "NOOP", "VRFY x", "HELP", "FOO",
        "MAIL FROM:<a@foreign.test>", "RCPT TO:<nobody@example.test>",
        "RCPT TO:<alice@example.test>", "RSET", "QUIT")]
    for rep in replies[1:]:
        for line in rep.split("\n"):
            assert re.match(r"\d{3}[ -][245]\.\d{1,3}\.\d{1,3} ", line), \
                f"no enhanced code in {line!r}"


# ---- delivery


def test_mail_to_a_user_is_in_its_maildir_with_trace_headers(smtpd):
    before = len(smtpd.messages("bob@example.test"))
    send(smtpd, ["bob@example.test"])
    msgs = smtpd.messages("bob@example.test")
    assert len(msgs) == before + 1
    m = msgs[-1]
    assert m.startswith(b"Return-Path: <someone@foreign.test>\r\n"
                        b"Received: from client.test ([127.0.0.1])\r\n")
    assert b"by mx.test (Bastide) with ESMTP id " in m
    assert b"for <bob@example.test>;" in m
    assert body_of(m) == MSG


def test_the_final_250_comes_after_the_file_is_in_new(smtpd):
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        c.rcpt("bob@example.test")
        n = len(smtpd.messages("bob@example.test"))
        code, text = c.data(MSG)
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as")
        # no waiting: the reply was only sent once the file was durable
        assert len(smtpd.messages("bob@example.test")) == n + 1


def test_an_alias_delivers_to_its_user(smtpd):
    before = len(smtpd.messages("alice@example.test"))
    send(smtpd, ["Alice.Smith@Example.TEST"])
    assert len(smtpd.messages("alice@example.test")) == before + 1


def test_a_group_delivers_to_every_member_once(smtpd):
    a = len(smtpd.messages("alice@example.test"))
    b = len(smtpd.messages("bob@example.test"))
    # alice twice, once directly and once through the list
    send(smtpd, ["team@example.test", "alice@example.test"])
    assert len(smtpd.messages("alice@example.test")) == a + 1
    assert len(smtpd.messages("bob@example.test")) == b + 1


def test_a_local_forward_delivers_to_its_target(smtpd):
    b = len(smtpd.messages("bob@example.test"))
    send(smtpd, ["sd-fwd@example.test"])
    assert len(smtpd.messages("bob@example.test")) == b + 1
    assert smtpd.messages("sd-fwd@example.test") == []


def test_detail_goes_to_an_existing_folder_matched_without_case(smtpd):
    folder = smtpd.maildir("bob@example.test", "Work")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    inbox = len(smtpd.messages("bob@example.test"))
    send(smtpd, ["bob+work@example.test"])
    assert len(smtpd.messages("bob@example.test", "Work")) == 1
    assert len(smtpd.messages("bob@example.test")) == inbox


def test_detail_of_a_missing_folder_goes_to_inbox(smtpd):
    inbox = len(smtpd.messages("bob@example.test"))
    send(smtpd, ["bob+nosuchfolder@example.test"])
    assert len(smtpd.messages("bob@example.test")) == inbox + 1
    assert not os.path.exists(smtpd.maildir("bob@example.test",
                                            "nosuchfolder"))


@pytest.mark.parametrize("rcpt,code,enh", [
    ("nobody@example.test", 550, b"5.1.1"),
    ("nobody+x@example.test", 550, b"5.1.1"),
    ("sd-disabled@example.test", 550, b"5.2.1"),
])
def test_bad_recipients_are_refused_at_rcpt(smtpd, rcpt, code, enh):
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        got = c.rcpt(rcpt)
        assert got[0] == code and got[1].startswith(enh), f"got {got}"


def test_a_locked_account_still_receives_mail(smtpd):
    send(smtpd, ["sd-locked@example.test"])
    assert len(smtpd.messages("sd-locked@example.test")) >= 1


def test_a_list_skips_disabled_members_and_queues_remote_ones(smtpd):
    a = len(smtpd.messages("alice@example.test"))
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        assert c.rcpt("sd-list@example.test")[0] == 250
        code, text = c.data(MSG)
    assert code == 250, text
    assert len(smtpd.messages("alice@example.test")) == a + 1
    assert smtpd.messages("sd-disabled@example.test") == []
    # the remote member (a forward elsewhere) went to the queue
    assert re.search(rb"queued as \S+, \S+", text), text


def test_over_quota_is_452_at_rcpt_with_size_and_after_data(smtpd):
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test", ["SIZE=5000"])
        got = c.rcpt("sd-quota@example.test")
        assert got[0] == 452 and got[1].startswith(b"4.2.2"), got
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        assert c.rcpt("sd-quota@example.test")[0] == 250
        code, text = c.data(MSG + b"x" * 200 + b"\r\n")
        assert code == 452 and text.startswith(b"4.2.2"), (code, text)
    assert smtpd.messages("sd-quota@example.test") == []


def test_postmaster_without_domain_is_ours(smtpd, slapd):
    ensure_entries(slapd, [("(uid=sd_pm)", slapd.ldif_user(
        "sd_pm", "postmaster@example.test"))])
    send(smtpd, ["postmaster"])
    assert len(smtpd.messages("postmaster@example.test")) >= 1


def test_too_many_recipients_is_452_4_5_3(smtpd):
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        for _ in range(5):
            assert c.rcpt("bob@example.test")[0] == 250
        got = c.rcpt("bob@example.test")
        assert got[0] == 452 and got[1].startswith(b"4.5.3"), got


def test_a_message_over_max_message_size_is_552_and_the_session_goes_on(
        smtpd):
    big = MSG + (b"y" * 998 + b"\r\n") * 250
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        c.rcpt("bob@example.test")
        code, text = c.data(big)
        assert code == 552 and text.startswith(b"5.3.4"), (code, text)
        assert c.noop()[0] == 250


def test_size_over_the_limit_is_refused_at_mail(smtpd):
    with smtpd.smtp() as c:
        got = c.mail("someone@foreign.test", ["SIZE=999999999"])
        assert got[0] == 552 and got[1].startswith(b"5.3.4"), got


def test_a_message_bigger_than_memory_is_spooled_and_arrives_whole(smtpd):
    big = MSG + b"".join(b"line %06d " % i + b"z" * 60 + b"\r\n"
                         for i in range(1500))
    send(smtpd, ["alice@example.test"], msg=big)
    assert body_of(smtpd.messages("alice@example.test")[-1]) == big
    # the spill file is gone
    assert os.listdir(smtpd.spool) == []


def test_eight_bit_and_utf8_messages_arrive_byte_exact(smtpd):
    body = ("From: Zoë <zoe@foreign.test>\r\nSubject: Grüße\r\n\r\n"
            "Ça va? 日本語 \xff\r\n..leading dot\r\n").encode("utf-8",
                                                            "surrogateescape")
    send(smtpd, ["bob@example.test"], msg=body,
         mail_options=["BODY=8BITMIME"])
    # smtplib dot-stuffs the ".." line and we unstuff it: no change
    assert body_of(smtpd.messages("bob@example.test")[-1]) == body


def test_smtputf8_addresses_are_accepted_and_the_message_is_exact(smtpd):
    # mail and mailLocalAddress are IA5 strings in LDAP, so a local
    # mailbox has an ASCII address; UTF-8 ones are senders and strangers
    body = "From: jürgen@foreign.test\r\nSubject: ü\r\n\r\nü\r\n".encode()
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    assert r.cmd("MAIL FROM:<jürgen@foreign.test> SMTPUTF8").startswith(
        "250")
    got = r.cmd("RCPT TO:<jürgen@example.test>")
    assert got.startswith("550 5.1.1"), got
    got = r.cmd("RCPT TO:<bob@example.test>")
    assert got.startswith("250 2.1.5"), got
    assert r.cmd("DATA").startswith("354")
    r.send(body + b".\r\n")
    assert r.reply().startswith("250 2.0.0")
    r.close()
    m = smtpd.messages("bob@example.test")[-1]
    assert body_of(m) == body
    assert b"with UTF8SMTP id" in m
    assert "Return-Path: <jürgen@foreign.test>".encode() in m


def test_utf8_address_without_smtputf8_is_553_5_6_7(smtpd):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    got = r.cmd("MAIL FROM:<jürgen@foreign.test>")
    assert got.startswith("553 5.6.7"), got
    r.close()


def test_bdat_chunks_arrive_byte_exact_with_binary_bytes(smtpd):
    part1 = b"Subject: chunks\r\n\r\n.\r\n"        # a dot line is data
    part2 = b"\x00\x01 raw \r\n.\r\nend\r\n"
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    r.cmd("MAIL FROM:<a@foreign.test>")
    r.cmd("RCPT TO:<bob@example.test>")
    r.send(b"BDAT %d\r\n" % len(part1) + part1)
    got = r.reply()
    assert got == f"250 2.0.0 {len(part1)} octets received", got
    r.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    got = r.reply()
    assert got.startswith("250 2.0.0 Ok: queued as"), got
    assert r.cmd("NOOP").startswith("250")
    r.close()
    assert body_of(smtpd.messages("bob@example.test")[-1]) == part1 + part2


def test_bdat_zero_last_ends_and_bdat_without_rcpt_is_read_and_refused(
        smtpd):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    # refused, but its 12 bytes are data, not the commands they look like
    r.send(b"BDAT 12\r\nQUIT\r\nNOOP\r\n")
    got = r.reply()
    assert got.startswith("503 5.5.1"), got
    r.cmd("MAIL FROM:<a@foreign.test>")
    r.cmd("RCPT TO:<bob@example.test>")
    r.send(b"BDAT 6\r\nA: b\r\n")
    assert r.reply().startswith("250")
    r.send(b"BDAT 0 LAST\r\n")
    got = r.reply()
    assert got.startswith("250 2.0.0 Ok"), got
    got = r.cmd("DATA")
    assert got.startswith("503"), got
    r.close()


def test_bdat_over_the_size_limit_is_552_after_reading_it_all(smtpd):
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    r.cmd("MAIL FROM:<a@foreign.test>")
    r.cmd("RCPT TO:<bob@example.test>")
    n = 300 * 1024
    r.send(b"BDAT %d LAST\r\n" % n + b"x" * n)
    got = r.reply()
    assert got.startswith("552 5.3.4"), got
    assert r.cmd("NOOP").startswith("250")
    r.close()


def test_dsn_parameters_are_accepted(smtpd):
    with smtpd.smtp() as c:
        assert c.mail("someone@foreign.test",
                      ["RET=HDRS", "ENVID=abc+2Bdef"])[0] == 250
        got = c.rcpt("bob@example.test",
                     ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@x.test"])
        assert got[0] == 250, got
        assert c.data(MSG)[0] == 250
        got = c.rcpt("bob@example.test", ["NOTIFY=NEVER,SUCCESS"])
        assert got[0] == 501, got


def test_a_pipelined_session_gets_every_reply_in_order(smtpd):
    before = len(smtpd.messages("alice@example.test"))
    r = Raw(smtpd.ports["mx"])
    r.cmd("EHLO client.test")
    r.send("MAIL FROM:<a@foreign.test>\r\nRCPT TO:<alice@example.test>\r\n"
           "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
           "DATA\r\n")
    got = [r.reply() for _ in range(5)]
    assert [g[:3] for g in got] == ["250", "250", "550", "250", "354"], got
    r.send(MSG + b".\r\nMAIL FROM:<b@foreign.test>\r\n"
           b"RCPT TO:<alice@example.test>\r\nDATA\r\n")
    got = [r.reply() for _ in range(4)]
    assert [g[:3] for g in got] == ["250", "250", "250", "354"], got
    r.send(MSG + b".\r\nQUIT\r\n")
    assert r.reply().startswith("250 2.0.0")
    assert r.reply().startswith("221")
    r.close()
    assert len(smtpd.messages("alice@example.test")) == before + 2


def test_swaks_delivers_with_pipelining(smtpd):
    before = len(smtpd.messages("bob@example.test"))
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(smtpd.ports["mx"]), "--from",
                        "someone@foreign.test", "--to", "bob@example.test",
                        "--pipeline", "--body", "from swaks"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(smtpd.messages("bob@example.test")) == before + 1


# ---- LMTP


def test_lmtp_gives_one_reply_per_recipient_after_data(smtpd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(smtpd.lmtp_path)
    s.settimeout(10)
    f = s.makefile("rb")

    def reply():
        lines = [f.readline().decode()]
        while lines[-1][3] == "-":
            lines.append(f.readline().decode())
        return "".join(lines)

    assert "LMTP" in reply()
    s.sendall(b"EHLO x\r\n")
    assert reply().startswith("500 5.5.1")
    s.sendall(b"LHLO x\r\n")
    assert "CHUNKING" in reply()
    s.sendall(b"MAIL FROM:<a@foreign.test>\r\n")
    assert reply().startswith("250")
    for rcpt, want in (("alice@example.test", "250"),
                       ("nobody@example.test", "550"),
                       ("sd-quota@example.test", "250"),
                       ("bob@example.test", "250"),
                       ("x@foreign.test", "554")):
        s.sendall(b"RCPT TO:<%s>\r\n" % rcpt.encode())
        got = reply()
        assert got.startswith(want), f"{rcpt}: {got}"
    s.sendall(b"DATA\r\n")
    assert reply().startswith("354")
    s.sendall(MSG + b"x" * 200 + b"\r\n.\r\n")
    got = [reply() for _ in range(3)]
    assert got[0].startswith("250 2.1.5 <alice@example.test>"), got
    assert got[1].startswith("452 4.2.2 <sd-quota@example.test>"), got
    assert got[2].startswith("250 2.1.5 <bob@example.test>"), got
    s.sendall(b"QUIT\r\n")
    assert reply().startswith("221")
    s.close()


def test_lmtp_bdat_last_gives_one_reply_per_recipient(smtpd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(smtpd.lmtp_path)
    s.settimeout(10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"LHLO x\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"MAIL FROM:<a@foreign.test>\r\nRCPT TO:<alice@example.test>"
              b"\r\nRCPT TO:<sd-out@example.test>\r\n")
    for _ in range(3):
        assert f.readline().startswith(b"250")
    body = b"Subject: lmtp chunks\r\n\r\none\r\n"
    s.sendall(b"BDAT %d LAST\r\n" % len(body) + body)
    got = [f.readline(), f.readline()]
    assert got[0].startswith(b"250 2.1.5 <alice@example.test>"), got
    # a forward elsewhere: accepted into the queue
    assert got[1].startswith(b"250 2.1.5 <sd-out@example.test>"), got
    s.close()
    assert body_of(smtpd.messages("alice@example.test")[-1]) == body


def test_a_mailbox_that_fails_beside_others_is_queued_and_retried(smtpd,
                                                                  slapd):
    from smtpd_util import control, queued
    import time
    ensure_entries(slapd, [("(uid=sd_quota2)", slapd.ldif_user(
        "sd_quota2", "sd-quota2@example.test", bastideQuota="100"))])
    bob = len(smtpd.messages("bob@example.test"))
    big = MSG + b"b" * 300 + b"\r\n"
    with smtpd.smtp() as c:
        c.mail("someone@foreign.test")
        assert c.rcpt("bob@example.test")[0] == 250
        assert c.rcpt("sd-quota2@example.test")[0] == 250
        code, text = c.data(big)
    # one reply for both: bob has it, the full mailbox waits in the queue
    assert code == 250, text
    assert len(smtpd.messages("bob@example.test")) == bob + 1
    qid = text.decode().rsplit(", ", 1)[1]
    env = queued(smtpd)[qid]
    assert [r["addr"] for r in env["rcpts"]] == ["sd-quota2@example.test"]
    # room is made; the queue delivers it through smtp_local_deliver()
    slapd.ldapmodify(f"dn: uid=sd_quota2,ou=people,{slapd.base}\n"
                     "changetype: modify\nreplace: bastideQuota\n"
                     "bastideQuota: 100000\n")
    smtpd.reload()      # forgets cached lookups
    time.sleep(0.2)
    assert control(smtpd, "flush " + qid)[-1] == "OK"
    msgs = smtpd.wait_messages("sd-quota2@example.test", 1)
    assert len(msgs) == 1
    assert body_of(msgs[0]) == big
    assert msgs[0].startswith(b"Return-Path: <someone@foreign.test>\r\n")
