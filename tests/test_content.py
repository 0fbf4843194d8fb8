"""Content checks for the packaged conversation-card deck and its loader."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from skill.cards import Card, Deck, default_deck

MIN_PER_CATEGORY = 50
MIN_TOTAL = 400
MAX_LENGTH = 180
NEAR_DUPLICATE_THRESHOLD = 85
# token_set_ratio scores a card contained in another as 100, so it gets a higher bar.
SUBSET_THRESHOLD = 92

# Whole words that must never be read aloud by a speaker in a shared home.
BLOCKLIST = frozenset(
    {
        "sex",
        "sexy",
        "sexual",
        "naked",
        "nude",
        "seduce",
        "seductive",
        "kinky",
        "orgasm",
        "lust",
        "erotic",
        "horny",
        "porn",
        "strip",
        "stripper",
        "foreplay",
        "lingerie",
        "undress",
        "drunk",
        "wasted",
        "hangover",
        "shots",
        "weed",
        "cocaine",
        "damn",
        "hell",
    }
)
SSML_BREAKING = ("&", "<", ">")
ID_PATTERN = re.compile(r"^(?P<category>[a-z]+)-(?P<number>\d{3})$")


@pytest.fixture(scope="module")
def deck() -> Deck:
    return default_deck()


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", text.lower()).strip()


def test_categories_are_exactly_the_expected_ones() -> None:
    assert Deck.CATEGORIES == (
        "fun",
        "deep",
        "dreams",
        "memories",
        "gratitude",
        "values",
        "ideas",
        "adventure",
    )


def test_counts_per_category_and_total(deck: Deck) -> None:
    for category in Deck.CATEGORIES:
        count = len(deck.in_category(category))
        assert count >= MIN_PER_CATEGORY, f"{category} has only {count} cards"
    assert len(deck) >= MIN_TOTAL
    assert len(deck.ids()) == len(deck)
    assert len(deck.ids(None)) == sum(len(deck.ids(c)) for c in Deck.CATEGORIES)


def test_ids_are_unique_and_well_formed(deck: Deck) -> None:
    ids = deck.ids()
    assert len(ids) == len(set(ids))
    for card_id in ids:
        match = ID_PATTERN.match(card_id)
        assert match, card_id
        card = deck.get(card_id)
        assert card is not None
        assert match.group("category") == card.category


def test_every_card_is_one_short_question(deck: Deck) -> None:
    for card_id in deck.ids():
        card = deck.get(card_id)
        assert card is not None
        assert card.text.endswith("?"), card_id
        assert card.text.count("?") == 1, f"{card_id} should ask exactly one question"
        assert len(card.text) <= MAX_LENGTH, card_id
        assert card.text == card.text.strip(), card_id


def test_cards_are_safe_for_speech(deck: Deck) -> None:
    for card_id in deck.ids():
        card = deck.get(card_id)
        assert card is not None
        assert not any(ch in card.text for ch in SSML_BREAKING), card_id
        assert card.text.isascii(), f"{card_id} has non-ASCII characters (emoji?)"
        assert "(" not in card.text and ")" not in card.text, card_id


def test_no_blocked_words(deck: Deck) -> None:
    for card_id in deck.ids():
        card = deck.get(card_id)
        assert card is not None
        words = set(re.findall(r"[a-z]+", card.text.lower()))
        blocked = words & BLOCKLIST
        assert not blocked, f"{card_id} contains blocked words: {sorted(blocked)}"


def test_no_exact_duplicates(deck: Deck) -> None:
    texts = [_normalise(card.text) for card in _all_cards(deck)]
    assert len(texts) == len(set(texts))


def test_no_near_duplicates(deck: Deck) -> None:
    cards = [(card.id, _normalise(card.text)) for card in _all_cards(deck)]
    offenders = []
    for (id_a, a), (id_b, b) in itertools.combinations(cards, 2):
        score = fuzz.ratio(a, b)
        subset_score = fuzz.token_set_ratio(a, b)
        if score >= NEAR_DUPLICATE_THRESHOLD or subset_score >= SUBSET_THRESHOLD:
            offenders.append((id_a, id_b, round(score), round(subset_score)))
    assert not offenders, f"near-duplicate cards: {offenders}"


def test_get_unknown_returns_none(deck: Deck) -> None:
    assert deck.get("fun-999") is None
    assert deck.get("nonsense") is None
    first = deck.get("fun-001")
    assert isinstance(first, Card)
    assert first.category == "fun"


def test_unknown_category_lookup_raises(deck: Deck) -> None:
    with pytest.raises(ValueError, match="unknown category"):
        deck.in_category("spicy")


def test_default_deck_is_cached() -> None:
    assert default_deck() is default_deck()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cards.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_loader_accepts_small_valid_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 'fun:\n  - id: fun-001\n    text: "What makes you laugh?"\n')
    small = Deck.load(path)
    assert len(small) == 1
    assert small.ids("fun") == ["fun-001"]
    assert small.ids("deep") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('spicy:\n  - id: spicy-001\n    text: "What?"\n', "unknown category"),
        (
            'fun:\n  - id: fun-001\n    text: "One?"\n  - id: fun-001\n    text: "Two?"\n',
            "duplicate card id",
        ),
        ('fun:\n  - id: fun-001\n    text: "No question mark here."\n', "must end with"),
        ('fun:\n  - id: fun-001\n    text: "' + "a" * 181 + '?"\n', "max 180"),
        ("fun:\n  - id: fun-001\n", "missing a string 'text'"),
        ('fun:\n  - text: "Where is my id?"\n', "missing a string 'id'"),
        ("- just a list\n", "top level must be a mapping"),
        ('fun:\n  - id: fun-001\n    text: "Unclosed?\n', "invalid YAML"),
        ('fun:\n  - id: deep-001\n    text: "Wrong prefix?"\n', "must start with 'fun-'"),
    ],
)
def test_loader_rejects_malformed_yaml(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Deck.load(_write(tmp_path, body))


def _all_cards(deck: Deck) -> list[Card]:
    cards = [deck.get(card_id) for card_id in deck.ids()]
    assert all(card is not None for card in cards)
    return [card for card in cards if card is not None]
