"""Conversation cards: deal, next, repeat, something lighter or deeper; a household never
hears a card twice until its pool runs out.

What is dealt: the category asked for (a synonym that names a topic, "our first date",
deals that topic's cards), or for "any question" every category but repair (dealt only
when asked for by name) at light and medium depth. "Something lighter" or "something
deeper" moves one depth from the last card, in its category when it has cards there.
"""

from __future__ import annotations

import zlib

from ask_sdk_model import Response

from skill import screens, ssml
from skill.cards import DEPTHS
from skill.turn import Mode, Turn

ANY = "any"
CONTINUE = "Say next for another question, or repeat to hear it again."
DINNER_DEPTHS = ("light", "medium")  # "any" question, unless asked for more

# A few ways into each kind of card, so the table does not hear the same words every time.
_INTROS: dict[str, tuple[str, ...]] = {
    "fun": ("Here's a fun one.", "Something playful.", "A light one."),
    "deep": ("Here's a deeper one.", "Something to take slowly.", "A thoughtful one."),
    "dreams": ("About your dreams.", "A question about the days ahead.", "Dream a little."),
    "memories": ("A question about your memories.", "Think back.", "A look back."),
    "gratitude": ("A question about gratitude.", "Something to be thankful for.",
                  "A grateful one."),
    "values": ("About what matters to you.", "A question about what you hold dear.",
               "Something about what you stand for."),
    "ideas": ("One to think about together.", "A question to wonder about.", "A curious one."),
    "adventure": ("About adventures.", "Something to plan or dream up.",
                  "An adventurous one."),
    "us": ("About the two of you.", "A question about each other.", "Just for you two."),
    "meaning": ("A question about meaning.", "Something bigger to ponder.",
                "About what gives life meaning."),
    "repair": ("A gentle one, for making up.", "A question for after a hard moment.",
               "Something to help you find each other again."),
    ANY: ("Here's one for the two of you.", "Try this one.", "For the two of you.",
          "A question for tonight.", "Here's a question."),
}
_REPAIR_CARE = "Take it slowly. Either of you can stop whenever you like."


def asked_category(turn: Turn) -> tuple[str, bool]:
    """The category the couple asked for, and whether they asked for one we don't have."""
    resolved = turn.slot_id("category")
    if resolved in turn.deck.CATEGORIES:
        return resolved, False
    spoken = (turn.slot_value("category") or "").lower()
    if spoken in turn.deck.CATEGORIES:
        return spoken, False
    return ANY, bool(spoken)


def question(turn: Turn) -> Response:
    move = turn.slot_id("depth") or turn.slot_value("depth")
    if move in ("lighter", "deeper") and not turn.slot_value("category"):
        return lighter_or_deeper(turn, move)
    category, unknown = asked_category(turn)
    preface = "I don't have that kind, so here's one from the whole deck." if unknown else ""
    topic = turn.deck.topic_for(turn.slot_value("category")) if not unknown else None
    return deal(turn, category, preface=preface, topic=topic)


def lighter_or_deeper(turn: Turn, move: str) -> Response:
    """One step lighter or deeper than the last card, in its category if it has some."""
    last = turn.deck.get(turn.session.get("card_id") or turn.household.last_card_id or "")
    depth = _step(last.depth if last else "medium", move)
    category = turn.session.get("category") or ANY
    if category != ANY and not turn.deck.ids(category, depths=(depth,)):
        category = ANY
    return deal(turn, category, depths=(depth,))


def _step(depth: str, move: str) -> str:
    at = DEPTHS.index(depth) + (1 if move == "deeper" else -1)
    return DEPTHS[min(max(at, 0), len(DEPTHS) - 1)]


def deal(turn: Turn, category: str, *, preface: str = "",
         depths: tuple[str, ...] | None = None, topic: str | None = None) -> Response:
    pool = _pool(turn, category, depths, topic)
    card_id, reshuffled = turn.store.deal_card(turn.household_id, pool, category=category,
                                               talked_at=turn.now)  # for the week
    turn.set_mode(Mode.CARDS)
    turn.session.update(category=category, card_id=card_id)
    if depths is not None:
        turn.session["depth"] = ",".join(depths)
    else:
        turn.session.pop("depth", None)
    if reshuffled:
        preface += " You've heard every question in this set, so I've shuffled it for you."
    if category == "repair":
        preface += f" {_REPAIR_CARE}"
    card = turn.deck.get(card_id)
    assert card is not None
    speech = f"{preface} {_intro(category, card_id)} {ssml.text(card.text)} {ssml.pause(1)}"
    screens.show_card(turn, card)
    return turn.say(speech, CONTINUE)


def _pool(turn: Turn, category: str, depths: tuple[str, ...] | None,
          topic: str | None) -> list[str]:
    """The cards to deal from: narrowed by topic and depth as far as cards remain."""
    chosen = None if category == ANY else category
    if depths is None and chosen is None:
        depths = DINNER_DEPTHS
    if topic is not None and (cards := turn.deck.ids(chosen, topic=topic)):
        return cards
    return turn.deck.ids(chosen, depths=depths) or turn.deck.ids(chosen)


def _intro(category: str, card_id: str) -> str:
    """The card's way in: the same for the same card (so "repeat" matches), varied across
    cards."""
    intros = _INTROS.get(category, _INTROS[ANY])
    return intros[zlib.crc32(card_id.encode()) % len(intros)]


def next_card(turn: Turn) -> Response:
    """'Next' and 'another one': same category (and depth) as the last card, even in a new
    session."""
    category = turn.session.get("category") or turn.household.last_category or ANY
    if category != ANY and category not in turn.deck.CATEGORIES:
        category = ANY
    depth = turn.session.get("depth")
    depths = tuple(d for d in depth.split(",") if d in DEPTHS) if depth else None
    return deal(turn, category, depths=depths or None)


def repeat_card(turn: Turn) -> Response | None:
    """Repeat the last card, this session or the last one; None when there is no card."""
    card_id = turn.session.get("card_id") or turn.household.last_card_id
    card = turn.deck.get(card_id) if card_id else None
    if card is None:
        return None
    turn.set_mode(Mode.CARDS)
    turn.session.update(category=turn.session.get("category") or turn.household.last_category
                        or ANY, card_id=card.id)
    screens.show_card(turn, card)
    return turn.say(f"Again: {ssml.text(card.text)} {ssml.pause(1)}", CONTINUE)
