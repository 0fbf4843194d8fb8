"""The rituals around the round, as heard: cards by kind and depth, a deeper conversation
step by step, listening practice, hugs, the week, and the small words (hi, help, thanks)."""

from __future__ import annotations

import re

import pytest

from skill.cards import default_deck, default_sequence
from tests.support.talk import Talk

deck = default_deck()


def words(text: str) -> int:
    return len(re.findall(r"[\w']+", text))


def pauses(text: str) -> float:
    return sum(float(s) for s in re.findall(r"\[([\d.]+) s pause\]", text))


def card_of(talk: Talk):
    return deck.get(talk.device.session.attributes["card_id"])


# -- cards ------------------------------------------------------------------------------------


def test_any_question_is_light_or_medium_and_never_repair(talk: Talk) -> None:
    for line in ["give us a question", *["next"] * 25]:
        talk.one(line)
        card = card_of(talk)
        assert card.depth in {"light", "medium"} and card.category != "repair", card


def test_repair_only_when_asked_for_by_name(talk: Talk) -> None:
    reply = talk.one("a question about making up")
    assert card_of(talk).category == "repair"
    assert "Take it slowly." in reply


def test_something_lighter_and_something_deeper_move_along_the_depths(talk: Talk) -> None:
    talk.one("a question about us")
    start = card_of(talk)
    talk.one("something deeper")
    deeper = card_of(talk)
    order = ("light", "medium", "deep")
    assert order.index(deeper.depth) >= order.index(start.depth)
    talk.one("something lighter")
    lighter = card_of(talk)
    assert order.index(lighter.depth) <= order.index(deeper.depth)
    assert lighter.depth != "deep"


@pytest.mark.parametrize(("asked", "category", "topic"), [
    ("a question about our first date", "memories", "first date"),
    ("a would you rather question", "fun", "would you rather"),
    ("a spiritual question", "meaning", "spiritual"),
    ("a philosophical question", None, "philosophical"),
    ("a question about us", "us", None),
])
def test_a_kind_named_deals_cards_that_answer_it(talk: Talk, asked: str, category: str | None,
                                                 topic: str | None) -> None:
    talk.one(asked)
    card = card_of(talk)
    if category:
        assert card.category == category, (asked, card)
    if topic:
        assert topic in card.topics, (asked, card)


def test_card_openings_vary(talk: Talk) -> None:
    openings = {talk.one(line).split(".")[0] for line in ["give us a question", *["next"] * 12]}
    assert len(openings) >= 3


def test_no_card_repeats_until_the_category_runs_out(talk: Talk) -> None:
    pool = deck.ids("us")
    heard = []
    talk.one("a question about us")
    heard.append(card_of(talk).id)
    for _ in range(len(pool) - 1):
        talk.one("next")
        heard.append(card_of(talk).id)
    assert sorted(heard) == sorted(pool)


# -- the deeper conversation ------------------------------------------------------------------


def test_a_deeper_conversation_goes_step_by_step_and_resumes(talk: Talk) -> None:
    sequence = default_sequence()
    intro = talk.one("let's go deeper tonight")
    assert "pass whenever you like" in intro and "The first set" in intro
    asked = [talk.deep_question()]
    for _ in range(3):
        talk.one("ask closer together for the next question")
        asked.append(talk.deep_question())
    assert "The second set" in talk.replies[-1].ssml
    talk.one("stop")
    resumed = talk.one("let's go deeper")
    assert resumed.startswith("Let's pick up where you stopped.")
    for _ in range(5):
        talk.one("pass")
        asked.append(talk.deep_question())
    assert [sequence.get(i).set_number for i in asked] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert len(set(asked)) == 9
    last = talk.one("next question")
    assert "That was the last question." in last


def test_deeper_questions_do_not_repeat_until_all_are_heard(sqlite_store) -> None:
    sequence = default_sequence()
    per_set = min(len(sequence.ids(n)) for n in (1, 2, 3))
    heard: list[str] = []
    for _ in range(per_set // 3):
        talk = Talk(sqlite_store)
        talk.one("let's go deeper")
        heard.append(talk.deep_question())
        for _ in range(8):
            talk.one("next question")
            heard.append(talk.deep_question())
        talk.one("next question")  # the close
        talk.end()
    assert len(heard) == len(set(heard))


# -- listening practice -------------------------------------------------------------------------


def test_listening_practice_paces_both_turns(talk: Talk) -> None:
    talk("we are ana and jo")
    said = talk.one("let's practice listening")
    assert "Ana, you talk first, for two minutes. Jo, you listen." in said
    assert "Jo, say back what you heard" in said and "Ana, say back what you heard" in said
    assert said.count("[chime]") == 2
    assert 2 * 120 + 2 * 45 <= pauses(said) <= 2 * 120 + 2 * 45 + 30
    assert "one thing the other did as a listener that you appreciated" in said


@pytest.mark.parametrize(("asked", "minutes"), [("practice listening for three minutes", 3),
                                                 ("practice listening for a minute", 1)])
def test_listening_turns_last_what_was_asked(talk: Talk, asked: str, minutes: int) -> None:
    said = talk.one(asked)
    assert 2 * minutes * 60 <= pauses(said) <= 2 * minutes * 60 + 2 * 60 + 30


def test_listening_turns_longer_than_five_minutes_are_refused_kindly(talk: Talk) -> None:
    assert talk.one("practice listening for ten minutes").startswith(
        "Each turn can be one to five minutes.")


# -- hugs --------------------------------------------------------------------------------------


def test_a_minute_thirty_is_ninety_seconds(talk: Talk) -> None:
    said = talk.one("hug for a minute thirty")
    assert "Let's hug for a minute and a half." in said
    assert "[90 s pause] [chime]" in said


def test_one_more_after_a_hug_holds_the_same_length(talk: Talk) -> None:
    talk.one("hug for thirty seconds")
    for again in ("one more", "can we do the hug again", "another hug"):
        said = talk.one(again)
        assert "Let's hug for 30 seconds." in said, (again, said)


def test_hugs_are_celebrated_not_counted(talk: Talk) -> None:
    for _ in range(4):
        said = talk.one("start a hug")
        assert not re.search(r"\b(first|second|third|fourth|\d+) hugs?\b", said), said


# -- the week and the small words ---------------------------------------------------------------


def test_how_many_hugs_this_week(talk: Talk) -> None:
    assert "blank page" in talk.one("how many hugs this week")
    talk("start a hug", "start a hug")
    said = talk.one("how many hugs this week")
    assert "two hugs" in said and "made time for" in said


@pytest.mark.parametrize("said", ["hi", "hello", "what can you do", "what is this"])
def test_greetings_and_questions_about_the_skill_get_help(talk: Talk, said: str) -> None:
    answer = talk.one(said)
    assert "a question, a hug, or your appreciation round" in answer.lower()
    assert words(answer) < 35


def test_welcomes_are_short(talk: Talk) -> None:
    first = talk.one("open closer together")
    assert first.startswith("Welcome to Closer Together") and words(first) < 30
    talk.one("stop")
    talk("we are ana and jo", "stop")
    again = talk.one("open closer together")
    assert again == "Welcome back, Ana and Jo. A question, a hug, or your round?"
    assert words(again) < 15


def test_help_is_short_and_knows_where_you_are(talk: Talk) -> None:
    general = talk.one("help")
    assert words(general) < 35 and "counselor" in general
    talk.one("give us a question")
    in_cards = talk.one("help")
    assert "something lighter or deeper" in in_cards and words(in_cards) < 35


def test_thanks_after_a_card_is_a_kind_goodbye(talk: Talk) -> None:
    talk.one("give us a question")
    assert talk.one("thanks") == "You're welcome. Enjoy the conversation."


def test_repeat_says_the_welcome_again_not_a_stored_reply(talk: Talk) -> None:
    first = talk.one("open closer together")
    assert talk.one("repeat") == first
