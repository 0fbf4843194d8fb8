"""The round mirrors an appreciation back to the partner who received it: the carrier
phrase goes, and the speaker's "I/me/my" turn toward the listener."""

from __future__ import annotations

import pytest

from skill.handlers.appreciation import mirror


@pytest.mark.parametrize(("said", "echo"), [
    ("I appreciated that you made me tea", "you made them tea"),
    ("I'm grateful that you cooked", "you cooked"),
    ("I'm so grateful you cooked dinner", "you cooked dinner"),
    ("I am really thankful for the walk", "the walk"),
    ("I was grateful when you called my mom", "you called their mom"),
    ("Thank you for listening to me.", "listening to them"),
    ("you helped me with the dishes", "you helped them with the dishes"),
    ("I loved how you laughed at my joke", "you laughed at their joke"),
])
def test_mirror_turns_the_words_toward_the_listener(said: str, echo: str) -> None:
    assert mirror(said) == echo
