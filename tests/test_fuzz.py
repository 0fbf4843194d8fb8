"""Bad input at volume against a live webhook (gunicorn, verification ON with a test CA, a
real SQLite file): hypothesis throws mutated envelopes, raw garbage and forged or mangled
headers at it. No 5xx, the server stays healthy, nothing but a properly signed request for
our skill is accepted, and a rejected request leaves every row of the database unchanged.
`make loadtest` runs a longer pass of the same (tests/fuzzing.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envelopes import SKILL_ID, envelope
from tests.support.fuzzing import database_digest, fuzz_pass
from tests.support.live_server import LivePKI, LiveServer, speech

pytestmark = pytest.mark.system  # a live webhook under fuzzing

EXAMPLES = 2000  # about half a minute on this machine


class Live:
    def __init__(self, server: LiveServer, pki: LivePKI, db: Path) -> None:
        self.server, self.pki, self.db = server, pki, db

    def digest(self) -> str:
        return database_digest(self.db)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("fuzz")
    pki = LivePKI.create(base / "pki")
    db = base / "closer.sqlite3"
    server = LiveServer("fuzz", pki, {"CLOSER_DB": str(db)}, base / "server.log",
                        workers=1, skill_ids=SKILL_ID)
    server.start()
    yield Live(server, pki, db)
    server.stop()


def test_hostile_requests_get_no_5xx_and_rejections_change_nothing(live: Live) -> None:
    report = fuzz_pass(live.server, live.pki, live.digest, max_examples=EXAMPLES)
    print(report.line())
    assert report.examples >= EXAMPLES
    # Both sides were exercised: requests got through to the skill, and many were refused.
    assert report.accepted > 20 and report.rejected_unchanged > 100, report.line()
    log = (live.server.log_path).read_text()
    assert "Traceback" not in log, log[-3000:]


def test_server_still_serves_a_real_request_after_the_fuzzing(live: Live) -> None:
    fresh = "amzn1.ask.account.AFTERFUZZ"
    body = json.dumps(envelope("LaunchRequest", user=fresh, new=True)).encode()
    status, payload = live.server.post(body, live.pki.headers(body))
    assert status == 200
    assert "Closer Together" in speech(payload)
