"""What Alexa shows: a card in the Alexa app for every card, hug and round turn (and the
other rituals and the week), and an APL document only for devices that declare
Alexa.Presentation.APL, whose every binding the data source supplies, within Alexa's 24 KB."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Directive
from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

from skill import screens
from skill.app import build_skill, invoke
from skill.cards import default_deck
from skill.store.sqlite import SQLiteStore
from tests.support.alexa import MAX_RESPONSE_BYTES, MAX_SPEECH_CHARS, check_alexa_limits
from tests.support.envelopes import USER, envelope, slot

APL_DEVICE = {"deviceId": "amzn1.ask.device.SHOW",
              "supportedInterfaces": {"Alexa.Presentation.APL": {"runtime": {
                  "maxVersion": "2023.3"}}}}
PLAIN_DEVICE = {"deviceId": "amzn1.ask.device.DOT", "supportedInterfaces": {}}
RITUALS = {  # intent: the APL document it shows
    "QuestionIntent": "card", "HugIntent": "hug", "CheckInIntent": "ritual",
    "ListeningPracticeIntent": "ritual", "QuietAppreciationRoundIntent": "ritual",
    "DeepConversationIntent": "card", "WeekIntent": "ritual",
}
BINDING = re.compile(r"\$\{([^}]*)\}")
PAYLOAD_PATH = re.compile(r"\bpayload((?:\.[A-Za-z_]\w*)+)")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "closer.sqlite3")
    yield opened
    opened.close()


def ask(skill, intent: str, apl: bool, attributes: dict | None = None, **slots) -> dict:
    sent = envelope("IntentRequest", intent, {k: slot(k, v) for k, v in slots.items()},
                    attributes=attributes)
    sent["context"]["System"]["device"] = APL_DEVICE if apl else PLAIN_DEVICE
    answer = invoke(skill, sent)
    check_alexa_limits(answer)
    return answer


def rendered(answer: dict) -> list[dict]:
    return [d for d in answer["response"].get("directives") or []
            if d["type"] == "Alexa.Presentation.APL.RenderDocument"]


def _all_cards() -> list:
    return list(default_deck())


def bound_paths(document: dict) -> set[str]:
    """Every payload.x.y the document binds in a ${...} expression."""
    text = json.dumps(document)
    return {path for expression in BINDING.findall(text)
            for path in PAYLOAD_PATH.findall(expression)}


def resolve(data: dict, path: str) -> object:
    value: object = data
    for key in path.strip(".").split("."):
        assert isinstance(value, dict) and key in value, f"payload{path} is not supplied"
        value = value[key]
    return value


# -- only for devices that declare APL --------------------------------------------------------


@pytest.mark.parametrize(("intent", "name"), sorted(RITUALS.items()))
def test_the_document_goes_only_to_apl_devices(store, intent: str, name: str) -> None:
    skill = build_skill(store)
    shown = rendered(ask(skill, intent, apl=True))
    assert [d["token"] for d in shown] == [f"closer-{name}"]
    assert rendered(ask(skill, intent, apl=False)) == []


@pytest.mark.parametrize("intent", sorted(RITUALS))
def test_every_ritual_has_a_card_for_the_alexa_app(store, intent: str) -> None:
    skill = build_skill(store)
    for apl in (True, False):
        card = ask(skill, intent, apl=apl)["response"]["card"]
        assert card["type"] == "Simple" and card["title"].startswith("Closer Together: ")
        assert card["content"].strip()


def test_the_directive_is_an_ask_sdk_model_render_document(store) -> None:
    [directive] = rendered(ask(build_skill(store), "HugIntent", apl=True, duration="PT1M"))
    parsed = DefaultSerializer().deserialize(json.dumps(directive), Directive)
    assert isinstance(parsed, RenderDocumentDirective)
    assert parsed.document == screens.document("hug")
    assert parsed.datasources["hug"]["seconds"] == 60


# -- what the screen and the card say ----------------------------------------------------------


def test_a_card_shows_the_question_its_category_and_depth(store) -> None:
    answer = ask(build_skill(store), "QuestionIntent", apl=True)
    [directive] = rendered(answer)
    shown = directive["datasources"]["card"]
    card = next(c for c in _all_cards() if c.text == shown["text"])
    assert shown["category"] == screens.CATEGORY_NAMES[card.category]
    assert shown["depth"] == card.depth.title()
    app_card = answer["response"]["card"]
    assert card.text in app_card["content"] and shown["category"] in app_card["title"]


def test_a_hug_counts_down_from_starting_now_to_the_chime(store) -> None:
    answer = ask(build_skill(store), "HugIntent", apl=True, duration="PT30S")
    hug = rendered(answer)[0]["datasources"]["hug"]
    assert hug["endsAtMs"] - hug["startsAtMs"] == 30_000
    speech = answer["response"]["outputSpeech"]["ssml"]
    before = speech.split("Starting now.")[0]
    words = len(re.sub(r"<[^>]+>", " ", before).split()) + 2
    assert abs(hug["startsAtMs"] - (words / screens.WORDS_PER_S * 1000 + 1000)) < 1000
    assert answer["response"]["card"]["content"] == "A 30 second hug. Come close."
    document = json.dumps(screens.document("hug"))
    assert "elapsedTime" in document and "payload.hug.endCue" in document


def test_lead_in_counts_words_and_short_pauses_up_to_the_long_one() -> None:
    speech = 'One two three four five six. <break time="1s"/> Go. <break time="10s"/> after'
    assert screens.lead_in_ms(speech) == round(7 / screens.WORDS_PER_S * 1000 + 1000)


def test_the_round_shows_whose_turn_it_is_and_never_what_was_said(store) -> None:
    store.update(USER, first_name="Sam", second_name="Alex", journal_opt_in=True,
                 round_state={"step": "first"})
    skill = build_skill(store)
    first = ask(skill, "AppreciationRoundIntent", apl=True)
    assert rendered(first)[0]["datasources"]["round"]["giver"] == "Sam"
    assert first["response"]["card"]["content"] == (
        "Sam: One thing you appreciated about Alex today.")
    second = ask(skill, "ShareAppreciationIntent", apl=True,
                 attributes=first["sessionAttributes"],
                 appreciation="you sang in the kitchen")
    shown = json.dumps(second["response"]["card"]) + json.dumps(rendered(second))
    assert "Alex" in rendered(second)[0]["datasources"]["round"]["giver"]
    assert "kitchen" not in shown and "sang" not in shown


def test_the_week_card_says_what_was_said(store) -> None:
    skill = build_skill(store)
    ask(skill, "HugIntent", apl=False)
    answer = ask(skill, "WeekIntent", apl=False)
    content = answer["response"]["card"]["content"]
    assert content.startswith("This week, the two of you made time for a hug.")
    assert "<" not in content and "&amp;" not in content
    assert not re.search(r"\b(score|streak|missed)\b", content)


# -- the documents ---------------------------------------------------------------------------


def _shown(store) -> dict[str, list[dict]]:
    """The data sources the skill sends, by document, over a run of every ritual."""
    store.update(USER, first_name="Sam", second_name="Alex", journal_opt_in=False,
                 round_state={"step": "first"})
    skill = build_skill(store)
    out: dict[str, list[dict]] = {}
    for intent in [*RITUALS, "AppreciationRoundIntent"]:
        for directive in rendered(ask(skill, intent, apl=True)):
            out.setdefault(directive["token"].removeprefix("closer-"), []).append(
                directive["datasources"])
    return out


def test_every_binding_in_every_document_is_supplied(store) -> None:
    shown = _shown(store)
    assert sorted(shown) == sorted(p.stem for p in screens.DOCUMENTS.glob("*.json"))
    for name, sources in shown.items():
        paths = bound_paths(screens.document(name))
        assert paths, name
        for data in sources:
            for path in paths:
                resolve(data, path)


def test_documents_are_apl_made_for_round_hubs_landscape_hubs_and_tvs() -> None:
    for path in screens.DOCUMENTS.glob("*.json"):
        document = json.loads(path.read_text())
        assert document["type"] == "APL" and document["mainTemplate"]["parameters"] == [
            "payload"]
        conditions = " ".join(r.get("when", "") for r in document["resources"])
        for viewport in ("viewport.shape == 'round'", "viewport.mode == 'tv'",
                         "viewport.width >= 1280", "viewport.height < 600"):
            assert viewport in conditions, (path.name, viewport)


def test_the_longest_card_stays_within_alexas_24_kb() -> None:
    """A card response at its largest: the longest question in the deck, its card and its
    document, with as much speech as Alexa allows."""
    longest = max(_all_cards(), key=lambda c: len(c.text))
    directive = {"type": "Alexa.Presentation.APL.RenderDocument", "token": "closer-card",
                 "document": screens.document("card"), "datasources": screens.card_data(longest)}
    card = {"type": "Simple", "title": "Closer Together: Memories",
            "content": f"{longest.text}\n\nMemories question, medium."}
    body = {"version": "1.0", "sessionAttributes": {"mode": "cards", "sig": "x" * 24},
            "response": {"outputSpeech": {"type": "SSML", "ssml": "x" * MAX_SPEECH_CHARS},
                         "reprompt": {"outputSpeech": {"type": "SSML", "ssml": "x" * 200}},
                         "card": card, "directives": [directive]}}
    assert len(json.dumps(body).encode()) < MAX_RESPONSE_BYTES
