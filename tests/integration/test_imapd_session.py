"""bastide-imapd: the session, authentication, mailbox and LIST commands,
IDLE, untagged updates, bad input, limits and autologout.

Each test that counts messages or lists folders works on a user of its own
(added to the shared slapd with ldapadd), so the tests do not depend on
each other's order.  Most exchanges go through RawClient (imapd_util.py)
to check exact response lines; imaplib is used where a real client's view
matters (STARTTLS, AUTHENTICATE, many sessions).
"""
import base64
import imaplib
import itertools
import os
import re
import time

import pytest

from imapd_util import Imapd, message
from smtpd_util import client_context

PRE_TLS_CAPS = ("IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE "
                "STARTTLS LOGINDISABLED")
TLS_CAPS = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN"
POST_CAPS = ("IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE "
             "NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN LIST-EXTENDED "
             "LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE ESEARCH SEARCHRES "
             "CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE STATUS=SIZE SORT "
             "THREAD=ORDEREDSUBJECT THREAD=REFERENCES UTF8=ACCEPT BINARY "
             "MULTIAPPEND UNAUTHENTICATE OBJECTID COMPRESS=DEFLATE "
             "APPENDLIMIT=52428800")
DEFAULT_LIST = [
    '* LIST (\\HasNoChildren \\Archive) "/" Archive',
    '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasNoChildren \\Junk) "/" Junk',
    '* LIST (\\HasNoChildren \\Sent) "/" Sent',
    '* LIST (\\HasNoChildren \\Trash) "/" Trash',
]

_users = itertools.count(1)


@pytest.fixture(scope="module")
def imapd(slapd, tmp_path_factory):
    d = Imapd(tmp_path_factory.mktemp("imapd"), slapd,
              imapd={"auth_max_failures": "1000"}).start()
    yield d
    d.stop()


def new_user(slapd, quota=None, status=None):
    """A fresh directory user: (address, password)."""
    n = next(_users)
    uid = f"imt{n}{os.getpid()}"
    mail = f"{uid}@example.test"
    pw = f"pw-{uid}"
    attrs = {}
    if quota is not None:
        attrs["bastideQuota"] = str(quota)
    if status is not None:
        attrs["bastideAccountStatus"] = status
    slapd.ldapadd(slapd.ldif_user(uid, mail, pw, **attrs))
    return mail, pw


def login(imapd, user, pw):
    """A RawClient on the implicit-TLS port, logged in."""
    c = imapd.raw(tls=True)
    assert c.line().startswith("* OK ")
    r = c.cmd("l0", f'LOGIN "{user}" "{pw}"')
    assert r[-1].startswith("l0 OK "), r
    return c


def untagged(lines):
    return [x for x in lines if x.startswith("* ")]


def status_of(c, tag, mailbox, items):
    """The numbers of one STATUS response as a dict."""
    r = c.cmd(tag, f"STATUS {mailbox} ({items})")
    assert r[-1] == f"{tag} OK STATUS completed", r
    m = re.match(r"\* STATUS \S+ \((.*)\)$", r[0])
    vals = m.group(1).split()
    return {vals[i]: int(vals[i + 1]) for i in range(0, len(vals), 2)}


def find_file(imapd, user, base, folder=None):
    """The current path of a delivered message (new/ or cur/)."""
    d = imapd.maildir(user, folder)
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(d, sub)):
            if name.split(":")[0] == base.split(":")[0]:
                return os.path.join(d, sub, name)
    raise AssertionError(f"{base} not found in {d}")


def set_flags(imapd, user, base, flags, folder=None):
    """Change a message's flags as another Maildir program would."""
    path = find_file(imapd, user, base, folder)
    d = imapd.maildir(user, folder)
    dst = os.path.join(d, "cur", base.split(":")[0] + ":2," + flags)
    os.rename(path, dst)
    # a rename within one second must still be seen as a change
    os.utime(os.path.join(d, "cur"))


def expunge_file(imapd, user, base, folder=None):
    """Remove a message as another Maildir program would."""
    os.unlink(find_file(imapd, user, base, folder))


def deliver_n(imapd, c, user, n, tag="dn"):
    """n messages, one at a time with a STATUS after each, so that their
    UIDs follow the delivery order; returns the file names."""
    names = []
    for i in range(n):
        names.append(imapd.deliver(user, message(f"m{i}")))
        status_of(c, f"{tag}{i}", "INBOX", "MESSAGES")
    return names


# --- capabilities, TLS, greeting


def test_before_tls_the_greeting_offers_starttls_and_disables_login(imapd):
    c = imapd.raw()
    assert c.line() == (f"* OK [CAPABILITY {PRE_TLS_CAPS}] Bastide IMAP "
                        "ready")
    assert c.cmd("a", "CAPABILITY") == [f"* CAPABILITY {PRE_TLS_CAPS}",
                                        "a OK CAPABILITY completed"]
    assert c.cmd("b", 'LOGIN alice "x"') == [
        "b NO [PRIVACYREQUIRED] Plaintext login is disabled, use STARTTLS "
        "first"]
    assert c.cmd("c", "AUTHENTICATE PLAIN AGFsaWNlAHg=") == [
        "c NO [PRIVACYREQUIRED] Plaintext authentication is disabled, use "
        "STARTTLS first"]
    c.close()


def test_after_starttls_login_is_offered_and_starttls_is_not(imapd):
    c = imaplib.IMAP4("127.0.0.1", imapd.ports["imap"], timeout=10)
    assert "LOGINDISABLED" in c.capabilities
    c.starttls(client_context())
    typ, data = c.capability()
    assert data == [TLS_CAPS.encode()]
    with pytest.raises(imaplib.IMAP4.error, match="TLS is already active"):
        c._simple_command("STARTTLS")
    c.logout()


def test_implicit_tls_greets_with_login_capabilities(imapd):
    c = imapd.raw(tls=True)
    assert c.line() == f"* OK [CAPABILITY {TLS_CAPS}] Bastide IMAP ready"
    c.close()


def test_plaintext_login_works_on_loopback_only_when_configured(
        slapd, tmp_path):
    d = Imapd(tmp_path, slapd, imapd={
        "allow_plaintext_auth_on_loopback": "yes"}).start()
    try:
        c = d.raw()
        greeting = c.line()
        assert "AUTH=PLAIN" in greeting and "LOGINDISABLED" not in greeting
        r = c.cmd("a", f'LOGIN alice "{slapd.password("alice")}"')
        assert r[-1].startswith("a OK [CAPABILITY IMAP4rev1 "), r
        c.close()
    finally:
        d.stop()


# --- authentication


def test_login_answers_with_the_post_login_capabilities(imapd, slapd):
    user, pw = new_user(slapd)
    c = imapd.raw(tls=True)
    c.line()
    assert c.cmd("a", f'LOGIN {user} "{pw}"') == [
        f"a OK [CAPABILITY {POST_CAPS}] Logged in"]
    assert c.cmd("b", "CAPABILITY") == [f"* CAPABILITY {POST_CAPS}",
                                        "b OK CAPABILITY completed"]
    assert c.cmd("c", f'LOGIN {user} "{pw}"') == [
        "c BAD LOGIN: already logged in"]
    c.close()


def test_authenticate_plain_with_an_initial_response(imapd, slapd):
    user, pw = new_user(slapd)
    ir = base64.b64encode(f"\0{user}\0{pw}".encode()).decode()
    c = imapd.raw(tls=True)
    c.line()
    assert c.cmd("a", f"AUTHENTICATE PLAIN {ir}") == [
        f"a OK [CAPABILITY {POST_CAPS}] Logged in"]
    c.close()


def test_authenticate_plain_after_a_continuation_and_cancel(imapd, slapd):
    user, pw = new_user(slapd)
    c = imaplib.IMAP4_SSL("127.0.0.1", imapd.ports["imaps"],
                          ssl_context=client_context(), timeout=10)
    typ, data = c.authenticate("PLAIN",
                               lambda _: f"\0{user}\0{pw}".encode())
    assert typ == "OK" and data[0].startswith(b"[CAPABILITY IMAP4rev1 ")
    c.logout()
    r = imapd.raw(tls=True)
    r.line()
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send("*\r\n")
    assert r.line() == "a BAD Authentication cancelled"
    r.send("b AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send("not base64!\r\n")
    assert r.line() == "b BAD Invalid base64 data"
    assert r.cmd("c", "AUTHENTICATE CRAM-MD5") == [
        "c NO Unsupported authentication mechanism"]
    r.close()


def test_wrong_passwords_are_refused_slowed_logged_then_banned(slapd,
                                                               tmp_path):
    d = Imapd(tmp_path, slapd, imapd={"auth_max_failures": "3"}).start()
    try:
        user, pw = new_user(slapd)
        c = d.raw(tls=True)
        c.line()
        t0 = time.monotonic()
        assert c.cmd("a", f'LOGIN {user} "wrong"') == [
            "a NO [AUTHENTICATIONFAILED] Authentication failed"]
        first = time.monotonic() - t0
        t0 = time.monotonic()
        assert c.cmd("b", f'LOGIN {user} "wrong"') == [
            "b NO [AUTHENTICATIONFAILED] Authentication failed"]
        second = time.monotonic() - t0
        assert first < 0.9, f"got {first:.2f} s for the first failure"
        assert second >= 0.9, f"got {second:.2f} s, want a delay of 1 s"
        ir = base64.b64encode(f"\0{user}\0wrong".encode()).decode()
        assert c.cmd("c", f"AUTHENTICATE PLAIN {ir}", timeout=15) == [
            "c NO [AUTHENTICATIONFAILED] Authentication failed"]
        # three failures: even the right password is refused for a while
        assert c.cmd("d", f'LOGIN {user} "{pw}"') == [
            "d NO [UNAVAILABLE] Too many failed logins, try again later"]
        c.close()
        assert "authentication failed: login=" + user in d.log()
        assert "wrong" not in d.log()
    finally:
        d.stop()


def test_a_locked_account_cannot_log_in(imapd, slapd):
    user, pw = new_user(slapd, status="locked")
    c = imapd.raw(tls=True)
    c.line()
    assert c.cmd("a", f'LOGIN {user} "{pw}"') == [
        "a NO [AUTHENTICATIONFAILED] Authentication failed"]
    c.close()


def test_unauthenticate_returns_to_the_greeting_state(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert c.cmd("a", "SELECT INBOX")[-1].startswith("a OK [READ-WRITE]")
    assert c.cmd("b", "UNAUTHENTICATE") == ["b OK UNAUTHENTICATE completed"]
    assert c.cmd("c", "CAPABILITY") == [f"* CAPABILITY {TLS_CAPS}",
                                        "c OK CAPABILITY completed"]
    assert c.cmd("d", "NOOP") == ["d OK NOOP completed"]
    assert c.cmd("e", "LIST \"\" *") == ["e BAD LIST: log in first"]
    assert c.cmd("f", f'LOGIN {user} "{pw}"')[-1].startswith("f OK")
    c.close()


def test_logout_says_bye_then_ok_and_closes(imapd):
    c = imapd.raw()
    c.line()
    assert c.cmd("a", "LOGOUT") == ["* BYE Logging out",
                                    "a OK LOGOUT completed"]
    assert c.closed()


# --- ENABLE, ID, NAMESPACE


def test_enable_lists_what_it_enabled_once(imapd, slapd):
    user, pw = new_user(slapd)
    c = imapd.raw(tls=True)
    c.line()
    assert c.cmd("a", "ENABLE CONDSTORE") == ["a BAD ENABLE: log in first"]
    c.cmd("l", f'LOGIN {user} "{pw}"')
    assert c.cmd("b", "ENABLE CONDSTORE X-UNKNOWN UTF8=ACCEPT") == [
        "* ENABLED CONDSTORE UTF8=ACCEPT", "b OK ENABLE completed"]
    assert c.cmd("c", "ENABLE CONDSTORE IMAP4rev2") == [
        "* ENABLED IMAP4rev2", "c OK ENABLE completed"]
    assert c.cmd("d", "ENABLE QRESYNC") == ["* ENABLED QRESYNC",
                                            "d OK ENABLE completed"]
    c.close()


def test_id_answers_with_the_server_name(imapd):
    c = imapd.raw()
    c.line()
    r = c.cmd("a", 'ID ("name" "pytest" "version" "1")')
    assert r[0].startswith('* ID ("name" "Bastide" "vendor" "Bastide" '
                           '"version" "')
    assert r[1] == "a OK ID completed"
    assert c.cmd("b", "ID NIL")[-1] == "b OK ID completed"
    assert 'client ID name="pytest" version="1"' in imapd.log()
    c.close()


def test_namespace_is_one_personal_namespace(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert c.cmd("a", "NAMESPACE") == ['* NAMESPACE (("" "/")) NIL NIL',
                                       "a OK NAMESPACE completed"]
    c.close()


# --- LIST, LSUB, LIST-EXTENDED, LIST-STATUS


def test_list_shows_the_default_folders_with_special_use(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert c.cmd("a", 'LIST "" "*"') == DEFAULT_LIST + ["a OK LIST completed"]
    assert c.cmd("b", 'LIST "" ""') == ['* LIST (\\Noselect) "/" ""',
                                        "b OK LIST completed"]
    assert c.cmd("c", 'LIST "" "inbox"') == [
        '* LIST (\\HasNoChildren) "/" INBOX', "c OK LIST completed"]
    assert c.cmd("d", "LSUB \"\" *") == [
        '* LSUB () "/" Archive', '* LSUB () "/" Drafts', '* LSUB () "/" INBOX',
        '* LSUB () "/" Junk', '* LSUB () "/" Sent', '* LSUB () "/" Trash',
        "d OK LSUB completed"]
    c.close()


def test_list_wildcards_and_hierarchy(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert re.fullmatch(r"a OK \[MAILBOXID \(F[0-9a-f]{16}\)\] CREATE "
                        "completed", c.cmd("a", "CREATE Work/Projects/2024")[0])
    assert c.cmd("b", 'LIST "" "W%"') == [
        '* LIST (\\HasChildren) "/" Work', "b OK LIST completed"]
    assert c.cmd("c", 'LIST "Work/" "%"') == [
        '* LIST (\\HasChildren) "/" Work/Projects', "c OK LIST completed"]
    assert c.cmd("d", 'LIST "" "Work/*"') == [
        '* LIST (\\HasChildren) "/" Work/Projects',
        '* LIST (\\HasNoChildren) "/" Work/Projects/2024',
        "d OK LIST completed"]
    assert c.cmd("e", 'LIST "" "*2024"') == [
        '* LIST (\\HasNoChildren) "/" Work/Projects/2024',
        "e OK LIST completed"]
    assert c.cmd("f", 'LIST "" "%2024"') == ["f OK LIST completed"]
    # a pattern of many wildcards is cheap, not exponential
    t0 = time.monotonic()
    r = c.cmd("g", 'LIST "" "' + "%*" * 200 + 'x"')
    assert r == ["g OK LIST completed"]
    assert time.monotonic() - t0 < 2
    c.close()


def test_lsub_shows_unsubscribed_parents_as_noselect(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    c.cmd("a", "CREATE Lists/Debian")
    assert c.cmd("b", "SUBSCRIBE Lists/Debian") == [
        "b OK SUBSCRIBE completed"]
    assert c.cmd("c", 'LSUB "" "L%"') == ['* LSUB (\\Noselect) "/" Lists',
                                          "c OK LSUB completed"]
    assert c.cmd("d", 'LSUB "" "Lists/*"') == [
        '* LSUB () "/" Lists/Debian', "d OK LSUB completed"]
    assert c.cmd("e", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "L%"') == [
        '* LIST (\\HasChildren) "/" Lists ("CHILDINFO" ("SUBSCRIBED"))',
        "e OK LIST completed"]
    assert c.cmd("f", "UNSUBSCRIBE Lists/Debian") == [
        "f OK UNSUBSCRIBE completed"]
    assert c.cmd("g", 'LSUB "" "L*"') == ["g OK LSUB completed"]
    c.close()


def test_list_extended_selection_and_return_options(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    c.cmd("a", "CREATE Old")
    c.cmd("b", "SUBSCRIBE Gone")        # subscribed, does not exist
    assert c.cmd("c", 'LIST (SUBSCRIBED) "" "*"') == [
        '* LIST (\\Subscribed \\HasNoChildren \\Archive) "/" Archive',
        '* LIST (\\Subscribed \\HasNoChildren \\Drafts) "/" Drafts',
        '* LIST (\\NonExistent \\Subscribed) "/" Gone',
        '* LIST (\\Subscribed \\HasNoChildren) "/" INBOX',
        '* LIST (\\Subscribed \\HasNoChildren \\Junk) "/" Junk',
        '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" Sent',
        '* LIST (\\Subscribed \\HasNoChildren \\Trash) "/" Trash',
        "c OK LIST completed"]
    assert c.cmd("d", 'LIST (SPECIAL-USE) "" "*"') == [
        '* LIST (\\HasNoChildren \\Archive) "/" Archive',
        '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
        '* LIST (\\HasNoChildren \\Junk) "/" Junk',
        '* LIST (\\HasNoChildren \\Sent) "/" Sent',
        '* LIST (\\HasNoChildren \\Trash) "/" Trash',
        "d OK LIST completed"]
    assert c.cmd("e", 'LIST "" ("INBOX" "Old") RETURN (SUBSCRIBED '
                 'CHILDREN)') == [
        '* LIST (\\Subscribed \\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Old',
        "e OK LIST completed"]
    assert c.cmd("f", 'LIST (REMOTE) "" "Old"') == [
        '* LIST (\\HasNoChildren) "/" Old', "f OK LIST completed"]
    c.close()


def test_list_status_and_thunderbirds_folder_tree_command(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    imapd.deliver(user, message("one"))
    imapd.deliver(user, message("two"), flags="S")
    assert c.cmd("a", 'LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))') \
        == ['* LIST (\\HasNoChildren) "/" INBOX',
            "* STATUS INBOX (MESSAGES 2 UNSEEN 1)",
            "a OK LIST completed"]
    r = c.cmd("b", 'LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE CHILDREN '
              'STATUS (MESSAGES UNSEEN))')
    assert r[-1] == "b OK LIST completed"
    assert '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" Sent' in r
    assert "* STATUS Sent (MESSAGES 0 UNSEEN 0)" in r
    assert r[r.index('* LIST (\\Subscribed \\HasNoChildren) "/" INBOX')
             + 1] == "* STATUS INBOX (MESSAGES 2 UNSEEN 1)"
    assert len([x for x in r if x.startswith("* STATUS ")]) == 6
    c.close()


def test_mailbox_names_are_modified_utf7_until_utf8_is_enabled(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert c.cmd("a", "CREATE &ANw-bung")[0].endswith("CREATE completed")
    assert c.cmd("b", 'LIST "" "&ANw-*"') == [
        '* LIST (\\HasNoChildren) "/" &ANw-bung', "b OK LIST completed"]
    c.cmd("c", "ENABLE UTF8=ACCEPT")
    assert c.cmd("d", 'LIST "" "Üb*"') == [
        '* LIST (\\HasNoChildren) "/" "Übung"', "d OK LIST completed"]
    c.close()


# --- CREATE, DELETE, RENAME, SUBSCRIBE


def test_create_delete_rename_and_their_errors(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    assert c.cmd("a", "CREATE Projects")[0].startswith("a OK [MAILBOXID (")
    assert c.cmd("b", "CREATE Projects") == [
        "b NO [ALREADYEXISTS] Mailbox already exists"]
    assert c.cmd("c", "CREATE inbox") == [
        "c NO [ALREADYEXISTS] INBOX always exists"]
    assert c.cmd("d", "RENAME Projects Archive2") == [
        "d OK RENAME completed"]
    assert c.cmd("e", 'LIST "" "Pro*"') == ["e OK LIST completed"]
    assert c.cmd("f", 'LIST "" "Archive2"') == [
        '* LIST (\\HasNoChildren) "/" Archive2', "f OK LIST completed"]
    assert c.cmd("g", "RENAME Nope Other") == [
        "g NO [NONEXISTENT] Mailbox does not exist"]
    assert c.cmd("h", "DELETE Archive2") == ["h OK DELETE completed"]
    assert c.cmd("i", "DELETE Archive2") == [
        "i NO [NONEXISTENT] Mailbox does not exist"]
    assert c.cmd("j", "DELETE INBOX") == [
        "j NO [CANNOT] INBOX cannot be deleted"]
    assert c.cmd("k", "CREATE Spam (USE (\\Flagged))") == [
        "k NO [USEATTR] Special use \\Flagged is not supported"]
    assert c.cmd("l", "SELECT Nope") == [
        "l NO [NONEXISTENT] Mailbox does not exist"]
    # renaming or deleting the selected mailbox deselects it
    c.cmd("m", "CREATE Box")
    assert c.cmd("n", "SELECT Box")[-1] == "n OK [READ-WRITE] SELECT completed"
    assert c.cmd("o", "RENAME Box Box2") == ["* OK [CLOSED] Mailbox closed",
                                             "o OK RENAME completed"]
    assert c.cmd("p", "CHECK") == ["p BAD CHECK: no mailbox selected"]
    assert c.cmd("q", "SELECT Box2")[-1].startswith("q OK")
    assert c.cmd("r", "DELETE Box2") == ["* OK [CLOSED] Mailbox closed",
                                         "r OK DELETE completed"]
    assert c.cmd("s", "NOOP") == ["s OK NOOP completed"]
    c.close()


def test_mailbox_names_never_reach_another_user(imapd, slapd):
    user, pw = new_user(slapd)
    other, opw = new_user(slapd)
    c = login(imapd, other, opw)        # creates the other's mailbox
    c.close()
    ouid = other.split("@")[0]
    before = sorted(os.walk(os.path.join(imapd.store, "example.test",
                                         ouid)))
    c = login(imapd, user, pw)
    names = [f"../{ouid}", f"../{ouid}/Maildir", f"~{ouid}",
             f"~{ouid}/INBOX", "/etc", f"/{ouid}", "..", ".",
             f"INBOX/../../{ouid}", "&AC4ALg-/x", f"%2e%2e/{ouid}",
             f"..%2f{ouid}"]
    for i, name in enumerate(names):
        q = '"' + name + '"'
        r = c.cmd(f"s{i}", f"SELECT {q}")
        assert r[-1].startswith(f"s{i} NO "), (name, r)
        r = c.cmd(f"t{i}", f"STATUS {q} (MESSAGES)")
        assert r[-1].startswith(f"t{i} NO "), (name, r)
        r = c.cmd(f"d{i}", f"DELETE {q}")
        assert r[-1].startswith(f"d{i} NO "), (name, r)
        r = c.cmd(f"c{i}", f"CREATE {q}")
        if "%" not in name:
            assert r[-1].startswith(f"c{i} NO "), (name, r)
    c.close()
    after = sorted(os.walk(os.path.join(imapd.store, "example.test", ouid)))
    assert after == before
    # whatever was created stayed inside the user's own Maildir
    for top in os.listdir(os.path.join(imapd.store, "example.test")):
        assert top in (user.split("@")[0], ouid) or top.startswith("imt")


# --- STATUS, SELECT, EXAMINE


def test_status_counts_and_highestmodseq_moves_on_every_change(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    items = ("MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
             "HIGHESTMODSEQ APPENDLIMIT")
    s0 = status_of(c, "a", "INBOX", items)
    assert {k: v for k, v in s0.items() if k not in ("UIDVALIDITY",
                                                     "HIGHESTMODSEQ")} == {
        "MESSAGES": 0, "RECENT": 0, "UIDNEXT": 1, "UNSEEN": 0,
        "DELETED": 0, "SIZE": 0, "APPENDLIMIT": 52428800}
    msg = message("status")
    base = imapd.deliver(user, msg)
    s1 = status_of(c, "b", "INBOX", items)
    assert (s1["MESSAGES"], s1["RECENT"], s1["UIDNEXT"], s1["UNSEEN"],
            s1["SIZE"]) == (1, 1, 2, 1, len(msg))
    assert s1["UIDVALIDITY"] == s0["UIDVALIDITY"]
    assert s1["HIGHESTMODSEQ"] > s0["HIGHESTMODSEQ"]
    set_flags(imapd, user, base, "S")
    s2 = status_of(c, "c", "INBOX", "UNSEEN HIGHESTMODSEQ")
    assert s2["UNSEEN"] == 0 and s2["HIGHESTMODSEQ"] > s1["HIGHESTMODSEQ"]
    set_flags(imapd, user, base, "ST")
    s3 = status_of(c, "d", "INBOX", "DELETED HIGHESTMODSEQ")
    assert s3["DELETED"] == 1
    assert s3["HIGHESTMODSEQ"] > s2["HIGHESTMODSEQ"]
    expunge_file(imapd, user, base)
    s4 = status_of(c, "e", "INBOX", "MESSAGES HIGHESTMODSEQ")
    assert s4["MESSAGES"] == 0
    assert s4["HIGHESTMODSEQ"] > s3["HIGHESTMODSEQ"]
    assert c.cmd("f", "STATUS Nope (MESSAGES)") == [
        "f NO [NONEXISTENT] Mailbox does not exist"]
    c.close()


def test_select_and_examine_responses(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    imapd.deliver(user, message("seen"), flags="S")
    imapd.deliver(user, message("new"))
    st = status_of(c, "s", "INBOX", "UIDVALIDITY HIGHESTMODSEQ")
    uv, hm = st["UIDVALIDITY"], st["HIGHESTMODSEQ"]
    mid = c.cmd("m", "STATUS INBOX (MAILBOXID)")[0].split("(")[-1][:-2]
    assert c.cmd("a", "SELECT INBOX") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
        "\\Draft \\*)] Flags permitted",
        "* 2 EXISTS",
        "* 2 RECENT",
        "* OK [UNSEEN 2] First unseen",
        f"* OK [UIDVALIDITY {uv}] UIDs valid",
        "* OK [UIDNEXT 3] Predicted next UID",
        # STATUS (HIGHESTMODSEQ) above turned CONDSTORE on (RFC 7162 3.1)
        f"* OK [HIGHESTMODSEQ {hm}] Highest",
        f"* OK [MAILBOXID ({mid})] Ok",
        "a OK [READ-WRITE] SELECT completed"]
    # the SELECT took \Recent; EXAMINE with CONDSTORE
    assert c.cmd("b", "EXAMINE INBOX (CONDSTORE)") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* OK [PERMANENTFLAGS ()] Read-only mailbox",
        "* 2 EXISTS",
        "* 0 RECENT",
        "* OK [UNSEEN 2] First unseen",
        f"* OK [UIDVALIDITY {uv}] UIDs valid",
        "* OK [UIDNEXT 3] Predicted next UID",
        f"* OK [HIGHESTMODSEQ {hm}] Highest",
        f"* OK [MAILBOXID ({mid})] Ok",
        "b OK [READ-ONLY] EXAMINE completed"]
    c.close()
    c = login(imapd, user, pw)
    c.cmd("e", "ENABLE IMAP4rev2")
    assert c.cmd("f", "SELECT INBOX") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
        "\\Draft \\*)] Flags permitted",
        "* 2 EXISTS",
        f"* OK [UIDVALIDITY {uv}] UIDs valid",
        "* OK [UIDNEXT 3] Predicted next UID",
        f"* OK [MAILBOXID ({mid})] Ok",
        '* LIST () "/" INBOX',
        "f OK [READ-WRITE] SELECT completed"]
    assert c.cmd("g", "SELECT Sent")[0] == "* OK [CLOSED] Previous mailbox " \
        "closed"
    assert c.cmd("h", "UNSELECT") == ["h OK UNSELECT completed"]
    assert c.cmd("i", "CHECK") == ["i BAD CHECK: no mailbox selected"]
    c.close()


def test_keywords_show_in_flags_and_permanentflags(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    r = c.cmd("a", "SELECT Drafts")
    assert r[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
    c.close()


def test_qresync_select_reports_vanished_and_changed_messages(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    names = deliver_n(imapd, c, user, 3)
    r = c.cmd("a", "SELECT INBOX (CONDSTORE)")
    uv = int(re.search(r"UIDVALIDITY (\d+)", " ".join(r)).group(1))
    hm = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(r)).group(1))
    c.cmd("b", "UNSELECT")
    expunge_file(imapd, user, names[1])
    set_flags(imapd, user, names[2], "FS")
    assert c.cmd("c", f"SELECT INBOX (QRESYNC ({uv} {hm}))") == [
        "c BAD QRESYNC is not enabled"]
    assert c.cmd("d", "ENABLE QRESYNC") == ["* ENABLED QRESYNC",
                                            "d OK ENABLE completed"]
    r = c.cmd("e", f"SELECT INBOX (QRESYNC ({uv} {hm}))")
    assert r[-1] == "e OK [READ-WRITE] SELECT completed"
    assert "* 2 EXISTS" in r
    hm2 = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(r)).group(1))
    assert hm2 > hm
    assert r[-3] == "* VANISHED (EARLIER) 2"
    assert r[-2] == f"* 2 FETCH (UID 3 FLAGS (\\Flagged \\Seen) MODSEQ ({hm2}))"
    # known-uids limits VANISHED; a stale UIDVALIDITY gets a plain SELECT
    r = c.cmd("f", f"SELECT INBOX (QRESYNC ({uv} {hm} 3:5))")
    assert "* VANISHED (EARLIER) 2" not in r
    r = c.cmd("g", f"SELECT INBOX (QRESYNC ({uv + 1} {hm}))")
    assert r[0] == "* OK [CLOSED] Previous mailbox closed"
    assert not [x for x in r if "VANISHED" in x or "FETCH" in x]
    c.close()


# --- untagged updates, IDLE


def test_noop_reports_new_mail_flag_changes_and_expunges(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    names = deliver_n(imapd, c, user, 2)
    c.cmd("a", "SELECT INBOX")
    assert c.cmd("b", "NOOP") == ["b OK NOOP completed"]
    names.append(imapd.deliver(user, message("third")))
    assert c.cmd("c", "NOOP") == ["* 3 EXISTS", "* 3 RECENT",
                                  "c OK NOOP completed"]
    set_flags(imapd, user, names[0], "S")
    assert c.cmd("d", "NOOP") == ["* 1 FETCH (FLAGS (\\Seen \\Recent))",
                                  "d OK NOOP completed"]
    expunge_file(imapd, user, names[1])
    assert c.cmd("e", "NOOP") == ["* 2 EXPUNGE", "* 2 RECENT",
                                  "e OK NOOP completed"]
    c.cmd("f", "ENABLE CONDSTORE")
    set_flags(imapd, user, names[2], "F")
    r = c.cmd("g", "NOOP")
    assert re.fullmatch(r"\* 2 FETCH \(UID 3 FLAGS \(\\Flagged \\Recent\) "
                        r"MODSEQ \(\d+\)\)", r[0]), r
    c.close()


def test_a_mailbox_deleted_by_another_session_ends_with_bye(imapd, slapd):
    user, pw = new_user(slapd)
    a, b = login(imapd, user, pw), login(imapd, user, pw)
    a.cmd("a", "CREATE Tmp")
    assert a.cmd("b", "SELECT Tmp")[-1].startswith("b OK")
    assert b.cmd("c", "DELETE Tmp") == ["c OK DELETE completed"]
    assert a.cmd("d", "NOOP") == [
        "* BYE Selected mailbox is no longer available",
        "d OK NOOP completed"]
    assert a.closed()
    b.close()


def test_expunges_wait_while_a_command_uses_sequence_numbers(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    names = deliver_n(imapd, c, user, 2)
    c.cmd("a", "SELECT INBOX")
    expunge_file(imapd, user, names[0])
    r = c.cmd("b", "FETCH 1 (FLAGS)")   # no EXPUNGE during FETCH
    assert not [x for x in r if "EXPUNGE" in x], r
    r = c.cmd("c", "NOOP")
    assert r == ["* 1 EXPUNGE", "* 1 RECENT", "c OK NOOP completed"]
    c.close()


def test_qresync_sessions_get_vanished_instead_of_expunge(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    names = deliver_n(imapd, c, user, 3)
    c.cmd("a", "ENABLE QRESYNC")
    c.cmd("b", "SELECT INBOX")
    expunge_file(imapd, user, names[0])
    expunge_file(imapd, user, names[1])
    r = c.cmd("c", "NOOP")
    assert r[0] == "* VANISHED 1:2"
    c.close()


def test_idle_sees_new_mail_within_a_second(imapd, slapd):
    user, pw = new_user(slapd)
    c = login(imapd, user, pw)
    names = deliver_n(imapd, c, user, 1)
    c.cmd("a", "SELECT INBOX")
    c.send("b IDLE\r\n")
    assert c.line() == "+ idling"
    time.sleep(0.2)
    t0 = time.monotonic()
    names.append(imapd.deliver(user, message("idle")))
    assert c.line(timeout=2) == "* 2 EXISTS"
    took = time.monotonic() - t0
    assert took < 1.0, f"got {took:.2f} s"
    assert c.line() == "* 2 RECENT"
    t0 = time.monotonic()
    set_flags(imapd, user, names[0], "S")
    assert c.line(timeout=2) == "* 1 FETCH (FLAGS (\\Seen \\Recent))"
    expunge_file(imapd, user, names[0])
    assert c.line(timeout=2) == "* 1 EXPUNGE"
    assert time.monotonic() - t0 < 2.0
    c.send("DONE\r\n")
    assert c.until_tagged("b")[-1] == "b OK IDLE terminated"
    c.send("c IDLE\r\n")
    assert c.line() == "+ idling"
    c.send("NOTDONE\r\n")
    assert c.line() == "c BAD Expected DONE to end IDLE"
    assert c.cmd("d", "NOOP")[-1] == "d OK NOOP completed"
    c.close()


# --- quota


def test_quota_comes_from_the_directory_and_the_store(imapd, slapd):
    user, pw = new_user(slapd, quota=10 * 1024 * 1024)
    c = login(imapd, user, pw)
    msg = message("q", body="x" * 3000 + "\r\n")
    imapd.deliver(user, msg)
    status_of(c, "s", "INBOX", "MESSAGES")
    kb = (len(msg) + 1023) // 1024
    assert c.cmd("a", "GETQUOTAROOT INBOX") == [
        '* QUOTAROOT INBOX ""', f'* QUOTA "" (STORAGE {kb} 10240)',
        "a OK GETQUOTAROOT completed"]
    assert c.cmd("b", 'GETQUOTA ""') == [
        f'* QUOTA "" (STORAGE {kb} 10240)', "b OK GETQUOTA completed"]
    assert c.cmd("c", 'SETQUOTA "" (STORAGE 1)') == [
        "c NO [NOPERM] Quotas are set in the directory"]
    c.close()
    user2, pw2 = new_user(slapd)
    c = login(imapd, user2, pw2)
    assert c.cmd("d", "GETQUOTAROOT INBOX") == [
        "* QUOTAROOT INBOX", "d OK GETQUOTAROOT completed"]
    assert c.cmd("e", 'GETQUOTA ""') == ["e NO [NONEXISTENT] No such quota "
                                         "root"]
    c.close()


# --- many sessions


def test_twenty_sessions_of_one_user_at_once(imapd, slapd):
    user, pw = new_user(slapd)
    sessions = []
    try:
        for _ in range(20):
            c = imaplib.IMAP4_SSL("127.0.0.1", imapd.ports["imaps"],
                                  ssl_context=client_context(), timeout=10)
            c.login(user, pw)
            sessions.append(c)
        for c in sessions:
            typ, data = c.select("INBOX")
            assert typ == "OK"
        imapd.deliver(user, message("for all"))
        for c in sessions:
            c.untagged_responses.clear()
            typ, data = c.noop()
            assert typ == "OK"
            assert c.untagged_responses.get("EXISTS") == [b"1"]
    finally:
        for c in sessions:
            c.logout()


def test_sessions_per_user_are_limited(slapd, tmp_path):
    d = Imapd(tmp_path, slapd, imapd={"max_user_sessions": "2"}).start()
    try:
        user, pw = new_user(slapd)
        a, b = login(d, user, pw), login(d, user, pw)
        c = d.raw(tls=True)
        c.line()
        assert c.cmd("x", f'LOGIN {user} "{pw}"') == [
            "x NO [LIMIT] Too many sessions for this user"]
        a.cmd("y", "LOGOUT")
        a.close()
        time.sleep(0.2)
        assert c.cmd("z", f'LOGIN {user} "{pw}"')[-1].startswith("z OK")
        b.close()
        c.close()
    finally:
        d.stop()


# --- bad input and limits


@pytest.fixture(scope="module")
def small(slapd, tmp_path_factory):
    """An imapd with small ceilings: 1 KB lines and literals, 4 KB
    messages, autologout after 1 s, a keep-alive every 2 s in IDLE."""
    d = Imapd(tmp_path_factory.mktemp("imapd-small"), slapd, imapd={
        "max_line": "1k", "max_literal": "1k", "appendlimit": "4k",
        "idle_timeout": "1s", "idle_keepalive": "2s",
        "auth_max_failures": "1000"}).start()
    yield d
    d.stop()


def test_untagged_empty_and_unknown_lines_get_bad(imapd):
    c = imapd.raw()
    c.line()
    c.send("\r\n")
    assert c.line().startswith("* BAD ")
    c.send("* NOOP\r\n")
    assert c.line().startswith("* BAD ")
    c.send("a1\r\n")
    assert c.line() == "a1 BAD Missing command"
    assert c.cmd("a2", "FROB") == ["a2 BAD Unknown command"]
    assert c.cmd("a3", "NOOP extra") == [
        "a3 BAD This command takes no arguments"]
    assert c.cmd("a4", "SELECT INBOX") == ["a4 BAD SELECT: log in first"]
    assert c.cmd("a5", "NOOP") == ["a5 OK NOOP completed"]
    c.close()


def test_a_line_at_the_ceiling_passes_and_one_byte_more_is_refused(small):
    c = small.raw()
    c.line()
    head = 'a1 ID ("k" "'
    tail = '")\r\n'
    line = head + "v" * (1024 - len(head) - len(tail)) + tail
    assert len(line) == 1024
    c.send(line)
    assert c.until_tagged("a1")[-1] == "a1 OK ID completed"
    line = head + "v" * (1025 - len(head) - len(tail)) + tail.replace(
        "a1", "a2")
    c.send(line)
    assert c.line() == "a1 BAD [TOOBIG] Command line too long"
    assert c.cmd("a3", "NOOP") == ["a3 OK NOOP completed"]
    c.close()


def test_a_literal_over_the_ceiling_is_refused_before_it_is_sent(small):
    c = small.raw()
    c.line()
    c.send('a1 ID ("k" {1025}\r\n')
    assert c.line() == "a1 BAD [TOOBIG] Literal too big"
    c.send('a2 ID ("k" {1024}\r\n')
    assert c.line() == "+ OK"
    c.send("v" * 1024 + ")\r\n")
    assert c.until_tagged("a2")[-1] == "a2 OK ID completed"
    # no invitation to send a password in the clear
    c.send("a2b LOGIN {5}\r\n")
    assert c.line() == ("a2b NO [PRIVACYREQUIRED] Plaintext login is "
                        "disabled, use STARTTLS first")
    # LITERAL+: read and thrown away, then refused; the session goes on
    for tag, n in (("a3", 5000), ("a4", 2000)):  # over appendlimit, under
        c.send(f'{tag} ID ("k" {{{n}+}}\r\n' + "x" * n + ')\r\n')
        assert c.line() == f"{tag} BAD [TOOBIG] Literal too big"
    assert c.cmd("a5", "NOOP") == ["a5 OK NOOP completed"]
    c.close()


def test_append_over_appendlimit_is_refused_before_the_data(small, slapd):
    user, pw = new_user(slapd)
    c = login(small, user, pw)
    assert f"APPENDLIMIT=4096" in " ".join(c.cmd("a", "CAPABILITY"))
    c.send("b APPEND INBOX {4097}\r\n")
    assert c.line() == "b NO [TOOBIG] Message over APPENDLIMIT"
    c.send("c APPEND INBOX {4096}\r\n")
    assert c.line() == "+ OK"
    c.send("x" * 4096 + "\r\n")
    assert c.until_tagged("c")[-1].startswith("c ")
    assert c.cmd("d", "NOOP")[-1] == "d OK NOOP completed"
    c.close()


def test_idle_sessions_are_logged_out_but_idle_commands_are_not(small,
                                                                slapd):
    c = small.raw()
    c.line()
    t0 = time.monotonic()
    assert c.line(timeout=5) == "* BYE Autologout; idle for too long"
    assert c.closed()
    assert 0.8 < time.monotonic() - t0 < 4
    user, pw = new_user(slapd)
    c = login(small, user, pw)
    c.cmd("a", "SELECT INBOX")
    c.send("b IDLE\r\n")
    assert c.line() == "+ idling"
    t0 = time.monotonic()
    # nothing unprompted before the keep-alive interval, then one line
    assert c.line(timeout=4) == "* OK Still here"
    assert time.monotonic() - t0 >= 1.8
    small.deliver(user, message("late"))
    assert c.line(timeout=2) == "* 1 EXISTS"
    c.send("DONE\r\n")
    assert c.until_tagged("b")[-1] == "b OK IDLE terminated"
    c.close()


def test_mail_from_smtpd_reaches_an_idle_session_within_a_second(slapd,
                                                                tmp_path):
    from smtpd_util import SMTPD, Smtpd
    if not os.path.exists(SMTPD):
        pytest.skip("bastide-smtpd is not built")
    os.makedirs(tmp_path / "smtpd")
    os.makedirs(tmp_path / "imapd")
    s = Smtpd(tmp_path / "smtpd", slapd).start()
    d = Imapd(tmp_path / "imapd", slapd)
    d.store = s.store           # one store, two daemons
    try:
        d.start()
        user, pw = new_user(slapd)
        c = login(d, user, pw)
        c.cmd("a", "SELECT INBOX")
        c.send("b IDLE\r\n")
        assert c.line() == "+ idling"
        smtp = s.smtp("mx")
        t0 = time.monotonic()
        smtp.sendmail("carol@example.org", [user], message("via smtpd"))
        took_smtp = time.monotonic() - t0
        assert c.line(timeout=3) == "* 1 EXISTS"
        took = time.monotonic() - t0 - took_smtp
        assert took < 1.0, f"got {took:.2f} s after the 250"
        smtp.quit()
        c.send("DONE\r\n")
        assert c.until_tagged("b")[-1] == "b OK IDLE terminated"
        c.close()
    finally:
        d.stop()
        s.stop()
