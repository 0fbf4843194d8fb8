"""`closer speaker`: microphone (or recorded turns) -> end-pointing -> wake phrase ->
recognizer -> the virtual Alexa device -> the skill -> speech.

Idle, the speaker listens for utterances that contain the wake phrase "closer together"
(speech.wake); once a session is open it listens up to SESSION_LISTEN_S for an answer, with
no wake phrase, speaks the reprompt once if nobody answers, then ends the session.
``--wav FILE...`` plays recorded turns through the same loop (each file one turn,
end-pointed like live audio); ``--out DIR`` writes what the speaker says as numbered WAV
files instead of playing them and prints one line per turn.

Through an answer's long pause (a check-in's 20 seconds, a hug) the speaker is silent and a
PauseListener listens for a short, clear "next" or "stop"; with ``--wav`` the next recorded
turn is what it hears then.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from speech.audio import SAMPLE_RATE, SAMPLE_WIDTH, EndPointer, Utterance, find_speech, read_wav
from speech.device import Device, Reply
from speech.grammar.text import words
from speech.tts import RATE, Chunk, Pause, Timing, Voice, joined, play_stream, write_wav
from speech.wake import PHRASE, WakePhrase

SESSION_LISTEN_S = 8.0  # Alexa keeps listening about eight seconds after a question
PAD_MS = 200  # audio kept either side of the voiced part, so no word loses its edges
FRAME_MS = 30
MIN_COMMAND_MS = 300  # shorter voiced audio after the wake phrase is not a command
# Silence that ends a turn: people pause longer mid-sentence in a free answer.
END_SILENCE_MS = {False: 600, True: 1000}
_BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH // 1000
# The skill's pauses are either a breath (at most 2 s: after a card, "begin whenever you're
# ready") or time for the couple (15 s and more: a check-in's part, a hug, a round's turn,
# listening practice). 8 s lies well between, and leaves time to say "next" and be heard.
LONG_PAUSE_S = 8.0


class NoMicrophone(RuntimeError):
    pass


Sink = Callable[[bytes], None]


class Source(Protocol):
    def listen(self, timeout_s: float | None, *, free_text: bool = False,
               sink: Sink | None = None) -> bytes | None:
        """The next end-pointed utterance; None when nobody spoke in time; EOFError at the end.
        ``sink`` gets the utterance's audio as it is captured."""

    def overhear(self, limit_s: float, *, sink: Sink | None = None) -> tuple[bytes | None, float]:
        """During a pause: the next utterance that ends within ``limit_s`` seconds (None if
        there was none), and how many seconds of the pause that took."""


def cut(pcm: bytes, utterance: Utterance, offset_ms: int = 0) -> bytes:
    start = max(0, utterance.start_ms - PAD_MS - offset_ms) * _BYTES_PER_MS
    end = max(0, utterance.end_ms + PAD_MS - offset_ms) * _BYTES_PER_MS
    return pcm[start:end]


class WavTurns:
    """Recorded turns, one per file, end-pointed like live audio."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.current: Path | None = None

    def listen(self, timeout_s: float | None, *, free_text: bool = False,
               sink: Sink | None = None) -> bytes | None:
        if not self.paths:
            raise EOFError
        self.current = self.paths.pop(0)
        pcm = read_wav(self.current)
        utterance = find_speech(pcm, end_silence_ms=END_SILENCE_MS[free_text])
        if utterance is None:
            return None
        said = cut(pcm, utterance)
        if sink is not None:  # as live: all of it heard before the turn is decided
            sink(said)
        return said

    def overhear(self, limit_s: float, *, sink: Sink | None = None) -> tuple[bytes | None, float]:
        """The next recorded turn, heard during a pause: it takes as long as the recording
        lasts. Nothing more recorded: the pause runs out."""
        if not self.paths:
            return None, limit_s
        pcm = read_wav(self.paths.pop(0))
        lasted = len(pcm) / (_BYTES_PER_MS * 1000)
        utterance = find_speech(pcm, end_silence_ms=END_SILENCE_MS[False])
        if utterance is None or lasted > limit_s:  # silence, or still talking when it ended
            return None, min(lasted, limit_s)
        said = cut(pcm, utterance)
        if sink is not None:
            sink(said)
        return said, lasted


class Microphone:
    """16 kHz mono capture through PortAudio; the stream is open only while listening, so
    the speaker never hears itself."""

    KEEP_FRAMES = 1000 // FRAME_MS  # audio kept from before speech started
    ECHO_MS = 300  # after the speaker falls silent, its words still ring in a room

    def __init__(self, sounddevice: Any = None) -> None:
        """``sounddevice``: the module to capture with (tests give a stand-in)."""
        if sounddevice is None:
            try:
                import sounddevice
            except OSError as error:
                raise NoMicrophone(f"PortAudio is unavailable ({error})") from error
        try:
            sounddevice.check_input_settings(samplerate=SAMPLE_RATE, channels=1, dtype="int16")
        except (sounddevice.PortAudioError, ValueError) as error:
            raise NoMicrophone("no microphone found (PortAudio sees no input device)") from error
        self._sd = sounddevice
        self.current = None

    def listen(self, timeout_s: float | None, *, free_text: bool = False,
               sink: Sink | None = None) -> bytes | None:
        no_speech_ms = None if timeout_s is None else int(timeout_s * 1000)
        ending = EndPointer(no_speech_ms=no_speech_ms, end_silence_ms=END_SILENCE_MS[free_text])
        return self._capture(ending, sink)[0]

    def overhear(self, limit_s: float, *, sink: Sink | None = None) -> tuple[bytes | None, float]:
        """Listens for at most ``limit_s`` (an utterance still going on then is no request).
        Its first ECHO_MS are not heard: the room's echo of the speaker's last words."""
        limit_ms = int(limit_s * 1000)
        ending = EndPointer(no_speech_ms=limit_ms, end_silence_ms=END_SILENCE_MS[False])
        pcm, ms = self._capture(ending, sink, limit_ms=limit_ms, skip_ms=self.ECHO_MS)
        return pcm, ms / 1000

    def _capture(self, ending: EndPointer, sink: Sink | None, *, limit_ms: int | None = None,
                 skip_ms: int = 0) -> tuple[bytes | None, int]:
        """Capture until ``ending`` decides (or ``limit_ms`` has passed): the utterance cut
        out with a little room either side, and the milliseconds listened."""
        kept: list[bytes] = []
        dropped, fed, listened = 0, False, 0
        frame = SAMPLE_RATE * FRAME_MS // 1000
        with self._sd.RawInputStream(samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                                     blocksize=frame) as stream:
            while limit_ms is None or listened < limit_ms:
                data, _overflowed = stream.read(frame)
                listened += FRAME_MS
                if listened <= skip_ms:
                    continue
                kept.append(bytes(data))
                done = ending.feed(kept[-1])
                if ending.start is not None and sink is not None:
                    sink(kept[-1] if fed else self._since_start(kept, ending, dropped))
                    fed = True
                if done:
                    break
                if ending.start is None and len(kept) > self.KEEP_FRAMES:
                    kept.pop(0)
                    dropped += 1
        if ending.utterance is None:
            return None, listened
        return cut(b"".join(kept), ending.utterance, dropped * FRAME_MS), listened

    @staticmethod
    def _since_start(kept: list[bytes], ending: EndPointer, dropped: int) -> bytes:
        """The audio from just before speech started (the VAD decides a little late)."""
        assert ending.start is not None
        start_ms = max(0, ending.start - PAD_MS - dropped * FRAME_MS)
        return b"".join(kept)[start_ms * _BYTES_PER_MS:]


class Ears:
    """The recognizer (per-turn grammar mode) and the wake phrase."""

    def __init__(self, recognizer: Any, wake: WakePhrase | None = None) -> None:
        self.recognizer = recognizer
        self.wake = wake or WakePhrase()


class Hearing:
    """One turn's recognition, fed the audio while it is captured, so that when the speaker
    stops talking only the final decision is left. In a session everything goes to the
    recognizer; an idle speaker first spots the wake phrase, then sends what follows it."""

    def __init__(self, ears: Ears, *, in_session: bool, free_text: bool) -> None:
        self.recognizer, self.free_text = ears.recognizer, free_text
        self.spotting = None if in_session else ears.wake.start()
        self._stream: Any = None

    def feed(self, chunk: bytes) -> None:
        if self.spotting is None:
            self._to_recognizer(chunk)
        elif self._stream is not None:
            self._stream.feed(chunk)
        else:
            self.spotting.feed(chunk)
            if self.spotting.heard:
                self._to_recognizer(self.spotting.rest)

    def transcript(self, pcm: bytes) -> Any:
        if self._stream is not None:
            return self._stream.finish()
        return self.recognizer.transcribe(pcm, free_text=self.free_text)

    def _to_recognizer(self, audio: bytes) -> None:
        if self._stream is None:
            self._stream = self.recognizer.start(free_text=self.free_text)
        self._stream.feed(audio)


@dataclass(frozen=True)
class Exchange:
    """One thing heard and what the speaker did about it."""

    heard: str  # what the recognizer heard; "(silence)" or "(no wake phrase)" otherwise
    reply: Reply | None  # None: not addressed to the speaker


def take_turn(device: Device, pcm: bytes | None, hearing: Hearing) -> Exchange:
    if pcm is None:
        return Exchange("(silence)", device.silence())
    if hearing.spotting is not None:
        return _wake_turn(device, pcm, hearing)
    transcript = hearing.transcript(pcm)
    reply = device.hear(transcript.text, rejected=transcript.rejected)
    return Exchange(transcript.text or "(nothing understood)", reply)


def _wake_turn(device: Device, pcm: bytes, hearing: Hearing) -> Exchange:
    """An idle speaker acts on the wake phrase ("closer together, give us a question") or on
    the skill's name said as to Alexa ("open closer together", "ask closer together to ...")."""
    assert hearing.spotting is not None
    wake = hearing.spotting.finish()
    if wake.heard:
        if not _has_words(wake.rest):
            hearing.transcript(b"")  # close the stream
            return Exchange(PHRASE, device.launch())
        transcript = hearing.transcript(wake.rest)
        reply = device.hear(transcript.text, rejected=transcript.rejected)
        return Exchange(f"{PHRASE}, {transcript.text or '(nothing understood)'}", reply)
    transcript = hearing.transcript(pcm)
    if transcript.rejected or PHRASE not in transcript.text.lower():
        return Exchange("(no wake phrase)", None)
    return Exchange(transcript.text, device.hear(transcript.text))


def _has_words(pcm: bytes) -> bool:
    """Speech after the wake phrase, not just the tail of "together"."""
    found = find_speech(pcm)
    return found is not None and found.end_ms - found.start_ms >= MIN_COMMAND_MS


NEXT, STOP, CANCEL = "AMAZON.NextIntent", "AMAZON.StopIntent", "AMAZON.CancelIntent"
MAX_REQUEST_WORDS = 3
# Stop phrases that, said in a pause, tell that a partner has finished their part ("I'm
# done", "that's it"): the answer moves on rather than ends. "Stop", "that's enough" end it.
_FINISHED = ("done", "finished", "that's it", "that's all")
# Said to each other as often as to the speaker: never a request during a pause.
_BETWEEN_US = frozenset({"don't"})


@dataclass(frozen=True)
class MoveOn:
    """A request heard during a pause."""

    heard: str  # what the recognizer heard ("next", "stop")
    after_s: float  # how far into the pause
    stops: bool  # the answer ends here; otherwise it goes on with its next words


class PauseListener:
    """Listens through an answer's long pause for a short, clear request to move on ("next",
    "skip", "we're done", "move on") or to stop ("stop", "that's enough", "cancel").

    The speaker is silent during a pause, so what it hears is the room, and the pause is for
    the couple to talk to each other: almost everything heard is theirs and is ignored. Only
    an utterance of at most MAX_REQUEST_WORDS words that the recognizer accepts and the
    grammar matches exactly (no near-miss correction) as NextIntent, StopIntent or
    CancelIntent is a request. As in an open session, no wake phrase is needed."""

    def __init__(self, ears: Ears, grammar: Any, source: Source) -> None:
        self.ears, self.grammar, self.source = ears, grammar, source

    def listen(self, seconds: float) -> MoveOn | None:
        """Listen for up to ``seconds``; None: the pause ran its whole length."""
        waited = 0.0
        while waited < seconds:
            hearing = Hearing(self.ears, in_session=True, free_text=False)
            pcm, took = self.source.overhear(seconds - waited, sink=hearing.feed)
            waited += took
            if pcm is None:
                continue
            transcript = hearing.transcript(pcm)
            stops = self._request(transcript)
            if stops is not None:
                return MoveOn(transcript.text, min(waited, seconds), stops)
        return None

    def _request(self, transcript: Any) -> bool | None:
        """True for a stop, False for a move on, None for anything else."""
        said = " ".join(words(transcript.text))
        if (transcript.rejected or not said or said in _BETWEEN_US
                or len(said.split()) > MAX_REQUEST_WORDS):
            return None
        parse = self.grammar.parse(said, cutoff=1.0)
        if parse is None or parse.intent not in (NEXT, STOP, CANCEL):
            return None
        return parse.intent != NEXT and not any(f" {p} " in f" {said} " for p in _FINISHED)


class _Paced:
    """An answer's audio, told apart at its long pauses: ``words()`` streams it up to the
    next one, which it leaves in ``pause`` (None once the answer is over)."""

    def __init__(self, chunks: Iterator[Chunk], long_s: float) -> None:
        self._chunks, self._long_s = chunks, long_s
        self.pause: Pause | None = None

    def words(self) -> Iterator[np.ndarray]:
        self.pause = None
        for chunk in self._chunks:
            if isinstance(chunk.part, Pause) and chunk.part.seconds >= self._long_s:
                self.pause = chunk.part
                return
            yield chunk.samples


@dataclass(frozen=True)
class Spoken:
    """What the Mouth did with an answer."""

    said: str  # "spoke 9.81 s", "wrote DIR/NN.wav 9.81 s" or "says nothing"
    ready: float  # when its first audio was ready (perf_counter)
    moves: tuple[MoveOn, ...] = ()  # requests heard during its long pauses
    stopped: bool = False  # a "stop" ended it


class Mouth:
    """Speaks through the sound card, starting on the answer's first sentence, or writes turn
    N's speech to DIR/NN.wav. With ``pauses``, a long pause is listened through instead of
    played or written whole: "next" cuts it short, "stop" ends the answer there."""

    def __init__(self, voice: Voice, out_dir: Path | None,
                 pauses: PauseListener | None = None, sounddevice: Any = None) -> None:
        """``sounddevice``: the module to play through (tests give a stand-in)."""
        self.voice, self.out_dir, self.pauses = voice, out_dir, pauses
        self._sd = sounddevice

    def speak(self, ssml: str, turn: int) -> Spoken:
        if not ssml:
            return Spoken("says nothing", time.perf_counter())
        timing = Timing()
        written: list[np.ndarray] = []  # with an out_dir, the answer's audio
        moves, listened = self._say_through_pauses(ssml, timing, written)
        seconds = timing.seconds + listened
        if self.out_dir is None:
            done = f"spoke {seconds:.2f} s"
        else:
            path = self.out_dir / f"{turn:02d}.wav"
            write_wav(path, joined(written))
            done = f"wrote {path} {seconds:.2f} s"
        stopped = bool(moves) and moves[-1].stops
        return Spoken(done, timing.first or timing.started, tuple(moves), stopped)

    def _say_through_pauses(self, ssml: str, timing: Timing,
                            written: list[np.ndarray]) -> tuple[list[MoveOn], float]:
        """Say the answer up to each long pause, then listen through the pause; the requests
        heard, and the seconds listened."""
        answer = _Paced(iter(self.voice.render(ssml)),
                        LONG_PAUSE_S if self.pauses else float("inf"))
        moves: list[MoveOn] = []
        listened = 0.0
        while True:
            said = timing.watch(answer.words())
            if self.out_dir is None:
                play_stream(said, self._sd)  # returns once heard: the room is quiet now
            else:
                written.extend(said)
            if answer.pause is None or self.pauses is None:
                return moves, listened
            move = self.pauses.listen(answer.pause.seconds)
            kept = answer.pause.seconds if move is None else move.after_s
            listened += kept
            if self.out_dir is not None:
                written.append(np.zeros(round(kept * RATE), dtype="<i2"))
            if move is not None:
                moves.append(move)
                if move.stops:
                    return moves, listened


def _describe(exchange: Exchange, private: bool) -> str:
    reply = exchange.reply
    if reply is None:
        return "ignored"
    if private:  # slots hold names and appreciations
        return reply.request
    slots = " ".join(f"{name}={shlex.quote(value)}" for name, value in sorted(reply.slots.items()))
    return f"{reply.request} {slots}".strip()


@dataclass(frozen=True)
class Report:
    """What each turn's line shows. Listening live (stdout may be a service's journal) it
    shows neither what was heard nor slot values; with --wav or --out, everything."""

    show_heard: bool
    show_ignored: bool

    def line(self, number: int, source: Any, exchange: Exchange, said: str,
             ready_ms: float) -> str:
        current = getattr(source, "current", None)
        where = f" ({current.name})" if current else ""
        heard = f" | heard: {exchange.heard}" if self.show_heard else ""
        return (f"turn {number}{where}{heard} | {_describe(exchange, not self.show_heard)} | "
                f"{said} | {ready_ms:.0f} ms")

    def pause_line(self, number: int, move: MoveOn) -> str:
        heard = f" | heard: {move.heard}" if self.show_heard else ""
        did = "stopped" if move.stops else "moved on"
        return f"turn {number} | during the pause{heard} | {did} after {move.after_s:.1f} s"


def run(device: Device, ears: Ears, mouth: Mouth, source: Any, report: Report,
        nudges: Any = None) -> None:
    """Listen, answer, repeat. ``nudges`` (closer.schedule.Nudges): an idle speaker listens
    only until the next one is due, and says it between turns, never into a session."""
    number = 0
    while True:
        idle_wait = None
        if nudges is not None and not device.in_session:
            number = _say_nudges(nudges, mouth, number)
            idle_wait = nudges.wait_s()
        hearing = Hearing(ears, in_session=device.in_session, free_text=device.free_text)
        try:
            pcm = source.listen(SESSION_LISTEN_S if device.in_session else idle_wait,
                                free_text=device.free_text, sink=hearing.feed)
        except EOFError:
            break
        if pcm is None and idle_wait is not None and not device.in_session:
            continue  # nobody spoke before a nudge was due: go and see
        number += 1
        started = time.perf_counter()  # the user's audio has ended (and has been heard)
        exchange = take_turn(device, pcm, hearing)
        if exchange.reply is None and not report.show_ignored:
            continue
        spoken = mouth.speak(exchange.reply.ssml if exchange.reply else "", number)
        print(report.line(number, source, exchange, spoken.said, (spoken.ready - started) * 1000),
              flush=True)
        for move in spoken.moves:
            print(report.pause_line(number, move), flush=True)
        if spoken.stopped:
            device.end()  # as a "stop" would: a session still open ends with the answer
    device.end()


def _say_nudges(nudges: Any, mouth: Mouth, number: int) -> int:
    """Each nudge due now, spoken (or written with --out) as a turn of its own."""
    for text in nudges.due():
        number += 1
        spoken = mouth.speak(f"<speak>{text}</speak>", number)
        print(f"turn {number} | nudge | {spoken.said}", flush=True)
    return number
