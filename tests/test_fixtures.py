"""Recorded Alexa request envelopes (tests/fixtures/requests) replayed over real HTTP
against the live webhook, each checked against tests/fixtures/requests/expectations.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.alexa import check_alexa_limits, speech_text

FIXTURES = Path(__file__).parent / "fixtures" / "requests"
EXPECTATIONS: dict = yaml.safe_load((FIXTURES / "expectations.yaml").read_text())
FIXTURE_USER = "amzn1.ask.account.AFIXTUREHOUSEHOLD"
FIXTURE_APP = "amzn1.ask.skill.7d3c1b2e-closer-together-test"


def load_fixture(name: str) -> dict:
    """A recorded envelope with its timestamps moved to now.

    The recordings carry the time they were captured, which the webhook rightly rejects as
    stale (Amazon's 150 s tolerance), so request.timestamp - and eventCreationTime /
    eventPublishingTime on skill events - are refreshed before the body is signed.
    """
    envelope = json.loads((FIXTURES / name).read_text())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = envelope["request"]
    for key in ("timestamp", "eventCreationTime", "eventPublishingTime"):
        if key in request:
            request[key] = now
    return envelope


def post_fixture(webhook, name: str) -> dict:
    cloud = webhook.household(FIXTURE_USER)
    status, answer = cloud.post_raw(json.dumps(load_fixture(name)).encode())
    assert status == 200, (name, status, answer)
    check_alexa_limits(answer)
    return answer


def test_every_fixture_has_expectations() -> None:
    recorded = {p.name for p in FIXTURES.glob("*.json")}
    assert recorded == set(EXPECTATIONS)


def test_fixtures_are_shaped_like_alexa() -> None:
    for name in EXPECTATIONS:
        envelope = json.loads((FIXTURES / name).read_text())
        system = envelope["context"]["System"]
        assert envelope["version"] == "1.0"
        assert system["application"]["applicationId"] == FIXTURE_APP
        assert system["user"]["userId"] == FIXTURE_USER
        assert system["device"]["deviceId"] and system["apiEndpoint"]
        request = envelope["request"]
        assert request["requestId"].startswith("amzn1.echo-api.request.")
        assert request["timestamp"].endswith("Z")
        if request["type"].startswith("AlexaSkillEvent."):
            assert "session" not in envelope and "eventCreationTime" in request
        else:
            assert envelope["session"]["user"]["userId"] == FIXTURE_USER
            assert request["locale"] == "en-US"


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_fixture_behaves(webhook, name: str) -> None:
    expected = EXPECTATIONS[name]
    if expected.get("household"):
        webhook.store.update(FIXTURE_USER, **expected["household"])
    check_behaves(post_fixture(webhook, name), expected)


def check_behaves(answer: dict, expected: dict) -> None:
    """An answer against its fixture's expectation in expectations.yaml."""
    response = answer.get("response", {})
    text = speech_text(answer)
    if expected.get("silent"):
        assert "outputSpeech" not in response and text == "", text
    for part in expected.get("says", []):
        assert part in text, (part, text)
    if "ends" in expected:
        assert response.get("shouldEndSession") is expected["ends"], response
    if "directive" in expected:
        types = [d.get("type") for d in response.get("directives") or []]
        assert expected["directive"] in types, types
        if expected["directive"] == "Dialog.ElicitSlot":
            assert response["directives"][0]["slotToElicit"] == "appreciation"
            assert "reprompt" in response


def test_skill_disabled_forgets_the_household(webhook) -> None:
    post_fixture(webhook, "set_names.json")
    assert webhook.store.load(FIXTURE_USER).names == ("Sam", "Alex")
    post_fixture(webhook, "skill_disabled.json")
    assert webhook.store.load(FIXTURE_USER).names is None


def test_skill_enabled_keeps_the_household(webhook) -> None:
    post_fixture(webhook, "set_names.json")
    post_fixture(webhook, "skill_enabled.json")
    assert webhook.store.load(FIXTURE_USER).names == ("Sam", "Alex")


def test_stale_fixture_is_rejected_as_recorded(webhook) -> None:
    """Why the timestamps are refreshed: the recording as captured is stale."""
    body = (FIXTURES / "launch.json").read_bytes()
    status, answer = webhook.household(FIXTURE_USER).post_raw(body)
    assert status == 400, answer
