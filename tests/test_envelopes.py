"""The local speaker's request envelopes: shaped as Alexa sends them, readable by ask-sdk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from ask_sdk_model.dialog_state import DialogState
from ask_sdk_model.session_ended_reason import SessionEndedReason
from ask_sdk_model.slu.entityresolution.status_code import StatusCode

from closer.local import application_id
from skill.config import Config
from skill.envelopes import (
    LOCAL_APPLICATION_ID,
    Session,
    intent_request,
    launch_request,
    session_ended_request,
)
from speech.grammar import SlotValue, default_grammar

FIXTURES = Path(__file__).parent / "fixtures" / "requests"
serializer = DefaultSerializer()


def read(envelope: dict) -> RequestEnvelope:
    """What ask-sdk makes of the JSON, exactly as the webhook would receive it."""
    return serializer.deserialize(json.dumps(envelope), RequestEnvelope)


def heard(text: str) -> tuple[str, dict]:
    parse = default_grammar().parse(text)
    assert parse is not None, text
    return parse.intent, parse.slots


@pytest.fixture
def session() -> Session:
    return Session("local.test-household", app_id=LOCAL_APPLICATION_ID)


def test_launch_then_intent_in_one_session(session: Session) -> None:
    first = read(launch_request(session))
    assert first.request.object_type == "LaunchRequest"
    assert first.session.new is True
    assert first.context.system.user.user_id == "local.test-household"
    second = read(intent_request(session, "AMAZON.NextIntent"))
    assert second.session.new is False
    assert second.session.session_id == first.session.session_id
    assert second.request.request_id != first.request.request_id


def test_session_attributes_travel_with_the_request(session: Session) -> None:
    session.attributes = {"mode": "cards", "category": "fun", "card_id": "fun-007"}
    envelope = read(intent_request(session, "AMAZON.RepeatIntent"))
    assert envelope.session.attributes == {"mode": "cards", "category": "fun", "card_id": "fun-007"}


def test_category_synonym_resolves_like_alexa(session: Session) -> None:
    intent, slots = heard("give us a silly question")
    envelope = intent_request(session, intent, slots)
    slot = read(envelope).request.intent.slots["category"]
    assert slot.value == "silly"  # as heard; the resolution says which value it means
    authority = slot.resolutions.resolutions_per_authority[0]
    assert authority.status.code == StatusCode.ER_SUCCESS_MATCH
    assert (authority.values[0].value.id, authority.values[0].value.name) == ("fun", "fun")
    assert authority.authority.endswith(f"{LOCAL_APPLICATION_ID}.CardCategory")


def test_intent_json_matches_a_recorded_alexa_request(session: Session) -> None:
    recorded = json.loads((FIXTURES / "question_fun_synonym.json").read_text())
    session.app_id = recorded["session"]["application"]["applicationId"]
    ours = intent_request(session, *heard("give us a silly question"))
    assert ours["request"]["intent"] == recorded["request"]["intent"]
    assert set(ours["request"]) == set(recorded["request"])
    assert set(ours["session"]) == set(recorded["session"])
    assert set(ours["context"]["System"]) <= set(recorded["context"]["System"])


def test_unknown_category_is_no_match(session: Session) -> None:
    spicy = SlotValue("spicy", "spicy", None)
    slot = read(intent_request(session, "QuestionIntent", {"category": spicy})).request.intent
    authority = slot.slots["category"].resolutions.resolutions_per_authority[0]
    assert authority.status.code == StatusCode.ER_SUCCESS_NO_MATCH
    assert not authority.values


def test_duration_is_sent_as_iso_8601(session: Session) -> None:
    envelope = intent_request(session, *heard("hug for a minute and a half"))
    assert read(envelope).request.intent.slots["duration"].value == "PT1M30S"
    assert "resolutions" not in envelope["request"]["intent"]["slots"]["duration"]


def test_every_slot_of_the_intent_is_present(session: Session) -> None:
    envelope = read(intent_request(session, "QuestionIntent"))
    assert envelope.request.intent.slots["category"].value is None
    names = read(intent_request(session, *heard("we are sam and alex"))).request.intent.slots
    assert (names["firstName"].value, names["secondName"].value) == ("sam", "alex")


def test_free_text_answer_in_progress(session: Session) -> None:
    said = SlotValue("you made me laugh", "you made me laugh")
    envelope = read(intent_request(session, "ShareAppreciationIntent", {"appreciation": said},
                                   dialog_state="IN_PROGRESS"))
    assert envelope.request.dialog_state == DialogState.IN_PROGRESS
    assert envelope.request.intent.slots["appreciation"].value == "you made me laugh"


def test_slot_the_intent_does_not_have_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="no slot"):
        intent_request(session, "HugIntent", {"category": SlotValue("fun", "fun", "fun")})


@pytest.mark.parametrize("reason", ["USER_INITIATED", "EXCEEDED_MAX_REPROMPTS"])
def test_session_ended(session: Session, reason: str) -> None:
    envelope = read(session_ended_request(session, reason))
    assert envelope.request.object_type == "SessionEndedRequest"
    assert envelope.request.reason == SessionEndedReason[reason]


def test_application_id_follows_allowed_skill_ids() -> None:
    assert application_id(Config.from_env({})) == LOCAL_APPLICATION_ID
    configured = {"CLOSER_SKILL_IDS": " amzn1.ask.skill.one , amzn1.ask.skill.two"}
    assert application_id(Config.from_env(configured)) == "amzn1.ask.skill.one"
