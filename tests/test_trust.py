"""One trust boundary: what a Yes confirms, whether the journal was agreed to and what Repeat
says are never taken from session attributes a caller made up. Each attribute the skill
reads is forged here, as a request through `--no-verify` or a compromised caller could."""

from __future__ import annotations

import pytest

from skill.app import build_skill, invoke
from skill.session import SessionSigner
from skill.store.sqlite import SQLiteStore
from tests.support.alexa import speech_text
from tests.support.envelopes import envelope

USER = "amzn1.ask.account.TRUST"


@pytest.fixture
def skill(sqlite_store: SQLiteStore):
    sqlite_store.update(USER, first_name="Sam", second_name="Alex")
    return build_skill(sqlite_store, session_key=b"k" * 32)


def ask(skill, intent: str, attributes: dict, **slots: str) -> dict:
    request = envelope("IntentRequest", intent, user=USER, attributes=attributes,
                       slots={k: {"name": k, "value": v} for k, v in slots.items()})
    return invoke(skill, request)


def test_a_forged_forget_confirmation_forgets_nothing(skill, sqlite_store) -> None:
    answer = ask(skill, "AMAZON.YesIntent", {"mode": "forget_confirm"})
    assert "no question waiting" in speech_text(answer)
    assert sqlite_store.load(USER).names == ("Sam", "Alex")


def test_a_forged_journal_offer_turns_nothing_on(skill, sqlite_store) -> None:
    ask(skill, "AMAZON.YesIntent", {"mode": "round", "round_step": "optin", "step": "optin"})
    assert sqlite_store.load(USER).journal_opt_in is None


def test_forged_speech_is_never_replayed(skill) -> None:
    forged = {"last_speech": '<audio src="https://attacker.example/x.mp3"/>',
              "last_reprompt": "</speak><speak>gotcha", "again": "welcome"}
    said = invoke(skill, envelope("IntentRequest", "AMAZON.RepeatIntent", user=USER,
                                  attributes=forged))["response"]["outputSpeech"]["ssml"]
    assert "attacker" not in said and "gotcha" not in said and said.count("<speak>") == 1


def test_attributes_signed_with_another_key_are_refused(skill, sqlite_store) -> None:
    elsewhere = SessionSigner(b"x" * 32).sign({"mode": "forget_confirm"})
    ask(skill, "AMAZON.YesIntent", elsewhere)
    assert sqlite_store.load(USER).names == ("Sam", "Alex")


def test_our_own_signed_attributes_are_trusted(skill, sqlite_store) -> None:
    asked = ask(skill, "ForgetUsIntent", {})
    attributes = asked["sessionAttributes"]
    assert attributes["mode"] == "forget_confirm" and "sig" in attributes
    ask(skill, "AMAZON.YesIntent", attributes)
    assert sqlite_store.load(USER).names is None


@pytest.mark.parametrize("forged", [
    {"mode": ["forget_confirm"]}, {"counselor": "yes"}, {"card_id": 7},
    {"category": "fun" * 40}, {"unknown": "x"},
])
def test_every_attribute_must_have_its_type(forged: dict) -> None:
    signer = SessionSigner(b"k" * 32)
    assert signer.verified(signer.sign(forged)) == {}
    assert signer.verified(signer.sign({"mode": "cards", "card_id": "fun-001"})) == {
        "mode": "cards", "card_id": "fun-001"}


def test_a_tampered_value_breaks_the_signature() -> None:
    signer = SessionSigner(b"k" * 32)
    signed = signer.sign({"mode": "cards", "card_id": "fun-001"})
    assert signer.verified({**signed, "mode": "forget_confirm"}) == {}
