"""The command language for the recognizers: phrases (Vosk's runtime grammar), JSGF
(PocketSphinx) and the words both use. Free text (AMAZON.SearchQuery) is not in it: a
free-text turn is decoded with open vocabulary instead.

Vosk turns its phrase list into a bigram language model (recognizer.cc, UpdateGrammarFst),
so what matters is that every word follows every word it can follow, not that every
sentence is listed: a custom slot type (CardCategory) is expanded in full once for each
place it can stand (the words either side of it), durations and first names are spread over
the samples that take them, each value a few times. That keeps the list to a
few thousand phrases where names x names x samples would be millions.

The JSGF: slot types are rules (<CardCategory>, <duration>, <first_name>). Samples without
slots are written as a prefix tree (the same language, a smaller graph). Samples that take
slots are merged per intent into one choice before, between and after the slots, so each
slot rule is expanded once per intent rather than once per sample: PocketSphinx copies a
rule at every reference, and 1,800 names x 30 samples is a graph too big to search in real
time. The price is a slightly larger language ("set a hug timer for two minutes hug"); the
parser still decides, and corrects or refuses such a sentence.
"""

from __future__ import annotations

import re
from itertools import cycle

from skill.interaction_model import ASK_VERBS, LAUNCH_VERBS
from speech.grammar import times
from speech.grammar.durations import JSGF_RULES
from speech.grammar.durations import phrases as duration_phrases
from speech.grammar.model import DURATION, FIRST_NAME, SEARCH_QUERY, SLOT, TIME, Language

_RULE = {DURATION: "duration", FIRST_NAME: "first_name", TIME: "time"}


def commands(language: Language) -> dict[str, list[str]]:
    """Each intent's samples that the command grammar covers (no free text)."""
    out = {}
    for intent in language.intents.values():
        kept = [s for s in intent.samples
                if SEARCH_QUERY not in (intent.slots[n] for n in SLOT.findall(s))]
        if kept:
            out[intent.name] = kept
    return out


def command_phrases(language: Language, intents: set[str] | None = None) -> list[str]:
    """The command phrases; with ``intents``, only those intents' (no launch phrases)."""
    phrases: list[str] = []
    durations = _DurationPicker()
    names = _NamePicker(language.first_names)
    by_kind: dict[str, list[tuple[str, dict[str, str]]]] = {}
    expanded: set[tuple[str, str, str]] = set()
    for name, samples in commands(language).items():
        if intents is not None and name not in intents:
            continue
        slots = language.intents[name].slots
        for sample in samples:
            kinds = {slots[n] for n in SLOT.findall(sample)}
            if not kinds:
                phrases.append(sample)
            elif kinds <= set(language.types):
                phrases.extend(_expand(sample, slots, language, expanded))
            else:  # grouped by the built-in type they take (custom ones get a value each)
                builtin = min(kinds - set(language.types))
                by_kind.setdefault(builtin, []).append((sample, slots))
    phrases += durations.fill(by_kind.get(DURATION, []))
    phrases += _fill_times(by_kind.get(TIME, []), language)
    phrases += names.fill(by_kind.get(FIRST_NAME, []))
    if intents is not None:
        return list(dict.fromkeys(phrases))
    invocation = language.invocation
    phrases += [invocation] + [f"{verb} {invocation}" for verb in LAUNCH_VERBS]
    plain = [p for p in phrases[:200] if "{" not in p][::7]
    for verb, phrase in zip(cycle(ASK_VERBS), plain, strict=False):
        phrases.append(f"{verb} {invocation} to {phrase}")
    return list(dict.fromkeys(phrases))


def phrases_by_intent(language: Language) -> dict[str, list[str]]:
    """Each intent's command phrases, and under "launch" the phrases that open the skill
    (its name, alone or with a verb or a request)."""
    out = {name: command_phrases(language, {name}) for name in commands(language)}
    listed = {phrase for phrases in out.values() for phrase in phrases}
    out["launch"] = [p for p in command_phrases(language) if p not in listed]
    return out


def _expand(sample: str, slots: dict[str, str], language: Language,
            expanded: set[tuple[str, str, str]]) -> list[str]:
    """The sample with every value of its slots, or, where each slot's place (its type and
    the words either side) was already expanded in another sample, with one value: every
    value already follows and precedes those words."""
    tokens = ["<s>", *sample.split(), "</s>"]
    pairs = zip(tokens, tokens[1:], strict=False)
    if not any(SLOT.fullmatch(a) and SLOT.fullmatch(b) for a, b in pairs):
        return _expand_apart(sample, tokens, slots, language, expanded)
    places = {(slots[t[1:-1]], tokens[i - 1], tokens[i + 1])
              for i, t in enumerate(tokens) if SLOT.fullmatch(t)}
    full = not places <= expanded
    expanded |= places
    out = [sample]
    for slot in SLOT.findall(sample):
        values = list(language.types[slots[slot]].synonyms)
        out = [s.replace(f"{{{slot}}}", v, 1) for s in out for v in values[:None if full else 1]]
    return out


def _expand_apart(sample: str, tokens: list[str], slots: dict[str, str], language: Language,
                  expanded: set[tuple[str, str, str]]) -> list[str]:
    """Slots with words between them ("every {daypart} at {time} to do our {ritual}"): each
    slot's values in turn with the others at one value, not every combination, which says
    the same to a bigram model in a sum of values instead of a product."""
    first = {name: next(iter(language.types[slots[name]].synonyms)) for name in slots
             if slots[name] in language.types}
    out = [SLOT.sub(lambda m: first[m[1]], sample)]
    for i, token in enumerate(tokens):
        if not SLOT.fullmatch(token):
            continue
        name = token[1:-1]
        place = (slots[name], tokens[i - 1], tokens[i + 1])
        if place in expanded:
            continue
        expanded.add(place)
        rest = SLOT.sub(lambda m, name=name: m[0] if m[1] == name else first[m[1]], sample)
        out += [rest.replace(token, value, 1) for value in language.types[slots[name]].synonyms]
    return out


class _DurationPicker:
    """Every spoken duration once, in a sample that takes it (singular units where the
    duration is an adjective: "a twenty second hug"), and every sample at least once."""

    def fill(self, samples: list[tuple[str, dict[str, str]]]) -> list[str]:
        before_word = [s for s, _ in samples if not re.search(r"\{\w+\}$", s)]
        at_end = [s for s, _ in samples if re.search(r"\{\w+\}$", s)]
        said = duration_phrases()
        singular = [d for d in said if d.endswith(("second", "minute"))]
        plural = [d for d in said if d not in singular]
        out = []
        for templates, values in ((before_word, singular), (at_end, plural)):
            if not templates:
                continue
            count = max(len(templates), len(values))
            for k in range(count):
                out.append(SLOT.sub(values[k % len(values)], templates[k % len(templates)]))
        return out


def _fill_times(samples: list[tuple[str, dict[str, str]]], language: Language) -> list[str]:
    """Every way of saying a time once, samples in turn; their other slots take their
    values in turn too, so every value follows and precedes the words around it."""
    if not samples:
        return []
    said = times.phrases()
    values = {kind: list(t.synonyms) for kind, t in language.types.items()}
    out = []
    for k in range(max(len(said), len(samples) * 3)):
        sample, slots = samples[k % len(samples)]

        def fill(match: re.Match, k: int = k, slots: dict[str, str] = slots) -> str:
            kind = slots[match[1]]
            if kind == TIME:
                return said[k % len(said)]
            return values[kind][k % len(values[kind])]

        out.append(SLOT.sub(fill, sample))
    return out


class _NamePicker:
    """Every name once as the first and once as the second name, samples in turn."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def fill(self, samples: list[tuple[str, dict[str, str]]]) -> list[str]:
        if not samples or not self.names:
            return []
        n = len(self.names)
        out = []
        for k in range(max(n, len(samples))):
            chosen = iter((self.names[k % n], self.names[(7 * k + 3) % n]))
            sample = samples[k % len(samples)][0]
            out.append(SLOT.sub(lambda _m, it=chosen: next(it), sample))
        return out


def jsgf(language: Language) -> str:
    rules = [f"<{_rule_name(name)}> = {_alternatives(name, samples, language)};"
             for name, samples in commands(language).items()]
    requests = " | ".join(f"<{_rule_name(name)}>" for name in commands(language))
    invocation = language.invocation
    lines = [
        "#JSGF V1.0;",
        "grammar closer_together;",
        "public <command> = <launch> | [<one_shot>] <request>;",
        f"<launch> = [{' | '.join(LAUNCH_VERBS)}] {invocation};",
        f"<one_shot> = ({' | '.join(ASK_VERBS)}) {invocation} [to];",
        f"<request> = {requests};",
        *rules,
    ]
    for kind in language.types.values():
        lines.append(f"<{_rule_name(kind.name)}> = {' | '.join(kind.synonyms)};")
    lines.append(JSGF_RULES.rstrip())
    lines.append(times.JSGF_RULES.rstrip())
    lines.append(f"<first_name> = {' | '.join(language.first_names)};")
    return "\n".join(lines) + "\n"


def _rule_name(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _alternatives(intent: str, samples: list[str], language: Language) -> str:
    slots = language.intents[intent].slots

    def ref(kind: str) -> str:
        return f"<{_RULE.get(kind) or _rule_name(kind)}>"

    plain: list[list[str]] = []
    parts: dict[tuple[str, ...], list[set[str]]] = {}  # slot types -> words around each
    for sample in samples:
        pieces = SLOT.split(sample)
        kinds = tuple(slots[p] for p in pieces[1::2])
        if not kinds:
            plain.append(sample.split())
            continue
        around = [p.strip() for p in pieces[0::2]]
        seen = parts.setdefault(kinds, [set() for _ in around])
        for words, said in zip(seen, around, strict=True):
            words.add(said)
    merged = []
    for kinds, around in parts.items():
        pieces = [_choice(around[0])]
        for kind, words in zip(kinds, around[1:], strict=True):
            pieces += [ref(kind), _choice(words)]
        merged.append(" ".join(filter(None, pieces)))
    return " | ".join(filter(None, [_factored(plain), *merged]))


def _factored(sentences: list[list[str]]) -> str:
    """Alternatives sharing their first words written once ("give us a (question | card)"):
    the same language, a smaller search graph for PocketSphinx."""
    trie: dict = {}
    for words in sentences:
        node = trie
        for word in words:
            node = node.setdefault(word, {})
        node[""] = {}
    return _serialize(trie)


def _serialize(node: dict) -> str:
    ends = "" in node
    branches = [f"{word} {_serialize(child)}".strip() for word, child in node.items() if word]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"({' | '.join(branches)})"
    return f"[{body}]" if ends else body


def _choice(words: set[str]) -> str:
    """The words the samples put at one place around their slots, as one JSGF choice."""
    said = sorted(w for w in words if w)
    if not said:
        return ""
    choice = f"({' | '.join(said)})" if len(said) > 1 else said[0]
    return f"[{choice}]" if "" in words else choice


_NOT_WORDS = re.compile(r"<[^>]*>|[()\[\]|;=*+]")


def vocabulary(jsgf_text: str) -> set[str]:
    """Every word the JSGF grammar can produce (its rule bodies' words)."""
    body = jsgf_text.split("\n", 2)[2]
    body = body.replace("public ", " ")
    return set(_NOT_WORDS.sub(" ", body).split())
