"""bastidectl store check [--repair] USER against a Maildir on disk.

A Maildir written by another program (files in new/ and cur/, a foreign
name, flags in names) is checked, found unindexed, repaired, and then
found consistent; a user without a mailbox is an error, not a new mailbox.
"""
import os
import subprocess

SRC = os.environ.get("BASTIDE_SRC", "/work/main")
BUILD = os.environ.get("BASTIDE_BUILD", os.path.join(SRC, "build"))
CTL = os.path.join(BUILD, "tools", "bastidectl")


def ctl(conf, *args):
    return subprocess.run([CTL, "-c", str(conf), "store", *args],
                          capture_output=True, text=True, timeout=60)


def setup_store(tmp_path):
    root = tmp_path / "store"
    conf = tmp_path / "bastide.conf"
    conf.write_text("[store]\nroot = %s\n" % root)
    maildir = root / "example.test" / "alice" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    msg = b"From: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n"
    (maildir / "new" / ("1700000000.M1P1Q1.other,S=%d" % len(msg))
     ).write_bytes(msg)
    (maildir / "cur" / "1700000001.M2P1Q2.other:2,S").write_bytes(msg)
    (maildir / "cur" / "foreign-name").write_bytes(b"")
    return conf, maildir


def test_check_finds_unindexed_mail_and_repair_indexes_it(tmp_path):
    conf, maildir = setup_store(tmp_path)
    r = ctl(conf, "check", "alice@example.test")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "has no UID" in r.stdout
    assert "new messages not yet indexed" in r.stdout
    r = ctl(conf, "check", "--repair", "alice@example.test")
    assert r.returncode == 0, r.stdout + r.stderr
    r = ctl(conf, "check", "alice@example.test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 messages, 0 problems" in r.stdout
    assert sorted(os.listdir(maildir / "new")) == []
    assert len(os.listdir(maildir / "cur")) == 3


def test_check_of_unknown_user_creates_nothing(tmp_path):
    conf, _ = setup_store(tmp_path)
    r = ctl(conf, "check", "nobody@example.test")
    assert r.returncode == 1
    assert "no mailbox" in r.stderr
    assert not (tmp_path / "store" / "example.test" / "nobody").exists()
    r = ctl(conf, "check", "../../etc@example.test")
    assert r.returncode == 1
    r = ctl(conf, "frobnicate")
    assert r.returncode == 2
