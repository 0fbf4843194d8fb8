"""Speech to text: one Recognizer interface, two engines behind it (Vosk, PocketSphinx).

A recognizer decodes 16 kHz mono int16 PCM either as a command (restricted to the phrases
compiled from the interaction model) or as free text (open vocabulary, for an appreciation).
It also gives its own out-of-domain verdict (`Transcript.rejected`): a restricted decoder
always finds *some* phrase, so each engine compares that phrase against what it would have
heard unrestricted (see the engine modules for how).

Streaming: `stream = recognizer.start(free_text=...)`, `stream.feed(chunk)` as audio arrives,
`stream.partial()` for the words so far, `stream.finish()` for the Transcript.
"""

from __future__ import annotations

import abc
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speech.grammar import Grammar
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


def open_recognizer(engine: str | None, grammar: Grammar) -> Recognizer:
    """`engine` is "vosk", "pocketsphinx" or None: Vosk when a model is installed
    (CLOSER_VOSK_MODEL or the user cache), else PocketSphinx with a one-line notice."""
    from speech.stt.models import find_model

    if engine == "vosk" or engine is None:
        model = find_model()
        if model is not None:
            from speech.stt.vosk import VoskRecognizer

            recognizer = VoskRecognizer(model, grammar)
            if recognizer.missing:
                print(f"closer: the Vosk model lacks {len(recognizer.missing)} of the "
                      "commands' words (first names, mostly): commands using them are left "
                      "out, and free-text turns hear only the words the model has",
                      file=sys.stderr)
            return recognizer
        if engine == "vosk":
            raise EngineUnavailable(
                "no Vosk model installed: run `closer model fetch` or set CLOSER_VOSK_MODEL"
            )
        print(
            "closer: no Vosk model installed (`closer model fetch`); using PocketSphinx",
            file=sys.stderr,
        )
    elif engine != "pocketsphinx":
        raise ValueError(f"unknown speech engine {engine!r}")
    from speech.stt.sphinx import SphinxRecognizer

    return SphinxRecognizer(grammar)


def vosk_model_env() -> Path | None:
    value = os.environ.get("CLOSER_VOSK_MODEL")
    return Path(value).expanduser() if value else None
