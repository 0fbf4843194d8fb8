"""Spoken English numbers: every common way to say a number, and digits as words."""

from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen")
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
ONES, TENS = _ONES.split(), _TENS.split()


def words(n: int) -> str:
    """The usual way to say n (0-999): 'thirty five', 'one hundred twenty'."""
    return spellings(n)[0]


def spellings(n: int) -> list[str]:
    """Every common way to say n, the usual one first: 120 -> 'one hundred twenty',
    'one hundred and twenty', 'a hundred twenty', 'a hundred and twenty'."""
    if not 0 <= n < 1000:
        raise ValueError(f"no spelling for {n}")
    if n < 20:
        return [ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [TENS[tens] + (f" {ONES[ones]}" if ones else "")]
    hundreds, rest = divmod(n, 100)
    heads = [f"{ONES[hundreds]} hundred"] + (["a hundred"] if hundreds == 1 else [])
    if not rest:
        return heads
    tail = spellings(rest)[0]
    return [f"{head}{joiner}{tail}" for head in heads for joiner in (" ", " and ")]


_DIGITS = re.compile(r"^(\d{1,3})(?:\.(5))?$")


def digits_to_words(token: str) -> list[str] | None:
    """'30' -> ['thirty'], '1.5' -> ['one', 'and', 'a', 'half']; None if not a small number."""
    match = _DIGITS.match(token)
    if not match:
        return None
    spoken = words(int(match.group(1))).split()
    return spoken + ["and", "a", "half"] if match.group(2) else spoken
