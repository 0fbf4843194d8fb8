"""Conversation cards and the deep-conversation sequence: typed loaders and validation for the
packaged content (skill/content/cards.yaml and skill/content/deeper.yaml)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONTENT = Path(__file__).parent / "content"
DEFAULT_PATH = CONTENT / "cards.yaml"
SEQUENCE_PATH = CONTENT / "deeper.yaml"
MAX_TEXT_LENGTH = 180
MAX_WORDS = 25  # a line is heard once and held in mind while the couple thinks
DEPTHS: tuple[str, ...] = ("light", "medium", "deep")
TOPICS_KEY = "topics"
_WORD = re.compile(r"[A-Za-z0-9']+")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class Card:
    id: str
    category: str
    text: str
    depth: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One question of the deep conversation: set 1 (warm) to set 3 (vulnerable)."""

    id: str
    set_number: int
    text: str
    depth: str


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
        "us",
        "meaning",
        "repair",
    )
    # Dealt only when a couple asks for them by name, never in the "any question" pool.
    ON_REQUEST: frozenset[str] = frozenset({"repair"})
    DEPTHS: tuple[str, ...] = DEPTHS

    def __init__(self, cards: Iterable[Card],
                 topics: Mapping[str, Iterable[str]] | None = None) -> None:
        self._cards: tuple[Card, ...] = tuple(cards)
        self._by_id: dict[str, Card] = {card.id: card for card in self._cards}
        self._topics: dict[str, tuple[str, ...]] = {
            name: tuple(words) for name, words in (topics or {}).items()}
        self._topic_of_word: dict[str, str] = {
            word: name for name, words in self._topics.items() for word in (name, *words)}

    @classmethod
    def load(cls, path: Path | None = None) -> Deck:
        """Load and validate a deck from YAML (the packaged deck by default)."""
        source = Path(path) if path is not None else DEFAULT_PATH
        return cls.from_mapping(_read_yaml(source), source=str(source))

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<mapping>") -> Deck:
        """Build a deck from the parsed YAML structure, raising ValueError on bad content."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: top level must be a mapping of category -> cards")
        topics = _parse_topics(data.get(TOPICS_KEY, {}), source)
        cards: list[Card] = []
        seen: set[str] = set()
        for category, entries in data.items():
            if category == TOPICS_KEY:
                continue
            if category not in cls.CATEGORIES:
                raise ValueError(
                    f"{source}: unknown category {category!r}; expected one of {cls.CATEGORIES}"
                )
            if not isinstance(entries, list):
                raise ValueError(f"{source}: category {category!r} must be a list of cards")
            for index, entry in enumerate(entries):
                where = f"{source}: {category}[{index}]"
                cards.append(_parse_card(entry, category, where, seen, topics))
        return cls(cards, topics)

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def get(self, card_id: str) -> Card | None:
        """Return the card with this id, or None."""
        return self._by_id.get(card_id)

    def ids(self, category: str | None = None, *, depths: Iterable[str] | None = None,
            topic: str | None = None) -> list[str]:
        """Card ids in deck order.

        ``category`` None is the "any question" pool: every category except those dealt only
        on request (repair). ``depths`` keeps cards of those depths; ``topic`` keeps cards that
        carry it. ValueError for an unknown category, depth or topic.
        """
        if category is None:
            cards = [card for card in self._cards if card.category not in self.ON_REQUEST]
        else:
            cards = self.in_category(category)
        if depths is not None:
            wanted = set(depths)
            if not wanted <= set(DEPTHS):
                raise ValueError(f"unknown depth in {sorted(wanted)}; expected some of {DEPTHS}")
            cards = [card for card in cards if card.depth in wanted]
        if topic is not None:
            if topic not in self._topics:
                raise ValueError(f"unknown topic {topic!r}; expected one of {sorted(self._topics)}")
            cards = [card for card in cards if topic in card.topics]
        return [card.id for card in cards]

    def in_category(self, category: str) -> list[Card]:
        """All cards of one category in deck order; ValueError for an unknown category."""
        if category not in self.CATEGORIES:
            raise ValueError(f"unknown category {category!r}; expected one of {self.CATEGORIES}")
        return [card for card in self._cards if card.category == category]

    @property
    def topics(self) -> dict[str, tuple[str, ...]]:
        """Each topic and the words a couple may say for it."""
        return dict(self._topics)

    def topic_for(self, said: str | None) -> str | None:
        """The topic a couple named ("our first date" -> "first date"), or None."""
        if not said:
            return None
        return self._topic_of_word.get(" ".join(said.lower().split()))


class DeepSequence:
    """The deep conversation: three sets of questions that escalate gently, set 1 first."""

    SET_COUNT = 3

    def __init__(self, sets: Iterable[Iterable[Step]]) -> None:
        self.sets: tuple[tuple[Step, ...], ...] = tuple(tuple(steps) for steps in sets)
        self._by_id: dict[str, Step] = {step.id: step for steps in self.sets for step in steps}

    @classmethod
    def load(cls, path: Path | None = None) -> DeepSequence:
        """Load and validate the sequence from YAML (the packaged one by default)."""
        source = Path(path) if path is not None else SEQUENCE_PATH
        return cls.from_mapping(_read_yaml(source), source=str(source))

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<mapping>") -> DeepSequence:
        """Build the sequence from the parsed YAML, raising ValueError on bad content."""
        sets = data.get("sets") if isinstance(data, dict) else None
        expected = list(range(1, cls.SET_COUNT + 1))
        if not isinstance(sets, dict) or sorted(sets) != expected:
            raise ValueError(f"{source}: 'sets' must map each of {expected} to a list of questions")
        seen: set[str] = set()
        parsed = []
        for number in expected:
            entries = sets[number]
            if not isinstance(entries, list) or not entries:
                raise ValueError(f"{source}: set {number} must be a non-empty list of questions")
            parsed.append([_parse_step(entry, number, f"{source}: set {number}[{index}]", seen)
                           for index, entry in enumerate(entries)])
        return cls(parsed)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Step]:
        return (step for steps in self.sets for step in steps)

    def get(self, step_id: str) -> Step | None:
        """Return the question with this id, or None."""
        return self._by_id.get(step_id)

    def ids(self, set_number: int | None = None) -> list[str]:
        """Question ids in order, for one set (1-3) or (None) for the whole sequence."""
        if set_number is None:
            return [step.id for step in self]
        if not 1 <= set_number <= len(self.sets):
            raise ValueError(f"unknown set {set_number!r}; expected 1 to {len(self.sets)}")
        return [step.id for step in self.sets[set_number - 1]]


@lru_cache(maxsize=1)
def default_deck() -> Deck:
    """The packaged deck, loaded and validated once per process."""
    return Deck.load()


@lru_cache(maxsize=1)
def default_sequence() -> DeepSequence:
    """The packaged deep-conversation sequence, loaded and validated once per process."""
    return DeepSequence.load()


def _read_yaml(source: Path) -> Any:
    with source.open(encoding="utf-8") as handle:
        try:
            return yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            raise ValueError(f"{source}: invalid YAML: {exc}") from exc


def _parse_topics(data: Any, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        raise ValueError(f"{source}: 'topics' must map each topic to the words said for it")
    topics: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for name, words in data.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise ValueError(f"{source}: topic {name!r} must list the words said for it")
        for word in (name, *words):
            if owner.get(word, name) != name:
                raise ValueError(f"{source}: {word!r} names both {owner[word]!r} and {name!r}")
            owner[word] = name
        topics[name] = tuple(words)
    return topics


def _parse_card(entry: Any, category: str, where: str, seen: set[str],
                topics: Mapping[str, tuple[str, ...]]) -> Card:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: card must be a mapping with 'id', 'depth' and 'text'")
    card_id = _parse_id(entry, where, seen)
    if not card_id.startswith(f"{category}-"):
        raise ValueError(f"{where}: card id {card_id!r} must start with '{category}-'")
    text = _parse_text(entry, card_id, where)
    depth = _parse_depth(entry, card_id, where)
    card_topics = entry.get("topics", [])
    if not isinstance(card_topics, list) or not all(t in topics for t in card_topics):
        raise ValueError(f"{where}: card {card_id!r} topics {card_topics!r} must be a list of "
                         f"topics declared under 'topics'")
    seen.add(card_id)
    return Card(id=card_id, category=category, text=text, depth=depth, topics=tuple(card_topics))


def _parse_step(entry: Any, set_number: int, where: str, seen: set[str]) -> Step:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: question must be a mapping with 'id', 'depth' and 'text'")
    step_id = _parse_id(entry, where, seen)
    if not re.fullmatch(rf"deeper-{set_number}-\d{{2}}", step_id):
        raise ValueError(f"{where}: question id {step_id!r} must look like deeper-{set_number}-01")
    text = _parse_text(entry, step_id, where)
    depth = _parse_depth(entry, step_id, where)
    seen.add(step_id)
    return Step(id=step_id, set_number=set_number, text=text, depth=depth)


def _parse_id(entry: dict, where: str, seen: set[str]) -> str:
    card_id = entry.get("id")
    if not isinstance(card_id, str) or not card_id.strip():
        raise ValueError(f"{where}: card is missing a string 'id'")
    if card_id in seen:
        raise ValueError(f"{where}: duplicate card id {card_id!r}")
    return card_id


def _parse_text(entry: dict, card_id: str, where: str) -> str:
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: card {card_id!r} is missing a string 'text'")
    text = text.strip()
    if not text.endswith("?"):
        raise ValueError(f"{where}: card {card_id!r} text must end with '?'")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(
            f"{where}: card {card_id!r} text is {len(text)} characters (max {MAX_TEXT_LENGTH})"
        )
    if word_count(text) > MAX_WORDS:
        raise ValueError(
            f"{where}: card {card_id!r} text is {word_count(text)} words (max {MAX_WORDS})"
        )
    return text


def _parse_depth(entry: dict, card_id: str, where: str) -> str:
    depth = entry.get("depth")
    if depth not in DEPTHS:
        raise ValueError(f"{where}: card {card_id!r} depth must be one of {DEPTHS}, not {depth!r}")
    return depth
