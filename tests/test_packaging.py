"""The generated Alexa skill package (deploy/): it matches what `closer package` builds, the
manifest survives ask-smapi-model's SkillManifest, the example phrases parse against each
locale's interaction model, and every locale's model is valid."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.interaction_model.interaction_model_data import (
    InteractionModelData,
)
from ask_smapi_model.v1.skill.manifest.skill_manifest_envelope import SkillManifestEnvelope

from closer import packaging
from closer.packaging import Options, PackageError, understand_example
from tests.support.contract import (
    BUILTIN_INTENTS,
    CUSTOM_INTENTS,
    SAMPLE_CHARS,
    SLOT_REF,
)

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PACKAGE = DEPLOY / "skill-package"
CLOSER = str(Path(sys.executable).parent / "closer")
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
SOURCE = json.loads((ROOT / "interaction_models" / "en-US.json").read_text())
# Amazon's skill category enumeration (the manifest's publishingInformation.category).
_CATEGORY_NAMES = """
ALARMS_AND_CLOCKS ASTROLOGY BUSINESS_AND_FINANCE CALCULATORS CALENDARS_AND_REMINDERS
CHILDRENS_EDUCATION_AND_REFERENCE CHILDRENS_GAMES CHILDRENS_MUSIC_AND_AUDIO
CHILDRENS_NOVELTY_AND_HUMOR COMMUNICATION CONNECTED_CAR COOKING_AND_RECIPE
CURRENCY_GUIDES_AND_CONVERTERS DATING DELIVERY_AND_TAKEOUT DEVICE_TRACKING
EDUCATION_AND_REFERENCE EVENT_FINDERS EXERCISE_AND_WORKOUT FASHION_AND_STYLE FLIGHT_FINDERS
FRIENDS_AND_FAMILY GAME_INFO_AND_ACCESSORY GAMES HEALTH_AND_FITNESS HOTEL_FINDERS
KNOWLEDGE_AND_TRIVIA MOVIE_AND_TV_KNOWLEDGE_AND_TRIVIA MOVIE_INFO_AND_REVIEWS MOVIE_SHOWTIMES
MUSIC_AND_AUDIO_ACCESSORIES MUSIC_AND_AUDIO_KNOWLEDGE_AND_TRIVIA
MUSIC_INFO_REVIEWS_AND_RECOGNITION_SERVICE NAVIGATION_AND_TRIP_PLANNER NEWS NOVELTY
ORGANIZERS_AND_ASSISTANTS PETS_AND_ANIMAL PODCAST PUBLIC_TRANSPORTATION
RELIGION_AND_SPIRITUALITY RESTAURANT_BOOKING_INFO_AND_REVIEW SCHOOLS SCORE_KEEPING
SELF_IMPROVEMENT SHOPPING SMART_HOME SOCIAL_NETWORKING SPORTS_GAMES SPORTS_NEWS
STREAMING_SERVICE TAXI_AND_RIDESHARING TO_DO_LISTS_AND_NOTES TRANSLATORS TV_GUIDES
UNIT_CONVERTERS WEATHER WINE_AND_BEVERAGE ZIP_CODE_LOOKUP"""
CATEGORIES = frozenset(_CATEGORY_NAMES.split())


def _manifest() -> dict:
    return json.loads((PACKAGE / "skill.json").read_text())


def _model(locale: str) -> dict:
    return json.loads((PACKAGE / "interactionModels" / "custom" / f"{locale}.json").read_text())


def _committed_files() -> dict[str, bytes]:
    files = {"ask-resources.json": (DEPLOY / "ask-resources.json").read_bytes()}
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file():
            files[str(path.relative_to(DEPLOY))] = path.read_bytes()
    return files


# --------------------------------------------------------------------------- no drift


def test_committed_package_is_exactly_what_closer_package_builds(tmp_path: Path) -> None:
    # Rebuilt with the endpoint and privacy URL the committed copy carries, so a publisher's
    # own endpoint passes too; everything else must come from interaction_models/ unchanged.
    packaging.write_package(tmp_path, packaging.options_of(DEPLOY))
    rebuilt = {str(p.relative_to(tmp_path)): p.read_bytes()
               for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    committed = _committed_files()
    assert sorted(rebuilt) == sorted(committed)
    for name, data in rebuilt.items():
        assert data == committed[name], f"{name} differs: run `closer package`"


def test_ask_cli_layout() -> None:
    resources = json.loads((DEPLOY / "ask-resources.json").read_text())
    assert resources["askcliResourcesVersion"] == "2020-03-31"
    assert resources["profiles"]["default"]["skillMetadata"]["src"] == "./skill-package"
    models = sorted(p.stem for p in (PACKAGE / "interactionModels" / "custom").glob("*.json"))
    assert models == sorted(LOCALES)


# --------------------------------------------------------------------------- manifest


def test_manifest_round_trips_through_smapi_skill_manifest() -> None:
    raw = (PACKAGE / "skill.json").read_text()
    serializer = DefaultSerializer()
    envelope = serializer.deserialize(raw, SkillManifestEnvelope)
    manifest = envelope.manifest
    assert manifest.manifest_version.value == "1.0"
    assert set(manifest.publishing_information.locales) == set(LOCALES)
    assert manifest.apis.custom.endpoint.uri.startswith("https://")
    # Every field we wrote is one the model knows (a misspelt key would be dropped here).
    assert serializer.serialize(envelope) == json.loads(raw)


def test_manifest_meets_alexa_validation_rules() -> None:
    manifest = _manifest()["manifest"]
    publishing = manifest["publishingInformation"]
    assert publishing["category"] in CATEGORIES
    assert publishing["isAvailableWorldwide"] is False
    assert sorted(publishing["distributionCountries"]) == ["AU", "CA", "GB", "IN", "US"]
    assert publishing["testingInstructions"]
    assert set(publishing["locales"]) == set(LOCALES)
    for locale, info in publishing["locales"].items():
        assert 0 < len(info["name"]) <= 50, locale
        assert 0 < len(info["summary"]) <= 160, locale
        assert 0 < len(info["description"]) <= 4000, locale
        assert 1 <= len(info["examplePhrases"]) <= 3, locale
        assert info["examplePhrases"][0] == "Alexa, open closer together"
        for phrase in info["examplePhrases"][1:]:
            assert phrase.startswith("Alexa, ask closer together to "), phrase
        assert 0 < len(info["keywords"]) <= 30
    privacy = manifest["privacyAndCompliance"]
    # It stores names and, with the journal on, appreciations: personal information.
    assert privacy["usesPersonalInfo"] is True
    assert privacy["isChildDirected"] is False
    assert privacy["allowsPurchases"] is False
    assert privacy["containsAds"] is False
    assert privacy["isExportCompliant"] is True
    assert set(privacy["locales"]) == set(LOCALES)
    for entry in privacy["locales"].values():
        assert entry["privacyPolicyUrl"].startswith("https://")
    custom = manifest["apis"]["custom"]["endpoint"]
    assert custom["sslCertificateType"] in ("Trusted", "Wildcard")
    assert manifest["events"]["subscriptions"] == [{"eventName": "SKILL_DISABLED"},
                                                   {"eventName": "SKILL_PERMISSION_CHANGED"}]
    assert manifest["events"]["endpoint"] == custom


def test_the_package_declares_what_screens_and_reminders_need() -> None:
    manifest = _manifest()["manifest"]
    assert manifest["permissions"] == [{"name": "alexa::alerts:reminders:skill:readwrite"}]
    [apl] = manifest["apis"]["custom"]["interfaces"]
    assert apl["type"] == "ALEXA_PRESENTATION_APL"
    shapes = {(v["mode"], v["shape"]) for v in apl["supportedViewports"]}
    assert shapes == {("HUB", "ROUND"), ("HUB", "RECTANGLE"), ("TV", "RECTANGLE")}
    for viewport in apl["supportedViewports"]:
        assert viewport["minWidth"] <= viewport["maxWidth"]
        assert viewport["minHeight"] <= viewport["maxHeight"]


def test_the_privacy_text_documents_every_permission() -> None:
    manifest = _manifest()["manifest"]
    for info in manifest["publishingInformation"]["locales"].values():
        privacy = info["description"].split("Privacy:", 1)[1]
        for permission in manifest["permissions"]:
            explained = packaging.PERMISSIONS[permission["name"]]
            assert explained in privacy, permission
        assert "Reminders permission" in privacy and "stop reminding us" in privacy


def test_placeholders_are_marked_and_flagged(tmp_path: Path) -> None:
    done = subprocess.run([CLOSER, "package", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "skill-package" / "skill.json").read_text())["manifest"]
    assert "replace-with-your-host.invalid" in manifest["apis"]["custom"]["endpoint"]["uri"]
    privacy = manifest["privacyAndCompliance"]["locales"]["en-US"]["privacyPolicyUrl"]
    assert "replace-with-your-host.invalid" in privacy
    assert "placeholder" in done.stderr


def test_endpoint_and_certificate_type_come_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLOSER, "package", "--out", str(tmp_path), "--endpoint", "https://alexa.example.org/alexa",
         "--ssl-certificate-type", "Wildcard", "--privacy-url", "https://example.org/privacy"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "placeholder" not in done.stderr
    manifest = json.loads((tmp_path / "skill-package" / "skill.json").read_text())["manifest"]
    expected = {"uri": "https://alexa.example.org/alexa", "sslCertificateType": "Wildcard"}
    assert manifest["apis"]["custom"]["endpoint"] == expected
    assert manifest["events"]["endpoint"] == expected
    assert packaging.options_of(tmp_path) == Options("https://alexa.example.org/alexa",
                                                     "Wildcard", "https://example.org/privacy")


def test_lambda_arn_endpoint_has_no_certificate_type() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:closer-together"
    endpoint = packaging.manifest(Options(endpoint=arn))["manifest"]["apis"]["custom"]["endpoint"]
    assert endpoint == {"uri": arn}


@pytest.mark.parametrize("endpoint", ["http://alexa.example.org/alexa", "alexa.example.org",
                                      "ftp://alexa.example.org/alexa"])
def test_non_https_endpoint_is_refused(tmp_path: Path, endpoint: str) -> None:
    done = subprocess.run([CLOSER, "package", "--out", str(tmp_path), "--endpoint", endpoint],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "https" in done.stderr
    assert not (tmp_path / "skill-package").exists()


# --------------------------------------------------------------------------- example phrases


@pytest.mark.parametrize("locale", LOCALES)
def test_example_phrases_parse_against_the_locale_model(locale: str) -> None:
    phrases = _manifest()["manifest"]["publishingInformation"]["locales"][locale]["examplePhrases"]
    model = _model(locale)
    understood = [understand_example(phrase, model) for phrase in phrases]
    assert all(understood), list(zip(phrases, understood, strict=True))
    assert understood[0].intent == "LaunchRequest"
    assert (understood[1].intent, understood[1].slots) == ("QuestionIntent", {"category": "fun"})
    assert understood[2].intent == "AppreciationRoundIntent"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_local_speakers_parser_agrees_on_the_example_phrases(locale: str) -> None:
    """speech.grammar (the product's own parser, restricted to the model) reads each phrase's
    request the same way."""
    from speech.grammar import Grammar

    path = PACKAGE / "interactionModels" / "custom" / f"{locale}.json"
    grammar = Grammar.load(path)
    phrases = _manifest()["manifest"]["publishingInformation"]["locales"][locale]["examplePhrases"]
    for phrase in phrases[1:]:
        request = re.sub(r"^Alexa, ask closer together to ", "", phrase)
        ours = understand_example(phrase, _model(locale))
        theirs = grammar.parse(request)
        assert theirs is not None, phrase
        assert (theirs.intent, theirs.values()) == (ours.intent, ours.slots), phrase


@pytest.mark.parametrize("phrase", [
    "Alexa, ask closer together to order a pizza",             # no such sample
    "Alexa, ask closer together to give us a spicy question",  # not a CardCategory value
    "Alexa, ask closer apart to give us a fun question",       # wrong invocation name
    "Alexa, open closer",
    "ask closer together to give us a fun question",           # no wake word
])
def test_phrases_the_model_does_not_cover_do_not_parse(phrase: str) -> None:
    assert understand_example(phrase, SOURCE) is None


def test_slot_values_resolve_like_alexa() -> None:
    got = understand_example("Alexa, ask closer together for a silly question", SOURCE)
    assert got is not None and got.slots == {"category": "fun"}
    got = understand_example("Alexa, ask closer together to start a two minute hug", SOURCE)
    assert got is not None and (got.intent, got.slots) == ("HugIntent", {"duration": "PT2M"})
    got = understand_example("Alexa, tell closer together we are sam and alex", SOURCE)
    assert got is not None and got.slots == {"firstName": "sam", "secondName": "alex"}


def test_an_example_phrase_that_stops_parsing_fails_the_build(tmp_path: Path,
                                                             monkeypatch) -> None:
    monkeypatch.setattr(packaging, "EXAMPLE_PHRASES",
                        (*packaging.EXAMPLE_PHRASES[:2], "Alexa, ask closer together to dance"))
    with pytest.raises(PackageError, match="does not parse"):
        packaging.write_package(tmp_path, Options())
    assert not (tmp_path / "skill-package").exists()


# --------------------------------------------------------------------------- locale models


@pytest.mark.parametrize("locale", LOCALES)
def test_locale_model_is_valid(locale: str) -> None:
    raw = (PACKAGE / "interactionModels" / "custom" / f"{locale}.json").read_text()
    data = DefaultSerializer().deserialize(raw, InteractionModelData)
    assert data.interaction_model.language_model.invocation_name == "closer together"
    model = json.loads(raw)["interactionModel"]
    language = model["languageModel"]
    intents = {intent["name"]: intent for intent in language["intents"]}
    assert set(intents) == set(CUSTOM_INTENTS) | BUILTIN_INTENTS
    seen: set[str] = set()
    for name, intent in intents.items():
        declared = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        if name in CUSTOM_INTENTS:
            assert declared == CUSTOM_INTENTS[name], (locale, name)
        for sample in intent.get("samples", []):
            assert SAMPLE_CHARS.match(sample) and not re.search(r"\d", sample), sample
            assert set(SLOT_REF.findall(sample)) <= set(declared), sample
            assert sample.lower() not in seen, f"{locale}: {sample!r} twice"
            seen.add(sample.lower())
    card = next(t for t in language["types"] if t["name"] == "CardCategory")
    source_card = next(t for t in SOURCE["interactionModel"]["languageModel"]["types"]
                       if t["name"] == "CardCategory")
    assert [v["id"] for v in card["values"]] == [v["id"] for v in source_card["values"]]
    words = [w for v in card["values"] for w in [v["name"]["value"], *v["name"]["synonyms"]]]
    assert len(words) == len(set(words)), f"{locale}: a synonym names two categories"
    prompts = {prompt["id"] for prompt in model["prompts"]}
    for dialog_intent in model["dialog"]["intents"]:
        for slot in dialog_intent.get("slots", []):
            assert set(slot.get("prompts", {}).values()) <= prompts


@pytest.mark.parametrize("locale", LOCALES)
def test_locales_share_intents_and_samples_with_en_us(locale: str) -> None:
    def shape(model: dict) -> list:
        return [(i["name"], i.get("slots", []), len(i.get("samples", [])))
                for i in model["interactionModel"]["languageModel"]["intents"]]

    assert shape(_model(locale)) == shape(SOURCE)
    assert _model(locale)["interactionModel"]["dialog"] == SOURCE["interactionModel"]["dialog"]


def test_en_us_model_is_the_source_model() -> None:
    assert _model("en-US") == SOURCE


def test_wording_differs_only_where_english_does() -> None:
    locales = _manifest()["manifest"]["publishingInformation"]["locales"]
    assert "favorite" in locales["en-US"]["description"]
    assert "counselor" in locales["en-US"]["description"]
    for locale in ("en-GB", "en-CA", "en-AU", "en-IN"):
        assert "favourite" in locales[locale]["description"]
        assert "counsellor" in locales[locale]["description"]
        assert "favorite" not in locales[locale]["description"]

    def adventure(locale: str) -> list[str]:
        types = _model(locale)["interactionModel"]["languageModel"]["types"]
        values = next(t for t in types if t["name"] == "CardCategory")["values"]
        return next(v for v in values if v["id"] == "adventure")["name"]["synonyms"]

    assert "holiday" not in adventure("en-US") and "holiday" not in adventure("en-CA")
    for locale in ("en-GB", "en-AU", "en-IN"):
        assert "holiday" in adventure(locale)
        got = understand_example("Alexa, ask closer together to give us a holiday question",
                                 _model(locale))
        assert got is not None and got.slots == {"category": "adventure"}


def test_reword_swaps_whole_words_and_keeps_capitals() -> None:
    assert packaging.reword("Favorite colors, favoritism", "en-GB") == \
        "Favourite colours, favoritism"
    assert packaging.reword("my mom on vacation", "en-AU") == "my mum on holiday"
    assert packaging.reword("my mom on vacation", "en-CA") == "my mom on vacation"
    assert packaging.reword("we fall asleep", "en-GB") == "we fall asleep"


def test_a_rewording_the_intent_already_has_keeps_its_own_words() -> None:
    samples = ["i lost my mum", "i lost my mom", "my mom called"]
    assert packaging._reworded(samples, "en-GB") == ["i lost my mum", "i lost my mom",
                                                     "my mum called"]
    assert packaging._reworded(samples, "en-US") == samples
