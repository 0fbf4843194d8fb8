"""Conversation cards: deal, next, repeat; a household never hears a card twice until
its category runs out."""

from __future__ import annotations

from ask_sdk_model import Response

from skill import ssml
from skill.handlers import appreciation
from skill.turn import Turn

ANY = "any"
CONTINUE = "Say next for another question, or repeat to hear it again."

_INTRO = {
    "fun": "Here's a fun one.",
    "deep": "Here's a deeper one.",
    "dreams": "A question about your dreams.",
    "memories": "A question about your memories.",
    "gratitude": "A question about gratitude.",
    "values": "A question about what matters to you.",
    "ideas": "A question to think about together.",
    "adventure": "A question about adventures.",
    "us": "A question about the two of you.",
    "meaning": "A question about meaning.",
    "repair": "A gentle one, for after a disagreement.",
    ANY: "Here's your question.",
}


def asked_category(turn: Turn) -> tuple[str, bool]:
    """The category the couple asked for, and whether they asked for one we don't have."""
    resolved = turn.slot_id("category")
    if resolved in turn.deck.CATEGORIES:
        return resolved, False
    spoken = (turn.slot_value("category") or "").lower()
    if spoken in turn.deck.CATEGORIES:
        return spoken, False
    return ANY, bool(spoken)


def deal(turn: Turn, category: str, *, preface: str = "") -> Response:
    pool = turn.deck.ids(None if category == ANY else category)
    card_id, reshuffled = turn.store.deal_card(turn.household_id, pool, category=category)
    turn.session.update(mode="cards", category=category, card_id=card_id)
    if reshuffled:
        preface += " You've heard every question in this set, so I've shuffled it for you."
    card = turn.deck.get(card_id)
    speech = f"{preface} {_INTRO[category]} {ssml.text(card.text)} {ssml.pause(1)}"
    return turn.say(speech.strip(), CONTINUE)


def question(turn: Turn) -> Response:
    category, unknown = asked_category(turn)
    preface = "I don't have that kind, so here's one from the whole deck." if unknown else ""
    return deal(turn, category, preface=preface)


def next_card(turn: Turn) -> Response:
    """'Next' and 'another one': same category as the last card, even in a new session.
    During the appreciation round, 'next' or 'skip' passes the current partner's turn."""
    if turn.mode == "round":
        return appreciation.skip(turn)
    category = turn.session.get("category") or turn.household.last_category or ANY
    return deal(turn, category)


def repeat_card(turn: Turn) -> Response | None:
    """Repeat the last card, this session or the last one; None when there is no card."""
    card_id = turn.session.get("card_id") or turn.household.last_card_id
    card = turn.deck.get(card_id) if card_id else None
    if card is None:
        return None
    turn.session.update(mode="cards", category=turn.household.last_category or ANY, card_id=card_id)
    return turn.say(f"Again: {ssml.text(card.text)} {ssml.pause(1)}", CONTINUE)
