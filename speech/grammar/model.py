"""The interaction model as the speech path needs it: each intent's samples (with the
built-in intents' phrases Alexa would supply merged in), slot types and their values.
The file itself is read by skill/interaction_model.py, the one reader of the model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from skill import interaction_model
from speech.grammar.text import words

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data"
BUILTINS_PATH = DATA / "builtins.yaml"
NAMES_PATH = DATA / "first_names.txt"

DURATION, FIRST_NAME, SEARCH_QUERY = "AMAZON.DURATION", "AMAZON.FirstName", "AMAZON.SearchQuery"
TIME = "AMAZON.TIME"
BUILTIN_TYPES = frozenset({DURATION, FIRST_NAME, SEARCH_QUERY, TIME})
SLOT = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class CustomType:
    name: str
    synonyms: dict[str, str]  # normalized value or synonym -> value id
    values: dict[str, str]  # value id -> canonical value


@dataclass(frozen=True)
class Language:
    invocation: str
    intents: dict[str, interaction_model.Intent]  # samples normalized, slot variants added
    types: dict[str, CustomType]
    first_names: tuple[str, ...]

    def free_text_slots(self) -> set[tuple[str, str]]:
        return {(i.name, s) for i in self.intents.values()
                for s, kind in i.slots.items() if kind == SEARCH_QUERY}

    def free_text_intents(self) -> set[str]:
        """Intents that carry free text (an appreciation): heard only when asked for."""
        return {intent for intent, _ in self.free_text_slots()}


def normalize_sample(sample: str) -> str:
    """A sample's words normalized as input text is; {slot} references kept."""
    parts = SLOT.split(sample)
    out = []
    for k, part in enumerate(parts):
        out.append(f"{{{part}}}" if k % 2 else " ".join(words(part)))
    return " ".join(" ".join(out).split())


def load(path: Path | None = None) -> Language:
    """The skill's model (interaction_models/en-US.json), or the one at ``path``."""
    source = interaction_model.load(path) if path else interaction_model.default_model()
    return compile_model(source)


def compile_model(source: interaction_model.InteractionModel) -> Language:
    """A model (any locale's) as the speech path reads it."""
    types = {name: _custom_type(kind) for name, kind in source.types.items()}
    builtins = yaml.safe_load(BUILTINS_PATH.read_text(encoding="utf-8"))
    intents = {}
    for intent in source.intents.values():
        for slot, kind in intent.slots.items():
            if kind not in types and kind not in BUILTIN_TYPES:
                raise ValueError(f"{intent.name}.{slot}: slot type {kind} is not supported")
        phrases = list(builtins.get(intent.name, [])) + list(intent.samples)
        normalized = [normalize_sample(str(p)) for p in phrases]
        samples = tuple(dict.fromkeys(_with_slots(normalized, intent.slots, types)))
        intents[intent.name] = interaction_model.Intent(intent.name, dict(intent.slots), samples)
    return Language(normalize_sample(source.invocation), intents, types, _first_names())


def _with_slots(samples: list[str], slots: dict[str, str], types: dict) -> list[str]:
    """Each sample, and after it the sample with a slot value it spells out turned into
    that slot: "hug for two minutes" also as "hug for {duration}", so the couple gets the
    two minutes they asked for, as Alexa's model generalizes from such samples.

    A value spelled with a word the intent asks with is left as it is: "us" and "love" are
    card categories, but "give us a question" and "we'd love a question" ask for any card."""
    spoken: dict[str, str] = {}  # value as said -> slot
    for slot, kind in slots.items():
        if kind == DURATION:
            from speech.grammar.durations import spoken_durations

            spoken |= dict.fromkeys(spoken_durations(), slot)
        elif kind == TIME:
            from speech.grammar.times import spoken_times

            spoken |= dict.fromkeys(spoken_times(), slot)
        elif kind in types:
            spoken |= dict.fromkeys(types[kind].synonyms, slot)
    asking = {word for sample in samples if SLOT.search(sample)
              for word in SLOT.sub(" ", sample).split()}
    out = []
    for sample in samples:
        out.append(sample)
        tokens = sample.split()
        for size in range(min(9, len(tokens)), 0, -1):
            hits = [i for i in range(len(tokens) - size + 1)
                    if " ".join(tokens[i:i + size]) in spoken]
            if hits:
                i = hits[0]
                slot = spoken[" ".join(tokens[i:i + size])]
                if f"{{{slot}}}" not in sample and not asking & set(tokens[i:i + size]):
                    out.append(" ".join(tokens[:i] + [f"{{{slot}}}"] + tokens[i + size:]))
                break
    return out


def _custom_type(kind: interaction_model.SlotType) -> CustomType:
    synonyms: dict[str, str] = {}
    for ident, name in kind.values.items():
        for said in [name, *kind.synonyms[ident]]:
            synonyms.setdefault(" ".join(words(said)), ident)
    return CustomType(kind.name, synonyms, dict(kind.values))


def _first_names() -> tuple[str, ...]:
    lines = NAMES_PATH.read_text(encoding="utf-8").splitlines()
    names = (" ".join(words(line)) for line in lines if line.strip() and not line.startswith("#"))
    return tuple(dict.fromkeys(n for n in names if n))
