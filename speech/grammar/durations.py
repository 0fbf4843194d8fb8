"""AMAZON.DURATION as people say it: spoken forms -> ISO-8601 ("a minute and a half" ->
PT1M30S), and the same forms as JSGF rules for PocketSphinx.

Covers 1-300 seconds, 1-10 minutes, halves ("one and a half minutes", "half a minute"),
minutes with seconds ("a minute thirty seconds", or as people shorten it, "a minute
thirty"), 1-10 hours and zero, so an ask outside
the skill's 5-120 s still parses and the skill can answer with its spoken correction.
Singular units come too, for the adjective form: "a twenty second hug", "a two minute hug".
"""

from __future__ import annotations

from functools import cache

from speech.grammar.numbers import spellings, words

MAX_SECONDS, MAX_MINUTES = 300, 10
_MIXED_MINUTES, _MIXED_SECONDS = 4, 59  # "two minutes and fifteen seconds"


def iso(seconds: int) -> str:
    """ISO-8601 for a whole number of seconds, minutes split out: 90 -> PT1M30S."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return out + (f"{secs}S" if secs or seconds == 0 else "")


@cache
def spoken_durations() -> dict[str, str]:
    """Every spoken duration the grammar knows -> its ISO-8601 value."""
    table: dict[str, str] = {}
    for n in range(1, MAX_SECONDS + 1):
        for said in spellings(n):
            for unit in ("seconds", "second"):
                table[f"{said} {unit}"] = iso(n)
    for n in range(1, MAX_MINUTES + 1):
        for unit in ("minutes", "minute"):
            table[f"{words(n)} {unit}"] = iso(60 * n)
    for n in range(1, 10):
        for unit in ("minutes", "minute"):
            table[f"{words(n)} and a half {unit}"] = iso(60 * n + 30)
    for m in range(1, _MIXED_MINUTES + 1):
        for heads in ([f"{words(m)} minutes"] if m > 1 else ["one minute", "a minute"]):
            for s in range(1, _MIXED_SECONDS + 1):
                for joiner in (" ", " and "):
                    table[f"{heads}{joiner}{words(s)} seconds"] = iso(60 * m + s)
                if s >= 10:  # "a minute thirty": the seconds go without saying
                    table[f"{heads} {words(s)}"] = iso(60 * m + s)
    table.update({
        "a minute": iso(60), "a minute and a half": iso(90), "a whole minute": iso(60),
        "a full minute": iso(60), "one whole minute": iso(60), "a couple of minutes": iso(120),
        "a couple minutes": iso(120), "two whole minutes": iso(120),
        "half a minute": iso(30), "a half minute": iso(30), "half minute": iso(30),
        "an hour": iso(3600), "one hour": iso(3600), "half an hour": iso(1800),
        "a half hour": iso(1800), "a couple of hours": iso(7200),
        "zero seconds": iso(0), "zero second": iso(0), "zero minutes": iso(0),
    })
    for n in range(2, MAX_MINUTES + 1):
        for unit in ("hours", "hour"):  # "a two hour hug"
            table[f"{words(n)} {unit}"] = iso(3600 * n)
    return table


@cache
def _longest() -> int:
    return max(len(spoken.split()) for spoken in spoken_durations())


def find_duration(tokens: list[str], start: int) -> tuple[int, str] | None:
    """The longest spoken duration at tokens[start:], as (end index, ISO value)."""
    table = spoken_durations()
    for end in range(min(len(tokens), start + _longest()), start, -1):
        value = table.get(" ".join(tokens[start:end]))
        if value:
            return end, value
    return None


def phrases() -> list[str]:
    """A few thousand is too many to cross with every sample: one of each number said with
    its units, the usual spelling, which gives a bigram grammar every transition it needs."""
    out = [f"{words(n)} seconds" for n in range(1, MAX_SECONDS + 1)]
    out += [f"{words(n)} second" for n in range(1, 100)]
    out += [f"{words(n)} {unit}" for n in range(1, MAX_MINUTES + 1)
            for unit in ("minutes", "minute")]
    out += [f"{words(n)} and a half minutes" for n in range(1, 10)]
    out += ["one hundred and twenty seconds", "a hundred and twenty seconds",
            "a hundred seconds", "a minute thirty seconds", "a minute and thirty seconds",
            "two minutes and fifteen seconds", "one minute forty five seconds",
            "a minute and a half", "a minute thirty", "two minutes fifteen",
            "half a minute", "a half minute", "half minute", "a minute",
            "an hour", "one hour", "half an hour", "a half hour", "one and a half minute",
            "zero seconds", "zero minutes"]
    out += [f"{words(n)} {unit}" for n in range(2, MAX_MINUTES + 1) for unit in ("hours", "hour")]
    return out


JSGF_RULES = """\
<digit> = one | two | three | four | five | six | seven | eight | nine;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen
    | eighteen | nineteen;
<below_sixty> = <digit> | <teen> | (twenty | thirty | forty | fifty) [<digit>];
<below_hundred> = <below_sixty> | (sixty | seventy | eighty | ninety) [<digit>];
<to_three_hundred> = <below_hundred> | (one | a | two) hundred [[and] <below_hundred>]
    | three hundred;
<to_ten> = <digit> | ten;
<second_unit> = second | seconds;
<minute_unit> = minute | minutes;
<duration> = <to_three_hundred> <second_unit>
    | <to_ten> <minute_unit>
    | <digit> and a half <minute_unit>
    | (a minute | one minute | (two | three | four) minutes) [and] <below_sixty> [seconds]
    | a minute | a minute and a half | [a] half minute | half a minute
    | an hour | one hour | half an hour | a half hour | <to_ten> (hours | hour)
    | zero (<second_unit> | minutes);
"""
