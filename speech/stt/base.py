"""The Recognizer interface both engines implement (see speech/stt/__init__.py)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speech.grammar.decision import Readings


@dataclass(frozen=True)
class Word:
    word: str
    confidence: float  # 0..1
    start: float  # seconds from the start of the utterance
    end: float


@dataclass(frozen=True)
class Transcript:
    text: str  # "" when nothing usable was heard
    confidence: float  # 0..1
    rejected: bool  # the engine's own out-of-domain verdict
    words: tuple[Word, ...] = field(default=())
    score: float | None = None  # the engine's raw rejection score (higher = more in-domain)
    readings: Readings | None = None  # what the decision was made from (PocketSphinx)


class Stream(abc.ABC):
    """One utterance being decoded as its audio arrives."""

    @abc.abstractmethod
    def feed(self, pcm: bytes) -> None:
        """More 16 kHz mono int16 little-endian audio (any length)."""

    @abc.abstractmethod
    def partial(self) -> str:
        """The best words so far (may change as more audio arrives)."""

    @abc.abstractmethod
    def finish(self) -> Transcript:
        """The audio has ended: the final decision. The stream cannot be fed afterwards."""


class Recognizer(abc.ABC):
    name: str

    @abc.abstractmethod
    def start(self, *, free_text: bool = False) -> Stream:
        """Begin an utterance; free_text decodes with the open vocabulary."""

    def transcribe(self, pcm: bytes, *, free_text: bool = False) -> Transcript:
        stream = self.start(free_text=free_text)
        stream.feed(pcm)
        return stream.finish()


class EngineUnavailable(RuntimeError):
    """The requested engine cannot run here (no model installed, for example)."""
