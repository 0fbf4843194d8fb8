"""Audio in for the speech path: any WAV to 16 kHz mono int16, and VAD end-pointing.

Recognizers take 16 kHz mono signed 16-bit little-endian PCM. `read_wav` accepts what people
actually have (8/16/24/32-bit integer or 32/64-bit float, any rate, any channel count,
WAVE_FORMAT_EXTENSIBLE): libsndfile (PyPI `soundfile`) reads it and libsoxr (PyPI `soxr`)
resamples it, band-limited, so a 44.1 kHz recording keeps its speech band instead of aliasing
the way naive decimation would. Anything else (no file, no WAV, no audio in it, a compressed
encoding such as A-law) is one `AudioError` with a one-line reason.

`EndPointer` finds where an utterance starts and ends in a stream of 10/20/30 ms frames using
webrtcvad; the microphone loop and `--wav` playback both use it.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile
import soxr
import webrtcvad

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2  # bytes per int16 sample

_WAV_CONTAINERS = frozenset({"WAV", "WAVEX", "RF64"})
# Plain PCM and float; libsndfile decodes A-law, mu-law and ADPCM too, but those are
# telephone codecs nobody records a command with, and the contract is an ordinary WAV.
_ENCODINGS = frozenset({"PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})
_CODECS = {"ALAW": "A-law", "ULAW": "mu-law", "IMA_ADPCM": "IMA ADPCM", "MS_ADPCM": "MS ADPCM",
           "GSM610": "GSM 6.10"}


class AudioError(ValueError):
    """The file is not audio we can read; the message is one line saying why."""


def read_wav(path: str | Path) -> bytes:
    """Read a WAV file as 16 kHz mono int16 little-endian PCM."""
    path = Path(path)
    if not path.exists():
        raise AudioError("no such file")
    if path.is_dir():
        raise AudioError("a directory, not a WAV file")
    if path.stat().st_size == 0:
        raise AudioError("an empty file, not a WAV file")
    try:
        with path.open("rb") as f:
            return _decode(f)
    except OSError as error:
        raise AudioError(error.strerror or str(error)) from error


def decode_wav(data: bytes) -> bytes:
    """Decode WAV bytes to 16 kHz mono int16 little-endian PCM."""
    if not data:
        raise AudioError("an empty file, not a WAV file")
    return _decode(io.BytesIO(data))


def _decode(f: BinaryIO) -> bytes:
    try:
        with soundfile.SoundFile(f) as wav:
            if wav.format not in _WAV_CONTAINERS:
                raise AudioError(f"not a RIFF/WAVE file (a {wav.format} file)")
            if wav.subtype not in _ENCODINGS:
                encoding = _CODECS.get(wav.subtype, wav.subtype.replace("_", " "))
                raise AudioError(f"unsupported WAV encoding ({encoding}); use plain PCM or float")
            samples = wav.read(dtype="float64", always_2d=True)
            rate = wav.samplerate
    except soundfile.LibsndfileError as error:
        raise AudioError(_reason(error)) from error
    if len(samples) == 0:
        raise AudioError("the WAV file holds no audio")
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return to_pcm16(resample(mono, rate, SAMPLE_RATE))


def _reason(error: soundfile.LibsndfileError) -> str:
    said = error.error_string.rstrip(".")
    if said == "Format not recognised":
        return "not a RIFF/WAVE file"
    return f"not a readable WAV file ({said[:1].lower()}{said[1:]})"


def to_pcm16(x: np.ndarray) -> bytes:
    """Float samples in [-1, 1] to int16 little-endian bytes, clipping instead of wrapping."""
    return (np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")).tobytes()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling of a 1-D float signal from src_rate to dst_rate (libsoxr's
    very-high-quality filter: flat to 0.91 of the new Nyquist, then under -170 dB)."""
    x = np.asarray(x, dtype=np.float64)
    if src_rate == dst_rate or len(x) == 0:
        return x.copy()
    return soxr.resample(x, src_rate, dst_rate, quality="VHQ")


# webrtc-noise-gain's noise suppression level (0-4; None: not used), as Home Assistant's voice
# pipeline cleans a microphone before recognition. Measured on the fixtures' dev split: level
# 4 lifted Piper's voice in kitchen, babble and TV noise from 17 to 28 of 90 clips whose
# language-model reading parsed right (level 2: 22), clean Piper within a clip (37 and 38
# of 46), but it turns espeak-ng's formant voices into noise ("give us a fun question" became
# "you was our", and the wake spotter lost all 20 espeak-ng clips). So it is off by default
# until it is measured on recordings of people; `closer recognize`'s engines take a level.
NOISE_SUPPRESSION: int | None = None
_TEN_MS = SAMPLE_RATE // 100 * SAMPLE_WIDTH


class Denoiser:
    """WebRTC noise suppression for one utterance (a new one per utterance: it adapts to the
    noise it hears). Automatic gain stays off: it made recognition worse. Fed any length of
    16 kHz int16, it returns the audio it has cleaned so far, 10 ms at a time."""

    def __init__(self, level: int = 4) -> None:
        from webrtc_noise_gain import AudioProcessor

        self._processor = AudioProcessor(0, level)
        self._pending = b""

    def clean(self, pcm: bytes) -> bytes:
        data = self._pending + pcm
        whole = len(data) // _TEN_MS * _TEN_MS
        self._pending = data[whole:]
        return b"".join(self._processor.Process10ms(data[i:i + _TEN_MS]).audio
                        for i in range(0, whole, _TEN_MS))

    def finish(self) -> bytes:
        """The last part of 10 ms, cleaned (padded with silence, then cut to length)."""
        if not self._pending:
            return b""
        size = len(self._pending)
        padded = self._pending + bytes(_TEN_MS - size)
        self._pending = b""
        return self._processor.Process10ms(padded).audio[:size]


def frames(pcm: bytes, frame_ms: int = 30) -> Iterator[bytes]:
    """Split PCM into whole frames of frame_ms (a short tail is zero-padded)."""
    size = SAMPLE_RATE * frame_ms // 1000 * SAMPLE_WIDTH
    for i in range(0, len(pcm), size):
        chunk = pcm[i : i + size]
        yield chunk if len(chunk) == size else chunk + bytes(size - len(chunk))


_ABOVE_FLOOR_DB = 9.0  # speech is this much louder than the room, even at 5-10 dB SNR peaks
_FLOOR_RISE_DB = 0.05  # per frame: the floor follows a room that got louder within seconds
_DIGITAL_SILENCE_DB = 10.0  # RMS under ~3 LSB


@dataclass
class Utterance:
    """Where speech was found, in milliseconds from the start of the stream."""

    start_ms: int
    end_ms: int  # end of the last voiced frame
    decided_ms: int  # when the end-pointer was sure (end_ms plus the trailing silence)


class EndPointer:
    """Finds the start and end of one utterance in 10/20/30 ms frames of 16 kHz int16 PCM.

    Speech starts once `start_ms` of the last `window_ms` is voiced (so a click or a cough
    does not open an utterance) and ends after `end_silence_ms` without voice. `max_ms` caps
    an utterance (a TV that never stops talking); `no_speech_ms` gives up waiting.

    A frame counts as voiced only if webrtcvad says so *and* it is louder than the room:
    webrtcvad alone takes steady noise (a fan, a quiet hiss) for speech once it has heard
    speech, and an utterance would then never end. The room's level is tracked as a noise
    floor that drops at once to quieter frames and rises slowly.
    """

    def __init__(
        self,
        *,
        aggressiveness: int = 2,
        start_ms: int = 150,
        window_ms: int = 300,
        end_silence_ms: int = 600,
        max_ms: int = 12000,
        no_speech_ms: int | None = 8000,
    ) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self._floor_db: float | None = None
        self.start_ms, self.window_ms = start_ms, window_ms
        self.end_silence_ms, self.max_ms, self.no_speech_ms = end_silence_ms, max_ms, no_speech_ms
        self._recent: deque[tuple[int, bool]] = deque()
        self._now = 0
        self._silence = 0
        self._last_voiced = 0
        self.start: int | None = None
        self.utterance: Utterance | None = None
        self.timed_out = False

    @property
    def in_speech(self) -> bool:
        return self.start is not None and self.utterance is None

    @property
    def done(self) -> bool:
        return self.utterance is not None or self.timed_out

    def feed(self, frame: bytes) -> bool:
        """Take one frame; returns True once the utterance has ended (or waiting timed out)."""
        if self.done:
            return True
        ms = len(frame) // SAMPLE_WIDTH * 1000 // SAMPLE_RATE
        if ms not in (10, 20, 30):
            raise ValueError("EndPointer frames must be 10, 20 or 30 ms of 16 kHz int16")
        voiced = self._vad.is_speech(frame, SAMPLE_RATE) and self._above_floor(frame)
        self._now += ms
        if self.start is None:
            self._await_start(ms, voiced)
        else:
            self._track_end(ms, voiced)
        return self.done

    def _above_floor(self, frame: bytes) -> bool:
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        db = 10.0 * np.log10(np.mean(x * x) + 1.0)
        if db < _DIGITAL_SILENCE_DB:  # padding in a file, not a room: says nothing of its level
            return False
        if self._floor_db is None or db < self._floor_db:
            self._floor_db = db
        else:
            self._floor_db += _FLOOR_RISE_DB
        return db > self._floor_db + _ABOVE_FLOOR_DB

    def _await_start(self, ms: int, voiced: bool) -> None:
        self._recent.append((ms, voiced))
        while sum(m for m, _ in self._recent) > self.window_ms:
            self._recent.popleft()
        if sum(m for m, v in self._recent if v) >= self.start_ms:
            self.start = self._now - sum(m for m, _ in self._recent)
            self._last_voiced = self._now
        elif self.no_speech_ms is not None and self._now >= self.no_speech_ms:
            self.timed_out = True

    def _track_end(self, ms: int, voiced: bool) -> None:
        if voiced:
            self._silence = 0
            self._last_voiced = self._now
        else:
            self._silence += ms
        assert self.start is not None
        if self._silence >= self.end_silence_ms or self._now - self.start >= self.max_ms:
            self.utterance = Utterance(self.start, self._last_voiced, self._now)

    def finish(self) -> Utterance | None:
        """The stream ended: close an utterance still in progress."""
        if self.utterance is None and self.start is not None:
            self.utterance = Utterance(self.start, self._last_voiced, self._now)
        return self.utterance


def find_speech(pcm: bytes, *, frame_ms: int = 30, **options: int) -> Utterance | None:
    """Run the end-pointer over a whole recording; None if it holds no speech."""
    ep = EndPointer(no_speech_ms=None, **options)
    for frame in frames(pcm, frame_ms):
        if ep.feed(frame):
            break
    return ep.finish()
