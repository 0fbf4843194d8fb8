"""The parser: text (what a recognizer heard, or what was typed) -> intent and slots, with
Alexa's slot semantics, or None for anything that is not a command of this skill."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path

import speech.grammar.export as export
import speech.grammar.model as model
from skill.interaction_model import ASK_VERBS, LAUNCH_VERBS
from speech.grammar.correct import DEFAULT_CUTOFF, Corrector
from speech.grammar.exact import ExactMatcher, Match
from speech.grammar.model import Language
from speech.grammar.text import spelling_variants, words

LAUNCH = "LaunchRequest"
FALLBACK = "AMAZON.FallbackIntent"
NAMES_INTENT = "SetNamesIntent"
# In a free-text turn only these win over the text itself: everything else said is the answer.
FREE_TEXT_COMMANDS = frozenset({
    "AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.RepeatIntent",
    "AMAZON.StartOverIntent", "AMAZON.NavigateHomeIntent", "AMAZON.NextIntent",  # "skip"
    "ForgetUsIntent",  # privacy first: "forget us" is never saved as an appreciation
    # Care first: fear or distress said in an appreciation turn is never saved as praise.
    "SafetyIntent", "HardTimesIntent",
})

_LEADING = ("alexa", "hey", "okay", "please", "so", "um", "uh", "er", "erm", "hmm", "well",
            "oh", "all right", "hi", "hello", "and", "now", "sorry", "excuse me", "actually")
_TRAILING = ("please", "alexa", "now", "then", "okay", "tonight",
             "right now")
# A thank-you at the end is courtesy ("we're done thanks"), but only after the words with it
# were tried: "okay thanks" is a thank-you, not an "okay".
_COURTESY = ("thanks", "thank you")
_POLITE = ("i want you to", "we want you to", "can you please", "could you please",
           "can you", "could you", "would you", "will you", "can we", "could we",
           "i'd like to", "we'd like to", "i want to", "we want to", "i'd like", "we'd like",
           "let's", "just", "please")
_ASK_JOINERS = ("to", "for", "about", "that", "if", "whether", "and", "we", "us")
_LAUNCH_JOINERS = ("and", "then", "to", "and then")
_TAIL_JOINERS = ("with", "using", "from", "on", "in", "via")
MAX_REMARK, MIN_COMMAND = 6, 3  # words before a command, words of the command
_NEGATIONS = frozenset({"not", "don't", "dont", "never", "no", "won't", "can't", "cannot",
                        "didn't", "doesn't", "without", "stop"})
_REMARK_JOINERS = frozenset({"to", "when", "if", "that", "and", "or", "said", "says", "told",
                             "like", "about", "how", "why", "because", "you", "we", "i",
                             "they", "he", "she", "it", "should", "could", "would", "will",
                             "can", "might", "must", "gonna", "wanna"})


@dataclass(frozen=True)
class SlotValue:
    spoken: str  # words as heard, e.g. "a minute and a half", "silly"
    value: str  # CardCategory id, ISO-8601 duration, lower-case first name, or free text
    resolved_id: str | None = None  # entity-resolution id for custom types (CardCategory)


@dataclass(frozen=True)
class Parse:
    intent: str  # e.g. "QuestionIntent", "AMAZON.StopIntent", "LaunchRequest"
    slots: dict[str, SlotValue] = field(default_factory=dict)
    score: float = 1.0  # 1.0 for an exact match; the correction score for a near miss
    remark: int = 0  # words heard before the command as a remark, and left out

    def values(self) -> dict[str, str]:
        """Slot name -> resolved value, as `closer recognize --json` prints them."""
        return {name: slot.value for name, slot in self.slots.items()}


class Grammar:
    """The interaction model compiled for the speech path."""

    def __init__(self, language: Language, cutoff: float = DEFAULT_CUTOFF) -> None:
        self.language = language
        self.cutoff = cutoff
        self._exact = ExactMatcher(language)
        self._invocation = language.invocation.split()
        self._free_text = {f"{i}.{s}": (i, s) for i, s in language.free_text_slots()}
        # What a free-text turn may switch to: any intent but those answering and yes/no.
        self._switchable = frozenset(language.intents) - {
            i for i, _ in self._free_text.values()} - {"AMAZON.YesIntent", "AMAZON.NoIntent"}

    @classmethod
    def load(cls, path: Path | None = None) -> Grammar:
        """Default: interaction_models/en-US.json."""
        return cls(model.load(path))

    @cached_property
    def corrector(self) -> Corrector:
        return Corrector(self.language, spelling_variants)

    def parse(self, text: str, *, expecting: str | None = None,
              cutoff: float | None = None) -> Parse | None:
        """None = out of domain or not understood. expecting="ShareAppreciationIntent.
        appreciation" is a free-text turn: the whole text is the answer unless it is
        clearly a command (stop, cancel, help, repeat, start over). cutoff: the near-miss
        correction's minimum score (1.0 = exact matches only); default: the tuned one."""
        tokens = words(text)
        if not tokens:
            return None
        if expecting in self._free_text:
            return self._free(text, tokens, *self._free_text[expecting])
        cutoff = self.cutoff if cutoff is None else cutoff
        if expecting is not None and expecting.startswith(f"{NAMES_INTENT}."):
            # Asked for their names: "Aoife and Tadhg" alone is an answer, not a stray remark.
            return (self._command(tokens, 1.0) or two_names(text, bare=True)
                    or self._command(tokens, cutoff))
        return self._command(tokens, cutoff) or two_names(text)

    def command_phrases(self) -> list[str]:
        """What a command can be, lower case, for Vosk's runtime grammar (no [unk])."""
        return list(self._phrases)

    def phrases_by_intent(self) -> dict[str, list[str]]:
        """The command phrases grouped by the intent they say ("launch": opening the skill)."""
        return export.phrases_by_intent(self.language)

    def jsgf(self) -> str:
        """The command language as a JSGF grammar (PocketSphinx), public rule <command>."""
        return self._jsgf

    def vocabulary(self) -> set[str]:
        """Every word the command grammar can produce."""
        return set(self._vocabulary)

    @cached_property
    def _phrases(self) -> tuple[str, ...]:
        return tuple(export.command_phrases(self.language))

    @cached_property
    def _jsgf(self) -> str:
        return export.jsgf(self.language)

    @cached_property
    def _vocabulary(self) -> frozenset[str]:
        return frozenset(export.vocabulary(self._jsgf))

    def _command(self, tokens: list[str], cutoff: float) -> Parse | None:
        invoked = self._invoked(_strip(tokens, _LEADING, lead=True))
        if invoked is not None:
            if not invoked or " ".join(invoked) in _TRAILING:  # "open closer together please"
                return Parse(LAUNCH)
            return self._understand(invoked, cutoff) or Parse(FALLBACK, score=0.0)
        return self._understand(tokens, cutoff)

    def _understand(self, tokens: list[str], cutoff: float) -> Parse | None:
        exact = self._first_exact(_readings(tokens)) or self._after_a_remark(tokens)
        if exact or cutoff >= 1.0:
            return exact
        unled = _strip(tokens, _LEADING, lead=True)
        if _exclamation(unled):  # "oh, what a question"
            return None
        core = _strip(unled, _TRAILING, lead=False) or tokens
        fixed = self.corrector.correct(core, cutoff)
        if fixed is None:
            return None
        match = self._exact.match(fixed.text)
        return _parse(match, fixed.score) if match else None

    def _free(self, text: str, tokens: list[str], intent: str, slot: str) -> Parse | None:
        readings = _readings(tokens)
        command = self._first_exact(readings, FREE_TEXT_COMMANDS)
        # A whole request of its own ("a question about our dreams") switches, as Alexa's
        # dialog would; short ones ("a hug") may be what someone appreciated.
        if command is None and len(tokens) >= MIN_COMMAND:
            command = self._first_exact(readings, self._switchable)
        if command is not None:
            return command
        said = " ".join(text.split()).strip(" ,.!?;:")
        if said.lower().startswith("alexa"):
            said = said[5:].lstrip(" ,")
        return Parse(intent, {slot: SlotValue(said, said)}) if said else None

    def _after_a_remark(self, tokens: list[str]) -> Parse | None:
        for ending in _after_a_remark(tokens):
            match = self._exact.match(" ".join(ending))
            if match:
                return replace(_parse(match), remark=len(tokens) - len(ending))
        return None

    def _first_exact(self, candidates: list[list[str]],
                     intents: frozenset[str] | None = None) -> Parse | None:
        """The first candidate wording that matches a sample exactly."""
        for candidate in candidates:
            match = self._exact.match(" ".join(candidate), intents)
            if match:
                return _parse(match)
        return None

    def _invoked(self, tokens: list[str]) -> list[str] | None:
        """What was said to the skill by name: [] for just opening it, the rest for a
        one-shot ("ask closer together to give us a question"); None if not named."""
        n = len(self._invocation)
        at = next((i for i in range(len(tokens) - n + 1)
                   if tokens[i:i + n] == self._invocation), None)
        if at is None:
            return None
        before, after = tokens[:at], tokens[at + n:]
        verb = " ".join(before)
        if verb in ASK_VERBS:
            return _strip(after, _ASK_JOINERS, lead=True, once=True)
        if verb in LAUNCH_VERBS or not before:
            return _strip(after, _LAUNCH_JOINERS, lead=True, once=True)
        if before and before[-1] in ("with", "using", "from", "on", "in", "via") and not after:
            return before[:-1]
        return None


# Two first names in the sentences people introduce themselves with, for names the bundled
# list lacks ("we are Xochitl and Nnamdi", "I'm Aoife, this is Tadhg", "Mary Ann and
# Jean-Luc"); each name is one or two words of any alphabet.
_NAME = r"[^\W\d_][\w'’-]*"
_INTRODUCTION = (r"(?:we are|we're|our names are|our names're|it's|this is|i'm|i am|"
                 r"my name is)\s+")
_TWO_NAMES = re.compile(
    rf"^(?:(?:hi|hello|hey|okay|so|well|um)\s+)*(?P<intro>{_INTRODUCTION})?"
    rf"(?P<first>{_NAME}(?:\s+{_NAME})?)\s+"
    rf"(?:and\s+(?:this is\s+|i'm\s+|i am\s+|my partner is\s+|my partner's\s+)?|this is\s+)"
    rf"(?P<second>{_NAME}(?:\s+{_NAME})?)$")
# Words that end such a sentence as a description, not a name ("we are tired and hungry").
_NOT_NAMES = frozenset(  # a word list reads best as words
    "a an the and or but so very really too just both all not "  # noqa: SIM905
    "no here there home back out in "
    "on at up ready done tired hungry happy sad bored busy fine good okay ok great well sleepy "
    "late lost together married engaged friends partners dating new old young excited stressed "
    "worried scared afraid angry upset calm exhausted sick ill free stuck trying going having "
    "doing being looking waiting talking fighting arguing sorry glad grateful thankful lucky "
    "close far apart finished hungover cold hot warm cozy comfy relaxed curious nervous "
    "hopeful alone lonely".split())


def two_names(text: str, *, bare: bool = False) -> Parse | None:
    """SetNamesIntent for "we are X and Y" and the like, whatever the names; ``bare``: also
    "X and Y" alone, as an answer to being asked for names. None if the sentence is not one
    of those, or a "name" is an everyday word."""
    said = " ".join(re.sub(r"[^\w'’\s-]", " ", text.lower()).split())
    found = _TWO_NAMES.match(said)
    if found is None or not (bare or found.group("intro")):
        return None
    first, second = found.group("first"), found.group("second")
    if _NOT_NAMES.intersection(f"{first} {second}".split()):
        return None
    return Parse("SetNamesIntent", {"firstName": SlotValue(first, first),
                                    "secondName": SlotValue(second, second)}, score=0.9)


# How a reaction or a remark about a question starts ("what a question", "i have a question
# for you"): near a sample in words, never a request to the skill unless said exactly.
_EXCLAMATIONS = (("what", "a"), ("what", "an"), ("such", "a"), ("i", "have", "a"),
                 ("i've", "got", "a"), ("that's", "a"), ("that", "was", "a"), ("that", "is", "a"),
                 ("good", "question"), ("great", "question"), ("good", "questions"))


def _exclamation(tokens: list[str]) -> int:
    """How many words of an exclamation's opening the text starts with (0: none)."""
    return next((len(o) for o in _EXCLAMATIONS if tuple(tokens[:len(o)]) == o), 0)


def _readings(tokens: list[str]) -> list[list[str]]:
    """The text as said, then without fillers and courtesies around it ("um, could you
    ... please"): "okay" alone is a yes, "okay stop" is a stop."""
    out = [tokens]
    for affixes, lead in ((_LEADING, True), (_TRAILING, False), (_POLITE, True),
                          (_COURTESY, False)):
        for reading in list(out):
            bare = _strip(reading, affixes, lead=lead)
            if bare != reading and bare not in out:
                out.append(bare)
    return out


def _after_a_remark(tokens: list[str]) -> list[list[str]]:
    """A command said after a short remark ("we're bored, give us a question"): the endings
    of at least MIN_COMMAND words after at most MAX_REMARK, longest first, tried for exact
    matches only. Not after a negation ("we don't want a hug" is no hug) or a joiner."""
    if _NEGATIONS.intersection(tokens):
        return []
    last = min(MAX_REMARK, len(tokens) - MIN_COMMAND)
    # "such a fun question" is a reaction: an exclamation's own words are never the command.
    first = 1 + _exclamation(tokens)
    # "remind me to hug", "when you ask us a question", "the weather and a hug": the words
    # after a joiner belong to the remark, not to a command of their own.
    return [tokens[k:] for k in range(first, last + 1) if tokens[k - 1] not in _REMARK_JOINERS]


def _strip(tokens: list[str], affixes: tuple[str, ...], *, lead: bool,
           once: bool = False) -> list[str]:
    """Tokens without the given words at the start (lead) or end, repeatedly."""
    out = list(tokens)
    changed = True
    while changed and out:
        changed = False
        for affix in affixes:
            a = affix.split()
            if lead and out[:len(a)] == a and len(out) > len(a):
                out, changed = out[len(a):], True
            elif not lead and out[-len(a):] == a and len(out) > len(a):
                out, changed = out[:-len(a)], True
            if changed:
                break
        if once:
            break
    return out


def _parse(match: Match, score: float = 1.0) -> Parse:
    slots = {name: SlotValue(*value) for name, value in match.slots.items()}
    return Parse(match.intent, slots, score)


@cache
def default_grammar() -> Grammar:
    return Grammar.load()
