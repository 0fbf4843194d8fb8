"""What Alexa shows, beside what it says.

Every card, hug and appreciation-round turn (and the other rituals, and the week) also sets
a simple card for the Alexa app and for screens without APL: the question and its category,
a hug's length, whose turn it is; never an appreciation's words. A device that declares
``Alexa.Presentation.APL`` also gets a RenderDocument: one of the documents in skill/apl/
(JSON, made for a room: the question large enough to read from the sofa, viewport-aware for
round hubs, landscape hubs and TVs), with the words in its data source.

Handlers call ``show_*`` before they answer; the card and the directive go on the response
being built.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path

from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective
from ask_sdk_model.ui import SimpleCard

from skill.cards import Card
from skill.turn import Turn

APL = "Alexa.Presentation.APL"
DOCUMENTS = Path(__file__).resolve().parent / "apl"
TITLE = "Closer Together"
CATEGORY_NAMES = {"fun": "Fun", "deep": "Deep", "dreams": "Dreams", "memories": "Memories",
                  "gratitude": "Gratitude", "values": "Values", "ideas": "Ideas",
                  "adventure": "Adventure", "us": "About us", "meaning": "Meaning",
                  "repair": "Making up"}
DEPTH_NAMES = {"light": "Light", "medium": "Medium", "deep": "Deep"}
WORDS_PER_S = 2.6  # Alexa's voice, near enough to start the countdown at "Starting now"
LONG_PAUSE_S = 3.0
QUIET_ROUND = ["Each of you, in turn: one thing you appreciated today.",
               "Nothing is heard or recorded."]
_BREAK = re.compile(r'<break time="(\d+(?:\.\d+)?)(ms|s)"\s*/>')
_TAG = re.compile(r"<[^>]+>")


@cache
def document(name: str) -> dict:
    """An APL document from skill/apl/ (read once per process)."""
    return json.loads((DOCUMENTS / f"{name}.json").read_text(encoding="utf-8"))


def shows_apl(turn: Turn) -> bool:
    """Whether the device asked for APL (context.System.device.supportedInterfaces)."""
    device = turn.input.request_envelope.context.system.device
    interfaces = getattr(device, "supported_interfaces", None)
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


def _show(turn: Turn, title: str, content: str, name: str, data: dict) -> None:
    builder = turn.input.response_builder
    builder.set_card(SimpleCard(title=title, content=content))
    if shows_apl(turn):
        builder.add_directive(RenderDocumentDirective(
            token=f"closer-{name}", document=document(name), datasources=data))


# -- the rituals ------------------------------------------------------------------------------


def card_data(card: Card) -> dict:
    category = CATEGORY_NAMES.get(card.category, card.category.title())
    return {"card": {"text": card.text, "category": category,
                     "depth": DEPTH_NAMES.get(card.depth, card.depth.title()),
                     "hint": "Say next for another, or repeat to hear it again."}}


def show_card(turn: Turn, card: Card) -> None:
    """A conversation card: the question, its category and depth."""
    data = card_data(card)["card"]
    _show(turn, f"{TITLE}: {data['category']}",
          f"{card.text}\n\n{data['category']} question, {data['depth'].lower()}.",
          "card", {"card": data})


def show_question(turn: Turn, text: str, label: str, hint: str) -> None:
    """A question of a ritual that is not a card (the deeper conversation's)."""
    _show(turn, f"{TITLE}: {label}", text, "card",
          {"card": {"text": text, "category": label, "depth": "", "hint": hint}})


def hug_data(seconds: int, speech: str) -> dict:
    """The hug's timing for the screen: when "Starting now" is said (an estimate from the
    words before the long pause), when the chime rings."""
    starts_ms = lead_in_ms(speech)
    return {"hug": {"seconds": seconds, "length": _length(seconds),
                    "startsAtMs": starts_ms, "endsAtMs": starts_ms + seconds * 1000,
                    "getReady": "Come close, and let your shoulders drop.",
                    "holding": "Just breathe. Stay a while.",
                    "endCue": "And, time. Thank you for that hug."}}


def show_hug(turn: Turn, seconds: int, speech: str) -> None:
    """A hug: its length; on a screen, a live countdown from "Starting now" to the chime."""
    data = hug_data(seconds, speech)
    _show(turn, f"{TITLE}: a hug", f"A {data['hug']['length']} hug. Come close.", "hug", data)


def round_data(names: tuple[str, str] | None, step: str | None) -> dict:
    second = step == "second"
    if names is None:
        giver = "Now the other one of you" if second else "Whoever would like to start"
        receiver = "your partner"
    else:
        giver, receiver = names[::-1] if second else names
    return {"round": {"giver": giver, "prompt": f"One thing you appreciated about {receiver} "
                                                "today.",
                      "turn": "Second turn" if second else "First turn"}}


def show_round(turn: Turn, step: str | None) -> None:
    """The appreciation round: whose turn it is, never what was said."""
    data = round_data(turn.household.names, step)["round"]
    _show(turn, f"{TITLE}: appreciation round", f"{data['giver']}: {data['prompt']}", "round",
          {"round": data})


def show_ritual(turn: Turn, title: str, lines: list[str], name: str = "ritual") -> None:
    """A paced ritual (check-in, listening, quiet round) or the week: a title and a few
    lines."""
    data = {"ritual": {"title": title, "lines": lines[:6]}}
    _show(turn, f"{TITLE}: {title}", "\n".join(lines), name, data)


def listening_lines(minutes: int) -> list[str]:
    length = "one minute" if minutes == 1 else f"{minutes} minutes"
    return [f"One of you talks, for {length}. The other only listens.",
            "The listener says back what they heard, and how it might feel.",
            "Then you swap."]


def show_week(turn: Turn, speech: str) -> None:
    """The week's look back, as said (only what was said: a journal line only when on)."""
    show_ritual(turn, "Your week", [plain(speech)])


# -- helpers ----------------------------------------------------------------------------------


def plain(ssml: str) -> str:
    """Spoken SSML as text for a card: tags gone, entities back."""
    return " ".join(html.unescape(_TAG.sub(" ", ssml)).split())


def lead_in_ms(speech: str) -> int:
    """How long the speech takes before its first long pause: words at Alexa's pace plus
    the short pauses on the way."""
    pause_ms = 0.0
    words = 0
    for piece in re.split(r"((?:<break[^>]*/>\s*)+)", speech):
        breaks = _BREAK.findall(piece)
        if breaks:
            seconds = sum(float(a) / (1000 if u == "ms" else 1) for a, u in breaks)
            if seconds >= LONG_PAUSE_S:
                break
            pause_ms += seconds * 1000
        else:
            words += len(_TAG.sub(" ", piece).split())
    return round(words / WORDS_PER_S * 1000 + pause_ms)


def _length(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "one minute" if minutes == 1 else f"{minutes} minute"
    return f"{seconds} second"
