"""bastide-imapd COMPRESS=DEFLATE (RFC 4978), driven with Python's zlib as
the client's deflate, including the partial-flush blocks Thunderbird sends.
"""
import time
import zlib

import pytest

from imapd_util import Imapd, message

TIMEOUT = 10


@pytest.fixture(scope="module")
def imapd(slapd, tmp_path_factory):
    d = Imapd(tmp_path_factory.mktemp("imapd-z"), slapd).start()
    yield d
    d.stop()


class Deflated:
    """A logged-in raw session after COMPRESS DEFLATE."""

    def __init__(self, raw, flush=zlib.Z_SYNC_FLUSH):
        self.raw = raw
        self.out = zlib.compressobj(wbits=-15)
        self.inf = zlib.decompressobj(wbits=-15)
        self.flush = flush
        self.text = b""
        # whatever plaintext followed the OK was already compressed
        self.text += self.inf.decompress(raw.buf)
        raw.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.raw.sock.sendall(self.out.compress(data) +
                              self.out.flush(self.flush))

    def until_tagged(self, tag, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while True:
            lines = self.text.split(b"\r\n")
            for i, line in enumerate(lines[:-1]):
                if line.startswith(tag.encode() + b" "):
                    self.text = b"\r\n".join(lines[i + 1:])
                    return [x.decode("utf-8", "replace")
                            for x in lines[:i + 1]]
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {tag} reply; have {self.text!r}")
            self.raw.sock.settimeout(left)
            chunk = self.raw.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed; have {self.text!r}")
            self.text += self.inf.decompress(chunk)

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)


def login(imapd, user="alice"):
    r = imapd.raw(tls=True)
    r.line()
    got = r.cmd("a", f"LOGIN {imapd.address(user)} {imapd.slapd.password(user)}")
    assert got[-1].startswith("a OK"), got
    return r


def start(imapd, flush=zlib.Z_SYNC_FLUSH):
    r = login(imapd)
    got = r.cmd("z", "COMPRESS DEFLATE")
    assert got[-1] == "z OK DEFLATE active", got
    return Deflated(r, flush)


def test_compress_is_offered_after_login_and_not_once_active(imapd):
    r = login(imapd)
    caps = r.cmd("c", "CAPABILITY")[0]
    assert " COMPRESS=DEFLATE" in caps, caps
    assert r.cmd("z", "COMPRESS DEFLATE")[-1] == "z OK DEFLATE active"
    z = Deflated(r)
    caps = z.cmd("c", "CAPABILITY")[0]
    assert caps.startswith("* CAPABILITY ") and "COMPRESS" not in caps, caps
    r.close()


def test_commands_are_answered_through_deflate_with_sync_flush(imapd):
    imapd.deliver("alice", message(subject="squeezed", body="z" * 5000 +
                                   "\r\n"))
    z = start(imapd)
    got = z.cmd("s", "SELECT INBOX")
    assert got[-1].startswith("s OK [READ-WRITE]"), got
    got = z.cmd("f", "FETCH * (BODY.PEEK[HEADER.FIELDS (SUBJECT)] "
                "RFC822.SIZE)")
    assert got[-1] == "f OK FETCH completed", got
    assert "Subject: squeezed" in "\n".join(got), got
    z.raw.close()


def test_partial_flush_blocks_are_answered_without_waiting_for_more(imapd):
    """Thunderbird flushes with Z_PARTIAL_FLUSH: the server must frame
    what it can inflate, not wait for a sync marker."""
    z = start(imapd, flush=zlib.Z_PARTIAL_FLUSH)
    for i in range(5):
        got = z.cmd(f"n{i}", "NOOP")
        assert got[-1] == f"n{i} OK NOOP completed", got
    # a command split across two partial flushes
    z.send("p1 NO")
    z.send("OP\r\n")
    assert z.until_tagged("p1")[-1] == "p1 OK NOOP completed"
    z.raw.close()


def test_a_second_compress_and_unknown_mechanisms_are_refused(imapd):
    r = login(imapd)
    got = r.cmd("u", "COMPRESS LZ4")
    assert got[-1].startswith("u BAD"), got
    assert r.cmd("z", "COMPRESS DEFLATE")[-1] == "z OK DEFLATE active"
    z = Deflated(r)
    got = z.cmd("y", "COMPRESS DEFLATE")
    assert got[-1].startswith("y NO [COMPRESSIONACTIVE]"), got
    assert z.cmd("n", "NOOP")[-1] == "n OK NOOP completed"
    r.close()


def test_compress_before_login_is_refused(imapd):
    r = imapd.raw(tls=True)
    r.line()
    got = r.cmd("z", "COMPRESS DEFLATE")
    assert got[-1].startswith("z BAD") or got[-1].startswith("z NO"), got
    # still plaintext: the session goes on
    assert r.cmd("n", "NOOP")[-1].startswith("n OK")
    r.close()


def test_garbage_instead_of_deflate_closes_only_that_session(imapd):
    z = start(imapd)
    other = start(imapd)
    z.raw.sock.sendall(b"\xff" * 64 + b"not deflate at all\r\n")
    assert z.raw.closed(), "the server kept a broken stream open"
    assert other.cmd("n", "NOOP")[-1] == "n OK NOOP completed"
    other.raw.close()
