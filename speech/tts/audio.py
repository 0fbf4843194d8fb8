"""Answer audio: int16 mono at one rate (RATE) for every engine, WAV files, and playback that
starts while the rest of the answer is still being synthesized."""

from __future__ import annotations

import queue
import threading
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

RATE = 22050  # Piper's medium voices and espeak-ng both speak at 22.05 kHz; others are resampled
CHIME_PATH = Path(__file__).resolve().parent.parent / "data" / "chime.wav"
# Quieter than this (about -72 dBFS) is silence: what a voice leaves after its last word.
QUIET = 8


class NoSoundDevice(RuntimeError):
    """There is no sound card to play through."""


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """int16 samples at ``rate`` brought to RATE (linear interpolation)."""
    if rate == RATE or not len(samples):
        return samples
    positions = np.arange(round(len(samples) * RATE / rate)) * (rate / RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype("<i2")


def split_quiet_end(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples up to the last audible one, and the quiet after it."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > QUIET)
    end = int(loud[-1]) + 1 if len(loud) else 0
    return samples[:end], samples[end:]


def read_wav(path: Path) -> np.ndarray:
    """Mono int16 samples of a 16-bit WAV, resampled to RATE if needed."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return resample(samples, rate)


def write_wav(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())


def check_output(sounddevice: Any = None) -> None:
    """NoSoundDevice unless there is a sound card to play through."""
    sd = sounddevice or _sounddevice()
    try:
        sd.check_output_settings(samplerate=RATE, channels=1, dtype="int16")
    except sd.PortAudioError as error:
        raise NoSoundDevice(
            "no sound output device found; use --out to write what the speaker says as WAV "
            "files"
        ) from error


def play(samples: np.ndarray, sounddevice: Any = None) -> None:
    """Play int16 samples at RATE (blocks until they have been heard)."""
    play_stream([samples], sounddevice)


def play_stream(chunks: Iterable[np.ndarray], sounddevice: Any = None) -> None:
    """Play int16 chunks at RATE as they come: the first sentence sounds while the next ones
    are synthesized (on a thread). Blocks until everything has been heard.
    ``sounddevice``: the module to play through (tests give a stand-in; no sound card here)."""
    sd = sounddevice or _sounddevice()
    check_output(sd)
    ready: queue.Queue[np.ndarray | BaseException | None] = queue.Queue()
    producer = threading.Thread(target=_produce, args=(chunks, ready), daemon=True)
    producer.start()
    try:
        with sd.OutputStream(samplerate=RATE, channels=1, dtype="int16") as stream:
            while (chunk := ready.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise chunk
                stream.write(np.ascontiguousarray(chunk, dtype="<i2").reshape(-1, 1))
    except sd.PortAudioError as error:
        raise NoSoundDevice(f"the sound output failed ({error})") from error
    finally:
        producer.join(timeout=1.0)


def _produce(chunks: Iterable[np.ndarray], ready: queue.Queue) -> None:
    try:
        for chunk in chunks:
            ready.put(chunk)
    except BaseException as error:  # noqa: BLE001 - handed to the playing thread, raised there
        ready.put(error)
        return
    ready.put(None)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as error:  # PortAudio itself is missing
        raise NoSoundDevice(f"no sound output: PortAudio is unavailable ({error})") from error
    return sounddevice
