"""The virtual Alexa device: sessions, attributes, reprompts and free-text turns, against the
real skill on a real SQLite file, with the real grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from closer.local import InProcess, local_device
from skill.app import build_skill
from skill.cards import default_deck
from skill.config import Config
from skill.handlers.cards import CONTINUE
from skill.store import Cipher, load_or_create_key_file
from skill.store.sqlite import SQLiteStore
from speech.device import Device
from speech.grammar import default_grammar


class Recorded:
    """The in-process door, keeping every request it carried (to see what the skill got)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.door = InProcess(build_skill(store))
        self.requests: list[dict] = []

    def __call__(self, envelope: dict) -> dict:
        self.requests.append(envelope)
        return self.door(envelope)


@pytest.fixture
def door(sqlite_store: SQLiteStore) -> Recorded:
    return Recorded(sqlite_store)


@pytest.fixture
def device(door: Recorded, sqlite_store: SQLiteStore) -> Device:
    return Device(door, sqlite_store.local_household_id(), default_grammar())


def test_card_next_repeat_keeps_the_session(device: Device, door: Recorded) -> None:
    first = device.hear("give us a fun question")
    second = device.hear("next")
    again = device.hear("repeat")
    assert first.request == "QuestionIntent" and first.slots == {"category": "fun"}
    assert first.ssml != second.ssml
    assert again.ssml.startswith("<speak>Again: ")
    second_card = door.requests[2]["session"]["attributes"]["card_id"]
    assert default_deck().get(second_card).text in again.ssml
    sessions = {r["session"]["sessionId"] for r in door.requests}
    assert len(sessions) == 1
    assert [r["session"]["new"] for r in door.requests] == [True, False, False]
    assert door.requests[1]["session"]["attributes"]["mode"] == "cards"


def test_reprompt_once_then_session_ended(device: Device, door: Recorded) -> None:
    device.hear("give us a question")
    reprompt = device.silence()
    assert reprompt.request == "reprompt" and CONTINUE in reprompt.ssml
    assert len(door.requests) == 1  # Alexa speaks the reprompt itself
    ended = device.silence()
    assert ended.request == "SessionEndedRequest" and not device.in_session
    assert door.requests[-1]["request"] == {**door.requests[-1]["request"],
                                            "type": "SessionEndedRequest",
                                            "reason": "EXCEEDED_MAX_REPROMPTS"}


def test_new_session_after_should_end_session(device: Device, door: Recorded) -> None:
    device.hear("give us a question")
    stop = device.hear("stop")
    assert stop.ends_session and not device.in_session
    device.hear("next")
    assert door.requests[-1]["session"]["new"] is True
    assert door.requests[-1]["session"]["sessionId"] != door.requests[0]["session"]["sessionId"]
    assert door.requests[-1]["session"]["attributes"] == {}


def test_elicit_slot_makes_the_next_turn_free_text(device: Device, door: Recorded) -> None:
    device.hear("we are sam and alex")
    device.hear("start our appreciation round")
    assert device.hear("yes").ssml.count("Sam, what's one thing you appreciated about Alex")
    assert device.free_text and device.expecting == "ShareAppreciationIntent.appreciation"
    shared = device.hear("next time you cook I will do the dishes")  # not a "next" command
    assert shared.request == "ShareAppreciationIntent"
    request = door.requests[-1]["request"]
    assert request["dialogState"] == "IN_PROGRESS"
    assert request["intent"]["slots"]["appreciation"]["value"] == (
        "next time you cook I will do the dishes")
    assert "Sam says next time you cook Sam will do the dishes" in shared.ssml
    assert device.free_text  # the second partner's turn
    assert device.hear("stop").request == "AMAZON.StopIntent"  # commands still work
    assert not device.free_text


def test_not_understood_is_fallback(device: Device) -> None:
    reply = device.hear("turn off the kitchen lights")
    assert reply.request == "AMAZON.FallbackIntent" and "didn't catch that" in reply.ssml
    assert device.hear("xyzzy", rejected=True).request == "AMAZON.FallbackIntent"


def test_opening_by_name_launches(device: Device, door: Recorded) -> None:
    reply = device.hear("open closer together")
    assert reply.request == "LaunchRequest" and "Welcome to Closer Together" in reply.ssml
    assert door.requests[-1]["request"]["type"] == "LaunchRequest"


def test_end_tells_the_skill(device: Device, door: Recorded) -> None:
    device.hear("give us a question")
    device.end()
    assert door.requests[-1]["request"]["reason"] == "USER_INITIATED"
    device.end()  # nothing open: nothing sent
    assert len(door.requests) == 2


def test_household_id_from_config_or_store(tmp_path: Path) -> None:
    config = Config.from_env({"CLOSER_DB": str(tmp_path / "closer.sqlite3")})
    with local_device(config, None, default_grammar()) as device:
        made = device.household_id
    store = SQLiteStore(config.db_path, cipher=Cipher(load_or_create_key_file(config.key_file)))
    try:
        assert made == store.local_household_id() and made.startswith("local.")
    finally:
        store.close()
    with local_device(config.but(household_id="kitchen"), None, default_grammar()) as device:
        assert device.household_id == "kitchen"
