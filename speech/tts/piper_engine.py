"""The Piper engine: a neural (VITS) voice run by onnxruntime, Home Assistant's offline voice.

The voice loads once per process (about half a second) and is warmed with one short sentence,
because onnxruntime's first inference is several times slower than the rest. Text is
synthesized a sentence at a time (Piper splits it with espeak-ng's phonemizer), so the first
sentence can play while the next is computed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WARM_UP = "Hello."


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
        """int16 audio, one sentence at a time, each as soon as it is synthesized."""
        # normalize_audio would scale every sentence to full scale on its own: uneven, and
        # clipping-close; the voice's own level keeps about 6 dB of headroom.
        settings = self._config(length_scale=self._length_scale / speed, normalize_audio=False)
        for chunk in self._voice.synthesize(text, settings):
            yield chunk.audio_int16_array


def _load(files: PiperFiles) -> Any:
    """PiperVoice.load, with onnxruntime on one thread that sleeps when idle: on 2 shared
    cores its default (a thread per core, spinning while waiting for work) took a sentence
    from about 380 ms to 780 ms whenever anything else was running (bench/speech_voice.py)."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(files.model), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config)
