"""The Piper engine: a neural (VITS) voice run by onnxruntime, Home Assistant's offline voice.

The voice loads once per process (about half a second) and is warmed with one short sentence,
because onnxruntime's first inference is several times slower than the rest. Text is
synthesized a sentence at a time (Piper splits it with espeak-ng's phonemizer), so the first
sentence can play while the next is computed; a long sentence goes in pieces at its commas
and colons (each at most MAX_PHONEMES where the sentence allows), because both the wait for
the first sound and the memory an inference takes grow with the length of what is
synthesized at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WARM_UP = "Hello."
MAX_PHONEMES = 40  # about two seconds: the voice speaks about 20 phonemes a second
_CLAUSE_ENDS = frozenset(",:;")


class VoiceUnavailable(RuntimeError):
    """A Piper voice could not be loaded (piper-tts missing, or a broken voice file)."""


@dataclass(frozen=True)
class PiperFiles:
    """A Piper voice on disk: the ONNX model and its JSON settings."""

    name: str  # e.g. "en_US-joe-medium"
    model: Path
    config: Path


class PiperEngine:
    """One loaded Piper voice. One thread at a time."""

    name = "piper"

    def __init__(self, files: PiperFiles) -> None:
        try:
            from piper.config import SynthesisConfig
        except ImportError as error:
            raise VoiceUnavailable(f"piper-tts is not installed ({error})") from error
        try:
            self._voice = _load(files)
        except Exception as error:  # onnxruntime's errors derive from Exception alone
            raise VoiceUnavailable(f"{files.model} is not a usable Piper voice "
                                   f"({type(error).__name__}: {error})") from error
        self._config = SynthesisConfig
        self.voice = files.name
        self.rate: int = self._voice.config.sample_rate
        self._length_scale = self._voice.config.length_scale
        for _ in self.speak(WARM_UP):
            pass

    def speak(self, text: str, speed: float = 1.0) -> Iterator[np.ndarray]:
        """int16 audio, a sentence (or a long sentence's clauses) at a time, each as soon as
        it is synthesized."""
        # At the voice's own level: PiperVoice.synthesize() would also scale every piece to
        # full scale on its own (uneven from piece to piece, and clipping-close).
        settings = self._config(length_scale=self._length_scale / speed)
        for sentence in self._voice.phonemize(text):
            for piece in clauses(sentence, MAX_PHONEMES):
                ids = self._voice.phonemes_to_ids(piece)
                audio = self._voice.phoneme_ids_to_audio(ids, settings)
                yield (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")


def clauses(phonemes: list[str], limit: int) -> list[list[str]]:
    """A sentence's phonemes in pieces of at most ``limit``, cut only after a comma, colon
    or semicolon (a clause longer than the limit stays whole); short sentences stay whole."""
    if len(phonemes) <= limit:
        return [phonemes] if phonemes else []
    pieces: list[list[str]] = [[]]
    clause: list[str] = []
    for phoneme in phonemes:
        clause.append(phoneme)
        if phoneme in _CLAUSE_ENDS:
            _add(pieces, clause, limit)
            clause = []
    _add(pieces, clause, limit)
    return [piece for piece in pieces if piece]


def _add(pieces: list[list[str]], clause: list[str], limit: int) -> None:
    while clause and clause[0] == " ":  # a piece starts at its first sound
        clause = clause[1:]
    if not clause:
        return
    if pieces[-1] and len(pieces[-1]) + 1 + len(clause) > limit:
        pieces.append([])
    pieces[-1].extend([" ", *clause] if pieces[-1] else clause)


def _load(files: PiperFiles) -> Any:
    """PiperVoice.load, with onnxruntime set for a small shared machine (measured in
    bench/speech_voice.py and README: The voice):
    - one thread that sleeps when idle: the default (a thread per core, spinning while it
      waits) took a sentence from about 380 ms to 780 ms whenever anything else was running;
    - no memory patterns and basic graph optimizations: with PocketSphinx beside it, the
      speaker's peak RSS over the recorded round went from 506 MB to about 430 MB (with
      MAX_PHONEMES 40 instead of whole sentences), at no speed cost measurable on 2 shared
      cores. (Without onnxruntime's memory arena it was higher still: glibc's heap crept.)"""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_pattern = False
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = onnxruntime.InferenceSession(str(files.model), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config)
