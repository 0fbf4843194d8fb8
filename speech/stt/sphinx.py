"""PocketSphinx: the zero-download engine (its wheel ships an American English model).

Command turns are decoded twice, in parallel as the audio arrives:
- with a trigram language model built at startup from the grammar's command phrases, over
  exactly the grammar's vocabulary: it gives the parser what was actually said (new
  phrasings, fillers), and its text is the transcript;
- with the grammar's JSGF, which forces the audio onto the nearest sentence the grammar
  can produce.
Whether to act on a turn is decided from both readings (speech.grammar.decision): for speech
that is a command they mostly mean the same thing, while for anything else (a timer request,
a TV) each decoder forces its own nearest match; a calibrated model weighs that agreement
with how the parser understood each reading and how well each fits the sound. Measured
trade-offs are in the README and bench/RESULTS.md.

Audio can pass through WebRTC noise suppression first (speech.audio.Denoiser; off by
default, see speech.audio.NOISE_SUPPRESSION for why).

Free-text turns use the wheel's general English LM and its full dictionary.
"""

from __future__ import annotations

import io
import math
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pocketsphinx

from speech import pronounce
from speech.audio import NOISE_SUPPRESSION, SAMPLE_RATE, Denoiser
from speech.grammar import FREE_TEXT_COMMANDS
from speech.grammar.decision import Readings, choose
from speech.stt.base import Recognizer, Stream, Transcript, Word

if TYPE_CHECKING:
    from speech.grammar import Grammar

MODEL_DIR = Path(pocketsphinx.get_model_path()) / "en-us"
ACOUSTIC = MODEL_DIR / "en-us"
CMUDICT = MODEL_DIR / "cmudict-en-us.dict"
GENERAL_LM = MODEL_DIR / "en-us.lm.bin"

NAME_FREE_WEIGHT = 5
INTENT_MASS = 1000  # lines of the language model's corpus each intent fills at least
_FRAME_S = 0.01
_FILLERS = ("<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "(NULL)")


# What a decoder hears before every utterance: 0.3 s of faint seeded noise, always the same.
_SETTLE = (np.random.default_rng(0).standard_normal(SAMPLE_RATE * 3 // 10) * 100).astype(
    "<i2").tobytes()


class FreshDecoder:
    """A PocketSphinx decoder that begins every utterance from the same state, so a turn is
    heard the same way whatever was heard before it.

    PocketSphinx carries state from one utterance into the next: the cepstral mean (reset
    with set_cmn; live CMN still adapts within the turn), the noise-removal statistics that
    the acoustic model's feat.params switches on (`-remove_noise yes`; only start_stream()
    resets them), and short-lived search and Gaussian-selection history (the semi-continuous
    model seeds each frame's top Gaussians from the frame before, across utterances too)
    that no call resets. So before every utterance the noise statistics are reset and the
    decoder hears the same 0.3 s of faint noise: that overwrites the short-lived history and
    gives the noise estimate a quiet room to start from. (Reset and nothing else, the
    noise estimate starts from the first frame of speech, and the grammar decoder heard
    "our names are john and mary" as "fang and he's vandana here".) Measured on fixture
    clips alone, after each other and in shuffled orders: identical results
    (tests/test_utterances.py). Before this, forget-us-11.wav was "forget us completely"
    after one clip and "a get us completely" alone. Settling costs about 15 ms per decoder
    at the start of a turn, while the speaker is still talking."""

    def __init__(self, decoder: pocketsphinx.Decoder) -> None:
        self.decoder = decoder
        self._cmn = decoder.get_cmn()

    def begin(self) -> None:
        """Start an utterance (the search to use must be active already)."""
        if self.decoder.config["remove_noise"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # deprecated; no other
                self.decoder.start_stream()
        self._start()
        self.decoder.process_raw(_SETTLE, False, False)  # the noise estimate starts from it
        self.decoder.end_utt()
        self._start()

    def _start(self) -> None:
        self.decoder.start_utt()
        self.decoder.set_cmn(self._cmn)


def _config(**options: object) -> pocketsphinx.Config:
    # bestpath is off: its lattice rescoring can return a word sequence the grammar does not
    # allow (measured: "thought" for "stop" under the JSGF); the first pass is what we want.
    return pocketsphinx.Config(hmm=str(ACOUSTIC), loglevel="FATAL", bestpath=False, **options)


class SphinxRecognizer(Recognizer):
    name = "pocketsphinx"

    def __init__(self, grammar: Grammar, *,
                 noise_suppression: int | None = NOISE_SUPPRESSION) -> None:
        """noise_suppression: webrtc-noise-gain's level (0-4), None for none."""
        self.grammar = grammar
        self.noise_suppression = noise_suppression
        known = pronounce.dictionary_words(CMUDICT)
        extra = pronounce.missing_pronunciations(
            grammar.vocabulary(), known.__contains__, pronounce.read_dict(pronounce.DATA_FILE))
        self._words = pocketsphinx.Decoder(_config(dict=str(CMUDICT), lm=None))
        for word, phones in extra.items():
            self._words.add_word(word, " ".join(phones), False)
        self._words.add_lm("commands", _command_lm(grammar, self._words))
        self._words.add_lm_file("free", str(GENERAL_LM))
        with tempfile.TemporaryDirectory() as tmp:
            small = Path(tmp) / "commands.dict"
            _write_dict(small, grammar.vocabulary(), extra)
            self._strict = pocketsphinx.Decoder(_config(dict=str(small), lm=None))
        self._strict.add_jsgf_string("commands", grammar.jsgf())
        self._strict.activate_search("commands")
        self._fresh = {id(d): FreshDecoder(d) for d in (self._words, self._strict)}
        self._open: SphinxStream | None = None

    def start(self, *, free_text: bool = False) -> Stream:
        if self._open is not None and not self._open.finished:
            self._open.abandon()
        self._words.activate_search("free" if free_text else "commands")
        self._open = SphinxStream(self, free_text)
        return self._open

    def command_in_free_turn(self, said: str, forced: str) -> str | None:
        """In a free-text turn, a command the partner said instead ("cancel", "help",
        "skip", "say that again"): the grammar's reading is one of the commands a free turn
        obeys, exactly, and the open transcript is no longer than that command and a word.
        Without this, "cancel" went into the journal as "console"."""
        parse = self.grammar.parse(forced) if forced else None
        if (parse is None or parse.intent not in FREE_TEXT_COMMANDS or parse.score < 1.0
                or len(said.split()) > len(forced.split()) + 1):
            return None
        return forced


def _write_dict(path: Path, vocabulary: set[str], extra: dict[str, list[str]]) -> None:
    """A dictionary of just the grammar's words (every pronunciation), so the strict
    decoder loads in a fraction of the time the full one takes."""
    with CMUDICT.open(encoding="utf-8") as f, path.open("w", encoding="utf-8") as out:
        for line in f:
            head = line.split(" ", 1)[0]
            if head.split("(")[0] in vocabulary:
                out.write(line)
        for word, phones in extra.items():
            out.write(f"{word} {' '.join(phones)}\n")


def _command_lm(grammar: Grammar, decoder: pocketsphinx.Decoder) -> pocketsphinx.NGramModel:
    """A trigram model of the command phrases, over the grammar's words only, with every
    intent about equally likely: an intent's phrases are repeated up to INTENT_MASS lines,
    or the slot values a few intents take (a reminder's ritual, day part and time) would
    make their words ("to do our") the likeliest anywhere. Phrases with a first name are
    not repeated: otherwise the 1,800 names hold most of the unigram mass and any unclear
    word comes out as a name."""
    from pocketsphinx.lm import ArpaBoLM

    names = set(grammar.language.first_names)
    corpus: list[str] = []
    for phrases in grammar.phrases_by_intent().values():
        plain = [p for p in phrases if not names.intersection(p.split())]
        corpus += [p for p in phrases if names.intersection(p.split())]
        if plain:
            corpus += plain * max(NAME_FREE_WEIGHT, math.ceil(INTENT_MASS / len(plain)))
    builder = ArpaBoLM(text="\n".join(corpus), add_start=True)
    builder.compute()
    arpa = io.StringIO()
    builder.write(arpa)
    with tempfile.NamedTemporaryFile("w", suffix=".arpa", encoding="utf-8") as f:
        f.write(arpa.getvalue())
        f.flush()
        return pocketsphinx.NGramModel(decoder.config, decoder.logmath, f.name)


class SphinxStream(Stream):
    def __init__(self, recognizer: SphinxRecognizer, free_text: bool) -> None:
        self._r = recognizer
        self.free_text = free_text
        self.finished = False
        self._decoders = [recognizer._words, recognizer._strict]
        level = recognizer.noise_suppression
        self._denoiser = Denoiser(level) if level is not None else None
        for decoder in self._decoders:
            recognizer._fresh[id(decoder)].begin()

    def feed(self, pcm: bytes) -> None:
        if self.finished:
            raise RuntimeError("this utterance is finished")
        if len(pcm) % 2:
            raise ValueError("PCM must be whole 16-bit samples")
        self._decode(self._denoiser.clean(pcm) if self._denoiser else pcm)

    def _decode(self, pcm: bytes) -> None:
        if pcm:
            for decoder in self._decoders:
                decoder.process_raw(pcm, False, False)

    def partial(self) -> str:
        hyp = self._r._words.hyp()
        return hyp.hypstr if hyp else ""

    def abandon(self) -> None:
        if not self.finished:
            self.finished = True
            for decoder in self._decoders:
                decoder.end_utt()

    def finish(self) -> Transcript:
        if self.finished:
            raise RuntimeError("this utterance is finished")
        if self._denoiser:
            self._decode(self._denoiser.finish())
        self.abandon()
        said = _text(self._r._words)
        if not said:
            return Transcript("", 0.0, True)
        forced = _text(self._r._strict)
        if self.free_text:
            command = self._r.command_in_free_turn(said, forced)
            if command is not None:
                return Transcript(command, 1.0, False, ())
            return Transcript(said, 1.0, False, _words(self._r._words))
        readings = _readings(self._r._words, self._r._strict, said, forced)
        choice = choose(self._r.grammar, readings)
        words = _words(self._r._words) if choice.text == said else ()
        return Transcript(choice.text, choice.probability, not choice.accepted, words,
                          choice.probability, readings)


def _words(decoder: pocketsphinx.Decoder) -> tuple[Word, ...]:
    return tuple(Word(s.word.split("(")[0], 1.0, s.start_frame * _FRAME_S,
                      (s.end_frame + 1) * _FRAME_S)
                 for s in (decoder.seg() or ()) if s.word not in _FILLERS)


def _readings(words: pocketsphinx.Decoder, strict: pocketsphinx.Decoder, said: str,
              forced: str) -> Readings:
    said_acoustic, said_language = _fit(words)
    forced_acoustic, _ = _fit(strict)
    return Readings(said, forced, said_acoustic, forced_acoustic, said_language)


def _fit(decoder: pocketsphinx.Decoder) -> tuple[float, float]:
    """(acoustic log-likelihood per frame over the whole path, language-model log probability
    per word), in PocketSphinx's own log units (base 1.0001): it reports both as
    probabilities, and their logs are the scores it searched with."""
    segments = list(decoder.seg() or ())
    if not segments:
        return 0.0, 0.0
    frames = max(1, segments[-1].end_frame + 1 - segments[0].start_frame)
    acoustic = sum(_log(s.ascore) for s in segments) / frames
    spoken = [s for s in segments if s.word not in _FILLERS]
    language = sum(_log(s.lscore) for s in spoken) / len(spoken) if spoken else 0.0
    return acoustic, language


_LOG_BASE = math.log(1.0001)


def _log(p: float) -> float:
    return (math.log(p) if p > 0 else -745.0) / _LOG_BASE


def _text(decoder: pocketsphinx.Decoder) -> str:
    hyp = decoder.hyp()
    return " ".join(hyp.hypstr.split()) if hyp else ""
