"""A Voice speaks an answer's SSML through one engine (Piper or pyttsx3), as a stream.

``render(ssml)`` yields the answer's audio in order, a sentence (or a pause, or the chime) at
a time, as each is ready: playback starts on the first sentence and writing a WAV just
concatenates. Pauses are exact digital silence, and a voice's quiet tail after its last word
is left out before a pause or the chime, so a 20-second hug is 20 seconds from the last word
to the chime. Everything is at one rate (RATE), whatever the engine's own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from speech.tts.audio import (
    CHIME_PATH,
    RATE,
    play_stream,
    read_wav,
    resample,
    split_quiet_end,
    write_wav,
)
from speech.tts.ssml import Chime, Part, Pause, Speech, parse_ssml

_NOTHING = np.zeros(0, dtype="<i2")


class Engine(Protocol):
    """A speech synthesizer behind the Voice."""

    name: str  # "piper" or "pyttsx3"
    voice: str  # the engine's voice, e.g. "en_US-joe-medium" or "en-us"
    rate: int  # samples per second of what speak() yields

    def speak(self, text: str, speed: float = 1.0) -> Iterator[np.ndarray]:
        """Mono int16 audio of the text, in pieces (a sentence, or all of it) as each is
        ready; ``speed`` above 1 speaks faster."""
        ...


@dataclass(frozen=True)
class Chunk:
    """A piece of an answer's audio, and which of its parts (by index) it belongs to."""

    index: int
    part: Part
    samples: np.ndarray  # int16 at RATE


@dataclass
class Rendering:
    """One whole answer: int16 samples at RATE, and where each part lies in them."""

    samples: np.ndarray
    spans: list[tuple[Part, int, int]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


@dataclass
class Timing:
    """When an answer's audio became ready, from ``started`` (perf_counter), as it streams
    through ``watch``."""

    started: float = field(default_factory=time.perf_counter)
    first: float | None = None  # the first piece of audio was ready
    done: float | None = None  # all of it was ready
    samples: int = 0

    def watch(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for chunk in chunks:
            if self.first is None:
                self.first = time.perf_counter()
            self.samples += len(chunk)
            yield chunk
        self.done = time.perf_counter()

    @property
    def seconds(self) -> float:
        return self.samples / RATE

    def ms(self, at: float | None) -> float | None:
        """Milliseconds from the start to ``at`` (None if it never came)."""
        return None if at is None else round((at - self.started) * 1000, 1)


def joined(chunks: Iterable[np.ndarray]) -> np.ndarray:
    """The chunks as one int16 array (empty when there are none)."""
    pieces = list(chunks)
    return np.concatenate(pieces).astype("<i2") if pieces else _NOTHING


class Voice:
    """Speaks SSML through an engine; loads nothing per answer. One thread at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._chime = read_wav(CHIME_PATH)

    @property
    def name(self) -> str:
        return self.engine.voice

    def render(self, ssml: str) -> Iterator[Chunk]:
        """The answer's audio in order, each piece as soon as it is ready."""
        held, held_at = _NOTHING, None  # the quiet after the last word said so far
        for index, part in enumerate(parse_ssml(ssml)):
            if isinstance(part, Speech):
                for audio in self.engine.speak(part.text, part.speed):
                    words, quiet = split_quiet_end(resample(audio, self.engine.rate))
                    if len(held) or len(words):
                        yield Chunk(index, part, np.concatenate((held, words)))
                    held, held_at = quiet, (index, part)
            else:
                # A pause or the chime sets the silence after the words on its own.
                held, held_at = _NOTHING, None
                yield Chunk(index, part, self._audio(part))
        if held_at is not None and len(held):
            yield Chunk(*held_at, held)

    def synthesize(self, ssml: str) -> Rendering:
        """The whole answer at once."""
        pieces: list[np.ndarray] = []
        spans: list[tuple[Part, int, int]] = []
        at, last_index = 0, None
        for chunk in self.render(ssml):
            if chunk.index == last_index:
                part, start, _ = spans[-1]
                spans[-1] = (part, start, at + len(chunk.samples))
            else:
                spans.append((chunk.part, at, at + len(chunk.samples)))
            pieces.append(chunk.samples)
            at += len(chunk.samples)
            last_index = chunk.index
        return Rendering(joined(pieces), spans)

    def write(self, ssml: str, path: Path) -> float:
        """Write the answer as one WAV (pauses and chime in it); returns its seconds."""
        rendering = self.synthesize(ssml)
        write_wav(Path(path), rendering.samples)
        return rendering.seconds

    def say(self, ssml: str) -> None:
        """Play the answer through the sound card, starting on its first sentence; blocks
        until it has been heard."""
        play_stream(chunk.samples for chunk in self.render(ssml))

    def _audio(self, part: Pause | Chime) -> np.ndarray:
        if isinstance(part, Pause):
            return np.zeros(round(part.seconds * RATE), dtype="<i2")
        return self._chime
