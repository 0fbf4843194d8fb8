"""Exact matching of normalized text against the model's samples, with hassil: each sample
is a hassil template, each slot type a hassil list (custom values and synonyms -> id,
spoken durations -> ISO-8601, spoken times -> AMAZON.TIME values, first names, a wildcard
for AMAZON.SearchQuery)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hassil import Intents, TextSlotList, WildcardSlotList, recognize_all
from hassil.intents import SlotList

from speech.grammar.durations import spoken_durations
from speech.grammar.model import DURATION, FIRST_NAME, SEARCH_QUERY, SLOT, TIME, Language
from speech.grammar.text import spelling_variants
from speech.grammar.times import spoken_times


@dataclass(frozen=True)
class Match:
    intent: str
    slots: dict[str, tuple[str, str, str | None]]  # slot -> (spoken, value, resolved id)
    literal: int  # characters matched by the template's own words, not by slots
    wildcard: bool


def list_name(slot_type: str) -> str:
    return re.sub(r"\W", "_", slot_type)


class ExactMatcher:
    def __init__(self, language: Language) -> None:
        self._types = {}  # list name -> slot type
        data = {}
        for intent in language.intents.values():
            sentences = []
            for sample in intent.samples:
                template = SLOT.sub(
                    lambda m, slots=intent.slots: f"{{{list_name(slots[m[1]])}:{m[1]}}}", sample
                )
                sentences.extend(sorted(spelling_variants(template)))
            if sentences:
                data[intent.name] = {"data": [{"sentences": sentences}]}
            for kind in intent.slots.values():
                self._types[list_name(kind)] = kind
        self._intents = Intents.from_dict({"language": "en", "intents": data})
        self._lists = {name: _slot_list(kind, language) for name, kind in self._types.items()}
        self._custom = {list_name(k): t for k, t in language.types.items()}

    def match(self, text: str, intents: frozenset[str] | None = None) -> Match | None:
        """The best match. Between intents, the one whose template words cover most of the
        text ("rose and thorn" is a check-in even if both were names); within an intent,
        the reading that fills most slots ("hug for two minutes" is a sample, but the
        couple asked for two minutes)."""
        matches = [
            self._match(text, result)
            for result in recognize_all(text, self._intents, slot_lists=self._lists)
            if intents is None or result.intent.name in intents
        ]
        if not matches:
            return None
        top = max(matches, key=lambda m: (m.literal, not m.wildcard))
        same = [m for m in matches if m.intent == top.intent and m.wildcard == top.wildcard]
        return max(same, key=lambda m: (len(m.slots), m.literal))

    def _match(self, text: str, result) -> Match:
        slots = {}
        wildcard = False
        for name, entity in result.entities.items():
            spoken = " ".join(str(entity.text).split())
            if entity.is_wildcard:
                wildcard = True
                slots[name] = (spoken, spoken, None)
            elif isinstance(entity.value, tuple):  # custom type: (value id)
                slots[name] = (spoken, entity.value[0], entity.value[0])
            else:
                slots[name] = (spoken, str(entity.value), None)
        literal = len(text.replace(" ", "")) - sum(len(s[0].replace(" ", ""))
                                                   for s in slots.values())
        return Match(result.intent.name, slots, literal, wildcard)


def _slot_list(kind: str, language: Language) -> SlotList:
    if kind == SEARCH_QUERY:
        return WildcardSlotList(name=list_name(kind))
    if kind == DURATION:
        pairs = list(spoken_durations().items())
    elif kind == TIME:
        pairs = list(spoken_times().items())
    elif kind == FIRST_NAME:
        pairs = [(name, name) for name in language.first_names]
    else:
        pairs = [(said, (ident,)) for said, ident in language.types[kind].synonyms.items()]
    return TextSlotList.from_tuples(pairs, allow_template=False, name=list_name(kind))
