"""The pyttsx3 engine: espeak-ng (formant synthesis), the voice that needs no download.

On Linux the samples come straight from espeak-ng's synthesis callback (see _EspeakSynth);
elsewhere through pyttsx3's portable save_to_file. Either way 22.05 kHz mono int16.
"""

from __future__ import annotations

import atexit
import ctypes
import shutil
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from speech.tts.audio import read_wav

SYNTH_TIMEOUT_S = 30.0
ESPEAK_RATE = 22050  # what espeak-ng (and pyttsx3's save_to_file) produce
WORDS_PER_MINUTE = 165


class SpeechUnavailable(RuntimeError):
    """pyttsx3 could not speak (no espeak-ng, or synthesis never finished)."""


class Pyttsx3Engine:
    """espeak-ng through pyttsx3, one engine per process. One thread at a time."""

    name = "pyttsx3"
    rate = ESPEAK_RATE

    def __init__(self, voice: str = "en-us", words_per_minute: int = WORDS_PER_MINUTE) -> None:
        engine = _engine()
        self.voice = voice
        self._wpm = words_per_minute
        self._file_synth = None if sys.platform.startswith("linux") else _FileSynth(engine)

    def speak(self, text: str, speed: float = 1.0) -> Iterator[np.ndarray]:
        """The whole text at once: espeak-ng takes a few milliseconds a sentence."""
        rate = round(self._wpm * speed)
        if self._file_synth is not None:
            yield self._file_synth(text, self.voice, rate)
        else:
            yield _espeak()(text, voice=self.voice, rate=rate)


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

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._dir = Path(tempfile.mkdtemp(prefix="closer-tts-"))
        weakref.finalize(self, shutil.rmtree, self._dir, True)

    def __call__(self, text: str, voice: str, rate: int) -> np.ndarray:
        self._engine.setProperty("voice", voice)
        self._engine.setProperty("rate", rate)
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
