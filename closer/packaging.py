"""`closer package`: the Alexa skill package (ASK CLI v2 layout) generated from
interaction_models/en-US.json, so the package is never edited by hand.

    deploy/ask-resources.json
    deploy/skill-package/skill.json
    deploy/skill-package/interactionModels/custom/<locale>.json

Every English locale gets the same intents and slots; where English differs, a small
per-locale word table (``LOCALE_WORDS``) rewrites the en-US wording, and ``EXTRA_SYNONYMS``
adds the few words one locale uses for a category that another does not. The build refuses
to write a package whose example phrases do not parse against that locale's model.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from skill import interaction_model
from skill.interaction_model import MODEL_PATH as SOURCE_MODEL

# Written where you run it, never over the tracked reference copy in deploy/.
DEFAULT_OUT = Path("build") / "alexa"

# Clearly not real: `.invalid` never resolves, and the words say what to do.
PLACEHOLDER_ENDPOINT = "https://replace-with-your-host.invalid/alexa"
PLACEHOLDER_PRIVACY_URL = "https://replace-with-your-host.invalid/privacy-policy"
SSL_CERTIFICATE_TYPES = ("Trusted", "Wildcard")

# --------------------------------------------------------------------------- locale wording

# British-style spelling (Canada shares it for these words).
_SPELLING = {"favorite": "favourite", "favorites": "favourites", "color": "colour",
             "colors": "colours", "counselor": "counsellor", "counselors": "counsellors"}
# Everyday words Canada shares with the US but Britain, Australia and India do not. "fall"
# (autumn) is left out on purpose: a word swap cannot tell the season from the verb.
_VOCABULARY = {"mom": "mum", "moms": "mums", "vacation": "holiday", "vacations": "holidays"}
_COMMONWEALTH = {**_SPELLING, **_VOCABULARY}

LOCALE_WORDS: dict[str, dict[str, str]] = {
    "en-US": {},
    "en-CA": _SPELLING,
    "en-GB": _COMMONWEALTH,
    "en-AU": _COMMONWEALTH,
    "en-IN": _COMMONWEALTH,
}
# "a holiday question" means a trip outside North America.
_HOLIDAYS = {"adventure": ("holiday", "holidays")}
EXTRA_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "en-GB": _HOLIDAYS, "en-AU": _HOLIDAYS, "en-IN": _HOLIDAYS,
}
LOCALES = tuple(LOCALE_WORDS)
COUNTRIES = {"en-US": "US", "en-CA": "CA", "en-GB": "GB", "en-AU": "AU", "en-IN": "IN"}

# --------------------------------------------------------------------------- manifest text

# Written in en-US; each locale's copy goes through LOCALE_WORDS.
NAME = "Closer Together"
SUMMARY = ("Small everyday rituals for couples: conversation cards, a timed hug and an "
           "evening appreciation round.")
DESCRIPTION = """\
Closer Together helps couples build small, everyday moments of closeness.

Conversation cards: say "give us a question", or ask for your favorite kind: fun, deep, dreams, \
memories, gratitude, values, ideas, adventure, about us, meaning, or a gentle question for \
making up. Say "something lighter" or "something deeper" to change the mood. You will not \
hear the same card again until that kind runs out.
A deeper conversation: "let's go deeper tonight" asks three sets of questions, each a little \
deeper, one at a time. Passing is always fine.
Timed hug: "start a twenty second hug". Alexa guides you in, holds the time and rings a \
chime at the end.
Evening appreciation round: "start our appreciation round". Each of you says one thing you \
appreciated about the other today; Alexa says it back and says goodnight. A quiet round \
gives you the pauses and records nothing.
Listening practice: "let's practice listening". One of you talks, the other listens and \
says back what they heard, then you swap.
Rose, thorn, bud: "let's do a check in".
Journal: if you choose to keep one, "read our journal" plays back the last week's \
appreciations. "How did we do this week" looks back warmly at what you made time for.
A nightly nudge: "remind us every night at nine thirty to do our appreciation round", "when \
is our reminder", "stop reminding us".
On an Echo Show, the question is on the screen, large enough to read across the room, and a \
hug counts down to the chime.

Privacy: Closer Together stores your two first names, which cards you have heard and which \
rituals you did this week, and, only if you turn the journal on, the appreciations you \
share, for seven days. Names and appreciations are encrypted. Say "forget us" to delete \
everything; disabling the skill does the same.
{permissions}

Closer Together is for everyday closeness, not therapy. On a hard evening it offers something \
gentle and points you to a couples counselor; if you are afraid or not safe, it gives you the \
emergency number and a helpline."""
# Every permission the skill asks for, and what the listing's privacy text says about it.
PERMISSIONS = {
    "alexa::alerts:reminders:skill:readwrite": (
        "Reminders permission: asked for only when you ask for a daily nudge. Closer Together "
        "then sets that one daily reminder, and keeps which ritual and what time so it can "
        "tell you or remove it; say \"stop reminding us\" to remove it."),
}
KEYWORDS = ("couples", "relationship", "conversation starters", "questions for couples",
            "hug timer", "appreciation", "gratitude", "check in", "date night", "partner")
# At most three; each must parse against the locale's model (checked at build time).
EXAMPLE_PHRASES = (
    "Alexa, open closer together",
    "Alexa, ask closer together to give us a fun question",
    "Alexa, ask closer together to start our appreciation round",
)
TESTING_INSTRUCTIONS = (
    "No account linking. Say 'Alexa, open closer together', then 'our names are Sam and "
    "Alex', 'give us a fun question', 'next', 'start a twenty second hug', 'start our "
    "appreciation round' (say 'yes' to the journal, then 'I appreciated ...' for each "
    "partner), 'read our journal', 'how did we do this week', 'remind us every night at "
    "nine thirty to do our appreciation round' (Alexa asks for the reminders permission), "
    "'when is our reminder', 'stop reminding us', and 'forget us' then 'yes' to delete "
    "everything. Disabling the skill deletes the household's data too (SKILL_DISABLED "
    "event); taking back the reminders permission makes it forget its reminders "
    "(SKILL_PERMISSION_CHANGED). On an Echo Show each card, hug and round turn shows an "
    "APL document."
)
# Where the APL documents are made to be read (Alexa's viewport profiles, in pixels): round
# hubs, landscape hubs small to extra large, and TVs.
SUPPORTED_VIEWPORTS = (
    {"mode": "HUB", "shape": "ROUND", "minWidth": 100, "maxWidth": 599,
     "minHeight": 100, "maxHeight": 599},
    {"mode": "HUB", "shape": "RECTANGLE", "minWidth": 960, "maxWidth": 1279,
     "minHeight": 100, "maxHeight": 599},
    {"mode": "HUB", "shape": "RECTANGLE", "minWidth": 960, "maxWidth": 1279,
     "minHeight": 600, "maxHeight": 959},
    {"mode": "HUB", "shape": "RECTANGLE", "minWidth": 1280, "maxWidth": 1920,
     "minHeight": 600, "maxHeight": 1279},
    {"mode": "TV", "shape": "RECTANGLE", "minWidth": 960, "maxWidth": 960,
     "minHeight": 540, "maxHeight": 540},
)
# One of Amazon's category enumeration (checked in tests/test_packaging.py).
CATEGORY = "FRIENDS_AND_FAMILY"


class PackageError(ValueError):
    """The package would be invalid; the message says why."""


@dataclass(frozen=True)
class Options:
    endpoint: str = PLACEHOLDER_ENDPOINT
    ssl_certificate_type: str = "Trusted"
    privacy_policy_url: str = PLACEHOLDER_PRIVACY_URL

    def check(self) -> None:
        if not (_is_https(self.endpoint) or self.endpoint.startswith("arn:aws:lambda:")):
            raise PackageError(f"endpoint must be an https:// URL or a Lambda ARN: "
                               f"{self.endpoint!r}")
        if self.ssl_certificate_type not in SSL_CERTIFICATE_TYPES:
            raise PackageError(f"sslCertificateType must be one of {SSL_CERTIFICATE_TYPES}")
        if not _is_https(self.privacy_policy_url):
            raise PackageError("the privacy policy URL must be https://")

    @property
    def placeholders(self) -> list[str]:
        return [v for v in (self.endpoint, self.privacy_policy_url) if ".invalid/" in v]


def _is_https(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


# --------------------------------------------------------------------------- localizing


def reword(text: str, locale: str) -> str:
    """``text`` in the locale's wording: whole words from LOCALE_WORDS, keeping capitals."""
    table = LOCALE_WORDS[locale]
    if not table:
        return text

    def swap(match: re.Match) -> str:
        word = match.group(0)
        new = table.get(word.lower())
        if new is None:
            return word
        return new.capitalize() if word[0].isupper() else new

    return re.sub(r"[A-Za-z]+", swap, text)


def localize_model(source: dict, locale: str) -> dict:
    """The interaction model for ``locale``: same intents, slots and ids, local wording."""
    model = copy.deepcopy(source)
    schema = model["interactionModel"]
    language = schema["languageModel"]
    for intent in language["intents"]:
        if "samples" in intent:
            intent["samples"] = _reworded(intent["samples"], locale)
    extra = EXTRA_SYNONYMS.get(locale, {})
    for slot_type in language.get("types", []):
        for value in slot_type.get("values", []):
            name = value["name"]
            if "synonyms" in name:
                name["synonyms"] = [reword(s, locale) for s in name["synonyms"]]
            added = [s for s in extra.get(value.get("id"), ()) if s not in name.get("synonyms", [])]
            if added:
                name["synonyms"] = [*name.get("synonyms", []), *added]
    for prompt in schema.get("prompts", []):
        for variation in prompt.get("variations", []):
            variation["value"] = reword(variation["value"], locale)
    _check_model(model, locale)
    return model


def _reworded(samples: list[str], locale: str) -> list[str]:
    """The samples in the locale's wording; one whose rewording the intent already has (the
    source lists both "i lost my mum" and "i lost my mom") keeps its own words."""
    out: list[str] = []
    taken = set(samples)
    for sample in samples:
        local = reword(sample, locale)
        if local != sample and (local in taken or local in out):
            local = sample
        out.append(local)
        taken.add(local)
    return out


def _check_model(model: dict, locale: str) -> None:
    language = model["interactionModel"]["languageModel"]
    seen: dict[str, str] = {}
    for intent in language["intents"]:
        for sample in intent.get("samples", []):
            owner = seen.setdefault(sample.lower(), intent["name"])
            if owner != intent["name"] or intent["samples"].count(sample) > 1:
                raise PackageError(f"{locale}: sample {sample!r} is used twice")
    synonyms: dict[str, str] = {}
    for slot_type in language.get("types", []):
        for value in slot_type.get("values", []):
            for word in [value["name"]["value"], *value["name"].get("synonyms", [])]:
                if synonyms.setdefault(word, value["id"]) != value["id"]:
                    raise PackageError(f"{locale}: {word!r} names two {slot_type['name']} values")


# --------------------------------------------------------------------------- example phrases


@dataclass(frozen=True)
class Understood:
    intent: str                 # "LaunchRequest" or an intent name
    slots: dict[str, str]       # slot name -> resolved value (canonical id for custom types)


def understand_example(phrase: str, model: dict) -> Understood | None:
    """What a published example phrase asks of this locale's model, read by the parser the
    local speaker uses (speech.grammar), held to exact samples: the wake word, the skill's
    name, then one sample whose slots hold values their types accept. None if it does not
    parse that way."""
    said = " ".join(re.sub(r"[,.!?]", " ", phrase.lower()).split())
    invocation = model["interactionModel"]["languageModel"]["invocationName"]
    if not said.startswith("alexa ") or invocation not in said:
        return None  # without the wake word and the skill's name, Alexa keeps it
    # Imported here: speech.grammar needs rapidfuzz and hassil, which the webhook's image and
    # Lambda bundle leave out, and every `closer` command builds this command's parser.
    from speech.grammar import Grammar
    from speech.grammar.model import compile_model

    grammar = Grammar(compile_model(interaction_model.parse(model)))
    understood = grammar.parse(said.removeprefix("alexa "), cutoff=1.0)
    if understood is None or understood.intent == "AMAZON.FallbackIntent":
        return None
    return Understood(understood.intent, understood.values())


# --------------------------------------------------------------------------- manifest


def description() -> str:
    """The listing's description, its privacy text naming every permission asked for."""
    return DESCRIPTION.format(permissions="\n".join(PERMISSIONS.values()))


def manifest(options: Options, locales: tuple[str, ...] = LOCALES) -> dict:
    """skill.json for a custom skill on an HTTPS endpoint (or a Lambda ARN)."""
    endpoint: dict[str, str] = {"uri": options.endpoint}
    if _is_https(options.endpoint):
        endpoint["sslCertificateType"] = options.ssl_certificate_type
    publishing = {
        locale: {
            "name": NAME,
            "summary": reword(SUMMARY, locale),
            "description": reword(description(), locale),
            "examplePhrases": list(EXAMPLE_PHRASES),
            "keywords": [reword(k, locale) for k in KEYWORDS],
        }
        for locale in locales
    }
    return {
        "manifest": {
            "manifestVersion": "1.0",
            "publishingInformation": {
                "locales": publishing,
                "isAvailableWorldwide": False,
                "distributionCountries": [COUNTRIES[locale] for locale in locales],
                "distributionMode": "PUBLIC",
                "category": CATEGORY,
                "testingInstructions": TESTING_INSTRUCTIONS,
            },
            "privacyAndCompliance": {
                # Names, heard cards, hug counts and (journal on) appreciations are stored.
                "usesPersonalInfo": True,
                "isChildDirected": False,
                "allowsPurchases": False,
                "containsAds": False,
                "isExportCompliant": True,
                "usesHealthInfo": False,
                "locales": {locale: {"privacyPolicyUrl": options.privacy_policy_url}
                            for locale in locales},
            },
            "apis": {"custom": {"endpoint": dict(endpoint), "interfaces": [
                {"type": "ALEXA_PRESENTATION_APL",
                 "supportedViewports": [dict(v) for v in SUPPORTED_VIEWPORTS]}]}},
            "permissions": [{"name": name} for name in PERMISSIONS],
            # Disabling the skill forgets the household; taking back the reminders permission
            # forgets its reminders (skill/app.py handles both events).
            "events": {
                "endpoint": dict(endpoint),
                "subscriptions": [{"eventName": "SKILL_DISABLED"},
                                  {"eventName": "SKILL_PERMISSION_CHANGED"}],
            },
        }
    }


ASK_RESOURCES = {
    "askcliResourcesVersion": "2020-03-31",
    "profiles": {"default": {"skillMetadata": {"src": "./skill-package"}}},
}


def _dump(obj: dict) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def package_files(options: Options, source: Path = SOURCE_MODEL) -> dict[str, str]:
    """Relative path -> file text for the whole package; raises PackageError if invalid."""
    options.check()
    base = json.loads(source.read_text(encoding="utf-8"))
    files = {"ask-resources.json": _dump(ASK_RESOURCES),
             "skill-package/skill.json": _dump(manifest(options))}
    for locale in LOCALES:
        model = localize_model(base, locale)
        for phrase in EXAMPLE_PHRASES:
            if understand_example(reword(phrase, locale), model) is None:
                raise PackageError(f"{locale}: example phrase {phrase!r} does not parse")
        files[f"skill-package/interactionModels/custom/{locale}.json"] = _dump(model)
    return files


def write_package(out: Path, options: Options, source: Path = SOURCE_MODEL) -> list[Path]:
    """Build the package under ``out``; stale locale files there are removed."""
    files = package_files(options, source)
    models = out / "skill-package" / "interactionModels" / "custom"
    if models.is_dir():
        for old in models.glob("*.json"):
            if f"skill-package/interactionModels/custom/{old.name}" not in files:
                old.unlink()
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def options_of(package_dir: Path) -> Options:
    """The endpoint and privacy URL a generated package was built with."""
    data = json.loads((package_dir / "skill-package" / "skill.json").read_text())["manifest"]
    endpoint = data["apis"]["custom"]["endpoint"]
    privacy = next(iter(data["privacyAndCompliance"]["locales"].values()))
    return Options(endpoint=endpoint["uri"],
                   ssl_certificate_type=endpoint.get("sslCertificateType", "Trusted"),
                   privacy_policy_url=privacy["privacyPolicyUrl"])


# --------------------------------------------------------------------------- command


def add_arguments(pkg: argparse.ArgumentParser) -> None:
    """The options of `closer package`."""
    pkg.add_argument("--endpoint", default=PLACEHOLDER_ENDPOINT,
                     help="https://your.host/alexa (or a Lambda ARN)")
    pkg.add_argument("--ssl-certificate-type", choices=SSL_CERTIFICATE_TYPES, default="Trusted",
                     help="Trusted: a certificate from a trusted CA for exactly this host; "
                          "Wildcard: a trusted wildcard certificate")
    pkg.add_argument("--privacy-url", default=PLACEHOLDER_PRIVACY_URL,
                     help="your privacy policy (https)")
    pkg.add_argument("--out", type=Path, default=DEFAULT_OUT,
                     help="directory for ask-resources.json and skill-package/ "
                          f"(default: {DEFAULT_OUT}/)")


def main(args: argparse.Namespace) -> int:
    options = Options(args.endpoint, args.ssl_certificate_type, args.privacy_url)
    try:
        written = write_package(args.out, options)
    except (PackageError, OSError) as error:
        print(f"closer package: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    for placeholder in options.placeholders:
        print(f"closer package: placeholder {placeholder} - set --endpoint/--privacy-url "
              "before `ask deploy`", file=sys.stderr)
    print(f"Next: cd {args.out} && ask deploy   (ASK CLI v2; it uploads skill-package/)")
    return 0
