"""bastide-smtpd acknowledges a message only once it is durable: a SIGKILL
in the middle of a 1,000-message load loses none of the messages that got
their 250."""
import os
import smtplib
import threading
import time

import pytest

from smtpd_util import Smtpd, ensure_entries

TOTAL = 1000
CLIENTS = 8
KILL_AT = 400


@pytest.fixture
def smtpd(slapd, tmp_path):
    ensure_entries(slapd, [("(uid=sd_load)", slapd.ldif_user(
        "sd_load", "sd-load@example.test"))])
    s = Smtpd(tmp_path, slapd, global_={"log_level": "info"}).start()
    yield s
    s.stop()


def stored_ids(smtpd):
    """The X-Load-Id of every message in the Maildir."""
    ids = set()
    for m in smtpd.messages("sd-load@example.test"):
        for line in m.split(b"\r\n"):
            if line.startswith(b"X-Load-Id: "):
                ids.add(line[11:].decode())
                break
    return ids


def test_sigkill_during_a_load_loses_no_acknowledged_message(smtpd):
    acked = set()
    lock = threading.Lock()
    next_id = iter(range(10 * TOTAL))
    stop = time.monotonic() + 60

    def client():
        c = None
        while time.monotonic() < stop:
            with lock:
                if len(acked) >= TOTAL:
                    break
                n = next(next_id)
            msg = (b"X-Load-Id: %d\r\nSubject: load %d\r\n\r\n" % (n, n)
                   + b"x" * 2000 + b"\r\n")
            try:
                if c is None:
                    c = smtplib.SMTP("127.0.0.1", smtpd.ports["mx"],
                                     timeout=10)
                    c.ehlo("load.test")
                c.sendmail("load@foreign.test", ["sd-load@example.test"],
                           msg)
            except (OSError, smtplib.SMTPException):
                # killed mid-transaction: not acknowledged, try again
                c = None
                time.sleep(0.05)
                continue
            with lock:
                acked.add(str(n))
        if c is not None:
            try:
                c.quit()
            except (OSError, smtplib.SMTPException):
                pass

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    while len(acked) < KILL_AT and time.monotonic() < stop:
        time.sleep(0.005)
    smtpd.kill()
    killed_at = len(acked)
    # what was acknowledged before the kill is on disk, before any restart
    before_restart = set(acked)
    missing = before_restart - stored_ids(smtpd)
    assert not missing, f"{len(missing)} acknowledged messages lost"
    smtpd.start(keep_ports=True)
    for t in threads:
        t.join(timeout=90)
    assert len(acked) >= TOTAL, f"only {len(acked)} acknowledged"
    missing = acked - stored_ids(smtpd)
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged " \
        f"messages lost (kill after {killed_at})"
    # the rest of the store is clean: no half-written file in new/
    new = os.path.join(smtpd.maildir("sd-load@example.test"), "new")
    for name in os.listdir(new):
        assert os.path.getsize(os.path.join(new, name)) > 2000
