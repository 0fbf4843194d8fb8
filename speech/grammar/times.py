"""AMAZON.TIME as people say it: spoken times -> Alexa's values ("nine thirty at night" ->
"21:30", "seven a m" -> "07:00", "morning" -> "MO"), and the same forms as JSGF rules.

Alexa gives a time of day as 24-hour "HH:MM" and a part of the day said alone as MO, AF,
EV or NI. A time said without a part of the day ("nine thirty") is taken as written, the
morning's ("09:30"), as Alexa does; the skill decides what to make of it (skill/nudges.py).
"""

from __future__ import annotations

from functools import cache

from speech.grammar.numbers import words

HOURS = range(1, 13)
# What follows the clock time, and whether it moves the hour past noon.
_AFTER_NOON = {"pm": True, "p m": True, "in the afternoon": True, "in the evening": True,
               "at night": True, "tonight": True}
_BEFORE_NOON = {"am": False, "a m": False, "in the morning": False}
SUFFIXES = {"": None, **_BEFORE_NOON, **_AFTER_NOON}
PARTS_OF_DAY = {"morning": "MO", "the morning": "MO", "afternoon": "AF",
                "the afternoon": "AF", "evening": "EV", "the evening": "EV", "night": "NI",
                "nighttime": "NI"}


def minute_words(minute: int) -> list[str]:
    """How a minute past the hour is said, the usual way first: 5 -> "oh five", 30 ->
    "thirty". Typed times come as digits ("9:05", "9:00"), read "nine five", "nine zero"."""
    if minute == 0:
        return ["o'clock", "", "zero"]
    return [f"oh {words(minute)}", words(minute)] if minute < 10 else [words(minute)]


def value(hour: int, minute: int, after_noon: bool | None) -> str:
    """Alexa's "HH:MM" for a 12-hour clock time; ``after_noon`` None: as said."""
    if after_noon is True and hour < 12:
        hour += 12
    elif after_noon is False and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


@cache
def spoken_times() -> dict[str, str]:
    """Every spoken time the grammar knows -> its AMAZON.TIME value."""
    table: dict[str, str] = {}
    for hour in HOURS:
        for minute in range(60):
            for said in minute_words(minute):
                clock = f"{words(hour)} {said}".strip()
                for suffix, after_noon in SUFFIXES.items():
                    table[f"{clock} {suffix}".strip()] = value(hour, minute, after_noon)
        for said, minute, shift in (("quarter past", 15, 0), ("half past", 30, 0),
                                    ("quarter to", 45, -1)):
            base = (hour + shift - 1) % 12 + 1
            for suffix, after_noon in SUFFIXES.items():
                table[f"{said} {words(hour)} {suffix}".strip()] = value(base, minute, after_noon)
    for hour in range(13, 24):  # typed on a 24-hour clock: "21:30"
        for minute in range(60):
            for said in minute_words(minute)[1:] if minute < 10 else minute_words(minute):
                table[f"{words(hour)} {said}".strip()] = f"{hour:02d}:{minute:02d}"
    table.update({"noon": "12:00", "midday": "12:00", "twelve noon": "12:00",
                  "midnight": "00:00", **PARTS_OF_DAY})
    return table


@cache
def _longest() -> int:
    return max(len(spoken.split()) for spoken in spoken_times())


def find_time(tokens: list[str], start: int) -> tuple[int, str] | None:
    """The longest spoken time at tokens[start:], as (end index, AMAZON.TIME value)."""
    table = spoken_times()
    for end in range(min(len(tokens), start + _longest()), start, -1):
        found = table.get(" ".join(tokens[start:end]))
        if found:
            return end, found
    return None


def phrases() -> list[str]:
    """One of each way to say a time, for the recognizers' phrase list: every hour and
    minute once, every part of the day once (a bigram model needs each transition once)."""
    out = [f"{words(hour)} o'clock" for hour in HOURS]
    out += [f"{words(hour)} {minute_words(minute)[0]}" for hour in HOURS
            for minute in range(1, 60) if minute % 5 == 0 or hour == 9]
    out += [f"{words(hour)} {suffix}" for hour in HOURS for suffix in SUFFIXES if suffix]
    out += [f"{said} {words(hour)}" for hour in HOURS
            for said in ("quarter past", "half past", "quarter to")]
    out += ["noon", "midday", "midnight", *PARTS_OF_DAY]
    return out


JSGF_RULES = """\
<clock_hour> = one | two | three | four | five | six | seven | eight | nine | ten | eleven
    | twelve;
<clock_minute> = o'clock | oh (one | two | three | four | five | six | seven | eight | nine)
    | ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen
    | nineteen | (twenty | thirty | forty | fifty) [one | two | three | four | five | six
    | seven | eight | nine];
<time> = ((<clock_hour> [<clock_minute>]) | ((quarter past | half past | quarter to)
    <clock_hour>)) [am | pm | a m | p m | in the morning | in the afternoon
    | in the evening | at night | tonight]
    | noon | midday | midnight | [the] (morning | afternoon | evening) | night | nighttime;
"""
