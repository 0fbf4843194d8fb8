"""Care on a hard evening, as data: the helplines and spoken lines in skill/content/care.yaml
and the HardTimesIntent / SafetyIntent phrasings in skill/content/care_phrasings.yaml.

Real parts only: the interaction model and the local speaker's grammar compiled from it. The
phrasings are not in interaction_models/en-US.json yet (the lead merges them), so the tests
that need them there compile a copy of the model with them merged in.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from skill.interaction_model import MODEL_PATH
from speech.grammar import Grammar, default_grammar, model
from speech.grammar.evaluate import HELDOUT, evaluate, load_cases

CONTENT = Path(__file__).resolve().parent.parent / "skill" / "content"
CARE = yaml.safe_load((CONTENT / "care.yaml").read_text(encoding="utf-8"))
PHRASINGS = yaml.safe_load((CONTENT / "care_phrasings.yaml").read_text(encoding="utf-8"))
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
CHECKED_ON = date(2026, 12, 6)

CARE_INTENTS = ("HardTimesIntent", "SafetyIntent")
MIN_SAMPLES = {"HardTimesIntent": 60, "SafetyIntent": 25}
MAX_LINE_WORDS = 25
MAX_SAMPLE_WORDS = 11
# What DESIGN.md promises the CardCategory type will also hold (us, meaning, repair): a
# phrasing equal to "a question about making up" would be a card request, not distress.
CONTRACT_CATEGORIES = {
    "us": ["about us", "each other", "love", "admiration"],
    "meaning": ["spiritual", "purpose", "philosophical", "meaning of life"],
    "repair": ["after a fight", "making up", "hard conversation"],
}

FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself)\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{([a-z.]+)\}")
# lower-case words and apostrophes, single spaces: what an Alexa sample may be (no slots)
SAMPLE = re.compile(r"^[a-z']+(?: [a-z']+)*$")
# A safety answer offers nothing the couple could do together.
RITUAL_WORDS = re.compile(r"\b(hug|hugs|card|question|round|repair|appreciat\w*)\b", re.I)
# Words of danger that must never reach a hard-times answer (which offers a hug).
DANGER = re.compile(
    r"\b(hit|hits|hitting|beat|beats|threaten\w*|danger|safe|unsafe|abus\w*|violent|"
    r"choked|pushed|scares|terrified)\b|\bhurt(ing)? me\b|\b(afraid|scared|frightened) of "
    r"(my partner|him|her|them|my husband|my wife|my boyfriend|my girlfriend)\b")


def samples(intent: str) -> list[str]:
    return [said for theme in PHRASINGS[intent].values() for said in theme]


def words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text)


# --- numbers -----------------------------------------------------------------------------

_NUMBER_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
    "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16",
    "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
    "ninety": "90", "hundred": "00", "thousand": "000",
}
_REPEAT = {"double": 2, "triple": 3}


def spoken_digits(spoken: str) -> str:
    """The digits a listener writes down on hearing `spoken` ("oh eight hundred" -> 0800)."""
    out, repeat = "", 1
    for word in re.findall(r"[a-z]+", spoken.lower()):
        if word in _REPEAT:
            repeat = _REPEAT[word]
            continue
        if word not in _NUMBER_WORDS:
            raise ValueError(f"not a number word: {word!r} in {spoken!r}")
        said = _NUMBER_WORDS[word]
        out += said * repeat if len(said) == 1 else said
        repeat = 1
    return out


def numbers(node: object, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every entry in the care data that has digits to dial, with where it is."""
    if isinstance(node, dict):
        if "digits" in node:
            yield path, node
        for key, value in node.items():
            yield from numbers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from numbers(value, f"{path}[{k}]")


def sourced(node: object, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every entry that states a fact about a service (it names a source)."""
    if isinstance(node, dict):
        if "source_url" in node or "digits" in node or "web" in node:
            yield path, node
        for key, value in node.items():
            if key != "lines":
                yield from sourced(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from sourced(value, f"{path}[{k}]")


NUMBERS = list(numbers(CARE["locales"]))
FACTS = list(sourced(CARE["locales"]))


def render(template: str, locale: dict) -> str:
    """A line as the local speaker says it: each {placeholder} in its spoken words."""
    def spoken(match: re.Match) -> str:
        *parents, last = match.group(1).split(".")
        node = locale
        for key in parents:
            node = node[key]
        if last == "web":
            return node["web_spoken"]
        return node[last]["spoken"]
    return PLACEHOLDER.sub(spoken, template)


def test_every_locale_the_skill_serves_has_care_data():
    assert tuple(CARE["locales"]) == LOCALES


@pytest.mark.parametrize("locale", LOCALES)
def test_a_locale_has_an_emergency_number_a_helpline_a_crisis_line_and_a_counselor(locale):
    data = CARE["locales"][locale]
    assert re.fullmatch(r"\d{3}", data["emergency"]["digits"])
    assert data["emergency"]["verified"] is True
    helpline = data["helpline"]
    assert helpline.get("digits") or helpline.get("web"), "a helpline needs a number or a site"
    assert data["crisis"]["digits"]
    assert data["counselling"]["name"]
    for part in ("emergency", "helpline", "crisis", "counselling"):
        assert data[part]["source_url"].startswith(("https://", "http://")), part
        assert data[part]["checked_on"] == CHECKED_ON, part


@pytest.mark.parametrize(("path", "fact"), FACTS, ids=[p for p, _ in FACTS])
def test_every_fact_names_its_source_the_day_it_was_checked_and_what_it_says(path, fact):
    assert fact["source_url"].startswith(("https://", "http://"))
    assert fact["checked_on"] == CHECKED_ON
    assert len(fact["evidence"].split()) >= 4, "quote what the page says"
    assert isinstance(fact["verified"], bool)
    if not fact["verified"]:
        assert fact.get("note"), "an unverified entry says why"


@pytest.mark.parametrize(("path", "entry"), NUMBERS, ids=[p for p, _ in NUMBERS])
def test_every_number_is_dialable_written_as_its_service_writes_it_and_quoted(path, entry):
    digits = entry["digits"]
    assert isinstance(digits, str) and digits.isdigit() and 3 <= len(digits) <= 11
    assert isinstance(entry["display"], str)
    assert re.sub(r"\D", "", entry["display"]) == digits
    # The quoted evidence states the number (its last seven digits for long ones).
    assert digits[-7:] in re.sub(r"\D", "", entry["evidence"]), "the quote must show the number"


@pytest.mark.parametrize(("path", "entry"), NUMBERS, ids=[p for p, _ in NUMBERS])
def test_every_number_is_spoken_as_the_same_digits(path, entry):
    assert spoken_digits(entry["spoken"]) == entry["digits"], entry["spoken"]


def test_reading_a_number_aloud_back_to_digits():
    assert spoken_digits("one eight hundred, seven nine nine, seven two three three") == (
        "18007997233")
    assert spoken_digits("oh eight oh eight, two thousand, two four seven") == "08082000247"
    assert spoken_digits("triple zero") == "000"
    assert spoken_digits("thirteen eleven fourteen") == "131114"
    with pytest.raises(ValueError, match="'safe'"):
        spoken_digits("one eight hundred safe")


def all_lines(locale: str) -> Iterator[tuple[str, str]]:
    for kind, lines in CARE["locales"][locale]["lines"].items():
        for line in lines:
            yield kind, line


@pytest.mark.parametrize("locale", LOCALES)
def test_every_line_is_short_and_in_the_speakers_own_voice(locale):
    data = CARE["locales"][locale]
    for kind, line in all_lines(locale):
        spoken = render(line, data)
        assert "{" not in spoken, line
        assert len(words(spoken)) <= MAX_LINE_WORDS, f"{kind}: {spoken}"
        assert not FIRST_PERSON.search(spoken), f"{kind}: {spoken}"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_safety_answer_gives_the_emergency_number_first_and_offers_no_ritual(locale):
    data = CARE["locales"][locale]
    safety = data["lines"]["safety"]
    assert "{emergency}" in safety[0]
    assert any("{helpline" in line for line in safety[1:])
    assert safety[-1] == "You don't have to go through this alone."
    for line in safety:
        assert not RITUAL_WORDS.search(render(line, data)), line


@pytest.mark.parametrize("locale", LOCALES)
def test_the_counselor_line_is_spelled_for_its_locale(locale):
    said = " ".join(CARE["locales"][locale]["lines"]["counselor"])
    spelling = "counselor" if locale == "en-US" else "counsellor"
    assert f"a couples {spelling}" in said.lower()


def test_hard_times_lines_are_short_and_in_the_speakers_own_voice():
    lines = CARE["hard_times"]["acknowledge"] + [
        offer["line"] for offer in CARE["hard_times"]["offers"].values()]
    assert len(CARE["hard_times"]["acknowledge"]) >= 3
    for line in lines:
        assert len(words(line)) <= MAX_LINE_WORDS, line
        assert not FIRST_PERSON.search(line), line
    for offer in CARE["hard_times"]["offers"].values():
        assert offer["line"].lower().rstrip(".").endswith(offer["say"]), offer["line"]


# --- phrasings ---------------------------------------------------------------------------

def test_there_are_enough_phrasings_for_each_intent():
    for intent, least in MIN_SAMPLES.items():
        assert len(samples(intent)) >= least, intent


@pytest.mark.parametrize("intent", CARE_INTENTS)
def test_phrasings_are_written_as_alexa_samples(intent):
    for said in samples(intent):
        assert SAMPLE.match(said), said
        assert len(said.split()) <= MAX_SAMPLE_WORDS, said


def test_no_phrasing_is_repeated_or_shared_between_the_two_intents():
    hard, safety = samples("HardTimesIntent"), samples("SafetyIntent")
    assert len(hard) == len(set(hard))
    assert len(safety) == len(set(safety))
    assert not set(hard) & set(safety)


def test_a_hard_times_phrasing_never_speaks_of_danger():
    """Hard times are answered with a hug or a card; danger must never be."""
    for said in samples("HardTimesIntent"):
        assert not DANGER.search(said), said


@pytest.fixture(scope="module")
def raw_model() -> dict:
    return json.loads(MODEL_PATH.read_text(encoding="utf-8"))


def _category_words(raw: dict) -> list[str]:
    types = {t["name"]: t for t in raw["interactionModel"]["languageModel"]["types"]}
    found = [w for v in types["CardCategory"]["values"]
             for w in [v["name"]["value"], *v["name"].get("synonyms", [])]]
    contract = [w for ident, syns in CONTRACT_CATEGORIES.items() for w in [ident, *syns]]
    return found + contract


def _pattern(sample: str, slots: dict[str, str], categories: list[str]) -> re.Pattern:
    """A model sample as a regular expression: a custom-type slot is one of its words, any
    other slot (a name, a duration, a free-text answer) any words at all."""
    out = []
    for k, part in enumerate(model.SLOT.split(sample)):
        if k % 2 == 0:
            out.append(re.escape(part))
        elif slots[part] == "CardCategory":
            out.append("(?:" + "|".join(map(re.escape, categories)) + ")")
        else:
            out.append(".+")
    return re.compile("".join(out))


def test_no_phrasing_is_already_a_sample_of_another_intent(raw_model):
    categories = _category_words(raw_model)
    taken = []
    for intent in raw_model["interactionModel"]["languageModel"]["intents"]:
        if intent["name"] in CARE_INTENTS:
            continue
        slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            pattern = _pattern(sample, slots, categories)
            taken += [(said, intent["name"], sample) for name in CARE_INTENTS
                      for said in samples(name) if pattern.fullmatch(said)]
    assert not taken, taken


@pytest.mark.parametrize("intent", CARE_INTENTS)
def test_the_local_speaker_never_hears_a_phrasing_as_another_request(intent):
    """Said exactly, nothing already in the model claims a phrasing (after the merge, its own
    intent does)."""
    grammar = default_grammar()
    for said in samples(intent):
        parse = grammar.parse(said, cutoff=1.0)
        assert parse is None or parse.intent == intent, (said, parse)


def _merged(raw: dict, *, with_contract_categories: bool = False) -> dict:
    merged = copy.deepcopy(raw)
    lm = merged["interactionModel"]["languageModel"]
    intents = {i["name"]: i for i in lm["intents"]}
    for name in CARE_INTENTS:
        intent = intents.get(name) or {"name": name, "samples": []}
        if name not in intents:
            lm["intents"].append(intent)
        intent["samples"] = list(dict.fromkeys([*intent.get("samples", []), *samples(name)]))
    if with_contract_categories:
        card = next(t for t in lm["types"] if t["name"] == "CardCategory")
        present = {v.get("id") or v["name"]["value"] for v in card["values"]}
        card["values"] += [{"id": ident, "name": {"value": ident, "synonyms": syns}}
                           for ident, syns in CONTRACT_CATEGORIES.items() if ident not in present]
    return merged


def _grammar(raw: dict, directory: Path) -> Grammar:
    path = directory / "en-US.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return Grammar(model.load(path))


@pytest.fixture(scope="module")
def merged(raw_model, tmp_path_factory) -> Grammar:
    """The local speaker's grammar once the phrasings are in the interaction model."""
    return _grammar(_merged(raw_model), tmp_path_factory.mktemp("merged"))


@pytest.mark.parametrize("intent", CARE_INTENTS)
def test_merged_into_the_model_every_phrasing_reaches_its_intent(merged, intent):
    for said in samples(intent):
        parse = merged.parse(said)
        assert parse is not None and parse.intent == intent, (said, parse)


@pytest.mark.parametrize("pair", PHRASINGS["boundary"], ids=lambda p: p["said"])
def test_across_the_line_each_sentence_lands_on_its_own_side(merged, pair):
    parse = merged.parse(pair["said"])
    assert parse is not None and parse.intent == pair["intent"]
    assert parse.intent != pair["never"]


@pytest.mark.parametrize("miss", PHRASINGS["near_misses"], ids=lambda m: m["said"])
def test_a_near_miss_reaches_neither_care_intent(merged, miss):
    parse = merged.parse(miss["said"])
    assert parse is None or parse.intent not in CARE_INTENTS, (miss["why"], parse)


@pytest.mark.parametrize("path", sorted(HELDOUT.parent.glob("*.yaml")), ids=lambda p: p.name)
def test_the_phrasings_take_nothing_from_the_held_out_speech(merged, path):
    """Every held-out sentence (tests/fixtures/grammar) is understood exactly as it was, and
    refused exactly as often, with the phrasings merged in."""
    cases = load_cases(path)
    before = evaluate(default_grammar(), cases, default_grammar().cutoff)
    after = evaluate(merged, cases, merged.cutoff)
    assert after.false_accepts == before.false_accepts
    assert [said for _, said in after.misses] == [said for _, said in before.misses]
    assert after.correct == before.correct


@pytest.mark.parametrize("offer", sorted(CARE["hard_times"]["offers"]))
def test_each_offer_teaches_a_request_the_skill_understands(raw_model, tmp_path, offer):
    """Once DESIGN.md's categories exist ("a question about making up" deals a repair card)."""
    grammar = _grammar(_merged(raw_model, with_contract_categories=True), tmp_path)
    spec = CARE["hard_times"]["offers"][offer]
    parse = grammar.parse(spec["say"])
    assert parse is not None and parse.intent == spec["intent"], parse
    if "category" in spec:
        assert parse.values().get("category") == spec["category"]
