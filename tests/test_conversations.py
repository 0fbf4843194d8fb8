"""Whole conversations over real HTTP: signed requests into the webhook on loopback,
state in a real SQLite file, answers checked against Alexa's limits."""

from __future__ import annotations

import sqlite3

import pytest

from skill.cards import default_deck
from tests.support.alexa import speech_text, total_pause_s

pytestmark = pytest.mark.system  # the live webhook on loopback


def test_first_launch_welcomes_then_returning_household_is_greeted_back(webhook) -> None:
    couple = webhook.household()
    first = speech_text(couple.launch())
    assert "Welcome to Closer Together" in first and "question" in first
    couple.say("AMAZON.StopIntent")
    again = speech_text(couple.launch())
    assert again.startswith("Welcome back")


def test_dinner_cards_never_repeat_and_next_keeps_the_category(webhook) -> None:
    deck = default_deck()
    couple = webhook.household()
    couple.launch()
    answer = couple.say("QuestionIntent", category=("silly", "fun"))
    heard = [couple.attributes["card_id"]]
    assert deck.get(couple.attributes["card_id"]).text in speech_text(answer)
    assert answer["response"]["reprompt"]  # dinner flow: session stays open for next/repeat
    for _ in range(len(deck.ids("fun")) - 1):
        couple.say("AMAZON.NextIntent")
        heard.append(couple.attributes["card_id"])
    assert len(set(heard)) == len(heard) == len(deck.ids("fun"))
    assert all(card.startswith("fun-") for card in heard)
    # The category is exhausted: the next card reshuffles, and says so.
    assert "shuffled" in speech_text(couple.say("AMAZON.NextIntent"))


def test_repeat_says_the_same_card_again(webhook) -> None:
    couple = webhook.household()
    card = default_deck().get(
        (couple.say("QuestionIntent", category=("our dreams", "dreams")), couple.attributes)[1][
            "card_id"])
    assert card.category == "dreams"
    assert card.text in speech_text(couple.say("AMAZON.RepeatIntent"))


def test_another_one_after_the_session_ended_continues_the_category(webhook) -> None:
    couple = webhook.household()
    couple.say("QuestionIntent", category=("memory", "memories"))
    first = couple.attributes["card_id"]
    couple.drop_session()
    couple.say("AMAZON.NextIntent")
    assert couple.attributes["card_id"].startswith("memories-")
    assert couple.attributes["card_id"] != first


def test_cards_do_not_repeat_across_sessions(webhook) -> None:
    couple = webhook.household()
    seen = set()
    for _ in range(30):
        couple.say("QuestionIntent")
        seen.add(couple.attributes["card_id"])
        couple.drop_session()
    assert len(seen) == 30


def test_a_hug_holds_exactly_the_asked_time_and_is_counted(webhook) -> None:
    couple = webhook.household()
    answer = couple.say("HugIntent", duration="PT1M")
    said = speech_text(answer)
    assert "a minute" in said and "time" in said.lower()
    assert answer["response"]["shouldEndSession"] is True
    # 1 s breath pause before "Starting now", then exactly 60 s of silence.
    assert total_pause_s(answer) == 61
    assert "<audio" in answer["response"]["outputSpeech"]["ssml"]
    assert "A lovely way to start the week's hugs." in said
    again = speech_text(couple.say("HugIntent"))  # the count means something, never a tally
    assert "A lovely way" not in again and "second hug" not in again


def test_default_hug_is_twenty_seconds_and_odd_lengths_get_a_correction(webhook) -> None:
    couple = webhook.household()
    assert total_pause_s(couple.say("HugIntent")) == 21
    assert "up to two minutes" in speech_text(couple.say("HugIntent", duration="PT10M"))
    assert "up to two minutes" in speech_text(couple.say("HugIntent", duration="P1W"))  # a week
    assert "a little short" in speech_text(couple.say("HugIntent", duration="PT2S"))
    assert "didn't catch how long" in speech_text(couple.say("HugIntent", duration="?"))


def _round_until_first_turn(couple) -> None:
    asked = speech_text(couple.say("AppreciationRoundIntent"))
    assert "first names" in asked
    optin = speech_text(couple.say("SetNamesIntent", firstName="sam", secondName="alex"))
    assert "Sam and Alex" in optin and "journal" in optin
    first = couple.say("AMAZON.YesIntent")
    assert "Sam, what's one thing you appreciated about Alex" in speech_text(first)
    directive = first["response"]["directives"][0]
    assert directive["type"] == "Dialog.ElicitSlot"
    assert directive["slotToElicit"] == "appreciation"


def test_full_appreciation_round_mirrors_saves_and_closes(webhook) -> None:
    couple = webhook.household()
    _round_until_first_turn(couple)
    said = "I appreciated that you made me laugh at breakfast"
    second = speech_text(couple.say("ShareAppreciationIntent", appreciation=said))
    assert "Alex, Sam appreciated that you made Sam laugh at breakfast" in second
    assert "Alex, what's one thing you appreciated about Sam" in second
    close = couple.say("ShareAppreciationIntent", appreciation="you listened to my long story")
    assert "Two appreciations, said out loud." in speech_text(close)
    assert close["response"]["shouldEndSession"] is True
    journal = speech_text(couple.say("JournalIntent"))
    # Newest first.
    assert journal.index("Alex appreciated") < journal.index("Sam appreciated")


def test_skip_passes_a_turn_in_the_round_without_saving_it(webhook) -> None:
    couple = webhook.household()
    _round_until_first_turn(couple)
    passed = speech_text(couple.say("AMAZON.NextIntent"))
    assert "Passing is always okay." in passed
    assert "Alex, what's one thing you appreciated" in passed
    close = speech_text(couple.say("ShareAppreciationIntent",
                                   appreciation="you listened to my long story"))
    assert "Sleep well, Sam and Alex." in close
    assert "One appreciation, said out loud." in close
    journal = speech_text(couple.say("JournalIntent"))
    assert "Alex appreciated" in journal and "Sam appreciated" not in journal


def test_a_dropped_round_resumes_where_it_stopped(webhook) -> None:
    couple = webhook.household()
    _round_until_first_turn(couple)
    couple.say("ShareAppreciationIntent", appreciation="you fixed the bike")
    couple.drop_session()
    resumed = speech_text(couple.say("AppreciationRoundIntent"))
    assert "pick up" in resumed and "Alex, what's one thing" in resumed


def test_without_the_journal_nothing_is_saved(webhook) -> None:
    couple = webhook.household()
    couple.say("AppreciationRoundIntent")
    couple.say("SetNamesIntent", firstName="noor", secondName="kai")
    couple.say("AMAZON.NoIntent")
    couple.say("ShareAppreciationIntent", appreciation="the soup")
    couple.say("ShareAppreciationIntent", appreciation="the walk")
    with sqlite3.connect(webhook.db_path) as db:
        assert db.execute("select count(*) from appreciations").fetchone()[0] == 0
    assert "journal is off" in speech_text(couple.say("JournalIntent"))


def test_quiet_round_and_check_in_pace_both_partners(webhook) -> None:
    couple = webhook.household()
    couple.say("SetNamesIntent", firstName="ana", secondName="jo")
    quiet = couple.say("QuietAppreciationRoundIntent")
    assert "Ana" in speech_text(quiet) and "Jo" in speech_text(quiet)
    assert total_pause_s(quiet) == 60
    check = couple.say("CheckInIntent")
    text = speech_text(check)
    assert all(word in text for word in ("rose", "thorn", "bud", "Ana", "Jo"))
    assert total_pause_s(check) == 6 * 20


def test_quiet_round_and_check_in_read_well_before_names_are_known(webhook) -> None:
    couple = webhook.household()
    quiet = speech_text(couple.say("QuietAppreciationRoundIntent"))
    check = speech_text(couple.say("CheckInIntent"))
    assert "Whoever would like to start, turn to your partner" in quiet
    assert "Now swap" in quiet
    assert "Whoever would like to start, you're first." in check
    assert "Now the other one of you, your turn." in check
    assert "first of you" not in quiet + check


def test_forget_us_asks_first_then_deletes_everything(webhook) -> None:
    couple = webhook.household()
    couple.say("SetNamesIntent", firstName="sam", secondName="alex")
    couple.say("HugIntent")
    assert "Yes or no" in speech_text(couple.say("ForgetUsIntent"))
    assert "haven't deleted" in speech_text(couple.say("AMAZON.NoIntent"))
    couple.say("ForgetUsIntent")
    assert "forgotten everything" in speech_text(couple.say("AMAZON.YesIntent"))
    assert webhook.store.load(couple.user).names is None
    assert "Welcome to Closer Together" in speech_text(couple.launch())


def test_help_mentions_a_counselor_and_fallback_offers_examples(webhook) -> None:
    couple = webhook.household()
    assert "counselor" in speech_text(couple.say("AMAZON.HelpIntent"))
    fallback = couple.say("AMAZON.FallbackIntent")
    assert "give us a question" in speech_text(fallback)
    assert fallback["response"]["reprompt"]


def test_yes_outside_a_question_and_unknown_intents_answer_sensibly(webhook) -> None:
    couple = webhook.household()
    assert "no question waiting" in speech_text(couple.say("AMAZON.YesIntent"))
    assert "can't do that" in speech_text(couple.say("SomeFutureIntent"))
    assert couple.say("AMAZON.NavigateHomeIntent")["response"]["shouldEndSession"] is True


def test_help_in_the_round_explains_and_asks_again_for_what_is_pending(webhook) -> None:
    couple = webhook.household()
    couple.say("SetNamesIntent", firstName="sam", secondName="alex")
    couple.say("AppreciationRoundIntent")
    couple.say("AMAZON.YesIntent")  # the journal offer
    helped = couple.say("AMAZON.HelpIntent")
    assert "counselor" in speech_text(helped)
    assert speech_text(helped).endswith("Sam, what's one thing you appreciated about Alex today?")
    assert helped["response"]["directives"][0]["type"] == "Dialog.ElicitSlot"
    shared = couple.say("ShareAppreciationIntent", appreciation="you fixed the bike")
    assert "Alex, Sam appreciated that you fixed the bike." in speech_text(shared)


def test_repeat_after_a_misheard_remark_repeats_the_question(webhook) -> None:
    couple = webhook.household()
    couple.say("QuestionIntent")
    card = default_deck().get(couple.attributes["card_id"])
    remark = couple.say("AMAZON.FallbackIntent")
    assert "Say next for another question" in speech_text(remark)
    assert remark["response"]["shouldEndSession"] is False
    assert speech_text(couple.say("AMAZON.RepeatIntent")) == f"Again: {card.text}"
