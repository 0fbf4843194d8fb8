"""The journal: the last seven days of saved appreciations, newest first, briefly."""

from __future__ import annotations

from datetime import date, timedelta

from ask_sdk_model import Response

from skill import ssml
from skill.handlers.appreciation import mirror
from skill.store import Appreciation
from skill.turn import Turn

WINDOW = timedelta(days=7)
MOST = 6
NEXT = "Want a question, a hug, or your appreciation round?"


def read_journal(turn: Turn) -> Response:
    if turn.household.journal_opt_in is not True:
        return turn.say(
            "Your journal is off, so I haven't kept any appreciations. It's offered the first "
            f"time you do an appreciation round. {NEXT}",
            NEXT,
        )
    entries = turn.store.appreciations_since(turn.household_id, turn.now - WINDOW)
    if not entries:
        return turn.say(f"There's nothing in your journal from this week yet. {NEXT}", NEXT)
    zone = turn.zone
    today = turn.now.astimezone(zone).date()
    lines, last_day = [], None
    for entry in entries[:MOST]:
        day = entry.said_at.astimezone(zone).date()
        told = f"{ssml.text(retell(entry))}. {ssml.pause(0.5)}"
        lines.append(told if day == last_day else f"{_day(day, today)}, {told}")
        last_day = day
    more = len(entries) - MOST
    tail = f" And {more} more this week." if more > 0 else ""
    return turn.say(f"From your journal this week. {' '.join(lines)}{tail} {NEXT}", NEXT)


def _day(day: date, today: date) -> str:
    """When, as the couple would say it: today, yesterday, or the day of the week."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"On {day:%A}"


def retell(entry: Appreciation) -> str:
    """The appreciation told about the two of them: "Sam appreciated that Alex made them
    tea" when "you" can become the name and stay good English ("you always make" becomes
    "Alex always makes"), otherwise "Sam appreciated this about Alex: you two are sweet"."""
    words = mirror(entry.text).split()
    about = _about_them(words)
    if about is not None:
        return f"{entry.giver} appreciated that {entry.receiver} {about}"
    return f"{entry.giver} appreciated this about {entry.receiver}: {' '.join(words)}"


def _about_them(words: list[str]) -> str | None:
    """What follows the name when "you ..." is told in the third person ("you always make
    them laugh" -> "always makes them laugh"), or None when that would not read well."""
    if len(words) < 2 or words[0].lower() != "you" or _YOU.intersection(
            w.lower().strip(",.!?") for w in words[1:]):
        return None
    adverb = [words[1]] if words[1].lower() in _ADVERBS and len(words) > 2 else []
    verb, rest = words[1 + len(adverb)], words[2 + len(adverb):]
    low = verb.lower()
    if low == "were" and rest:
        return " ".join([*adverb, "was", *rest])
    if low.endswith("ed") or low in _PAST:
        return " ".join([*adverb, verb, *rest])
    if low in _PRESENT:
        return " ".join([*adverb, _third_person(low), *rest])
    return None


def _third_person(verb: str) -> str:
    """"make" -> "makes", "fix" -> "fixes", "carry" -> "carries", "are" -> "is"."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


# After "you", words that read the same after a name ("you made" -> "Alex made").
_PAST = frozenset({
    "made", "took", "gave", "got", "brought", "came", "did", "had", "left", "let", "kept",
    "held", "found", "said", "told", "thought", "wrote", "sang", "ran", "drove", "put",
    "bought", "sent", "spent", "read", "fed", "met", "paid", "sat", "stood", "slept", "woke",
    "knew", "saw", "heard", "won", "built", "taught", "caught", "could", "would", "didn't",
    "couldn't", "wouldn't",
})
# Present-tense verbs an appreciation often has, which take an -s after a name. A list, not
# a rule: after "you" may come words that are no verb at all ("you guys", "you two").
_PRESENT = frozenset({
    "are", "have", "do", "go", "make", "take", "give", "bring", "help", "listen", "know",
    "keep", "hold", "show", "remind", "support", "care", "love", "notice", "cook", "clean",
    "fix", "try", "carry", "remember", "understand", "believe", "encourage", "find", "get",
    "see", "hear", "laugh", "smile", "work", "look", "put", "ask", "check", "call", "plan",
})
_IRREGULAR = {"are": "is", "have": "has", "do": "does", "go": "goes"}
_ADVERBS = frozenset({"always", "never", "often", "really", "still", "just", "usually",
                      "sometimes", "truly", "so", "even", "also"})
_YOU = frozenset({"you", "your", "yours", "yourself", "you're", "you've", "you'd", "you'll"})
