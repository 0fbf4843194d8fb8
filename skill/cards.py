"""Conversation question cards: typed loader and validation for the packaged deck."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).parent / "content" / "cards.yaml"
MAX_TEXT_LENGTH = 180


@dataclass(frozen=True)
class Card:
    id: str
    category: str
    text: str


class Deck:
    """An immutable, validated collection of cards grouped by category."""

    CATEGORIES: tuple[str, ...] = (
        "fun",
        "deep",
        "dreams",
        "memories",
        "gratitude",
        "values",
        "ideas",
        "adventure",
    )

    def __init__(self, cards: list[Card]) -> None:
        self._cards: tuple[Card, ...] = tuple(cards)
        self._by_id: dict[str, Card] = {card.id: card for card in self._cards}

    @classmethod
    def load(cls, path: Path | None = None) -> Deck:
        """Load and validate a deck from YAML (the packaged deck by default)."""
        source = Path(path) if path is not None else DEFAULT_PATH
        with source.open(encoding="utf-8") as handle:
            try:
                data = yaml.safe_load(handle)
            except yaml.YAMLError as exc:
                raise ValueError(f"{source}: invalid YAML: {exc}") from exc
        return cls.from_mapping(data, source=str(source))

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<mapping>") -> Deck:
        """Build a deck from the parsed YAML structure, raising ValueError on bad content."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: top level must be a mapping of category -> cards")
        cards: list[Card] = []
        seen: set[str] = set()
        for category, entries in data.items():
            if category not in cls.CATEGORIES:
                raise ValueError(
                    f"{source}: unknown category {category!r}; expected one of {cls.CATEGORIES}"
                )
            if not isinstance(entries, list):
                raise ValueError(f"{source}: category {category!r} must be a list of cards")
            for index, entry in enumerate(entries):
                cards.append(cls._parse_card(entry, category, index, seen, source))
        return cls(cards)

    @staticmethod
    def _parse_card(entry: Any, category: str, index: int, seen: set[str], source: str) -> Card:
        where = f"{source}: {category}[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: card must be a mapping with 'id' and 'text'")
        card_id = entry.get("id")
        text = entry.get("text")
        if not isinstance(card_id, str) or not card_id.strip():
            raise ValueError(f"{where}: card is missing a string 'id'")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: card {card_id!r} is missing a string 'text'")
        if not card_id.startswith(f"{category}-"):
            raise ValueError(f"{where}: card id {card_id!r} must start with '{category}-'")
        if card_id in seen:
            raise ValueError(f"{where}: duplicate card id {card_id!r}")
        text = text.strip()
        if not text.endswith("?"):
            raise ValueError(f"{where}: card {card_id!r} text must end with '?'")
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(
                f"{where}: card {card_id!r} text is {len(text)} characters (max {MAX_TEXT_LENGTH})"
            )
        seen.add(card_id)
        return Card(id=card_id, category=category, text=text)

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def get(self, card_id: str) -> Card | None:
        """Return the card with this id, or None."""
        return self._by_id.get(card_id)

    def ids(self, category: str | None = None) -> list[str]:
        """Card ids in deck order, for one category or (None) for all cards."""
        if category is None:
            return [card.id for card in self._cards]
        return [card.id for card in self.in_category(category)]

    def in_category(self, category: str) -> list[Card]:
        """All cards of one category in deck order; ValueError for an unknown category."""
        if category not in self.CATEGORIES:
            raise ValueError(f"unknown category {category!r}; expected one of {self.CATEGORIES}")
        return [card for card in self._cards if card.category == category]


@lru_cache(maxsize=1)
def default_deck() -> Deck:
    """The packaged deck, loaded and validated once per process."""
    return Deck.load()
