"""Care on a hard evening and when someone is afraid: understood on both doors, answered
briefly and kindly, never with a card; fear gets the locale's numbers and nothing else."""

from __future__ import annotations

import re

import pytest
import yaml

from skill.app import build_skill, invoke
from skill.handlers.care import CARE_PATH
from skill.interaction_model import default_model
from speech.grammar import default_grammar
from tests.support.envelopes import envelope
from tests.support.talk import Talk

PHRASINGS = yaml.safe_load((CARE_PATH.parent / "care_phrasings.yaml").read_text())
HARD = [s for group in PHRASINGS["HardTimesIntent"].values() for s in group]
AFRAID = [s for group in PHRASINGS["SafetyIntent"].values() for s in group]
EMERGENCY = {"en-US": "nine one one", "en-GB": "nine nine nine", "en-CA": "nine one one",
             "en-AU": "triple zero", "en-IN": "one one two"}


def words(text: str) -> int:
    return len(re.findall(r"[\w']+", text))


def test_at_least_forty_distress_phrasings_on_both_doors() -> None:
    model = default_model()
    grammar = default_grammar()
    for intent, phrasings in (("HardTimesIntent", HARD), ("SafetyIntent", AFRAID)):
        samples = set(model.intents[intent].samples)
        heard = [p for p in phrasings if (parse := grammar.parse(p)) and parse.intent == intent]
        assert set(phrasings) <= samples  # Alexa: every phrasing is a sample of its intent
        assert heard == phrasings  # the local speaker: every phrasing reaches its intent
    assert len(HARD) + len(AFRAID) >= 40


@pytest.mark.parametrize("said", HARD[::7])
def test_a_hard_evening_gets_care_an_offer_and_a_counselor_never_a_card(talk: Talk,
                                                                        said: str) -> None:
    answer = talk.one(said)
    assert talk.last_intent() == "HardTimesIntent"
    assert "Would you like one?" in answer
    assert "couples counselor" in answer
    assert words(answer) <= 60, answer
    assert talk.store.load(talk.household).last_card_id is None


def test_yes_to_the_offer_starts_it_and_no_is_gentle(talk: Talk) -> None:
    offered = talk.one("we had a fight")
    answer = talk.one("yes")
    if "hug" in offered:
        assert "Let's hug for a minute." in answer
    elif "making up" in offered:
        assert "Take it slowly." in answer
    else:
        assert "A quiet appreciation round." in answer
    talk.one("we're having a hard time")
    assert talk.one("no") == "Okay. Be gentle with each other tonight."


def test_the_counselor_line_is_said_once_a_session(talk: Talk) -> None:
    first = talk.one("we had a fight")
    assert "couples counselor" in first
    talk.one("help")  # still the same session
    assert "counselor" not in talk.one("help")


@pytest.mark.parametrize("locale", sorted(EMERGENCY))
def test_fear_gets_the_emergency_number_first_and_a_helpline(sqlite_store, locale: str) -> None:
    skill = build_skill(sqlite_store)
    request = envelope("IntentRequest", "SafetyIntent", new=True)
    request["request"]["locale"] = locale
    answer = invoke(skill, request)
    said = answer["response"]["outputSpeech"]["ssml"]
    assert said.index(EMERGENCY[locale]) < 80
    assert "You don't have to go through this alone." in said
    assert not re.search(r"\b(hug|question|round|card)\b", said)
    assert answer["response"]["shouldEndSession"] is True


@pytest.mark.parametrize("said", AFRAID[::6])
def test_fear_is_never_offered_a_ritual(talk: Talk, said: str) -> None:
    answer = talk.one(said)
    assert talk.last_intent() == "SafetyIntent"
    assert "nine one one" in answer and "Hotline" in answer
    assert "hug" not in answer.lower() and "question" not in answer.lower()


@pytest.mark.parametrize("said", [miss["said"] for miss in PHRASINGS["near_misses"]])
def test_near_misses_are_not_distress(talk: Talk, said: str) -> None:
    talk.one(said)
    assert talk.last_intent() not in {"HardTimesIntent", "SafetyIntent"}
