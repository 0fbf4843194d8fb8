"""Whole rituals through `closer speaker --wav ... --out ...` as a real process: recorded turns
(tests/fixtures/conversations, made by make_turns.py) -> end-pointing -> wake phrase ->
PocketSphinx -> the skill -> WAV files whose lengths and silences are checked. Recorded turns
after a check-in are heard during its pauses ("next", "stop", or the couple talking)."""

from __future__ import annotations

import functools
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skill.store import Cipher, load_or_create_key_file
from skill.store.sqlite import SQLiteStore

pytestmark = pytest.mark.system  # the speaker as a process on recorded audio

CLOSER = str(Path(sys.executable).with_name("closer"))
CONVERSATIONS = Path(__file__).parent / "fixtures" / "conversations"
RATE = 22050


# What each recorded turn means to the speaker (None: not for it), words the recognizer must
# keep (names, the free-text answers), and which turns start idle, with the wake phrase.
MEANT: dict[str, list[str | None]] = {
    "dinner": ["QuestionIntent", "AMAZON.NextIntent", "AMAZON.RepeatIntent"],
    "round": ["AppreciationRoundIntent", "SetNamesIntent", "AMAZON.YesIntent",
              "ShareAppreciationIntent", "ShareAppreciationIntent"],
    "hug": ["HugIntent"],
    "no_answer": ["QuestionIntent"],
    "not_for_me": [None, "LaunchRequest", "AMAZON.StopIntent"],
    # Heard during the check-in's pauses ("i'm done" moves on there).
    "checkin_next": ["CheckInIntent", "AMAZON.NextIntent", "AMAZON.NextIntent",
                     "AMAZON.StopIntent", "AMAZON.NextIntent", "AMAZON.NextIntent",
                     "AMAZON.NextIntent"],
    "checkin_stop": ["CheckInIntent", "AMAZON.NextIntent", "AMAZON.StopIntent"],
    "checkin_talk": ["CheckInIntent", None],  # the couple talking to each other
}
KEEP = {("round", 2): {"john", "mary"}, ("round", 4): {"flowers"}, ("round", 5): {"mother"}}
FREE_TEXT = {("round", 4), ("round", 5)}
IDLE = {("dinner", 1), ("round", 1), ("hug", 1), ("no_answer", 1), ("not_for_me", 1),
        ("not_for_me", 2), ("checkin_next", 1), ("checkin_stop", 1), ("checkin_talk", 1)}


@functools.cache
def misheard(conversation: str) -> tuple[str, ...]:
    """The turns of a conversation that the wake spotter and PocketSphinx get wrong, each turn
    on its own (outside the speaker loop), in order, on a fresh recognizer as the speaker's."""
    from speech.audio import find_speech, read_wav
    from speech.grammar import default_grammar
    from speech.stt import open_recognizer
    from speech.wake import WakePhrase

    grammar = default_grammar()
    recognizer = open_recognizer("pocketsphinx", grammar)  # it adapts to what it has heard
    wake = WakePhrase()
    wrong = []
    for number, meant in enumerate(MEANT[conversation], start=1):
        pcm = read_wav(CONVERSATIONS / conversation / f"{number:02d}.wav")
        found = find_speech(pcm)
        assert found is not None
        said = pcm[max(0, found.start_ms - 200) * 32:(found.end_ms + 200) * 32]
        turn = (conversation, number)
        heard, got = _hear(recognizer, grammar, wake, said, turn)
        kept = KEEP.get(turn, set()) <= set(heard.split())
        if not kept or (got != meant and turn not in FREE_TEXT):
            wrong.append(f"{conversation}/{number:02d}: {heard!r}")
    return tuple(wrong)


def _hear(recognizer: Any, grammar: Any, wake: Any, said: bytes,
          turn: tuple[str, int]) -> tuple[str, str | None]:
    from speech.audio import find_speech

    if turn in IDLE:
        spotted = wake.find(said)
        if spotted.heard and find_speech(spotted.rest) is None:
            return "closer together", "LaunchRequest"
        said = spotted.rest if spotted.heard else said
    heard = recognizer.transcribe(said, free_text=turn in FREE_TEXT)
    parse = None if heard.rejected else grammar.parse(heard.text)
    return heard.text, parse.intent if parse else None


def heard_right(conversation: str) -> None:
    """These tests check the speaker, not recognition accuracy (tests/test_utterances.py and
    make bench do), so their recorded turns are ones PocketSphinx hears on their own. If a
    change to the grammar makes it mishear one, that is said here, not skipped."""
    wrong = misheard(conversation)
    assert not wrong, (f"PocketSphinx now mishears {len(wrong)} of the "
                       f"{len(MEANT[conversation])} recorded turns on their own "
                       f"({'; '.join(wrong)}): the grammar changed what it hears")


@dataclass(frozen=True)
class Moved:
    """`turn 1 | during the pause | heard: next | moved on after 2.1 s`"""

    heard: str
    did: str  # "moved on" or "stopped"
    after_s: float


@dataclass(frozen=True)
class Line:
    turn: int
    heard: str
    request: str
    slots: dict[str, str]
    wav: Path | None
    seconds: float | None
    moves: list[Moved] = field(default_factory=list)  # requests heard during its pauses


def parse_moved(text: str) -> Moved:
    _head, _during, heard, did = (part.strip() for part in text.split(" | "))
    action, after = did.rsplit(" after ", 1)
    return Moved(heard.removeprefix("heard: "), action, float(after.removesuffix(" s")))


def parse_line(text: str) -> Line:
    """`turn 1 (01.wav) | heard: ... | QuestionIntent category=fun | wrote P 9.81 s | 85 ms`"""
    head, heard, did, said, _ms = (part.strip() for part in text.split(" | "))
    request, *slots = shlex.split(did)
    wav = seconds = None
    if said.startswith("wrote "):
        path, number, _unit = said.removeprefix("wrote ").rsplit(" ", 2)
        wav, seconds = Path(path), float(number)
    return Line(int(head.split()[1]), heard.removeprefix("heard: "), request,
                dict(slot.split("=", 1) for slot in slots), wav, seconds)


def speaker(tmp_path: Path, conversation: str, *args: str) -> list[Line]:
    files = sorted(str(p) for p in (CONVERSATIONS / conversation).glob("*.wav"))
    env = {k: v for k, v in os.environ.items()
           if k not in {"CLOSER_DATABASE_URL", "CLOSER_HOUSEHOLD_ID", "CLOSER_VOSK_MODEL"}}
    env["CLOSER_DB"] = str(tmp_path / "closer.sqlite3")
    done = subprocess.run(
        [CLOSER, "speaker", "--engine", "pocketsphinx", "--wav", *files,
         "--out", str(tmp_path / "out"), *args],
        text=True, capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((CONVERSATIONS / conversation / "manifest.json").read_text())
    for entry in manifest:  # nothing a partner said reaches stderr (the logs)
        assert not entry["text"] or entry["text"] not in done.stderr
    lines: list[Line] = []
    for text in done.stdout.splitlines():
        if " | during the pause | " in text:
            lines[-1].moves.append(parse_moved(text))
        else:
            lines.append(parse_line(text))
    return lines


def samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def silences(audio: np.ndarray, at_least_s: float = 0.0) -> list[tuple[int, int]]:
    """Where the audio is exact digital silence (start, end), at least this long."""
    padded = np.concatenate(([1], audio, [1])) != 0
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(start), int(end)) for start, end in zip(edges[::2], edges[1::2], strict=True)
            if end - start >= at_least_s * RATE]


def longest_silence(audio: np.ndarray) -> int:
    return max(end - start for start, end in silences(audio))


RENDERING_REL = 0.06  # two renderings of the same words by Piper differ by up to this share


def between_pauses(audio: np.ndarray) -> list[float]:
    """Seconds of audio before, between and after the pauses (silences of a second or more)."""
    bounds = [0, *(edge for pause in silences(audio, 1.0) for edge in pause), len(audio)]
    return [(end - start) / RATE for start, end in zip(bounds[::2], bounds[1::2], strict=True)]


def recorded_s(conversation: str, number: int) -> float:
    with wave.open(str(CONVERSATIONS / conversation / f"{number:02d}.wav")) as wav:
        return wav.getnframes() / wav.getframerate()


def query(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "closer.sqlite3") as db:
        return db.execute(sql).fetchall()


def test_no_microphone_is_one_clear_line(tmp_path: Path) -> None:
    import sounddevice as sd

    try:
        sd.check_input_settings(samplerate=16000, channels=1, dtype="int16")
        pytest.skip("this machine has a microphone")
    except sd.PortAudioError:
        pass
    done = subprocess.run([CLOSER, "speaker"], text=True, capture_output=True, timeout=60,
                          env={**os.environ, "CLOSER_DB": str(tmp_path / "db")})
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no microphone" in done.stderr and "--wav" in done.stderr


class RecordedRoom:
    """A stand-in for the sounddevice module: its input stream plays a recording in real
    block sizes (no sound card here). Everything after capture is the real code."""

    PortAudioError = RuntimeError

    def __init__(self, pcm: bytes) -> None:
        self.pcm, self.at, self.opened = pcm, 0, 0

    def check_input_settings(self, **settings: object) -> None:
        assert settings == {"samplerate": 16000, "channels": 1, "dtype": "int16"}

    def RawInputStream(self, **settings: object) -> RecordedRoom:  # noqa: N802 - its API
        self.opened += 1
        return self

    def __enter__(self) -> RecordedRoom:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def read(self, frames: int) -> tuple[bytes, bool]:
        chunk = self.pcm[self.at:self.at + 2 * frames]
        self.at += 2 * frames
        return chunk + bytes(2 * frames - len(chunk)), False


def test_microphone_cuts_each_utterance_out_of_the_stream() -> None:
    from speech.audio import find_speech, read_wav
    from speech.speaker import Microphone

    said = read_wav(CONVERSATIONS / "dinner" / "01.wav")
    quiet = read_wav(CONVERSATIONS / "no_answer" / "02.wav")  # 4 s of room noise
    room = RecordedRoom(quiet * 5 + said + quiet + said + quiet * 3)
    microphone = Microphone(room)
    first = microphone.listen(None)  # idle: waits through 20 s of room noise
    assert first is not None and room.at > 20 * 32000
    heard = find_speech(first)
    spoken = find_speech(said)
    assert heard is not None and spoken is not None
    length = (heard.end_ms - heard.start_ms, spoken.end_ms - spoken.start_ms)
    assert abs(length[0] - length[1]) <= 60  # the whole utterance, nothing clipped
    assert heard.start_ms >= 150  # with a little room before it
    heard_live: list[bytes] = []
    second = microphone.listen(8.0, sink=heard_live.append)  # the second one, after 4 s quiet
    assert second is not None and len(heard_live) > 10  # fed frame by frame as it came
    live = b"".join(heard_live)
    assert live[:len(second)] == second  # the recognizer heard what was cut out, and then
    assert len(live) - len(second) < 1.2 * 32000  # only the silence that ended the turn
    assert microphone.listen(8.0) is None  # then nobody speaks for 8 s
    assert room.opened == 3  # the stream is open only while listening


def test_wake_phrase_is_spotted_and_cut_off() -> None:
    from speech.audio import find_speech, read_wav
    from speech.wake import WakePhrase

    wake = WakePhrase()
    said = read_wav(CONVERSATIONS / "dinner" / "01.wav")  # "closer together, give us a ..."
    found = wake.find(said)
    assert found.heard
    rest = find_speech(found.rest)
    assert rest is not None and 800 < rest.end_ms - rest.start_ms < 2000  # "give us a question"
    for other in ("dinner/02", "round/04", "not_for_me/01", "no_answer/02"):
        assert not wake.find(read_wav(CONVERSATIONS / f"{other}.wav")).heard, other
    # Fed as captured, it knows before the command is over (the command can stream on).
    spotting = wake.start()
    fed = 0
    for start in range(0, len(said), 960):
        spotting.feed(said[start:start + 960])
        fed += 960
        if spotting.heard:
            break
    assert spotting.heard and fed < len(said) - 32000  # a second or more still to come
    rest = spotting.finish().rest
    assert said[:fed].endswith(rest)
    cut_live, cut_whole = fed - len(rest), len(said) - len(found.rest)
    assert abs(cut_live - cut_whole) < 0.3 * 32000  # about where the whole-utterance cut is


def test_dinner_card_then_next(tmp_path: Path) -> None:
    heard_right("dinner")
    card, following, again = speaker(tmp_path, "dinner")
    assert card.heard.startswith("closer together, ")
    assert (card.request, following.request, again.request) == (
        "QuestionIntent", "AMAZON.NextIntent", "AMAZON.RepeatIntent")
    assert len(query(tmp_path, "SELECT card_id FROM seen_cards")) == 2  # two different cards
    for line in (card, following, again):
        assert line.wav is not None and line.wav.exists() and line.wav.name == f"0{line.turn}.wav"
        assert line.seconds == pytest.approx(len(samples(line.wav)) / RATE, abs=0.01)
        assert line.seconds > 3
    assert 2 < again.seconds < following.seconds + 1  # "Again:" and the same card


def test_full_appreciation_round(tmp_path: Path) -> None:
    heard_right("round")
    lines = speaker(tmp_path, "round")
    assert [line.request for line in lines] == [
        "AppreciationRoundIntent", "SetNamesIntent", "AMAZON.YesIntent",
        "ShareAppreciationIntent", "ShareAppreciationIntent"]
    assert lines[1].slots == {"firstName": "john", "secondName": "mary"}
    assert "flowers" in lines[3].heard and "mother" in lines[4].heard  # free-text turns
    assert all(line.wav is not None and line.seconds for line in lines)
    # On disk, names and appreciations are sealed; with the speaker's key file they read back.
    raw = query(tmp_path, "SELECT giver, receiver, text FROM appreciations")
    assert all(value.startswith("c1.") for row in raw for value in row)
    key = load_or_create_key_file(tmp_path / "closer.key")
    store = SQLiteStore(tmp_path / "closer.sqlite3", cipher=Cipher(key))
    try:
        household = store.load(store.local_household_id())
        since = datetime(2000, 1, 1, tzinfo=UTC)
        journal = list(reversed(store.appreciations_since(household.household_id, since)))
    finally:
        store.close()
    assert [(a.giver, a.receiver) for a in journal] == [("John", "Mary"), ("Mary", "John")]
    assert [a.text for a in journal] == [lines[3].slots["appreciation"],
                                         lines[4].slots["appreciation"]]
    assert household.names == ("John", "Mary") and household.round_state is None  # goodnight


def test_hug_wav_lasts_the_asked_time(tmp_path: Path) -> None:
    heard_right("hug")
    (hug,) = speaker(tmp_path, "hug")
    assert (hug.request, hug.slots) == ("HugIntent", {"duration": "PT20S"})
    assert hug.wav is not None and hug.seconds is not None
    audio = samples(hug.wav)
    assert longest_silence(audio) == pytest.approx(20 * RATE, abs=5)  # the hug, to the sample
    assert hug.seconds > 20 + 5  # plus the words in, the breath and the words out


def test_reprompt_then_the_session_ends(tmp_path: Path) -> None:
    heard_right("no_answer")
    card, reprompt, ended = speaker(tmp_path, "no_answer")
    assert card.request == "QuestionIntent"
    assert (reprompt.heard, reprompt.request) == ("(silence)", "reprompt")
    assert reprompt.wav is not None and 2 < (reprompt.seconds or 0) < card.seconds
    assert (ended.heard, ended.request, ended.wav) == ("(silence)", "SessionEndedRequest", None)


def test_idle_speaker_needs_the_wake_phrase(tmp_path: Path) -> None:
    heard_right("not_for_me")
    timer, hello, stop = speaker(tmp_path, "not_for_me")
    assert (timer.request, timer.wav) == ("ignored", None)  # not addressed to the speaker
    assert hello.request == "LaunchRequest" and hello.wav is not None
    assert stop.request == "AMAZON.StopIntent"
    assert query(tmp_path, "SELECT visits FROM households") == [(1,)]


def test_through_a_webhook(tmp_path: Path, unverified_server: tuple[str, Path]) -> None:
    heard_right("dinner")
    url, server_db = unverified_server
    lines = speaker(tmp_path, "dinner", "--endpoint", url)
    assert [line.request for line in lines] == [
        "QuestionIntent", "AMAZON.NextIntent", "AMAZON.RepeatIntent"]
    with sqlite3.connect(server_db) as db:  # the server dealt the cards
        assert db.execute("SELECT COUNT(*) FROM seen_cards").fetchone() == (2,)
    assert not (tmp_path / "closer.sqlite3").exists()  # the speaker opened no store


# -- moving on during a long pause ------------------------------------------------------------

CHECKIN_PAUSES, CHECKIN_PAUSE_S = 6, 20


@pytest.fixture(scope="module")
def whole_checkin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Line, np.ndarray]:
    """The check-in with its pauses sat out in full: the couple only talk to each other
    during the first one ("my rose was lunch with my sister")."""
    heard_right("checkin_talk")
    lines = speaker(tmp_path_factory.mktemp("talk"), "checkin_talk")
    assert len(lines) == 1, lines  # the talk was not taken as a turn of its own either
    assert lines[0].wav is not None
    return lines[0], samples(lines[0].wav)


def test_talking_during_a_pause_changes_nothing(whole_checkin: tuple[Line, np.ndarray]) -> None:
    checkin, audio = whole_checkin
    assert (checkin.request, checkin.moves) == ("CheckInIntent", [])
    pauses = silences(audio, 1.0)
    assert len(pauses) == CHECKIN_PAUSES
    for start, end in pauses:  # every pause whole, to the sample (the words either side
        # may begin or end on a few exact zeros of their own: up to 10 ms more)
        assert -30 <= end - start - CHECKIN_PAUSE_S * RATE <= RATE // 100
    assert checkin.seconds is not None and checkin.seconds > CHECKIN_PAUSES * CHECKIN_PAUSE_S


def test_next_moves_the_checkin_on_at_each_pause(
        tmp_path: Path, whole_checkin: tuple[Line, np.ndarray]) -> None:
    heard_right("checkin_next")
    (checkin,) = speaker(tmp_path, "checkin_next")
    assert checkin.request == "CheckInIntent" and checkin.wav is not None
    assert [(move.heard, move.did) for move in checkin.moves] == [
        ("next", "moved on"), ("move on", "moved on"), ("i'm done", "moved on"),
        ("next one", "moved on"), ("skip", "moved on"), ("next please", "moved on")]
    # Each pause lasted as long as its recorded request, and no longer.
    recorded = [recorded_s("checkin_next", number) for number in range(2, 8)]
    assert [move.after_s for move in checkin.moves] == pytest.approx(recorded, abs=0.06)
    audio = samples(checkin.wav)
    pauses = silences(audio, 1.0)
    assert len(pauses) == CHECKIN_PAUSES
    for (start, end), lasted in zip(pauses, recorded, strict=True):
        assert abs((end - start) / RATE - lasted) < 0.2
    assert longest_silence(audio) < 3 * RATE
    # Everything around the pauses was said, as in the whole check-in, through to its
    # closing words. Piper's timing varies from one rendering to the next (a sentence of
    # 6.6 s: standard deviation 1.1%, range 3.7% over 10 renderings); a sentence left out
    # would cost 1.5 s or more.
    whole = between_pauses(whole_checkin[1])
    assert between_pauses(audio) == pytest.approx(whole, rel=RENDERING_REL, abs=0.3)
    assert min(whole) > 1.5
    # Far shorter than sitting out all six pauses (about 148 s).
    assert checkin.seconds is not None and checkin.seconds < 60
    assert len(whole_checkin[1]) / RATE > CHECKIN_PAUSES * CHECKIN_PAUSE_S + 20


def test_stop_ends_the_checkin_in_its_pause(
        tmp_path: Path, whole_checkin: tuple[Line, np.ndarray]) -> None:
    heard_right("checkin_stop")
    lines = speaker(tmp_path, "checkin_stop")
    assert len(lines) == 1  # the stop was heard in the pause, not as a turn of its own
    (checkin,) = lines
    assert [(move.heard, move.did) for move in checkin.moves] == [
        ("next", "moved on"), ("stop", "stopped")]
    assert checkin.wav is not None
    audio = samples(checkin.wav)
    said = between_pauses(audio)
    assert said[:2] == pytest.approx(between_pauses(whole_checkin[1])[:2], rel=RENDERING_REL,
                                     abs=0.3)
    assert said[2:] == [0.0]  # nothing after the stop
    assert (len(audio) - silences(audio, 1.0)[-1][0]) / RATE == pytest.approx(
        recorded_s("checkin_stop", 3), abs=0.06)


def test_a_pause_takes_only_a_short_clear_request() -> None:
    from speech.grammar import default_grammar
    from speech.speaker import PauseListener
    from speech.stt.base import Transcript

    listener = PauseListener(ears=None, grammar=default_grammar(), source=None)  # type: ignore[arg-type]

    def request(text: str, rejected: bool = False) -> bool | None:
        return listener._request(Transcript(text, 0.9, rejected))

    for moving_on in ("next", "skip", "move on", "go on", "next one", "pass", "we're done",
                      "i'm done", "that's it", "okay next"):
        assert request(moving_on) is False, moving_on
    for stopping in ("stop", "that's enough", "cancel", "never mind", "stop please"):
        assert request(stopping) is True, stopping
    for talk in ("next", "stop"):  # the recognizer itself was not sure
        assert request(talk, rejected=True) is None
    for talk in ("my rose was lunch with my sister", "i think we should move on",
                 "okay let's move on now", "nest", "stopped", "don't", "give us a question",
                 "next time", "a hug", ""):
        assert request(talk) is None, talk


class LivingRoom:
    """A stand-in for the sounddevice module, both ways (no sound card here): its output
    stream records what is played, its input stream plays a recording of the room, and both
    log when they open and close. Everything around it is the real code."""

    PortAudioError = RuntimeError

    def __init__(self, pcm: bytes) -> None:
        self.pcm, self.at = pcm, 0
        self.log: list[str] = []
        self.played: list[np.ndarray] = []
        self._side = ""

    def check_input_settings(self, **settings: object) -> None:
        assert settings == {"samplerate": 16000, "channels": 1, "dtype": "int16"}

    def check_output_settings(self, **settings: object) -> None:
        assert settings == {"samplerate": RATE, "channels": 1, "dtype": "int16"}

    def RawInputStream(self, **settings: object) -> LivingRoom:  # noqa: N802 - its API
        self._side = "microphone"
        return self

    def OutputStream(self, **settings: object) -> LivingRoom:  # noqa: N802 - its API
        self._side = "speaker"
        return self

    def __enter__(self) -> LivingRoom:
        self.log.append(f"{self._side} on")
        return self

    def __exit__(self, *exc: object) -> None:
        self.log.append(f"{self._side} off")

    def write(self, data: np.ndarray) -> None:
        assert self.log[-1] in ("speaker on", "plays"), self.log[-1]
        self.log.append("plays")
        self.played.append(data.ravel().copy())

    def read(self, frames: int) -> tuple[bytes, bool]:
        assert self.log[-1] in ("microphone on", "listens"), self.log[-1]
        if self.log[-1] != "listens":
            self.log.append("listens")
        chunk = self.pcm[self.at:self.at + 2 * frames]
        self.at += 2 * frames
        return chunk + bytes(2 * frames - len(chunk)), False


def test_live_playback_is_silent_while_it_listens_through_a_pause() -> None:
    from skill import ssml
    from speech.audio import read_wav
    from speech.grammar import default_grammar
    from speech.speaker import Ears, Microphone, Mouth, PauseListener
    from speech.stt import open_recognizer
    from speech.tts import open_voice

    quiet = read_wav(CONVERSATIONS / "no_answer" / "02.wav")  # 4 s of room noise
    room = LivingRoom(quiet + read_wav(CONVERSATIONS / "checkin_next" / "02.wav") + quiet * 6)
    grammar = default_grammar()
    ears = Ears(open_recognizer("pocketsphinx", grammar))
    microphone = Microphone(room)
    mouth = Mouth(open_voice("pyttsx3")[0], None, PauseListener(ears, grammar, microphone),
                  sounddevice=room)
    answer = ssml.speak(f"One breath. {ssml.pause(1)} Your rose. {ssml.pause(20)} Your thorn. "
                        f"{ssml.pause(20)} Thank you both.")
    spoken = mouth.speak(answer, 1)
    # Speaking and listening take turns: the microphone opens only once the words before a
    # long pause have been played out, and nothing plays while it listens.
    runs = [entry for entry in room.log if entry not in ("plays", "listens")]
    assert runs == ["speaker on", "speaker off", "microphone on", "microphone off",
                    "speaker on", "speaker off", "microphone on", "microphone off",
                    "speaker on", "speaker off"]
    (move,) = spoken.moves
    assert (move.heard, move.stops) == ("next", False)
    assert 4.5 < move.after_s < 6.5  # 4 s of room, "next", and the silence that ends it
    assert not spoken.stopped
    # The second pause ran its 20 s with nothing heard; the 1 s breath was played, not heard.
    assert room.at == pytest.approx(len(quiet) + len(read_wav(
        CONVERSATIONS / "checkin_next" / "02.wav")) + 20 * 32000, abs=0.7 * 32000)
    played = np.concatenate(room.played)
    assert longest_silence(played) == pytest.approx(RATE, abs=5)
    assert spoken.said.startswith("spoke ")
