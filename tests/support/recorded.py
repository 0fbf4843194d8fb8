"""The recorded Alexa request envelopes (tests/fixtures/requests) and what each must do
(expectations.yaml)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tests.support.alexa import check_alexa_limits, speech_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "requests"
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


def check_behaves(answer: dict, expected: dict) -> None:
    """An answer against its fixture's expectation in expectations.yaml."""
    response = answer.get("response", {})
    text = speech_text(answer)
    if expected.get("silent"):
        assert "outputSpeech" not in response and text == "", text
    for part in expected.get("says", []):
        assert part in text, (part, text)
    if "says_any" in expected:
        assert any(part in text for part in expected["says_any"]), (expected["says_any"], text)
    if "ends" in expected:
        assert response.get("shouldEndSession") is expected["ends"], response
    directives = response.get("directives") or []
    if "directive" in expected:
        types = [d.get("type") for d in directives]
        assert expected["directive"] in types, types
        if expected["directive"] == "Dialog.ElicitSlot":
            elicit = next(d for d in directives if d["type"] == "Dialog.ElicitSlot")
            assert elicit["slotToElicit"] == "appreciation"
            assert "reprompt" in response
    if "card" in expected:
        assert (response.get("card") or {}).get("type") == expected["card"], response.get("card")
    if "apl" in expected:  # the RenderDocument's token, or none (a device without APL)
        shown = [d.get("token") for d in directives
                 if d.get("type") == "Alexa.Presentation.APL.RenderDocument"]
        assert shown == ([] if expected["apl"] == "none" else [expected["apl"]]), shown


def prepare_household(store, expected: dict) -> None:
    """Store what a fixture's expectation says the household already has. A round in
    progress started just now (the recordings cannot say when)."""
    household = dict(expected.get("household") or {})
    if isinstance(household.get("round_state"), dict):
        household["round_state"] = {"started_at": datetime.now(UTC).isoformat(),
                                    **household["round_state"]}
    if household:
        store.update(FIXTURE_USER, **household)
