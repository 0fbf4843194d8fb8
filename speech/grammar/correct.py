"""Correcting a near miss onto the nearest sentence of the grammar, or refusing to.

Slot values in the text are found first and stand in for their slot ("hug timer for forty
five seconds" -> "hug timer for <duration>"); the words are then aligned with each sample
(rapidfuzz's Indel alignment over word lists) and the differences priced by what kind of
word they are. Function words cost little: people add "could you", "for us", "the". A
content word of the sample that is missing costs a lot ("set a timer for twenty seconds"
lacks "hug"), and so does a word the grammar has never heard ("next song"). The best
sample's score is matched / (matched + cost); below the cutoff the text is out of domain.

A typo of a known word ("quesiton") is fixed first (rapidfuzz ratio) for typed chat.
Free text (AMAZON.SearchQuery) is never guessed: those samples need an exact match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from speech.grammar.durations import find_duration
from speech.grammar.model import DURATION, FIRST_NAME, SEARCH_QUERY, SLOT, TIME, Language
from speech.grammar.times import find_time, spoken_times

# Tuned on tests/fixtures/grammar/heldout.yaml; `python -m speech.grammar.evaluate` shows why.
DEFAULT_CUTOFF = 0.7
TYPO_CUTOFF = 84.0  # rapidfuzz ratio for fixing one typed word onto a known one

# Words that carry no command of their own: articles, pronouns, prepositions, auxiliaries,
# politeness and fillers, and the generic verbs every command is built with.
_LIGHT_WORDS = """
a an the this that these those some any one ones it its it's
i me my mine we us our ours you your yours he she him her his they them their
i'm we're you're i'd we'd i'll we'll i've we've let's let
am is are was were be been being do does did doing done have has had having
can could would will shall should may might must
to for of about with on in at from by into up out over so and or but if then than
please thanks thank okay all right well just now maybe really actually kind sort bit
um uh er erm hmm oh hey hi hello alexa like also too again still
quick little short nice good real new right today tonight here there
give get got make made start begin set want need wanna would like have take let
ask tell read say share hear play pick draw go come talk back
what how which who something anything
"""
LIGHT = frozenset(_LIGHT_WORDS.split())

W_LIGHT, W_HEAVY = 0.1, 1.0  # a sample's word, matched
M_LIGHT, M_HEAVY = 0.1, 2.0  # a sample's word the text lacks
X_LIGHT, X_KNOWN, X_UNKNOWN = 0.05, 0.6, 1.0  # an extra word in the text


@dataclass(frozen=True)
class Sample:
    intent: str
    text: str  # as in the model, slots as {name}
    tokens: tuple[str, ...]  # slots as <type>
    slot_names: tuple[str, ...]
    kinds: frozenset[str]  # slot types it needs


@dataclass(frozen=True)
class Correction:
    text: str  # the grammar sentence, slots filled with what was said
    intent: str
    score: float


class Corrector:
    def __init__(self, language: Language, variants: Callable[[str], set[str]]) -> None:
        # One-word synonyms of the same custom value are one word here ("thankful" is
        # "grateful"): the model itself says they mean the same.
        self._same = {said: f"~{ident}" for t in language.types.values()
                      for said, ident in t.synonyms.items() if " " not in said}
        self._finders = {DURATION: _durations, TIME: find_time,
                         FIRST_NAME: _lookup(language.first_names)}
        # A value made of light words only ("us", "about us") is never guessed in a near
        # miss: "a question for us" asks for any card. Said exactly, it still counts.
        self._finders |= {k: _lookup(s for s in t.synonyms if not set(s.split()) <= LIGHT)
                          for k, t in language.types.items()}
        self.samples: list[Sample] = []
        words: set[str] = set()
        for intent in language.intents.values():
            for sample in intent.samples:
                if SEARCH_QUERY in (intent.slots.get(s) for s in SLOT.findall(sample)):
                    continue
                for text in sorted(variants(sample)):
                    self.samples.append(self._sample(intent.name, text, intent.slots))
                    words.update(t for t in text.split() if not t.startswith("{"))
        for custom in language.types.values():
            words.update(w for said in custom.synonyms for w in said.split())
        self.known = frozenset(words) | {w for s in _durations_words() for w in s} | {
            w for said in spoken_times() for w in said.split()}
        self._names = frozenset(language.first_names)
        self._typo_targets = sorted(w for w in self.known if len(w) >= 3)
        self._index: dict[str, list[int]] = {}
        for k, sample in enumerate(self.samples):
            for token in set(sample.tokens) - LIGHT:
                self._index.setdefault(token, []).append(k)

    def correct(self, tokens: list[str], cutoff: float = DEFAULT_CUTOFF) -> Correction | None:
        best = self.nearest(tokens)
        return best if best and best.score >= cutoff else None

    def nearest(self, tokens: list[str]) -> Correction | None:
        """The nearest grammar sentence and its score, however low."""
        tokens = [self._fix_typo(t) for t in tokens]
        views = {kinds: _delexicalize(tokens, [self._finders[k] for k in sorted(kinds)],
                                      sorted(kinds))
                 for kinds in {s.kinds for s in self.samples}}
        views = {k: (self._canonical(view), spans) for k, (view, spans) in views.items()}
        candidates: set[int] = set()
        for view, _ in views.values():
            for token in view:
                candidates.update(self._index.get(token, ()))
        best: Correction | None = None
        for k in sorted(candidates):
            sample = self.samples[k]
            view, spans = views[sample.kinds]
            scored = self._score(view, sample)
            if scored is not None and (best is None or scored[0] > best.score):
                values = [spans[i] for i in scored[1]]
                best = Correction(_fill(sample, values), sample.intent, scored[0])
        return best

    def _canonical(self, tokens: list[str]) -> list[str]:
        """Plurals as singulars and same-meaning words as one, for comparing only."""
        out = []
        for token in tokens:
            if token not in LIGHT and not token.startswith("<"):
                token = self._same.get(token, token)
                if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
                    token = self._same.get(token[:-1], token[:-1])
            out.append(token)
        return out

    def _sample(self, intent: str, text: str, slots: dict[str, str]) -> Sample:
        names = tuple(SLOT.findall(text))
        raw = [f"<{slots[t[1:-1]]}>" if t.startswith("{") else t for t in text.split()]
        tokens = tuple(self._canonical(raw))
        return Sample(intent, text, tokens, names, frozenset(slots[n] for n in names))

    def _fix_typo(self, token: str) -> str:
        if token in self.known or token in LIGHT or token in self._names or len(token) < 3:
            return token
        hit = process.extractOne(token, self._typo_targets, scorer=fuzz.ratio,
                                 score_cutoff=TYPO_CUTOFF)
        return hit[0] if hit else token

    def _score(self, view: list[str], sample: Sample) -> tuple[float, list[int]] | None:
        """The score, and where in the text each of the sample's slots was filled."""
        matched = cost = 0.0
        filled: list[int] = []
        for op in Indel.opcodes(view, list(sample.tokens)):
            if op.tag == "equal":
                matched += sum(self._weight(t) for t in sample.tokens[op.dest_start:op.dest_end])
                filled += [i for i in range(op.src_start, op.src_end) if view[i].startswith("<")]
            elif op.tag == "insert":  # the sample has words the text lacks
                missing = sample.tokens[op.dest_start:op.dest_end]
                if any(t.startswith("<") for t in missing):
                    return None  # a slot we have no value for
                cost += sum(M_LIGHT if t in LIGHT else M_HEAVY for t in missing)
            else:  # the text has words the sample lacks
                cost += sum(self._extra(t) for t in view[op.src_start:op.src_end])
        return (matched / (matched + cost) if matched else 0.0), filled

    @staticmethod
    def _weight(token: str) -> float:
        return W_LIGHT if token in LIGHT else W_HEAVY

    def _extra(self, token: str) -> float:
        if token in LIGHT:
            return X_LIGHT
        known = token in self.known or token.startswith(("<", "~")) or token + "s" in self.known
        return X_KNOWN if known else X_UNKNOWN


Finder = Callable[[list[str], int], "tuple[int, str] | None"]


def _durations(tokens: list[str], start: int) -> tuple[int, str] | None:
    return find_duration(tokens, start)


def _durations_words() -> list[list[str]]:
    from speech.grammar.durations import spoken_durations

    return [said.split() for said in spoken_durations()]


def _lookup(values) -> Finder:
    table = set(values)
    longest = max((len(v.split()) for v in table), default=1)

    def find(tokens: list[str], start: int) -> tuple[int, str] | None:
        for end in range(min(len(tokens), start + longest), start, -1):
            if " ".join(tokens[start:end]) in table:
                return end, " ".join(tokens[start:end])
        return None

    return find


def _delexicalize(tokens: list[str], finders: list[Finder], kinds: list[str]):
    """Tokens with each slot value replaced by <type>, and what was said there."""
    view: list[str] = []
    spans: dict[int, str] = {}
    i = 0
    while i < len(tokens):
        for finder, kind in zip(finders, kinds, strict=True):
            found = finder(tokens, i)
            if found:
                spans[len(view)] = " ".join(tokens[i:found[0]])
                view.append(f"<{kind}>")
                i = found[0]
                break
        else:
            view.append(tokens[i])
            i += 1
    return view, spans


def _fill(sample: Sample, values: list[str]) -> str:
    """The sample with its slots filled by the values said there."""
    said = iter(values)
    return " ".join(next(said) if t.startswith("{") else t for t in sample.text.split())
