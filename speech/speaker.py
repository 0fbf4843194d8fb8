"""`closer speaker`: microphone (or recorded turns) -> end-pointing -> wake phrase ->
recognizer -> the virtual Alexa device -> the skill -> speech.

Idle, the speaker listens for utterances that contain the wake phrase "closer together"
(speech.wake); once a session is open it listens up to SESSION_LISTEN_S for an answer, with
no wake phrase, speaks the reprompt once if nobody answers, then ends the session.
``--wav FILE...`` plays recorded turns through the same loop (each file one turn,
end-pointed like live audio); ``--out DIR`` writes what the speaker says as numbered WAV
files instead of playing them and prints one line per turn.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from speech.audio import SAMPLE_RATE, SAMPLE_WIDTH, EndPointer, Utterance, find_speech, read_wav
from speech.device import Device, Reply
from speech.tts import Timing, Voice, joined, play_stream, write_wav
from speech.wake import PHRASE, WakePhrase

SESSION_LISTEN_S = 8.0  # Alexa keeps listening about eight seconds after a question
PAD_MS = 200  # audio kept either side of the voiced part, so no word loses its edges
FRAME_MS = 30
MIN_COMMAND_MS = 300  # shorter voiced audio after the wake phrase is not a command
# Silence that ends a turn: people pause longer mid-sentence in a free answer.
END_SILENCE_MS = {False: 600, True: 1000}
_BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH // 1000


class NoMicrophone(RuntimeError):
    pass


Sink = Callable[[bytes], None]


class Source(Protocol):
    def listen(self, timeout_s: float | None, *, free_text: bool = False,
               sink: Sink | None = None) -> bytes | None:
        """The next end-pointed utterance; None when nobody spoke in time; EOFError at the end.
        ``sink`` gets the utterance's audio as it is captured."""


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


class Microphone:
    """16 kHz mono capture through PortAudio; the stream is open only while listening, so
    the speaker never hears itself."""

    KEEP_FRAMES = 1000 // FRAME_MS  # audio kept from before speech started

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
        kept: list[bytes] = []
        dropped, fed = 0, False
        frame = SAMPLE_RATE * FRAME_MS // 1000
        with self._sd.RawInputStream(samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                                     blocksize=frame) as stream:
            while True:
                data, _overflowed = stream.read(frame)
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
            return None
        return cut(b"".join(kept), ending.utterance, dropped * FRAME_MS)

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


class Mouth:
    """Speaks through the sound card, starting on the answer's first sentence, or writes turn
    N's speech to DIR/NN.wav."""

    def __init__(self, voice: Voice, out_dir: Path | None) -> None:
        self.voice, self.out_dir = voice, out_dir

    def speak(self, ssml: str, turn: int) -> tuple[str, float]:
        """What was done with the speech, and when its first audio was ready (perf_counter)."""
        if not ssml:
            return "says nothing", time.perf_counter()
        timing = Timing()
        chunks = timing.watch(chunk.samples for chunk in self.voice.render(ssml))
        if self.out_dir is None:
            play_stream(chunks)
            said = f"spoke {timing.seconds:.2f} s"
        else:
            path = self.out_dir / f"{turn:02d}.wav"
            write_wav(path, joined(chunks))
            said = f"wrote {path} {timing.seconds:.2f} s"
        return said, timing.first or timing.started


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
        said, ready = mouth.speak(exchange.reply.ssml if exchange.reply else "", number)
        print(report.line(number, source, exchange, said, (ready - started) * 1000), flush=True)
    device.end()


def _say_nudges(nudges: Any, mouth: Mouth, number: int) -> int:
    """Each nudge due now, spoken (or written with --out) as a turn of its own."""
    for text in nudges.due():
        number += 1
        said, _ready = mouth.speak(f"<speak>{text}</speak>", number)
        print(f"turn {number} | nudge | {said}", flush=True)
    return number
