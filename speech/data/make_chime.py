"""Make speech/data/chime.wav, the local speaker's end cue (the skill's Alexa soundbank bell
maps to it): a soft two-note bell, C6 then G6, about one second, 22.05 kHz mono 16-bit.

Deterministic: `python speech/data/make_chime.py` rewrites the same bytes.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22050
LENGTH_S = 1.1
PEAK = 0.5  # -6 dBFS: a little under the voice, so the cue is clear but not startling
# (frequency Hz, start s, level): a rising fifth reads as "done", gently.
NOTES = ((1046.5, 0.0, 1.0), (1568.0, 0.16, 0.8))
# Bell-like partials (ratio, level, decay time constant s): the overtones fade fastest.
PARTIALS = ((1.0, 1.0, 0.32), (2.0, 0.35, 0.16), (3.0, 0.12, 0.09), (4.2, 0.05, 0.05))
ATTACK_S = 0.015


def note(frequency: float, start: float, level: float, t: np.ndarray) -> np.ndarray:
    local = t - start
    audible = local >= 0
    tone = np.zeros_like(t)
    for ratio, weight, decay in PARTIALS:
        tone += weight * np.sin(2 * np.pi * frequency * ratio * local) * np.exp(-local / decay)
    # A raised-cosine attack: a linear ramp this short still clicks.
    attack = 0.5 - 0.5 * np.cos(np.pi * np.clip(local / ATTACK_S, 0.0, 1.0))
    return np.where(audible, level * tone * attack, 0.0)


def chime() -> np.ndarray:
    t = np.arange(int(RATE * LENGTH_S)) / RATE
    mix = sum(note(f, s, level, t) for f, s, level in NOTES)
    fade = np.clip((LENGTH_S - t) / 0.05, 0.0, 1.0)  # end at exact silence
    mix = mix * fade
    return np.round(mix / np.max(np.abs(mix)) * PEAK * 32767).astype("<i2")


def main() -> None:
    path = Path(__file__).with_name("chime.wav")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(chime().tobytes())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
