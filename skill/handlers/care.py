"""Care on a hard evening (HardTimesIntent) and when someone is afraid (SafetyIntent).

Hard times get a brief, kind word, one gentle offer (a hug, a question for making up, a
quiet round) that only happens if both say yes, and a couples counselor. Fear gets the
emergency number and the locale's domestic-abuse helpline, and nothing else: no ritual.
The words and numbers, with the source of each number, are in skill/content/care.yaml.
Never therapy: the skill is for small rituals, and says so.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from ask_sdk_model import Response

from skill import ssml
from skill.handlers import appreciation, cards, hug
from skill.turn import Mode, Turn

CARE_PATH = Path(__file__).resolve().parents[1] / "content" / "care.yaml"
DEFAULT_LOCALE = "en-US"
_PLACEHOLDER = re.compile(r"\{([a-z.]+)\}")
# The offers, in the order the days take turns with them.
OFFERS = ("hug", "repair", "quiet_round")
OFFER_HUG_S = 60


@cache
def care_content() -> dict:
    return yaml.safe_load(CARE_PATH.read_text(encoding="utf-8"))


def _locale(turn: Turn) -> dict:
    locales = care_content()["locales"]
    return locales.get(turn.locale) or locales[DEFAULT_LOCALE]


def lines(turn: Turn, kind: str) -> list[str]:
    """A locale's lines of one kind (safety, counselor, crisis), numbers as said aloud."""
    locale = _locale(turn)
    return [_spoken(line, locale) for line in locale["lines"][kind]]


def _spoken(template: str, locale: dict) -> str:
    def number(match: re.Match) -> str:
        *path, last = match.group(1).split(".")
        node = locale
        for key in path:
            node = node[key]
        return node["web_spoken"] if last == "web" else node[last]["spoken"]

    return _PLACEHOLDER.sub(number, template)


# -- fear ----------------------------------------------------------------------------------


def safety(turn: Turn) -> Response:
    """The emergency number first, then the helpline; nothing kept, nothing offered."""
    turn.set_mode(None)
    return turn.say(" ".join(ssml.text(line) for line in lines(turn, "safety")), end=True)


# -- a hard evening ------------------------------------------------------------------------


def hard_times(turn: Turn) -> Response:
    hard = care_content()["hard_times"]
    day = turn.now.toordinal()
    acknowledge = hard["acknowledge"][day % len(hard["acknowledge"])]
    offer = OFFERS[day % len(OFFERS)]
    turn.set_mode(Mode.CARE)
    turn.session["offer"] = offer
    counselor = " ".join(lines(turn, "counselor")) if turn.counselor_once() else ""
    return turn.say(f"{ssml.text(acknowledge)} {_offer_line(offer)} {ssml.text(counselor)}",
                    _offer_line(offer))


def _offer_line(offer: str) -> str:
    return {
        "hug": "If you both want it, a long, quiet hug can help. Would you like one?",
        "repair": "If this is about a disagreement, a gentle question for making up can help, "
                  "when you're both ready. Would you like one?",
        "quiet_round": "If talking feels like too much, a quiet round gives you time to think "
                       "kindly of each other. Would you like one?",
    }[offer]


def repeat_offer(turn: Turn) -> Response:
    offer = turn.session.get("offer")
    if offer not in OFFERS:
        turn.set_mode(None)
        return turn.say("Okay. Be gentle with each other tonight.", end=True)
    return turn.say(f"{_offer_line(offer)} Yes or no.", _offer_line(offer))


def answered(turn: Turn, yes: bool) -> Response:
    offer = turn.session.get("offer")
    turn.set_mode(None)
    turn.session.pop("offer", None)
    if not yes or offer not in OFFERS:
        return turn.say("Okay. Be gentle with each other tonight.", end=True)
    if offer == "hug":
        return hug.hug_for(turn, OFFER_HUG_S)
    if offer == "repair":
        return cards.deal(turn, "repair", preface="Take it slowly, and stop whenever you like.")
    return appreciation.quiet_round(turn)
