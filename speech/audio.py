"""Audio in for the speech path: any WAV to 16 kHz mono int16, and VAD end-pointing.

Recognizers take 16 kHz mono signed 16-bit little-endian PCM. `read_wav` accepts what people
actually have (8/16/24/32-bit integer or 32/64-bit float, any rate, any channel count,
WAVE_FORMAT_EXTENSIBLE) and resamples with a Kaiser-windowed sinc filter, so a 44.1 kHz
recording keeps its speech band instead of aliasing the way naive decimation would.

`EndPointer` finds where an utterance starts and ends in a stream of 10/20/30 ms frames using
webrtcvad; the microphone loop and `--wav` playback both use it.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import webrtcvad

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2  # bytes per int16 sample

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE


class AudioError(ValueError):
    """The file is not audio we can read."""


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    bits: int
    is_float: bool


def read_wav(path: str | Path) -> bytes:
    """Read a WAV file as 16 kHz mono int16 little-endian PCM."""
    return decode_wav(Path(path).read_bytes())


def decode_wav(data: bytes) -> bytes:
    """Decode WAV bytes to 16 kHz mono int16 little-endian PCM."""
    info, samples = parse_wav(data)
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return to_pcm16(resample(mono, info.rate, SAMPLE_RATE))


def parse_wav(data: bytes) -> tuple[WavInfo, np.ndarray]:
    """Parse RIFF/WAVE bytes into (info, float64 samples in [-1, 1] shaped frames x channels)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a RIFF/WAVE file")
    fmt: bytes | None = None
    payload: bytes | None = None
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            payload = body  # a truncated file still yields what it has
            break
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise AudioError("WAV file without a fmt or data chunk")
    info = _parse_fmt(fmt)
    return info, _samples(payload, info)


def _parse_fmt(fmt: bytes) -> WavInfo:
    if len(fmt) < 16:
        raise AudioError("WAV fmt chunk too short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # first field of the sub-format GUID
    if tag not in (_PCM, _FLOAT):
        raise AudioError(f"unsupported WAV encoding (format tag {tag:#x})")
    if channels < 1 or rate < 1:
        raise AudioError("WAV header has no channels or no sample rate")
    is_float = tag == _FLOAT
    if (is_float and bits not in (32, 64)) or (not is_float and bits not in (8, 16, 24, 32)):
        raise AudioError(f"unsupported WAV sample size: {bits} bits")
    return WavInfo(rate=rate, channels=channels, bits=bits, is_float=is_float)


def _samples(payload: bytes, info: WavInfo) -> np.ndarray:
    width = info.bits // 8
    frame = width * info.channels
    raw = payload[: len(payload) - len(payload) % frame]
    if info.is_float:
        x = np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float64)
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    elif width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / float(1 << 23)
    else:
        dtype = "<i2" if width == 2 else "<i4"
        x = np.frombuffer(raw, dtype=dtype).astype(np.float64) / float(1 << (info.bits - 1))
    return x.reshape(-1, info.channels)


def to_pcm16(x: np.ndarray) -> bytes:
    """Float samples in [-1, 1] to int16 little-endian bytes, clipping instead of wrapping."""
    return (np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")).tobytes()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


# A Kaiser-windowed sinc with 24 zero crossings each side and beta 8.6 keeps the stopband
# below roughly -80 dB; the cutoff sits slightly under the new Nyquist so the transition
# band does not fold back into speech.
_ZERO_CROSSINGS = 24
_KAISER_BETA = 8.6
_ROLLOFF = 0.94
_MAX_PHASES = 4096
_CHUNK = 1 << 15


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling of a 1-D float signal from src_rate to dst_rate."""
    x = np.asarray(x, dtype=np.float64)
    if src_rate == dst_rate or len(x) == 0:
        return x.copy()
    g = gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    cutoff = _ROLLOFF * min(1.0, up / down)  # in units of the input Nyquist
    half = int(np.ceil(_ZERO_CROSSINGS / cutoff))
    phases = min(up, _MAX_PHASES)
    table = _filter_table(phases, half, cutoff)
    n_out = int(np.ceil(len(x) * up / down))
    padded = np.concatenate([np.zeros(half), x, np.zeros(half + 1)])
    taps = np.arange(-half + 1, half + 1)
    out = np.empty(n_out)
    for start in range(0, n_out, _CHUNK):
        n = np.arange(start, min(start + _CHUNK, n_out), dtype=np.int64)
        base = (n * down) // up
        frac = (n * down - base * up) / up
        phase = np.round(frac * phases).astype(np.int64)
        carry = phase == phases  # a fraction that rounds up to the next input sample
        base = base + carry
        phase[carry] = 0
        idx = base[:, None] + taps[None, :] + half
        out[start : start + len(n)] = np.einsum("ij,ij->i", padded[idx], table[phase])
    return out


@lru_cache(maxsize=8)
def _filter_table(phases: int, half: int, cutoff: float) -> np.ndarray:
    """Row p holds the weights for input samples at offsets -half+1..half from a point p/phases
    past an input sample."""
    offsets = np.arange(-half + 1, half + 1)[None, :] - (np.arange(phases) / phases)[:, None]
    inside = np.clip(1.0 - (offsets / half) ** 2, 0.0, None)
    window = np.i0(_KAISER_BETA * np.sqrt(inside)) / np.i0(_KAISER_BETA)
    return cutoff * np.sinc(cutoff * offsets) * window


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
