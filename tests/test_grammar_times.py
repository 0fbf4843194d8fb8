"""The local speaker hears reminders as Alexa would: AMAZON.TIME values from spoken times,
the ritual by its RitualType id, the part of the day by its DayPart id."""

from __future__ import annotations

import pytest

from speech.grammar import default_grammar
from speech.grammar.times import spoken_times


@pytest.fixture(scope="module")
def grammar():
    return default_grammar()


def heard(grammar, text: str) -> tuple[str, dict[str, str]] | None:
    parse = grammar.parse(text)
    return None if parse is None else (parse.intent, parse.values())


@pytest.mark.parametrize(("spoken", "value"), [
    ("nine thirty", "09:30"), ("nine thirty at night", "21:30"), ("nine thirty p m", "21:30"),
    ("seven a m", "07:00"), ("seven o'clock in the morning", "07:00"),
    ("twelve thirty a m", "00:30"), ("twelve thirty", "12:30"), ("eight oh five pm", "20:05"),
    ("quarter to ten in the evening", "21:45"), ("half past eight", "08:30"),
    ("twenty one thirty", "21:30"), ("noon", "12:00"), ("midnight", "00:00"),
    ("morning", "MO"), ("the afternoon", "AF"), ("evening", "EV"), ("night", "NI"),
])
def test_spoken_times_become_alexas_values(spoken: str, value: str) -> None:
    assert spoken_times()[spoken] == value


@pytest.mark.parametrize(("text", "slots"), [
    ("remind us every night at nine thirty to do our appreciation round",
     {"daypart": "night", "time": "09:30", "ritual": "appreciation"}),
    ("remind us to hug every morning", {"ritual": "hug", "daypart": "morning"}),
    ("remind us at 9:30pm to do our check in", {"time": "21:30", "ritual": "checkin"}),
    ("remind us before bed to do our appreciation round",
     {"daypart": "night", "ritual": "appreciation"}),
    ("remind us to listen to each other every evening",
     {"ritual": "listening", "daypart": "evening"}),
    ("set a reminder for our conversation question at seven",
     {"ritual": "question", "time": "07:00"}),
    ("ask closer together to remind us to hug in the morning", {"ritual": "hug", "time": "MO"}),
    ("when is our reminder", {}),
    ("what are our reminders", {}),
])
def test_reminders_are_heard_with_their_slots(grammar, text: str, slots: dict) -> None:
    assert heard(grammar, text) == ("ReminderIntent", slots)


@pytest.mark.parametrize("text", ["stop reminding us", "cancel our reminders",
                                  "no more reminders", "don't remind us anymore"])
def test_stopping_the_reminders(grammar, text: str) -> None:
    assert heard(grammar, text) == ("StopRemindersIntent", {})


@pytest.mark.parametrize("text", ["remind me to call the dentist",
                                  "remind me to take out the trash",
                                  "set a reminder for the appointment",
                                  "what time is it", "wake me up at seven"])
def test_other_reminders_are_not_ours(grammar, text: str) -> None:
    assert heard(grammar, text) is None


def test_a_plain_stop_or_cancel_is_still_a_stop(grammar) -> None:
    assert heard(grammar, "stop") == ("AMAZON.StopIntent", {})
    assert heard(grammar, "cancel") == ("AMAZON.CancelIntent", {})
