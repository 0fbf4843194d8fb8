"""The webhook's FastSerializer must build exactly what ask-sdk's DefaultSerializer builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.serialize import FastSerializer
from tests.support.envelopes import envelope, slot

REQUESTS = sorted((Path(__file__).parent / "fixtures" / "requests").glob("*.json"))


def _dinner_envelope() -> dict:
    return envelope(intent="QuestionIntent",
                    slots={"category": slot("category", "silly", resolved_id="fun")},
                    attributes={"mode": "cards", "category": "fun", "nested": {"a": [1, 2]}},
                    dialog_state="IN_PROGRESS")


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.stem)
def test_recorded_requests_deserialize_identically(path: Path) -> None:
    body = path.read_text()
    expected = DefaultSerializer().deserialize(body, RequestEnvelope)
    assert FastSerializer().deserialize(body, RequestEnvelope) == expected
    assert FastSerializer().from_json(json.loads(body), RequestEnvelope) == expected


def test_slots_resolutions_and_attributes_survive() -> None:
    body = json.dumps(_dinner_envelope())
    fast = FastSerializer().deserialize(body, RequestEnvelope)
    assert fast == DefaultSerializer().deserialize(body, RequestEnvelope)
    category = fast.request.intent.slots["category"]
    assert category.resolutions.resolutions_per_authority[0].values[0].value.id == "fun"
    assert fast.session.attributes["nested"] == {"a": [1, 2]}
    assert fast.request.timestamp.tzinfo is not None


def test_unusual_timestamp_forms_still_parse() -> None:
    data = _dinner_envelope()
    data["request"]["timestamp"] = "2026-11-23T15:37:04.123Z"
    body = json.dumps(data)
    assert FastSerializer().deserialize(body, RequestEnvelope) == DefaultSerializer().deserialize(
        body, RequestEnvelope)


@pytest.mark.parametrize("change", [
    lambda d: d["request"].update(timestamp="not a time"),
    lambda d: d["request"].update(type="NoSuchRequest"),
    lambda d: d["request"]["intent"].update(confirmationStatus="MAYBE"),
])
def test_bad_values_raise_the_sdks_error(change) -> None:
    data = _dinner_envelope()
    change(data)
    with pytest.raises(SerializationException):
        FastSerializer().from_json(data, RequestEnvelope)


def test_responses_serialize_identically(tmp_path: Path) -> None:
    """Every recorded request's answer, serialized both ways, is the same JSON."""
    from skill.app import build_skill
    from skill.store.sqlite import SQLiteStore

    skill = build_skill(SQLiteStore(tmp_path / "closer.sqlite3"))
    for path in REQUESTS:
        request = DefaultSerializer().deserialize(path.read_text(), RequestEnvelope)
        response = skill.invoke(request_envelope=request, context=None)
        assert FastSerializer().serialize(response) == DefaultSerializer().serialize(response)
