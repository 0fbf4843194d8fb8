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

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from speech.stt.base import EngineUnavailable, Recognizer, Stream, Transcript, Word

if TYPE_CHECKING:
    from speech.grammar import Grammar

__all__ = ["EngineUnavailable", "Recognizer", "Stream", "Transcript", "Word", "open_recognizer"]


def open_recognizer(engine: str | None, grammar: Grammar,
                    vosk_model: Path | None = None) -> Recognizer:
    """`engine` is "vosk", "pocketsphinx" or None: Vosk when a model is installed
    (``vosk_model``, the configured directory, or the user cache), else PocketSphinx with
    a one-line notice."""
    from speech.stt.models import find_model

    if engine == "vosk" or engine is None:
        model = find_model(vosk_model)
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
