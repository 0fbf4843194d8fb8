"""GET /metrics on the live, verifying webhook (tests/conftest.py): rejections counted by
class and verification reason, a failing handler counted as an error, labels that a caller
cannot invent, and who may scrape. The multi-worker view is in tests/test_serving.py."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from skill.app import build_skill
from skill.config import Config
from skill.doors.webhook import create_app
from skill.store.sqlite import SQLiteStore
from tests.support.envelopes import envelope

pytestmark = pytest.mark.system  # the live webhook


def _scrape(webhook) -> dict[str, float]:
    url = webhook.url.replace("/alexa", "/metrics")
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("closer_"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _delta(before: dict, after: dict, name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def _requests(outcome: str, request_type: str = "unknown") -> str:
    return f'closer_requests_total{{outcome="{outcome}",request_type="{request_type}"}}'


def _failures(reason: str) -> str:
    return f'closer_verification_failures_total{{reason="{reason}"}}'


def test_rejections_counted_by_class_and_reason(webhook) -> None:
    cloud = webhook.household()
    before = _scrape(webhook)
    body = json.dumps(envelope("LaunchRequest")).encode()
    assert cloud.post_raw(body, headers=cloud.signed_headers(body + b" "))[0] == 400
    assert cloud.post_raw(body, headers={})[0] == 400
    old = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cloud.post_raw(json.dumps(envelope("LaunchRequest", timestamp=old)).encode())[0] == 400
    assert cloud.post_raw(b'{"pad": "' + b"x" * (129 * 1024) + b'"}')[0] == 413
    cloud.launch()
    after = _scrape(webhook)
    assert _delta(before, after, _requests("rejected_signature")) == 2
    assert _delta(before, after, _requests("rejected_timestamp")) == 1
    assert _delta(before, after, _requests("rejected_too_large")) == 1
    assert _delta(before, after, _requests("ok", "LaunchRequest")) == 1
    assert _delta(before, after, _failures("bad signature")) == 1
    assert _delta(before, after, _failures("missing signature headers")) == 1
    assert _delta(before, after, _failures("stale timestamp")) == 1
    assert _delta(before, after, _failures("body too large")) == 0  # not a verification failure
    histogram = 'closer_request_duration_seconds_count{request_type="LaunchRequest"}'
    assert _delta(before, after, histogram) == 1


def test_a_failing_handler_is_an_error_even_though_alexa_gets_an_apology(webhook) -> None:
    cloud = webhook.household()
    before = _scrape(webhook)
    webhook.store.close()  # the database goes away under the running skill
    answer = cloud.launch()
    assert "Please try again" in json.dumps(answer)
    after = _scrape(webhook)
    assert _delta(before, after, _requests("error", "LaunchRequest")) == 1
    assert _delta(before, after, _requests("ok", "LaunchRequest")) == 0


def test_request_type_labels_come_from_a_fixed_set(webhook) -> None:
    cloud = webhook.household()
    before = _scrape(webhook)
    status, _ = cloud.post_raw(json.dumps(envelope("Made.Up{evil}Request")).encode())
    after = _scrape(webhook)
    assert status in (200, 400)
    assert not any("Made.Up" in name for name in after)
    assert sum(_delta(before, after, name) for name in after
               if name.startswith("closer_requests_total") and 'request_type="other"' in name) == 1


@pytest.fixture
def app(tmp_path: Path):
    def make(token: str | None = None):
        store = SQLiteStore(tmp_path / "closer.sqlite3")
        config = Config(db_path=tmp_path / "closer.sqlite3", verify=False, metrics_token=token)
        return create_app(config, skill=build_skill(store))

    return make


def test_without_a_token_only_direct_loopback_clients_may_scrape(app) -> None:
    client = app().test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    # Through a reverse proxy on the same box the peer is loopback, but the proxy says so.
    proxied = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                         headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


def test_with_a_token_any_client_needs_it(app) -> None:
    client = app(token="t0ken").test_client()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    assert client.get("/metrics", environ_base=remote,
                      headers={"Authorization": "Bearer t0ken"}).status_code == 200
    assert client.get("/metrics", environ_base=remote,
                      headers={"Authorization": "Bearer t0ken2"}).status_code == 403
