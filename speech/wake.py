"""The wake phrase: "closer together", the skill's invocation name, spotted with PocketSphinx.

An idle speaker reacts only to an utterance that contains the wake phrase, as an Echo reacts
only to "Alexa". Keyphrase spotting (PocketSphinx's kws search) runs on each end-pointed
utterance, so "closer together, give us a question" in one breath works: what follows the
phrase is the command. While a session is open (the speaker asked something) no wake phrase
is needed, as on Alexa.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from speech.audio import SAMPLE_RATE, SAMPLE_WIDTH

PHRASE = "closer together"
WORDS = Path(__file__).with_name("data") / "wake.dict"
# PocketSphinx's kws threshold: lower catches more voices and admits more false alarms.
# Measured on 80 synthetic wake utterances and 400 other ones (see the README): 1e-40
# detects 55%, 1e-50 65%, with no false alarm at either.
THRESHOLD = 1e-50
_FRAMES_PER_S = 100  # PocketSphinx segments count 10 ms frames


@dataclass(frozen=True)
class Wake:
    heard: bool
    rest: bytes  # the audio after the wake phrase (the command, if one followed)


class WakePhrase:
    """Spots PHRASE in 16 kHz mono int16 PCM."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        from pocketsphinx import Decoder

        # Only the phrase's two words (from PocketSphinx's own dictionary): the full
        # dictionary would cost ~25 MB more for nothing.
        self._decoder = Decoder(keyphrase=PHRASE, kws_threshold=threshold, dict=str(WORDS),
                                loglevel="FATAL")

    def find(self, pcm: bytes) -> Wake:
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return Wake(False, b"")
        end_frame = max(segment.end_frame for segment in decoder.seg())
        cut = (end_frame + 1) * SAMPLE_RATE // _FRAMES_PER_S * SAMPLE_WIDTH
        return Wake(True, pcm[cut:])
