"""The round mirrors an appreciation back to the partner who received it: the carrier
phrase goes, and the speaker's "I/me/my" turn toward the listener."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from skill.handlers.appreciation import mirror
from skill.handlers.journal import retell
from skill.store import Appreciation


@pytest.mark.parametrize(("said", "echo"), [
    ("I appreciated that you made me tea", "you made them tea"),
    ("I'm grateful that you cooked", "you cooked"),
    ("I'm so grateful you cooked dinner", "you cooked dinner"),
    ("I am really thankful for the walk", "the walk"),
    ("I was grateful when you called my mom", "you called their mom"),
    ("Thank you for listening to me.", "listening to them"),
    ("you helped me with the dishes", "you helped them with the dishes"),
    ("I loved how you laughed at my joke", "you laughed at their joke"),
    ("I loved how patient you were", "how patient you were"),
    ("I loved it when you sang in the car", "you sang in the car"),
    ("I loved it", "they loved it"),
])
def test_mirror_turns_the_words_toward_the_listener(said: str, echo: str) -> None:
    assert mirror(said) == echo


# The journal tells each appreciation about the two of them; "you" becomes the name only
# where the sentence stays good English.
@pytest.mark.parametrize(("said", "told"), [
    ("you made me tea this morning", "Sam appreciated that Alex made them tea this morning"),
    ("I appreciated that you cooked for my parents",
     "Sam appreciated that Alex cooked for their parents"),
    ("you were so patient with me", "Sam appreciated that Alex was so patient with them"),
    ("Thank you for listening to me tonight",
     "Sam appreciated this about Alex: listening to them tonight"),
    ("you always make me laugh", "Sam appreciated that Alex always makes them laugh"),
    ("you are so patient with me", "Sam appreciated that Alex is so patient with them"),
    ("you really listened to me", "Sam appreciated that Alex really listened to them"),
    ("you fix everything", "Sam appreciated that Alex fixes everything"),
    ("you carry the groceries up", "Sam appreciated that Alex carries the groceries up"),
    ("you have a kind heart", "Sam appreciated that Alex has a kind heart"),
    ("you two are sweet", "Sam appreciated this about Alex: you two are sweet"),
    ("you made your famous soup", "Sam appreciated this about Alex: you made your famous soup"),
    ("I loved how patient you were", "Sam appreciated this about Alex: how patient you were"),
])
def test_the_journal_retells_an_appreciation_in_good_english(said: str, told: str) -> None:
    entry = Appreciation(giver="Sam", receiver="Alex", text=said, said_at=datetime.now(UTC))
    assert retell(entry) == told
