"""The README's `printf ... | closer chat` conversations say what the README shows.

Each example is run through the same grammar, device and skill as `closer chat`, on a fresh
household, with the evening the README was written on (2026-12-06, 20:00 UTC) and the card
dealer's random numbers seeded, so the cards it shows are the cards dealt. Run this module
as a script to write the conversations into the README after a change of wording.
"""

from __future__ import annotations

import random
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from skill.store.sqlite import SQLiteStore
from tests.support.talk import Talk

README = Path(__file__).resolve().parents[1] / "README.md"
EVENING = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
SEED = 2026
_EXAMPLE = re.compile(
    r"```sh\nprintf (?P<quote>['\"])(?P<typed>.*?)(?P=quote)(?: \\\n)? *\| \.venv/bin/closer "
    r"chat\n```\n```\n(?P<said>.*?)```", re.S)


def examples(text: str) -> list[tuple[list[str], str]]:
    """Each example's typed lines, and the conversation the README shows for them."""
    return [(m["typed"].removesuffix("\\n").split("\\n"), m["said"])
            for m in _EXAMPLE.finditer(text)]


def converse(lines: list[str], folder: Path) -> str:
    """What `closer chat` prints for ``lines`` on a fresh household, that evening."""
    random.seed(SEED)
    store = SQLiteStore(folder / "closer.sqlite3")
    talk = Talk(store, clock=lambda: EVENING)
    try:
        return "".join(f"you: {line}\ncloser: {talk.one(line)}\n" for line in lines)
    finally:
        talk.end()
        store.close()


@pytest.mark.parametrize("typed, said", examples(README.read_text()),
                         ids=lambda value: value[0] if isinstance(value, list) else "")
def test_the_readme_shows_what_the_skill_says(typed: list[str], said: str,
                                              tmp_path: Path) -> None:
    assert converse(typed, tmp_path) == said


def test_the_readme_has_its_conversations() -> None:
    assert len(examples(README.read_text())) >= 4


def write_readme() -> None:
    """Fill each example's output block with what the skill says now."""
    import tempfile

    text = README.read_text()
    for typed, said in examples(text):
        with tempfile.TemporaryDirectory() as folder:
            text = text.replace(f"```\n{said}```", f"```\n{converse(typed, Path(folder))}```", 1)
    README.write_text(text)


if __name__ == "__main__":
    sys.exit(write_readme())
