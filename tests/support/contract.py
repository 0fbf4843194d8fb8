"""The contracts of ../shared/DESIGN.md that several tests check: the intents and their slot
types, the card categories, and the rules Alexa applies to sample utterances."""

from __future__ import annotations

import re

CUSTOM_INTENTS = {
    "QuestionIntent": {"category": "CardCategory", "depth": "CardDepth"},
    "HugIntent": {"duration": "AMAZON.DURATION", "again": "HugAgain"},
    "AppreciationRoundIntent": {},
    "QuietAppreciationRoundIntent": {},
    "ShareAppreciationIntent": {"appreciation": "AMAZON.SearchQuery"},
    "ThanksIntent": {},
    "CheckInIntent": {},
    "DeepConversationIntent": {},
    "ListeningPracticeIntent": {"duration": "AMAZON.DURATION"},
    "JournalIntent": {},
    "WeekIntent": {},
    "ReminderIntent": {"ritual": "RitualType", "time": "AMAZON.TIME", "daypart": "DayPart"},
    "StopRemindersIntent": {},
    "SetNamesIntent": {"firstName": "AMAZON.FirstName", "secondName": "AMAZON.FirstName"},
    "ForgetUsIntent": {},
    "HardTimesIntent": {},
    "SafetyIntent": {},
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
RITUAL_TYPES = {"appreciation", "hug", "question", "checkin", "listening"}
CANONICAL_CATEGORIES = {
    "fun", "deep", "dreams", "memories", "gratitude", "values", "ideas", "adventure",
    "us", "meaning", "repair",
}

SLOT_REF = re.compile(r"\{([^{}]*)\}")
# lowercase words, apostrophes, periods (abbreviations), spaces and {slot} references
_TOKEN = r"(?:[a-z'.]+|\{[A-Za-z][A-Za-z0-9_]*\})"
SAMPLE_CHARS = re.compile(rf"^{_TOKEN}(?: {_TOKEN})*$")
