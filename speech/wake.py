"""The wake phrase: "closer together", the skill's invocation name, spotted with PocketSphinx.

An idle speaker reacts only to an utterance that contains the wake phrase, as an Echo reacts
only to "Alexa". Keyphrase spotting (PocketSphinx's kws search) runs on each end-pointed
utterance, so "closer together, give us a question" in one breath works: what follows the
phrase is the command. While a session is open (the speaker asked something) no wake phrase
is needed, as on Alexa.

The spotter also listens for two decoys that sound almost the same, "clothes together" and
"close together": when one of them is what it hears first, that was not the wake phrase
("put the clothes together in the basket" woke the speaker before). The search beams are
wider and the phone loop's probability lower than PocketSphinx's defaults: measured on the
fixtures' 120 wake clips and 157 out-of-domain and TV clips (bench/RESULTS.md), that took
Piper's voice from 33 to 37 of 40 and espeak-ng's from 10 to 15 of 20, with no false wake.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from speech.audio import SAMPLE_RATE, SAMPLE_WIDTH
from speech.stt.sphinx import FreshDecoder

PHRASE = "closer together"
DECOYS = ("clothes together", "close together")
WORDS = Path(__file__).with_name("data") / "wake.dict"
# PocketSphinx's kws threshold: lower catches more voices and admits more false alarms.
# Between 1e-30 and 1e-70 it made no difference on the fixtures; the beams and the phone
# loop's probability did (see the module's docstring).
THRESHOLD = 1e-40
_SEARCH = {"kws_plp": 1e-3, "beam": 1e-80, "pbeam": 1e-80}
_FRAMES_PER_S = 100  # PocketSphinx segments count 10 ms frames


@dataclass(frozen=True)
class Wake:
    heard: bool
    rest: bytes  # the audio after the wake phrase (the command, if one followed)


class Spotting:
    """One utterance fed as it is captured: ``heard`` turns true as soon as the phrase has
    been said, so the command after it can go to the recognizer while it is spoken."""

    def __init__(self, fresh: FreshDecoder) -> None:
        self._fresh, self._decoder = fresh, fresh.decoder
        self._audio = bytearray()
        self._cut: int | None = None
        self._done = False  # the phrase or a decoy was heard: nothing more to spot
        self._open = False  # the decoder's utterance, begun with the first audio

    @property
    def heard(self) -> bool:
        return self._cut is not None

    @property
    def rest(self) -> bytes:
        """The audio after the phrase, so far."""
        return bytes(self._audio[self._cut:]) if self._cut is not None else b""

    def feed(self, pcm: bytes) -> None:
        self._audio += pcm
        if self._done:
            return
        if not self._open:
            self._fresh.begin()
            self._open = True
        self._decoder.process_raw(pcm, False, False)
        self._check()

    def finish(self) -> Wake:
        """The utterance has ended. The spotter confirms a phrase a few frames after it, so a
        phrase at the very end ("closer together" alone) is found only once the decoder has
        been told there is no more audio."""
        if self._open and not self._done:
            self._decoder.end_utt()
            self._open = False
            self._check()
        self._close()
        return Wake(self.heard, self.rest)

    def _check(self) -> None:
        hyp = self._decoder.hyp() if self._cut is None and not self._done else None
        if hyp is None:
            return
        # The phrases in the order the spotter was sure of them: the first one counts.
        if hyp.hypstr.startswith(PHRASE):
            phrase = next(s for s in self._decoder.seg() if s.word.strip() == PHRASE)
            self._cut = (phrase.end_frame + 1) * SAMPLE_RATE // _FRAMES_PER_S * SAMPLE_WIDTH
        self._done = True  # a decoy first: this utterance was not said to the speaker
        self._close()

    def _close(self) -> None:
        if self._open:
            self._decoder.end_utt()
            self._open = False


class WakePhrase:
    """Spots PHRASE in 16 kHz mono int16 PCM. One utterance at a time."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        from pocketsphinx import Decoder

        # Only the phrases' words (from PocketSphinx's own dictionary): the full dictionary
        # would cost ~25 MB more for nothing.
        with tempfile.NamedTemporaryFile("w", suffix=".kws", encoding="utf-8") as phrases:
            phrases.write("".join(f"{p} /{threshold:g}/\n" for p in (PHRASE, *DECOYS)))
            phrases.flush()
            self._decoder = Decoder(kws=phrases.name, dict=str(WORDS), loglevel="FATAL",
                                    **_SEARCH)
        self._fresh = FreshDecoder(self._decoder)

    def start(self) -> Spotting:
        return Spotting(self._fresh)

    def find(self, pcm: bytes) -> Wake:
        """The whole utterance at once."""
        spotting = self.start()
        spotting.feed(pcm)
        return spotting.finish()
