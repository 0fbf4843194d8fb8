"""Text to speech for the local speaker: the skill's SSML spoken by pyttsx3 (espeak-ng).

Text is spoken; ``<break>`` becomes real, sample-exact silence (a 20-second hug holds 20
seconds); ``<audio>`` (the skill's Alexa soundbank bell) plays the bundled chime; other
tags (prosody, emphasis, say-as, p, s, amazon:*) speak their text. One response becomes
one 22.05 kHz mono WAV with the pauses in it.
"""

from __future__ import annotations

import atexit
import ctypes
import html
import re
import shutil
import sys
import tempfile
import threading
import wave
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

RATE = 22050  # what pyttsx3's espeak-ng driver writes; every part is brought to this rate
CHIME_PATH = Path(__file__).with_name("data") / "chime.wav"
SYNTH_TIMEOUT_S = 30.0

# Breaks given by strength instead of time (Alexa: weak and medium are a comma's pause,
# strong a sentence's, x-strong a paragraph's).
_STRENGTH_S = {"none": 0.0, "x-weak": 0.0, "weak": 0.35, "medium": 0.35, "strong": 0.75,
               "x-strong": 1.0}
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)
_PREFIXED_TAG = re.compile(r"<(/?)([A-Za-z_][\w.-]*):")
_TAG = re.compile(r"<[^>]*>")
_SPOKEN = re.compile(r"\w")


class SpeechUnavailable(RuntimeError):
    """pyttsx3 could not speak (no espeak-ng, or synthesis never finished)."""


class NoSoundDevice(RuntimeError):
    """There is no sound card to play through."""


@dataclass(frozen=True)
class Speech:
    text: str


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Chime:
    src: str


Part = Speech | Pause | Chime


# -- SSML -------------------------------------------------------------------------------


def parse_ssml(ssml: str) -> list[Part]:
    """What a response says, in order: text to speak, pauses (merged) and chimes."""
    source = ssml.strip()
    if not source.startswith("<speak"):
        source = f"<speak>{source}</speak>"
    try:
        root = ET.fromstring(_PREFIXED_TAG.sub(r"<\1\2-", source))
    except ET.ParseError:
        # Not well-formed (e.g. an HTML entity): speak the text, drop the markup.
        return _merge([Speech(html.unescape(_TAG.sub(" ", source)))])
    parts: list[Part] = []
    _walk(root, parts)
    return _merge(parts)


def readable(ssml: str) -> str:
    """The response as text for a screen: pauses as "[20 s pause]", the end cue as "[chime]"."""
    shown = []
    for part in parse_ssml(ssml):
        if isinstance(part, Speech):
            shown.append(part.text)
        elif isinstance(part, Pause):
            shown.append(f"[{part.seconds:g} s pause]")
        else:
            shown.append("[chime]")
    return " ".join(shown)


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _walk(node: ET.Element, parts: list[Part]) -> None:
    tag = _local_name(node.tag)
    if tag == "break":
        parts.append(Pause(_break_seconds(node)))
    elif tag == "audio":  # its content is fallback text for when the sound cannot play
        parts.append(Chime(node.get("src", "")))
    elif tag == "sub":
        parts.append(Speech(node.get("alias") or "".join(node.itertext())))
    elif tag == "say-as":
        parts.append(Speech(_say_as(node.get("interpret-as", ""), "".join(node.itertext()))))
    else:
        if node.text:
            parts.append(Speech(node.text))
        for child in node:
            _walk(child, parts)
        if tag in {"p", "s"}:
            _end_sentence(parts)
    if node.tail:
        parts.append(Speech(node.tail))


def _break_seconds(node: ET.Element) -> float:
    match = _TIME.match(node.get("time", ""))
    if match:
        amount = float(match.group(1))
        return amount / 1000 if match.group(2).lower() == "ms" else amount
    return _STRENGTH_S.get(node.get("strength", "medium").lower(), _STRENGTH_S["medium"])


def _say_as(kind: str, text: str) -> str:
    if kind.lower() in {"spell-out", "characters"}:
        return " ".join(ch for ch in text if not ch.isspace())
    if kind.lower() in {"digits", "telephone"}:
        return " ".join(ch for ch in text if ch.isalnum())
    return text


def _end_sentence(parts: list[Part]) -> None:
    if parts and isinstance(parts[-1], Speech) and not parts[-1].text.rstrip().endswith(
        (".", "!", "?")
    ):
        parts[-1] = Speech(parts[-1].text.rstrip() + ".")


def _merge(parts: list[Part]) -> list[Part]:
    """Join neighbouring text and neighbouring pauses; drop text with nothing to say."""
    merged: list[Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if isinstance(part, Speech) and isinstance(last, Speech):
            merged[-1] = Speech(f"{last.text} {part.text}")
        elif isinstance(part, Pause) and isinstance(last, Pause):
            merged[-1] = Pause(last.seconds + part.seconds)
        else:
            merged.append(part)
    out: list[Part] = []
    for part in merged:
        if isinstance(part, Speech):
            text = " ".join(part.text.split())
            if _SPOKEN.search(text):
                out.append(Speech(text))
        elif not isinstance(part, Pause) or part.seconds > 0:
            out.append(part)
    return out


# -- audio ------------------------------------------------------------------------------


@dataclass
class Rendering:
    """One response as audio: int16 samples at RATE, and where each part lies in them."""

    samples: np.ndarray
    spans: list[tuple[Part, int, int]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


def read_wav(path: Path) -> np.ndarray:
    """Mono int16 samples of a 16-bit WAV, resampled to RATE if needed."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    if rate != RATE and len(samples):
        positions = np.arange(round(len(samples) * RATE / rate)) * (rate / RATE)
        samples = np.interp(positions, np.arange(len(samples)), samples).astype("<i2")
    return samples


def write_wav(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())


class Voice:
    """Speaks SSML through pyttsx3's espeak-ng, one engine reused for every response.
    One thread at a time."""

    def __init__(self, voice: str = "en-us", rate: int = 165) -> None:
        engine = _engine()
        if sys.platform.startswith("linux"):
            self._speak: Callable[[str], np.ndarray] = partial(_espeak(), voice=voice, rate=rate)
        else:
            self._speak = _FileSynth(engine, voice, rate)
        self._chime = read_wav(CHIME_PATH)

    def synthesize(self, ssml: str) -> Rendering:
        pieces: list[np.ndarray] = []
        spans: list[tuple[Part, int, int]] = []
        at = 0
        parts = parse_ssml(ssml)
        for part, following in zip(parts, [*parts[1:], None], strict=False):
            audio = self._audio(part)
            if isinstance(part, Speech) and following is not None:
                # espeak-ng ends every utterance with ~0.3 s of digital silence; before a
                # break or the chime the break alone sets the silence, so a 20-second hug
                # is 20 seconds from the last word to the bell.
                audio = np.trim_zeros(audio, "b")
            pieces.append(audio)
            spans.append((part, at, at + len(audio)))
            at += len(audio)
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype="<i2")
        return Rendering(samples.astype("<i2"), spans)

    def render(self, ssml: str, path: Path) -> float:
        """Write the response as one WAV (pauses and chime in it); returns its seconds."""
        rendering = self.synthesize(ssml)
        write_wav(Path(path), rendering.samples)
        return rendering.seconds

    def say(self, ssml: str) -> None:
        """Play the response through the sound card (blocks until it has been heard)."""
        play(self.synthesize(ssml).samples)

    def _audio(self, part: Part) -> np.ndarray:
        if isinstance(part, Pause):
            return np.zeros(round(part.seconds * RATE), dtype="<i2")
        if isinstance(part, Chime):
            return self._chime
        return self._speak(part.text)


class _EspeakSynth:
    """One utterance at a time through the espeak-ng binding of pyttsx3's Linux driver.

    pyttsx3 2.99's own loop (save_to_file + runAndWait) races with espeak-ng's synthesis
    thread: runAndWait can return before the audio is complete, the first utterance after
    a pause can ignore the rate just set, and the next one can come out empty (all three
    reproduced here). So the samples are collected by our callback, each utterance tagged
    and awaited to its end (MSG_TERMINATED) before the next starts.
    """

    def __init__(self) -> None:
        from pyttsx3.drivers import _espeak

        self._lib = _espeak
        self._chunks: list[bytes] = []
        self._done = threading.Event()
        self._tag = 0
        self._settings: tuple[str, int] | None = None
        _espeak.SetSynthCallback(self._on_synth)  # the driver's callback is not used

    def __call__(self, text: str, *, voice: str, rate: int) -> np.ndarray:
        lib = self._lib
        if self._settings != (voice, rate):
            lib.SetVoiceByName(voice.encode())
            lib.SetParameter(lib.RATE, rate, 0)
            self._settings = (voice, rate)
        self._tag += 1
        self._chunks = []
        self._done.clear()
        lib.Synth(text, flags=lib.ENDPAUSE | lib.CHARS_UTF8, user_data=self._tag)
        finished = self._done.wait(SYNTH_TIMEOUT_S)
        lib.Synchronize()
        if not finished:
            raise SpeechUnavailable("espeak-ng did not finish an utterance")
        return np.frombuffer(b"".join(self._chunks), dtype="<i2").copy()

    def _on_synth(self, wav: Any, count: int, events: Any) -> int:
        if events[0].user_data != self._tag:  # a stale callback of an earlier utterance
            return 0
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != self._lib.EVENT_LIST_TERMINATED:
            if events[i].type == self._lib.EVENT_MSG_TERMINATED:
                self._done.set()
            i += 1
        return 0


class _FileSynth:
    """pyttsx3's portable path (macOS, Windows): save_to_file, then read the WAV back."""

    def __init__(self, engine: Any, voice: str, rate: int) -> None:
        self._engine = engine
        engine.setProperty("voice", voice)
        engine.setProperty("rate", rate)
        self._dir = Path(tempfile.mkdtemp(prefix="closer-tts-"))
        weakref.finalize(self, shutil.rmtree, self._dir, True)

    def __call__(self, text: str) -> np.ndarray:
        path = self._dir / "utterance.wav"
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        if not path.exists():
            raise SpeechUnavailable("the speech engine did not finish an utterance")
        return read_wav(path)


_ENGINE = None
_ESPEAK: _EspeakSynth | None = None


def _espeak() -> _EspeakSynth:
    """One synthesizer per process: espeak-ng has a single callback."""
    global _ESPEAK
    if _ESPEAK is None:
        _ESPEAK = _EspeakSynth()
    return _ESPEAK


def _engine() -> Any:
    """The process's pyttsx3 engine (espeak-ng initializes once per process)."""
    global _ENGINE
    if _ENGINE is None:
        try:
            import pyttsx3

            _ENGINE = pyttsx3.init()
        except (ImportError, OSError, RuntimeError) as error:
            raise SpeechUnavailable(
                f"text to speech is unavailable ({error}); install espeak-ng"
            ) from error
        atexit.register(_drop_engine)
    return _ENGINE


def _drop_engine() -> None:
    """Let the engine go while Python is still whole: left to interpreter shutdown, its
    driver's cleanup runs after the modules it uses are gone and prints a traceback."""
    global _ENGINE
    _ENGINE = None


def check_output() -> None:
    """NoSoundDevice unless there is a sound card to play through."""
    play(np.zeros(0, dtype="<i2"), check_only=True)


def play(samples: np.ndarray, *, check_only: bool = False) -> None:
    """Play int16 samples at RATE; NoSoundDevice when there is no output to play through."""
    try:
        import sounddevice as sd
    except OSError as error:  # PortAudio itself is missing
        raise NoSoundDevice(f"no sound output: PortAudio is unavailable ({error})") from error
    try:
        sd.check_output_settings(samplerate=RATE, channels=1, dtype="int16")
        if not check_only:
            sd.play(samples, RATE, blocking=True)
    except sd.PortAudioError as error:
        raise NoSoundDevice(
            "no sound output device found; use --out DIR to write what the speaker says as "
            "WAV files"
        ) from error
