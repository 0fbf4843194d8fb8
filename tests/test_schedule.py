"""The local speaker's nudges, by an injected clock: said at their time in the household's
zone, once a day per ritual, not when the ritual was already done, never into a session;
an idle speaker that would listen forever wakes up in time for the next one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from closer.local import InProcess
from closer.schedule import GRACE, LONGEST_WAIT_S, Nudges
from skill.app import build_skill
from skill.handlers.cards import CONTINUE
from speech.device import Device
from speech.grammar import default_grammar
from speech.speaker import SESSION_LISTEN_S, Ears, Mouth, Report, run
from speech.tts import open_voice
from speech.wake import WakePhrase

HOME = ZoneInfo("Europe/Lisbon")
HOUSEHOLD = "local.schedule-test"
APPRECIATION = ("When you're ready, it's a lovely time for your appreciation round. Just say, "
                "closer together, start our appreciation round.")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def local(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=HOME)


@pytest.fixture
def clock() -> Clock:
    return Clock(local(7, 21, 0))


@pytest.fixture
def nudges(sqlite_store, clock) -> Nudges:
    sqlite_store.set_reminder(HOUSEHOLD, "appreciation", "21:30")
    return Nudges(sqlite_store, HOUSEHOLD, clock=clock, zone=HOME)


def test_nothing_before_the_time_and_a_wait_that_ends_at_it(nudges, clock) -> None:
    assert nudges.due() == []
    assert nudges.wait_s() == LONGEST_WAIT_S  # 30 min away: look again in five
    clock.at = local(7, 21, 29, 20)
    assert nudges.wait_s() == 40.0


def test_said_at_the_time_and_only_once_that_day(nudges, sqlite_store, clock) -> None:
    clock.at = local(7, 21, 30)
    assert nudges.due() == [APPRECIATION]
    assert nudges.due() == []
    assert sqlite_store.reminders(HOUSEHOLD)[0].last_nudged == date(2026, 12, 7)
    clock.at = local(8, 21, 31)
    assert nudges.due() == [APPRECIATION]


def test_two_speakers_in_one_home_say_it_once(nudges, sqlite_store, clock) -> None:
    other = Nudges(sqlite_store, HOUSEHOLD, clock=clock, zone=HOME)
    clock.at = local(7, 21, 30, 5)
    assert nudges.due() + other.due() == [APPRECIATION]


def test_not_said_when_the_round_was_already_done_today(nudges, sqlite_store, clock) -> None:
    sqlite_store.record_ritual(HOUSEHOLD, "appreciation_round", local(7, 20, 45))
    clock.at = local(7, 21, 30)
    assert nudges.due() == []
    clock.at = local(8, 21, 30)  # yesterday's round does not count for today
    assert nudges.due() == [APPRECIATION]


def test_a_nudge_missed_by_more_than_an_hour_is_let_go(nudges, clock) -> None:
    clock.at = local(7, 21, 30) + GRACE
    assert nudges.due() == []


def test_a_late_nudge_still_counts_for_the_day_it_was_due(sqlite_store, clock) -> None:
    sqlite_store.set_reminder(HOUSEHOLD, "hug", "23:45")
    nudges = Nudges(sqlite_store, HOUSEHOLD, clock=clock, zone=HOME)
    clock.at = local(8, 0, 20)  # after midnight, 35 minutes late
    [said] = nudges.due()
    assert said.startswith("When you're ready, it's a lovely time for a hug.")
    assert sqlite_store.reminders(HOUSEHOLD)[0].last_nudged == date(2026, 12, 7)


def test_the_time_is_the_households_not_utc(sqlite_store) -> None:
    sqlite_store.set_reminder(HOUSEHOLD, "checkin", "20:00")
    clock = Clock(datetime(2026, 12, 7, 20, 0, tzinfo=UTC))  # 15:00 in New York
    nudges = Nudges(sqlite_store, HOUSEHOLD, clock=clock, zone=ZoneInfo("America/New_York"))
    assert nudges.due() == []
    clock.at = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # 20:00 in New York
    assert nudges.due()[0].startswith("When you're ready, it's a lovely time for a check in.")


def test_no_reminders_means_listening_as_ever(sqlite_store, clock) -> None:
    assert Nudges(sqlite_store, HOUSEHOLD, clock=clock, zone=HOME).wait_s() is None


# -- in the speaker's loop ---------------------------------------------------------------------


class QuietRoom:
    """Nobody speaks: each listen lasts its whole timeout on the injected clock. A listen
    with no timeout would wait forever, which the test refuses."""

    def __init__(self, clock: Clock, listens: int) -> None:
        self.clock, self.left = clock, listens
        self.timeouts: list[float | None] = []
        self.current = None

    def listen(self, timeout_s, *, free_text=False, sink=None):
        if self.left == 0:
            raise EOFError
        self.left -= 1
        assert timeout_s is not None, "an idle speaker listening forever would miss the nudge"
        self.timeouts.append(timeout_s)
        self.clock.advance(timeout_s)
        return None


class Heard(Mouth):
    """The real mouth (espeak-ng, writing WAV files); remembers when it said what."""

    def __init__(self, out_dir: Path, clock: Clock) -> None:
        super().__init__(open_voice("pyttsx3")[0], out_dir)
        self.clock, self.said = clock, []

    def speak(self, ssml: str, turn: int):
        self.said.append((self.clock(), ssml))
        return super().speak(ssml, turn)


def speaker_parts(sqlite_store, clock: Clock, tmp_path: Path):
    skill = build_skill(sqlite_store, clock=clock)
    device = Device(InProcess(skill, sqlite_store), HOUSEHOLD, default_grammar())
    ears = Ears(recognizer=None, wake=WakePhrase())
    return device, ears, Heard(tmp_path, clock)


def test_an_idle_speaker_wakes_up_for_the_nudge(nudges, sqlite_store, clock, tmp_path,
                                                capsys) -> None:
    clock.at = local(7, 21, 29, 50)
    device, ears, mouth = speaker_parts(sqlite_store, clock, tmp_path)
    room = QuietRoom(clock, listens=2)
    run(device, ears, mouth, room, Report(True, True), nudges=nudges)
    [(at, ssml)] = mouth.said
    assert local(7, 21, 30) <= at < local(7, 21, 30, 2)
    assert ssml == f"<speak>{APPRECIATION}</speak>"
    assert room.timeouts[0] == 10.0
    assert (tmp_path / "01.wav").stat().st_size > 10_000
    assert "turn 1 | nudge | wrote" in capsys.readouterr().out


def test_never_into_a_session(nudges, sqlite_store, clock, tmp_path) -> None:
    clock.at = local(7, 21, 29, 55)
    device, ears, mouth = speaker_parts(sqlite_store, clock, tmp_path)
    device.hear("give us a question")  # a card at the table: the session waits for them
    room = QuietRoom(clock, listens=3)
    run(device, ears, mouth, room, Report(True, True), nudges=nudges)
    assert room.timeouts[:2] == [SESSION_LISTEN_S, SESSION_LISTEN_S]
    spoken = [ssml for _, ssml in mouth.said]
    assert spoken[-1] == f"<speak>{APPRECIATION}</speak>"  # after the session, not in it
    assert CONTINUE in spoken[0]  # the card's reprompt came first
    assert mouth.said[-1][0] >= local(7, 21, 30, 11)


def test_the_speaker_nudges_only_with_the_skill_in_process(sqlite_store) -> None:
    from closer.local import speaker_nudges
    from speech.device import Webhook

    here = Device(InProcess(build_skill(sqlite_store), sqlite_store), HOUSEHOLD)
    assert isinstance(speaker_nudges(here), Nudges)
    remote = Device(Webhook("http://127.0.0.1:9/alexa"), HOUSEHOLD)
    assert speaker_nudges(remote) is None  # its reminders live in the webhook's store
