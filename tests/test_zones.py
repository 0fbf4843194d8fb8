"""The journal names days as the couple lived them, in their own time zone.

Alexa's Device Settings API cannot be reached from here, so a real HTTP server on loopback
stands in for it (the only stand-in: the skill, its store and its HTTP client are real).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from skill.app import build_skill, invoke
from skill.store import Appreciation
from skill.store.sqlite import SQLiteStore
from skill.zones import TimeZones, here
from tests.support.alexa import speech_text
from tests.support.envelopes import envelope

USER = "amzn1.ask.account.ZONES"
DEVICE = "amzn1.ask.device.KITCHEN/1"  # a slash, to check the id is quoted in the path
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test.test"
# 22:00 on Monday 23 November in New York; already Tuesday in UTC.
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
SAID = {  # UTC instants of three evenings in New York
    "you made soup": datetime(2026, 11, 24, 2, 30, tzinfo=UTC),  # Monday 21:30
    "you walked the dog": datetime(2026, 11, 23, 1, 0, tzinfo=UTC),  # Sunday 20:00
    "you fixed the shelf": datetime(2026, 11, 21, 2, 0, tzinfo=UTC),  # Friday 21:00
}


class SettingsAPI(BaseHTTPRequestHandler):
    """Alexa's Device Settings API for one device: its time zone as a JSON string."""

    zone = "America/New_York"
    delay_s = 0.0
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        time.sleep(self.delay_s)
        if self.path != "/v2/devices/amzn1.ask.device.KITCHEN%2F1/settings/System.timeZone":
            self.send_error(404)
            return
        body = json.dumps(self.zone).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except BrokenPipeError:  # the skill stopped waiting (the slow case)
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    SettingsAPI.seen, SettingsAPI.delay_s, SettingsAPI.zone = [], 0.0, "America/New_York"
    server = ThreadingHTTPServer(("127.0.0.1", 0), SettingsAPI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def journal_skill(tmp_path: Path, zones: TimeZones):
    store = SQLiteStore(tmp_path / "closer.sqlite3")
    store.update(USER, first_name="Sam", second_name="Alex", journal_opt_in=True)
    for text, at in SAID.items():
        store.add_appreciation(USER, Appreciation("Sam", "Alex", text, at))
    return build_skill(store, clock=lambda: NOW, zones=zones)


def read_journal(skill, endpoint: str, token: str | None = TOKEN) -> str:
    request = envelope(intent="JournalIntent", user=USER)
    system = request["context"]["System"]
    system.update(apiEndpoint=endpoint, device={"deviceId": DEVICE, "supportedInterfaces": {}})
    if token:
        system["apiAccessToken"] = token
    return speech_text(invoke(skill, request))


def test_days_are_named_in_the_households_own_time_zone(tmp_path: Path, api: str) -> None:
    skill = journal_skill(tmp_path, TimeZones(endpoints=frozenset({api})))
    told = read_journal(skill, api)
    assert "Today, Sam appreciated that Alex made soup." in told
    assert "Yesterday, Sam appreciated that Alex walked the dog." in told
    assert "On Friday, Sam appreciated that Alex fixed the shelf." in told
    assert SettingsAPI.seen == [("/v2/devices/amzn1.ask.device.KITCHEN%2F1/settings/"
                                 "System.timeZone", f"Bearer {TOKEN}")]
    read_journal(skill, api)
    assert len(SettingsAPI.seen) == 1  # kept: asked once a day per device


def test_the_same_evening_reads_differently_in_tokyo(tmp_path: Path, api: str) -> None:
    SettingsAPI.zone = "Asia/Tokyo"  # NOW is Tuesday noon there; the shelf, Saturday 11:00
    told = read_journal(journal_skill(tmp_path, TimeZones(endpoints=frozenset({api}))), api)
    assert "Today, Sam appreciated that Alex made soup." in told
    assert "On Saturday, Sam appreciated that Alex fixed the shelf." in told
    assert "Friday" not in told


def machine_labels() -> tuple[str, str, str]:
    """What the journal says for SAID in this machine's zone (the fallback)."""
    today = NOW.astimezone(here()).date()
    days = [at.astimezone(here()).date() for at in SAID.values()]
    return tuple(  # type: ignore[return-value]
        "Today" if d == today else "Yesterday" if (today - d).days == 1 else f"On {d:%A}"
        for d in days)


def test_a_slow_api_does_not_hold_up_the_answer(tmp_path: Path, api: str) -> None:
    SettingsAPI.delay_s = 3.0
    skill = journal_skill(tmp_path, TimeZones(endpoints=frozenset({api}), timeout_s=0.3))
    start = time.monotonic()
    told = read_journal(skill, api)
    assert time.monotonic() - start < 2.0
    assert told.startswith(f"From your journal this week. {machine_labels()[0]}, Sam")


@pytest.mark.parametrize("case", ["unknown endpoint", "no token", "nobody listening",
                                  "unknown zone"])
def test_without_an_answer_the_machines_zone_is_used(tmp_path: Path, api: str,
                                                    case: str) -> None:
    allowed = frozenset({api, "http://127.0.0.1:9"})  # port 9: nothing listens there
    skill = journal_skill(tmp_path, TimeZones(endpoints=allowed))
    SettingsAPI.zone = "Mars/Olympus_Mons" if case == "unknown zone" else SettingsAPI.zone
    endpoint = {"unknown endpoint": "https://attacker.example", "nobody listening":
                "http://127.0.0.1:9"}.get(case, api)
    told = read_journal(skill, endpoint, token=None if case == "no token" else TOKEN)
    assert told.startswith(f"From your journal this week. {machine_labels()[0]}, Sam")
    # Only a listed endpoint is ever asked, and only with a token.
    assert bool(SettingsAPI.seen) is (case == "unknown zone")


def test_the_real_endpoints_are_alexas() -> None:
    assert TimeZones().endpoints == {"https://api.amazonalexa.com",
                                     "https://api.eu.amazonalexa.com",
                                     "https://api.fe.amazonalexa.com"}


class Redirecting(BaseHTTPRequestHandler):
    """A Device Settings answer that redirects elsewhere, and the host it sends to."""

    seen: list[tuple[str, str | None]] = []
    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/elsewhere"):
            body = json.dumps("Asia/Tokyo").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(302)
        self.send_header("Location", f"{self.target}/elsewhere")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_redirect_is_never_followed_with_the_token(tmp_path: Path) -> None:
    """Finding: the lookup followed redirects, Bearer token and all, to any host."""
    Redirecting.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    Redirecting.target = endpoint
    try:
        told = read_journal(journal_skill(tmp_path, TimeZones(endpoints=frozenset({endpoint}))),
                            endpoint)
    finally:
        server.shutdown()
        server.server_close()
    assert [path for path, _ in Redirecting.seen] == [
        "/v2/devices/amzn1.ask.device.KITCHEN%2F1/settings/System.timeZone"]
    assert told.startswith(f"From your journal this week. {machine_labels()[0]}, Sam")
