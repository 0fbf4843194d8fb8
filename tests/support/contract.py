"""The contracts of ../shared/DESIGN.md that several tests check: the intents and their slot
types, the card categories, and the rules Alexa applies to sample utterances."""

from __future__ import annotations

import re

CUSTOM_INTENTS = {
    "QuestionIntent": {"category": "CardCategory"},
    "HugIntent": {"duration": "AMAZON.DURATION"},
    "AppreciationRoundIntent": {},
    "QuietAppreciationRoundIntent": {},
    "ShareAppreciationIntent": {"appreciation": "AMAZON.SearchQuery"},
    "CheckInIntent": {},
    "JournalIntent": {},
    "SetNamesIntent": {"firstName": "AMAZON.FirstName", "secondName": "AMAZON.FirstName"},
    "ForgetUsIntent": {},
}
BUILTIN_INTENTS = {
    "AMAZON.NextIntent",
    "AMAZON.RepeatIntent",
    "AMAZON.HelpIntent",
    "AMAZON.StopIntent",
    "AMAZON.CancelIntent",
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
    "AMAZON.StartOverIntent",
    "AMAZON.FallbackIntent",
    "AMAZON.NavigateHomeIntent",
}
CANONICAL_CATEGORIES = {
    "fun",
    "deep",
    "dreams",
    "memories",
    "gratitude",
    "values",
    "ideas",
    "adventure",
}

SLOT_REF = re.compile(r"\{([^{}]*)\}")
# lowercase words, apostrophes, periods (abbreviations), spaces and {slot} references
_TOKEN = r"(?:[a-z'.]+|\{[A-Za-z][A-Za-z0-9_]*\})"
SAMPLE_CHARS = re.compile(rf"^{_TOKEN}(?: {_TOKEN})*$")
