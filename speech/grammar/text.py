"""Text as the parser compares it: lower case words, the apostrophes of contractions kept
("let's", "we're" as the interaction model spells them), digits spoken ("30" -> "thirty"),
typed shorthand spelled out ("secs", "lets", "pls")."""

from __future__ import annotations

import re
import unicodedata

from speech.grammar.numbers import digits_to_words

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)*")
_SEPARATORS = str.maketrans({"-": " ", "_": " ", "/": " ", "&": " and ", "’": "'", "‘": "'",
                             "`": "'", "´": "'"})

# Typed forms and contractions written without the apostrophe. Words whose apostrophe-less
# spelling is another real word ("its", "were", "well", "ill") are left alone.
_SPELLED = {
    "lets": "let's", "im": "i'm", "dont": "don't", "whats": "what's", "thats": "that's",
    "youre": "you're", "didnt": "didn't", "cant": "can't", "ive": "i've", "id": "i'd",
    "wed": "we'd", "weve": "we've", "isnt": "isn't", "doesnt": "doesn't", "wont": "won't",
    "ok": "okay", "pls": "please", "plz": "please", "thx": "thanks", "ty": "thank you",
    "sec": "seconds", "secs": "seconds", "min": "minutes", "mins": "minutes",
    "nevermind": "never mind", "alright": "all right", "wanna": "want to", "gimme": "give me",
    "gonna": "going to",
}


def words(text: str) -> list[str]:
    """Normalized words of a text."""
    text = unicodedata.normalize("NFKC", text).translate(_SEPARATORS).lower()
    out: list[str] = []
    for token in _TOKEN.findall(text):
        spoken = digits_to_words(token)
        if spoken is not None:
            out.extend(spoken)
        elif token[0].isdigit():
            out.append(token)  # a number too big to be a command: stays, and won't match
        else:
            out.extend(_SPELLED.get(token, token).split())
    return out


def normalize(text: str) -> str:
    return " ".join(words(text))


# Both spellings of a contraction appear in what people say and in the model's samples
# ("we are" / "we're"); templates are matched in either spelling.
CONTRACTIONS = {
    "i'm": "i am", "we're": "we are", "it's": "it is", "what's": "what is",
    "don't": "do not", "that's": "that is", "we'd": "we would",
    "i'd": "i would", "can't": "cannot", "didn't": "did not", "you're": "you are",
}
_EXPANDED = {long: short for short, long in CONTRACTIONS.items()}


def spelling_variants(sentence: str) -> set[str]:
    """The sentence with each contraction written both ways ("we're" <-> "we are")."""
    variants = {sentence}
    for old, new in list(CONTRACTIONS.items()) + list(_EXPANDED.items()):
        pattern = re.compile(rf"(?<![\w']){re.escape(old)}(?![\w'])")
        variants |= {pattern.sub(new, v) for v in variants}
    return variants
