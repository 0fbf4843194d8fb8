"""Every word the command grammar can produce must be pronounceable by the engine.

PocketSphinx: words missing from its CMU dictionary get a pronunciation derived from
espeak-ng's phonemes (IPA) mapped onto the CMU phone set. Derived pronunciations are kept in
`speech/data/pronunciations.dict` so startup never runs espeak-ng; regenerate that file with
`python -m speech.pronounce` after changing the interaction model (a test checks it is current).

Vosk: a model's lexicon is compiled into its graph, so nothing can be added at run time; the
Vosk engine leaves out the phrases with words its model lacks, and says how many.

A word PocketSphinx still cannot pronounce fails loudly instead of silently never being
recognized.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "pronunciations.dict"

_CMU = "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW"
CMU_PHONES = frozenset(_CMU.split() + ["V", "W", "Y", "Z", "ZH"])

# espeak-ng's American English IPA onto CMU phones; longest match first. Flaps and glottal
# stops are allophones of /t/ (sometimes /d/); CMU dictionaries write them as T.
_IPA = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY",
    "tʃ": "CH", "dʒ": "JH", "ɪə": "IH R", "eə": "EH R", "ʊə": "UH R",
    "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
    "i": "IY", "ɪ": "IH", "ᵻ": "IH", "e": "EH", "ɛ": "EH", "æ": "AE", "a": "AE",
    "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ʌ": "AH", "ə": "AH",
    "ɐ": "AH", "ɜ": "ER", "ɚ": "ER", "ɝ": "ER",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M",
    "n": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ɹ": "R", "r": "R", "ɾ": "T", "ʔ": "T", "w": "W",
    "j": "Y", "x": "K", "ç": "HH", "ʍ": "W",
}
_IGNORED = set("ˈˌːˑ.‿- \u0361\u032f")
_MAX_KEY = max(len(k) for k in _IPA)
_LISTED = 30


class PronunciationError(RuntimeError):
    """Some grammar words have no pronunciation the engine can use."""

    def __init__(self, engine: str, words: Iterable[str], hint: str = "") -> None:
        self.words = sorted(set(words))
        listed = ", ".join(repr(w) for w in self.words[:_LISTED])
        if len(self.words) > _LISTED:
            listed += f" and {len(self.words) - _LISTED} more"
        super().__init__(
            f"{engine}: no pronunciation for {len(self.words)} grammar word(s): {listed}"
            + (f". {hint}" if hint else "")
        )


def ipa_to_cmu(ipa: str) -> list[str]:
    """Map espeak-ng IPA for one word to CMU phones; raises ValueError on an unknown symbol."""
    phones: list[str] = []
    i = 0
    while i < len(ipa):
        if ipa[i] in _IGNORED:
            i += 1
            continue
        for size in range(_MAX_KEY, 0, -1):
            key = ipa[i : i + size]
            if key in _IPA:
                phones.extend(_IPA[key].split())
                i += size
                break
        else:
            raise ValueError(f"no CMU phone for IPA symbol {ipa[i]!r} in {ipa!r}")
    return _tidy(phones)


def _tidy(phones: list[str]) -> list[str]:
    """An r-coloured vowel followed by /r/ is one ER in CMU spelling; no doubled phones."""
    out: list[str] = []
    for p in phones:
        if out and ((p == "R" and out[-1] == "ER") or p == out[-1]):
            continue
        out.append(p)
    return out


def espeak_ipa(word: str, voice: str = "en-us") -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise PronunciationError(
            "pocketsphinx", [word], "espeak-ng is not installed (deploy/install-system-packages.sh)"
        )
    out = subprocess.run(
        [exe, "-q", "--ipa", "-v", voice, word], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(out.split())


def derive(word: str) -> list[str]:
    """A CMU pronunciation for a word from espeak-ng's letter-to-sound rules."""
    return ipa_to_cmu(espeak_ipa(word).replace(" ", ""))


def read_dict(path: Path) -> dict[str, list[str]]:
    """A CMU-format dictionary: `word PH ON ES`, alternates as `word(2)`; first entry wins."""
    entries: dict[str, list[str]] = {}
    if not path.exists():
        return entries
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or line.startswith(";;;"):
                continue
            word = parts[0].split("(")[0]
            entries.setdefault(word, parts[1:])
    return entries


def dictionary_words(path: Path) -> set[str]:
    """Headwords of a CMU-format dictionary, read quickly (no phones)."""
    with path.open(encoding="utf-8") as f:
        return {line.split(" ", 1)[0].split("(")[0] for line in f if line.strip()}


def missing_pronunciations(
    vocabulary: Iterable[str],
    known: Callable[[str], bool],
    derived: dict[str, list[str]],
    *,
    engine: str = "pocketsphinx",
) -> dict[str, list[str]]:
    """Pronunciations to add for vocabulary words the engine's dictionary lacks.

    Uses the committed derived file first, espeak-ng only for words it does not cover yet.
    Raises PronunciationError naming every word that still cannot be pronounced."""
    add: dict[str, list[str]] = {}
    failed: list[str] = []
    for word in sorted(set(vocabulary)):
        if known(word):
            continue
        phones = derived.get(word)
        if phones is None:
            try:
                phones = derive(word)
            except (ValueError, subprocess.CalledProcessError):
                phones = []
        if phones and all(p in CMU_PHONES for p in phones):
            add[word] = phones
        else:
            failed.append(word)
    if failed:
        raise PronunciationError(engine, failed, "add them to speech/data/pronunciations.dict")
    return add


def write_dict(path: Path, entries: dict[str, list[str]]) -> None:
    lines = [f"{w} {' '.join(p)}\n" for w, p in sorted(entries.items())]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)


def regenerate(vocabulary: Iterable[str], cmudict: Path, path: Path = DATA_FILE) -> dict:
    """Rewrite the derived-pronunciation file for exactly the words cmudict lacks, keeping
    entries already there (so a hand-corrected pronunciation survives)."""
    known = dictionary_words(cmudict)
    entries = missing_pronunciations(vocabulary, known.__contains__, read_dict(path))
    write_dict(path, entries)
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speech.pronounce",
        description="Derive pronunciations (espeak-ng) for grammar words PocketSphinx lacks.",
    )
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    import pocketsphinx

    from speech.grammar import default_grammar

    # The same dictionary speech/stt/sphinx.py decodes with (the wheel's own).
    cmudict = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    vocabulary = default_grammar().vocabulary()
    known = dictionary_words(cmudict)
    current = read_dict(DATA_FILE)
    wanted = {w for w in vocabulary if w not in known}
    if args.check:
        stale = wanted ^ set(current)
        if stale:
            print(f"{DATA_FILE} is out of date: {', '.join(sorted(stale))}", file=sys.stderr)
            return 1
        print(f"{DATA_FILE} is current ({len(current)} derived words)")
        return 0
    entries = regenerate(vocabulary, cmudict)
    print(f"wrote {len(entries)} derived pronunciations to {DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
