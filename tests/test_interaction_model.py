"""Validate the Alexa interaction model in interaction_models/en-US.json."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.interaction_model.interaction_model_data import (
    InteractionModelData,
)

from tests.support.contract import (
    BUILTIN_INTENTS,
    CANONICAL_CATEGORIES,
    CUSTOM_INTENTS,
    SAMPLE_CHARS,
    SLOT_REF,
)

MODEL_PATH = Path(__file__).resolve().parent.parent / "interaction_models" / "en-US.json"

MIN_SAMPLES = 30


@pytest.fixture(scope="module")
def raw_text():
    return MODEL_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raw(raw_text):
    return json.loads(raw_text)


@pytest.fixture(scope="module")
def language_model(raw):
    return raw["interactionModel"]["languageModel"]


@pytest.fixture(scope="module")
def intents(language_model):
    return {intent["name"]: intent for intent in language_model["intents"]}


def test_deserializes_with_smapi_model(raw_text):
    data = DefaultSerializer().deserialize(raw_text, InteractionModelData)
    assert isinstance(data, InteractionModelData)
    schema = data.interaction_model
    lm = schema.language_model
    assert lm.invocation_name == "closer together"
    names = {intent.name for intent in lm.intents}
    assert set(CUSTOM_INTENTS) | BUILTIN_INTENTS <= names
    for intent in lm.intents:
        if intent.name in CUSTOM_INTENTS:
            assert {slot.name for slot in intent.slots or []} == set(CUSTOM_INTENTS[intent.name])
    assert [t.name for t in lm.types] == ["CardCategory", "HugAgain", "CardDepth", "RitualType",
                                          "DayPart"]
    samples = {intent.name: intent.samples or [] for intent in lm.intents}
    for name in CUSTOM_INTENTS:
        assert len(samples[name]) >= MIN_SAMPLES, name
    share = next(i for i in schema.dialog.intents if i.name == "ShareAppreciationIntent")
    slot = next(s for s in share.slots if s.name == "appreciation")
    assert slot.elicitation_required is True
    assert slot.prompts.elicitation in {prompt.id for prompt in schema.prompts}


def test_invocation_name(language_model):
    assert language_model["invocationName"] == "closer together"


def test_expected_intents_and_slot_types(intents):
    assert set(intents) == set(CUSTOM_INTENTS) | BUILTIN_INTENTS
    for name, expected in CUSTOM_INTENTS.items():
        declared = {slot["name"]: slot["type"] for slot in intents[name].get("slots", [])}
        assert declared == expected, name


def test_slot_references_are_declared(intents):
    for name, intent in intents.items():
        declared = {slot["name"] for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            for ref in SLOT_REF.findall(sample):
                assert ref in declared, f"{name}: {sample!r} references undeclared slot {ref!r}"


def test_slot_types_are_declared_or_builtin(language_model, intents):
    custom_types = {t["name"] for t in language_model.get("types", [])}
    for name, intent in intents.items():
        for slot in intent.get("slots", []):
            slot_type = slot["type"]
            assert slot_type.startswith("AMAZON.") or slot_type in custom_types, (name, slot_type)


@pytest.mark.parametrize("intent_name", sorted(CUSTOM_INTENTS))
def test_custom_intent_has_enough_unique_samples(intents, intent_name):
    samples = intents[intent_name]["samples"]
    assert len(samples) == len(set(samples)), f"{intent_name} has duplicate samples"
    assert len(set(samples)) >= MIN_SAMPLES, f"{intent_name} has only {len(samples)} samples"


def test_samples_follow_alexa_rules(intents):
    for name, intent in intents.items():
        for sample in intent.get("samples", []):
            assert SAMPLE_CHARS.match(sample), f"{name}: malformed sample {sample!r}"
            assert not re.search(r"\d", sample), f"{name}: digits in {sample!r}"
            assert sample == sample.strip() and "  " not in sample


def test_no_sample_duplicated_across_intents(intents):
    counts = Counter()
    for intent in intents.values():
        counts.update({sample.lower() for sample in intent.get("samples", [])})
    duplicates = sorted(sample for sample, count in counts.items() if count > 1)
    assert not duplicates, duplicates


def test_search_query_samples_have_carrier_phrase(intents):
    for name, intent in intents.items():
        search_slots = {
            slot["name"] for slot in intent.get("slots", []) if slot["type"] == "AMAZON.SearchQuery"
        }
        for slot_name in search_slots:
            for sample in intent["samples"]:
                if f"{{{slot_name}}}" not in sample:
                    continue
                carrier = SLOT_REF.sub("", sample).strip()
                assert carrier, f"{name}: {sample!r} has no carrier phrase"
                # a SearchQuery slot must not share a sample with other slots
                assert SLOT_REF.findall(sample) == [slot_name], sample


def test_card_category_values(language_model):
    types = {t["name"]: t for t in language_model["types"]}
    values = types["CardCategory"]["values"]
    ids = [value["id"] for value in values]
    assert sorted(ids) == sorted(CANONICAL_CATEGORIES)
    for value in values:
        assert value["name"]["value"] == value["id"]
        assert value["name"].get("synonyms"), value["id"]
    synonym_owner = {}
    for value in values:
        for synonym in value["name"]["synonyms"]:
            assert synonym == synonym.lower()
            assert synonym not in synonym_owner, f"synonym {synonym!r} used twice"
            synonym_owner[synonym] = value["id"]
    expected = {
        "playful": "fun",
        "lighthearted": "fun",
        "heartfelt": "deep",
        "goals": "dreams",
        "nostalgic": "memories",
        "grateful": "gratitude",
        "purpose": "meaning",
        "philosophical": "meaning",
        "spiritual": "meaning",
        "travel": "adventure",
        "first date": "memories",
        "would you rather": "fun",
        "romantic": "us",
        "after a fight": "repair",
    }
    for synonym, owner in expected.items():
        assert synonym_owner.get(synonym) == owner, synonym


def test_dialog_model_elicits_appreciation(raw):
    dialog = raw["interactionModel"]["dialog"]
    share = next(i for i in dialog["intents"] if i["name"] == "ShareAppreciationIntent")
    slot = next(s for s in share["slots"] if s["name"] == "appreciation")
    assert slot["type"] == "AMAZON.SearchQuery"
    assert slot["elicitationRequired"] is True
    assert slot["prompts"]["elicitation"]


def test_dialog_prompts_exist(raw, intents):
    model = raw["interactionModel"]
    prompts = {prompt["id"]: prompt for prompt in model["prompts"]}
    for dialog_intent in model["dialog"]["intents"]:
        assert dialog_intent["name"] in intents
        declared = {s["name"]: s["type"] for s in intents[dialog_intent["name"]].get("slots", [])}
        referenced = list(dialog_intent.get("prompts", {}).values())
        for slot in dialog_intent.get("slots", []):
            assert declared.get(slot["name"]) == slot["type"], slot["name"]
            referenced.extend(slot.get("prompts", {}).values())
        for prompt_id in referenced:
            assert prompt_id in prompts, f"missing prompt {prompt_id!r}"
            assert prompts[prompt_id]["variations"], prompt_id


def test_hug_samples_never_spell_out_a_duration(intents):
    """Alexa prefers an exact sample match: "hug for a minute" as a literal sample would
    arrive without a duration and the skill would time its 20 s default."""
    literal = re.compile(r"\b(second|seconds|minute|minutes)\b")
    for sample in intents["HugIntent"]["samples"]:
        without_slots = re.sub(r"\{\w+\}", "", sample)
        assert not literal.search(without_slots), sample
