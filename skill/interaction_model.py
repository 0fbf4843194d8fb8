"""The interaction model (interaction_models/en-US.json), read in one place: its intents,
their slots and samples, and the custom slot types with their values and synonyms.

The speech grammar, the skill package, the local speaker's envelopes and the tests all take
the model from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parents[1] / "interaction_models" / "en-US.json"

# How people open a skill, and how they ask it for something in one breath, as Alexa hears
# them: "open closer together", "ask closer together to start a hug".
LAUNCH_VERBS = ("open", "start", "launch", "begin", "run", "load", "play", "use", "talk to",
                "go to", "let's play", "let's open", "let's start", "let's use")
ASK_VERBS = ("ask", "tell")


@dataclass(frozen=True)
class Intent:
    name: str
    slots: dict[str, str]  # slot name -> slot type
    samples: tuple[str, ...]  # as written, slots as {name}


@dataclass(frozen=True)
class SlotType:
    name: str
    values: dict[str, str]  # value id -> canonical name
    synonyms: dict[str, tuple[str, ...]]  # value id -> synonyms (without the name)

    def spoken(self) -> dict[str, str]:
        """Every way to say a value (its name and synonyms) -> the value's id."""
        out: dict[str, str] = {}
        for ident, name in self.values.items():
            for said in (name, *self.synonyms[ident]):
                out.setdefault(said, ident)
        return out


@dataclass(frozen=True)
class InteractionModel:
    invocation: str
    intents: dict[str, Intent]
    types: dict[str, SlotType]
    raw: dict  # the file as parsed, for the skill package (never modified)

    def slot_types(self, intent: str) -> dict[str, str]:
        """The intent's slots -> their types; {} for an intent the model does not define."""
        found = self.intents.get(intent)
        return dict(found.slots) if found else {}

    def is_custom(self, slot_type: str) -> bool:
        return slot_type in self.types


def parse(raw: dict) -> InteractionModel:
    language = raw["interactionModel"]["languageModel"]
    intents = {
        intent["name"]: Intent(
            intent["name"],
            {slot["name"]: slot["type"] for slot in intent.get("slots") or []},
            tuple(intent.get("samples") or ()),
        )
        for intent in language["intents"]
    }
    types = {}
    for kind in language.get("types", []):
        values, synonyms = {}, {}
        for value in kind["values"]:
            name = value["name"]["value"]
            ident = value.get("id") or name
            values[ident] = name
            synonyms[ident] = tuple(value["name"].get("synonyms") or ())
        types[kind["name"]] = SlotType(kind["name"], values, synonyms)
    return InteractionModel(language["invocationName"], intents, types, raw)


def load(path: Path = MODEL_PATH) -> InteractionModel:
    return parse(json.loads(Path(path).read_text(encoding="utf-8")))


@cache
def default_model() -> InteractionModel:
    """The skill's own model, read once per process."""
    return load()
