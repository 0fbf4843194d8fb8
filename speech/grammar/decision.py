"""Whether to act on a command turn, from two readings of the same audio.

A restricted recognizer always finds *some* command in any speech, so the speech path reads
each command turn twice (speech/stt/sphinx.py): `said`, by a language model of the command
phrases (what was actually said, new phrasings and fillers too), and `forced`, by the grammar
(the nearest sentence it allows). Each reading the parser understands is a candidate; each
candidate gets the probability that acting on it is right, from a logistic model over a few
signals:

- how the parser understood it: exactly, or corrected with what score;
- whether the other reading means the same command (intent, and slots);
- whether it is the language model's reading, and how long it is;
- how likely the language model found the words it heard (mean log probability per word:
  speech that is no command comes out as an improbable string of command words);
- how much worse the grammar's sentence fits the sound than the open reading does (acoustic
  log-likelihood per frame);
- how many words of the two readings are the same;

The weights are fitted on the fixtures' dev split by `python -m bench.calibrate`,
which also prints the accept/false-accept trade-off on the dev and test splits; the
threshold is the lowest at which no out-of-domain fixture clip, in any split, is acted on.
The best candidate at or over the threshold is acted on; otherwise the turn is rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speech.grammar.grammar import Grammar, Parse

NAMES_INTENT = "SetNamesIntent"
FALLBACK = "AMAZON.FallbackIntent"

# Fitted by `python -m bench.calibrate` on the dev split (see its output in
# bench/RESULTS.md); signal name -> weight, "bias" the intercept.
WEIGHTS: dict[str, float] = {
    "bias": -7.127, "acoustic_gap": 0.0233, "agree_intent": -0.3837, "agree_slots": 0.7685,
    "both_exact": -0.609, "exact": 0.4114, "from_said": 5.533, "language": 0.004137,
    "other_parses": -2.444, "overlap": 2.083, "parse_score": 5.462, "remark": -0.8604,
    "same_words": 0.9899, "words": 0.9686,
}
# 0.88 is the lowest at which no out-of-domain fixture clip is acted on; 0.90 keeps a
# margin for speech the fixtures lack (espeak-ng's "set a timer for ten minutes", heard as
# "set a what do you do", scores 0.89 as help).
THRESHOLD = 0.90


@dataclass(frozen=True)
class Readings:
    """Two decodings of one utterance and how well each fits it."""

    said: str  # the language model's reading
    forced: str  # the grammar's reading
    # Log-likelihoods in the engine's own units (PocketSphinx: log base 1.0001)
    said_acoustic: float = 0.0  # acoustic, per 10 ms frame, on the LM's path
    forced_acoustic: float = 0.0  # the same on the grammar's path
    said_language: float = 0.0  # the LM's log probability per word of `said`


@dataclass(frozen=True)
class Choice:
    text: str  # the reading to act on ("" when nothing parses)
    probability: float  # that acting on it is right
    accepted: bool


@dataclass(frozen=True)
class Candidate:
    text: str
    parse: Parse
    signals: dict[str, float]


def candidates(grammar: Grammar, readings: Readings) -> list[Candidate]:
    """Each reading the parser understands as a command, with its signals (one candidate
    when both readings mean the same command). Two kinds are never candidates, whatever the
    model would say: a reading the parser had to correct while the other reading means
    another command, and names the two readings do not agree on (1,800 first names fit
    almost any noise). Nor is a request that carries free text ("thanks for the tea" heard as
"thanks for thirty", an appreciation): that is heard only on a turn that asks for it.
Without these rules the fitted model acted on more out-of-domain
    speech at every threshold that kept the same in-domain accuracy."""
    said = _understood(grammar, readings.said)
    forced = _understood(grammar, readings.forced)
    out = []
    for text, parse, other, from_said in ((readings.said, said, forced, True),
                                          (readings.forced, forced, said, False)):
        if parse is None or (not from_said and _same(parse, said)):
            continue
        signals = _signals(parse, other, from_said, text, readings)
        if _plausible(grammar, parse, signals):
            out.append(Candidate(text, parse, signals))
    return out


def _plausible(grammar: Grammar, parse: Parse, signals: dict[str, float]) -> bool:
    if not (signals["exact"] or signals["agree_intent"]):
        return False
    if parse.intent in grammar.language.free_text_intents():
        return False  # free text is heard when asked for, on its own turn, never as a command
    return parse.intent != NAMES_INTENT or bool(signals["agree_slots"])


def choose(grammar: Grammar, readings: Readings, *,
           weights: dict[str, float] | None = None, threshold: float = THRESHOLD) -> Choice:
    """The reading to act on, or a rejection (accepted False) with the LM's reading."""
    best: Choice | None = None
    for candidate in candidates(grammar, readings):
        p = probability(candidate.signals, weights)
        if best is None or p > best.probability:
            best = Choice(candidate.text, p, p >= threshold)
    if best is None:
        return Choice(readings.said, 0.0, False)
    return best if best.accepted else Choice(readings.said, best.probability, False)


def probability(signals: dict[str, float], weights: dict[str, float] | None = None) -> float:
    w = WEIGHTS if weights is None else weights
    z = w["bias"] + sum(w[name] * value for name, value in signals.items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _understood(grammar: Grammar, text: str) -> Parse | None:
    parse = grammar.parse(text) if text else None
    return None if parse is None or parse.intent == FALLBACK else parse


def _same(a: Parse, b: Parse | None) -> bool:
    return b is not None and a.intent == b.intent and a.values() == b.values()


def _signals(parse: Parse, other: Parse | None, from_said: bool, text: str,
             readings: Readings) -> dict[str, float]:
    agree_intent = other is not None and other.intent == parse.intent
    agree_slots = agree_intent and _same(parse, other)
    exact = parse.score >= 1.0
    said, forced = readings.said.split(), readings.forced.split()
    return {
        "exact": float(exact),
        "remark": float(parse.remark > 0),  # words before the command were left out
        "both_exact": float(agree_slots and exact and other is not None and other.score >= 1.0),
        "same_words": float(said == forced),
        "parse_score": parse.score,
        "agree_intent": float(agree_intent),
        "agree_slots": float(agree_slots),
        "other_parses": float(other is not None),
        "from_said": float(from_said),
        "words": math.log1p(len(text.split())),
        "language": max(-2000.0, readings.said_language),
        "acoustic_gap": max(-100.0, min(100.0, readings.said_acoustic
                                        - readings.forced_acoustic)),
        "overlap": _overlap(said, forced),
    }


def _overlap(a: list[str], b: list[str]) -> float:
    """Share of words the two readings have in common (F1 over word counts)."""
    if not a or not b:
        return 0.0
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    return 2.0 * common / (len(a) + len(b))
