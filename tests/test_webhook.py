"""The webhook over real HTTP: health, size limit, rejections, privacy of logs, and the
`closer serve` command line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.envelopes import envelope, slot
from tests.support.servers import closer_serve

pytestmark = pytest.mark.system  # the live webhook on loopback

ROOT = Path(__file__).resolve().parents[1]
CLOSER = str(Path(sys.executable).parent / "closer")
LAUNCH = ROOT / "tests" / "fixtures" / "requests" / "launch.json"


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status


def _json(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def test_healthz(webhook) -> None:
    assert _get(webhook.url.replace("/alexa", "/healthz")) == 200


def test_body_too_large_is_413(webhook) -> None:
    body = b'{"pad": "' + b"x" * (129 * 1024) + b'"}'
    status, _ = webhook.household().post_raw(body)
    assert status == 413


def test_malformed_json_is_400(webhook) -> None:
    status, _ = webhook.household().post_raw(b'{"request": ')
    assert status == 400


def test_json_that_is_not_alexa_is_400(webhook) -> None:
    status, _ = webhook.household().post_raw(_json({"hello": 1}))
    assert status == 400


def test_unsigned_is_400(webhook) -> None:
    status, _ = webhook.household().post_raw(_json(envelope("LaunchRequest")), headers={})
    assert status == 400


def test_bad_signature_is_400(webhook) -> None:
    cloud = webhook.household()
    body = _json(envelope("LaunchRequest"))
    headers = cloud.signed_headers(body + b" ")
    status, _ = cloud.post_raw(body, headers=headers)
    assert status == 400


def test_signed_but_undeserializable_request_is_400(webhook) -> None:
    """Verified by signature, yet not a request ask-sdk can read: a client error, not a 500."""
    request = envelope(intent="QuestionIntent")
    request["request"]["intent"]["confirmationStatus"] = "MAYBE"
    status, answer = webhook.household().post_raw(_json(request))
    assert status == 400
    assert answer == {"error": "undeserializable request"}


def test_signed_standard_request_without_session_or_intent_is_400(webhook) -> None:
    no_session = envelope(intent="QuestionIntent")
    del no_session["session"]
    no_intent = envelope(intent="QuestionIntent")
    del no_intent["request"]["intent"]
    for request in (no_session, no_intent):
        status, answer = webhook.household().post_raw(_json(request))
        assert (status, answer) == (400, {"error": "not an alexa request"})


def test_a_resolution_without_a_value_is_read_as_no_category(webhook) -> None:
    request = envelope(intent="QuestionIntent",
                       slots={"category": slot("category", "zzz", resolved_id="fun")})
    values = request["request"]["intent"]["slots"]["category"]["resolutions"]
    values["resolutionsPerAuthority"][0]["values"] = [{"value": None}]
    status, answer = webhook.household().post_raw(_json(request))
    assert status == 200
    assert "from the whole deck" in answer["response"]["outputSpeech"]["ssml"]


def test_stale_timestamp_is_400(webhook) -> None:
    old = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _ = webhook.household().post_raw(_json(envelope("LaunchRequest", timestamp=old)))
    assert status == 400


def test_unknown_application_id_is_400_and_changes_nothing(webhook) -> None:
    cloud = webhook.household()
    request = envelope("IntentRequest", "SetNamesIntent",
                       {"firstName": slot("firstName", "sam"),
                        "secondName": slot("secondName", "alex")},
                       app_id="amzn1.ask.skill.someone-else", new=True)
    status, _ = cloud.post_raw(_json(request))
    assert status == 400
    assert webhook.store.load(cloud.user).names is None


def test_logs_carry_no_utterance(webhook, caplog) -> None:
    words = "the marmalade origami swan"
    logger = logging.getLogger("closer")
    logger.addHandler(caplog.handler)  # also when logs.setup() turned propagation off
    try:
        with caplog.at_level(logging.DEBUG, logger="closer"):
            cloud = webhook.household()
            cloud.launch()
            cloud.say("SetNamesIntent", firstName="zephyrine", secondName="balthazar")
            cloud.say("AppreciationRoundIntent")
            cloud.say("AMAZON.YesIntent")
            answer = cloud.say("ShareAppreciationIntent", appreciation=f"you made {words}")
    finally:
        logger.removeHandler(caplog.handler)
    assert words in json.dumps(answer)  # the text really went through the skill
    records = [r for r in caplog.records if r.name.startswith("closer")]
    assert records
    for record in records:
        seen = (record.getMessage() + " " + " ".join(map(str, vars(record).values()))).lower()
        for secret in (words, "zephyrine", "balthazar"):
            assert secret not in seen, (secret, record)


def test_no_verify_refuses_non_loopback() -> None:
    done = subprocess.run([CLOSER, "serve", "--host", "0.0.0.0", "--no-verify"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "loopback" in done.stderr + done.stdout


def test_no_verify_serves_on_loopback(tmp_path: Path) -> None:
    env = {"CLOSER_DB": str(tmp_path / "closer.sqlite3"), "CLOSER_SKILL_IDS": "",
           "CLOSER_DATABASE_URL": ""}
    with closer_serve("--no-verify", "--workers", "1", env=env) as (base, _):
        request = json.loads(LAUNCH.read_text())
        # The recording's timestamp is stale; refresh it as Alexa would stamp a new request.
        request["request"]["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        post = urllib.request.Request(base + "/alexa", data=_json(request), method="POST",
                                      headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(post, timeout=10) as resp:
            assert resp.status == 200
            assert "Welcome to Closer Together" in resp.read().decode()
