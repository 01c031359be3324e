"""bastide-imapd: CREATE-SPECIAL-USE (RFC 6154), OBJECTID (RFC 8474),
the tagged BAD for an over-long command line, and background downloads
announced in ID that a loaded server turns away.

Each test works on a user of its own (added to the shared slapd), so the
tests do not depend on each other's order.  Exact response lines go
through RawClient (imapd_util.py); imaplib stands in for a real client
where its view matters.
"""
import imaplib
import itertools
import os
import re

import pytest

from imapd_util import Imapd, message

OBJECTID = r"[A-Za-z0-9_-]{1,255}"
APPLE_BACKFILL = ('("name" "com.apple.email.maild" "version" "18.5" '
                  '"event" "periodic,back-fill")')

_users = itertools.count(1)


@pytest.fixture(scope="module")
def imapd(slapd, tmp_path_factory):
    d = Imapd(tmp_path_factory.mktemp("imapd-extras"), slapd,
              imapd={"auth_max_failures": "1000", "max_line": "1k"}).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def busy(slapd, tmp_path_factory):
    """An imapd that always counts as loaded (background_busy_jobs = 0)
    and takes imapsync for a background downloader."""
    d = Imapd(tmp_path_factory.mktemp("imapd-busy"), slapd, imapd={
        "auth_max_failures": "1000", "background_busy_jobs": "0",
        "background_clients": "imapsync, OfflineIMAP"}).start()
    yield d
    d.stop()


def new_user(slapd):
    """A fresh directory user: (address, password)."""
    n = next(_users)
    uid = f"imx{n}{os.getpid()}"
    mail = f"{uid}@example.test"
    pw = f"pw-{uid}"
    slapd.ldapadd(slapd.ldif_user(uid, mail, pw))
    return mail, pw


def login(d, user, pw):
    """A RawClient on the implicit-TLS port, logged in."""
    c = d.raw(tls=True)
    assert c.line().startswith("* OK ")
    r = c.cmd("l0", f'LOGIN "{user}" "{pw}"')
    assert r[-1].startswith("l0 OK "), r
    return c


def created_id(line, tag):
    """The MAILBOXID of a CREATE's tagged OK."""
    m = re.fullmatch(rf"{tag} OK \[MAILBOXID \(({OBJECTID})\)\] "
                     r"CREATE completed", line)
    assert m, line
    return m.group(1)


def status_id(c, tag, mailbox):
    r = c.cmd(tag, f"STATUS {mailbox} (MAILBOXID)")
    assert r[-1] == f"{tag} OK STATUS completed", r
    m = re.fullmatch(rf"\* STATUS \S+ \(MAILBOXID \(({OBJECTID})\)\)", r[0])
    assert m, r
    return m.group(1)


# --- capabilities


def test_login_offers_create_special_use_and_objectid(imapd, slapd):
    user, pw = new_user(slapd)
    c = imapd.imaps()
    typ, data = c.login(user, pw)
    assert b"CREATE-SPECIAL-USE" in data[0].split()
    typ, data = c.capability()
    caps = data[0].split()
    assert b"CREATE-SPECIAL-USE" in caps and b"SPECIAL-USE" in caps
    assert b"OBJECTID" in caps
    c.logout()


# --- CREATE-SPECIAL-USE (RFC 6154)


def test_create_with_a_special_use_lists_it(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    # the example of RFC 6154 section 5.3
    created_id(c.cmd("a", "CREATE MyJunk (USE (\\Junk))")[-1], "a")
    created_id(c.cmd("b", "CREATE Old/Mail (USE (\\Archive))")[-1], "b")
    created_id(c.cmd("c", "CREATE Both (USE (\\Sent \\Drafts))")[-1], "c")
    created_id(c.cmd("d", "CREATE Plain (USE ())")[-1], "d")
    assert c.cmd("e", 'LIST "" "MyJunk"') == [
        '* LIST (\\HasNoChildren \\Junk) "/" MyJunk', "e OK LIST completed"]
    assert c.cmd("f", 'LIST "" "Old*"') == [
        '* LIST (\\HasChildren) "/" Old',
        '* LIST (\\HasNoChildren \\Archive) "/" Old/Mail',
        "f OK LIST completed"]
    assert c.cmd("g", 'LIST "" "Both"') == [
        '* LIST (\\HasNoChildren \\Drafts \\Sent) "/" Both',
        "g OK LIST completed"]
    # the SPECIAL-USE selection lists the new ones with the default ones
    r = c.cmd("h", 'LIST (SPECIAL-USE) "" "*"')
    assert r[-1] == "h OK LIST completed"
    names = [x.rsplit(" ", 1)[1] for x in r[:-1]]
    assert names == ["Archive", "Both", "Drafts", "Junk", "MyJunk",
                     "Old/Mail", "Sent", "Trash"], r
    assert c.cmd("i", 'LIST "" "Plain" RETURN (SPECIAL-USE)') == [
        '* LIST (\\HasNoChildren) "/" Plain', "i OK LIST completed"]
    # RENAME keeps the use
    assert c.cmd("j", "RENAME MyJunk Spam") == ["j OK RENAME completed"]
    assert c.cmd("k", 'LIST "" "Spam"') == [
        '* LIST (\\HasNoChildren \\Junk) "/" Spam', "k OK LIST completed"]
    c.close()


def test_an_unsupported_use_gets_useattr_and_creates_nothing(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert c.cmd("a", "CREATE Everything (USE (\\All))") == [
        "a NO [USEATTR] Special use \\All is not supported"]
    assert c.cmd("b", "CREATE Stars (USE (\\Archive \\Flagged))") == [
        "b NO [USEATTR] Special use \\Flagged is not supported"]
    assert c.cmd("c", "CREATE Top/Imp (USE (\\Important))") == [
        "c NO [USEATTR] Special use \\Important is not supported"]
    assert c.cmd("d", "CREATE Odd (USE (\\Bogus))") == [
        "d NO [USEATTR] Unsupported special-use attribute \\Bogus"]
    assert c.cmd("e", 'LIST "" "*"')[-1] == "e OK LIST completed"
    r = c.cmd("f", 'LIST "" "%"')
    names = [x.rsplit(" ", 1)[1] for x in r[:-1]]
    for gone in ("Everything", "Stars", "Top", "Odd"):
        assert gone not in names, r
    # an existing folder keeps its use
    assert c.cmd("g", "CREATE Sent (USE (\\Archive))") == [
        "g NO [ALREADYEXISTS] Mailbox already exists"]
    assert c.cmd("h", 'LIST "" "Sent"') == [
        '* LIST (\\HasNoChildren \\Sent) "/" Sent', "h OK LIST completed"]
    c.close()


def test_a_special_use_survives_a_restart(slapd, tmp_path):
    user, pw = new_user(slapd)
    d = Imapd(tmp_path, slapd).start()
    try:
        c = d.imaps()
        c.login(user, pw)
        typ, data = c._simple_command("CREATE", "Kept",
                                      "(USE (\\Archive))")
        assert typ == "OK", data
        c.logout()
        d.restart()
        c = d.imaps()
        c.login(user, pw)
        typ, data = c.list('""', "Kept")
        assert data == [b'(\\HasNoChildren \\Archive) "/" Kept'], data
        c.logout()
    finally:
        d.stop()


# --- OBJECTID (RFC 8474)


def test_mailboxid_comes_with_create_select_and_status(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    made = created_id(c.cmd("a", "CREATE Projects")[-1], "a")
    assert status_id(c, "b", "Projects") == made
    r = c.cmd("c", "SELECT Projects")
    assert f"* OK [MAILBOXID ({made})] Ok" in r, r
    assert r[-1] == "c OK [READ-WRITE] SELECT completed"
    r = c.cmd("d", "EXAMINE Projects")
    assert f"* OK [MAILBOXID ({made})] Ok" in r, r
    # with other items, and through LIST-STATUS
    r = c.cmd("e", "STATUS Projects (MESSAGES MAILBOXID UIDNEXT)")
    assert r[0] == ("* STATUS Projects (MESSAGES 0 UIDNEXT 1 "
                    f"MAILBOXID ({made}))"), r
    r = c.cmd("f", 'LIST "" "Projects" RETURN (STATUS (MAILBOXID))')
    assert r == ['* LIST (\\HasNoChildren) "/" Projects',
                 f"* STATUS Projects (MAILBOXID ({made}))",
                 "f OK LIST completed"]
    # every folder has its own
    ids = {status_id(c, f"g{i}", name) for i, name in enumerate(
        ["INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive",
         "Projects"])}
    assert len(ids) == 7, ids
    c.close()


def test_mailboxid_survives_rename_and_is_never_reused(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    made = created_id(c.cmd("a", "CREATE Work/Old")[-1], "a")
    parent = status_id(c, "b", "Work")
    assert c.cmd("c", "RENAME Work Job") == ["c OK RENAME completed"]
    assert status_id(c, "d", "Job/Old") == made
    assert status_id(c, "e", "Job") == parent
    # deleted and made again: another mailbox, another id
    assert c.cmd("f", "DELETE Job/Old") == ["f OK DELETE completed"]
    again = created_id(c.cmd("g", "CREATE Job/Old")[-1], "g")
    assert again != made
    # RENAME INBOX makes a new mailbox for the messages; INBOX keeps its id
    inbox = status_id(c, "h", "INBOX")
    assert c.cmd("i", "RENAME INBOX Saved") == ["i OK RENAME completed"]
    assert status_id(c, "j", "INBOX") == inbox
    assert status_id(c, "k", "Saved") not in (inbox, made, again)
    c.close()


def test_emailid_and_threadid_are_objectids_and_searchable(imapd, slapd):
    user, pw = new_user(slapd)
    root = re.sub(rb"Message-ID: <[^>]*>",
                  b"Message-ID: <root.1@example.org>", message("root"))
    reply = (b"In-Reply-To: <root.1@example.org>\r\n"
             b"References: <root.1@example.org>\r\n" + message("reply"))
    imapd.deliver(user, root)
    imapd.deliver(user, reply)
    c = login(imapd, user, pw)
    c.cmd("a", "SELECT INBOX")
    r = c.cmd("b", "FETCH 1:2 (EMAILID THREADID)")
    assert r[-1] == "b OK FETCH completed", r
    got = [re.fullmatch(rf"\* (\d) FETCH \(EMAILID \(({OBJECTID})\) "
                        rf"THREADID \(({OBJECTID})\)\)", x) for x in r[:-1]]
    assert all(got), r
    (_, e1, t1), (_, e2, t2) = [m.groups() for m in got]
    assert e1 != e2 and t1 == t2
    assert c.cmd("c", f"SEARCH EMAILID {e2}") == ["* SEARCH 2",
                                                  "c OK SEARCH completed"]
    assert c.cmd("d", f"UID SEARCH THREADID {t1}") == [
        "* SEARCH 1 2", "d OK UID SEARCH completed"]
    assert c.cmd("e", "SEARCH EMAILID M0000000000000000") == [
        "* SEARCH", "e OK SEARCH completed"]
    assert c.cmd("f", "SEARCH EMAILID bad.id")[-1].startswith("f BAD ")
    c.close()


# --- over-long command lines


def test_an_over_long_line_gets_a_tagged_bad_and_the_rest_is_dropped(
        imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    # 1 KB lines: the refusal comes once the ceiling is passed, the rest
    # of the line (sent later) is discarded up to its end
    c.send("a1 SEARCH TEXT " + "x" * 2000)
    assert c.line() == "a1 BAD [TOOBIG] Command line too long"
    c.send("y" * 3000 + " a2 NOOP\r\n")
    assert c.cmd("a3", "NOOP") == ["a3 OK NOOP completed"]
    # a line too long to see any space in its first bytes: no tag
    c.send("t" * 70 + " NOOP " + "z" * 1100 + "\r\n")
    assert c.line() == "* BAD [TOOBIG] Command line too long"
    # nor from a line that does not start with a valid tag
    c.send("(a4 NOOP " + "z" * 1100 + "\r\n")
    assert c.line() == "* BAD [TOOBIG] Command line too long"
    # a line after a literal belongs to a command whose tag is known
    c.send('a5 SEARCH TEXT {1+}\r\nx TEXT "' + "w" * 1100 + '"\r\n')
    assert c.line() == "a5 BAD [TOOBIG] Command line too long"
    assert c.cmd("a6", "NOOP") == ["a6 OK NOOP completed"]
    c.close()


def test_imaplib_sees_the_tagged_bad_of_an_over_long_line(imapd, slapd):
    user, pw = new_user(slapd)
    c = imapd.imaps()
    c.login(user, pw)
    c.select("INBOX")
    with pytest.raises(imaplib.IMAP4.error, match="Command line too long"):
        c.uid("FETCH", ",".join(str(i) for i in range(1, 400)), "(FLAGS)")
    typ, _ = c.noop()
    assert typ == "OK"
    c.logout()


# --- background downloads announced in ID


def body_fetch(c, tag):
    return c.cmd(tag, "FETCH 1 (BODY.PEEK[])")[-1]


def test_a_loaded_server_refuses_a_background_download(busy, slapd):
    user, pw = new_user(slapd)
    busy.deliver(user, message("big"))
    c = login(busy, user, pw)
    # TN3189: the ID itself is answered NO [UNAVAILABLE]
    assert c.cmd("a", f"ID {APPLE_BACKFILL}") == [
        "a NO [UNAVAILABLE] Server busy, try later"]
    c.cmd("b", "SELECT INBOX")
    assert body_fetch(c, "c") == "c NO [UNAVAILABLE] Server busy, try later"
    assert c.cmd("d", "FETCH 1 (RFC822)")[-1] == \
        "d NO [UNAVAILABLE] Server busy, try later"
    # refused before anything changed: RFC822 did not set \Seen
    r = c.cmd("e", "FETCH 1 (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER."
              "FIELDS (Subject)])")
    assert r[-1] == "e OK FETCH completed", r
    assert "\\Seen" not in r[0], r
    assert "Subject: big" in r[1], r
    assert c.cmd("f", "UID SEARCH ALL")[-1] == "f OK UID SEARCH completed"
    # a later ID that announces nothing ends the background mode
    assert c.cmd("g", 'ID ("name" "com.apple.email.maild" "event" '
                 '"periodic")')[-1] == "g OK ID completed"
    assert body_fetch(c, "h") == "h OK FETCH completed"
    c.close()
    assert "background download refused: server busy" in busy.log()


def test_interactive_clients_are_never_refused(busy, slapd):
    user, pw = new_user(slapd)
    busy.deliver(user, message("hello"))
    for i, ident in enumerate([
            '("name" "Thunderbird" "version" "128.0")',
            '("name" "com.apple.email.maild" "event" "periodic,push")',
            '("name" "iPhone Mail" "event" "back-fill")',
            "NIL", None]):
        c = login(busy, user, pw)
        if ident is not None:
            assert c.cmd("a", f"ID {ident}")[-1] == "a OK ID completed"
        c.cmd("b", "SELECT INBOX")
        assert body_fetch(c, "c") == "c OK FETCH completed", ident
        c.close()
    # imaplib, which sends no ID
    c = busy.imaps()
    c.login(user, pw)
    c.select("INBOX")
    typ, data = c.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK" and b"Subject: hello" in data[0][1]
    c.logout()


def test_configured_client_names_count_as_background(busy, slapd):
    user, pw = new_user(slapd)
    busy.deliver(user, message("sync"))
    for name in ("imapsync", "offlineimap"):
        c = login(busy, user, pw)
        assert c.cmd("a", f'ID ("name" "{name}" "version" "2")') == [
            "a NO [UNAVAILABLE] Server busy, try later"]
        c.cmd("b", "SELECT INBOX")
        assert body_fetch(c, "c") == \
            "c NO [UNAVAILABLE] Server busy, try later"
        c.close()


def test_an_idle_server_serves_background_downloads(imapd, slapd):
    user, pw = new_user(slapd)
    imapd.deliver(user, message("idle"))
    c = login(imapd, user, pw)
    r = c.cmd("a", f"ID {APPLE_BACKFILL}")
    assert r[-1] == "a OK ID completed" and r[0].startswith("* ID ("), r
    c.cmd("b", "SELECT INBOX")
    assert body_fetch(c, "c") == "c OK FETCH completed"
    c.close()


def test_refusing_background_downloads_can_be_switched_off(slapd, tmp_path):
    user, pw = new_user(slapd)
    d = Imapd(tmp_path, slapd, imapd={"background_busy_jobs": "0",
                                      "background_refuse": "no"}).start()
    try:
        d.deliver(user, message("off"))
        c = login(d, user, pw)
        assert c.cmd("a", f"ID {APPLE_BACKFILL}")[-1] == "a OK ID completed"
        c.cmd("b", "SELECT INBOX")
        assert body_fetch(c, "c") == "c OK FETCH completed"
        c.close()
    finally:
        d.stop()
