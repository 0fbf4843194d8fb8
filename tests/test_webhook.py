"""The webhook's front door over real HTTP: bad input gets the right 4xx, changes nothing,
and no log line carries what a couple said."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import urllib.request

from tests.envelopes import envelope, slot


def test_healthz(webhook) -> None:
    with urllib.request.urlopen(webhook.url.replace("/alexa", "/healthz"), timeout=5) as resp:
        assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"


def test_oversized_body_is_413(webhook) -> None:
    couple = webhook.household()
    status, _ = couple.post_raw(b"{" + b" " * (129 * 1024) + b"}")
    assert status == 413


def test_malformed_and_non_alexa_json_are_400_not_500(webhook) -> None:
    couple = webhook.household()
    assert couple.post_raw(b"{not json")[0] == 400
    assert couple.post_raw(b'{"hello": 1}')[0] == 400
    assert couple.post_raw(b"[1, 2]")[0] == 400


def test_unsigned_and_badly_signed_requests_are_400(webhook) -> None:
    couple = webhook.household()
    body = json.dumps(envelope("LaunchRequest", new=True)).encode()
    assert couple.post_raw(body, headers={})[0] == 400
    headers = couple.signed_headers(body)
    assert couple.post_raw(body + b" ", headers=headers)[0] == 400


def test_stale_request_is_400(webhook) -> None:
    couple = webhook.household()
    stale = envelope("LaunchRequest", new=True, timestamp="2026-01-01T00:00:00Z")
    assert couple.post_raw(json.dumps(stale).encode())[0] == 400


def test_unknown_application_is_rejected_and_changes_nothing(webhook) -> None:
    couple = webhook.household()
    names = {"firstName": slot("firstName", "sam"), "secondName": slot("secondName", "alex")}
    request = envelope("IntentRequest", "SetNamesIntent", names, app_id="amzn1.ask.skill.other")
    assert couple.post_raw(json.dumps(request).encode())[0] == 400
    assert webhook.store.load(couple.user).names is None


def test_logs_carry_no_names_or_appreciations(webhook, caplog) -> None:
    couple = webhook.household()
    with caplog.at_level(logging.DEBUG, logger="closer"):
        couple.say("AppreciationRoundIntent")
        couple.say("SetNamesIntent", firstName="zephyrine", secondName="quillon")
        couple.say("AMAZON.YesIntent")
        couple.say("ShareAppreciationIntent", appreciation="you repainted the blue teapot")
    assert caplog.records, "the webhook should log each request"
    for record in caplog.records:
        line = json.dumps(record.__dict__, default=str).lower()
        for secret in ("zephyrine", "quillon", "teapot"):
            assert secret not in line


def test_no_verify_is_refused_off_loopback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "skill.cli", "serve", "--host", "0.0.0.0", "--no-verify"],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2
    assert "loopback" in done.stderr
