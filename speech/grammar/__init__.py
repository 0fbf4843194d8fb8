"""interaction_models/en-US.json compiled for the speech path: a text parser with Alexa's
slot semantics, the phrases a command can be (Vosk), a JSGF grammar (PocketSphinx) and
the vocabulary both use. The interaction model stays the one source of truth."""

from speech.grammar.grammar import (
    FALLBACK,
    FREE_TEXT_COMMANDS,
    LAUNCH,
    Grammar,
    Parse,
    SlotValue,
    default_grammar,
)

__all__ = [
    "FALLBACK",
    "FREE_TEXT_COMMANDS",
    "LAUNCH",
    "Grammar",
    "Parse",
    "SlotValue",
    "default_grammar",
]
