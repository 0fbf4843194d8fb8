"""speech.grammar: what the local speaker understands, as a couple would notice it.

Real parts only: the interaction model, hassil, rapidfuzz, PocketSphinx with espeak-ng audio.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from skill.interaction_model import MODEL_PATH
from speech.grammar import LAUNCH, Grammar, default_grammar
from speech.grammar.evaluate import HELDOUT, evaluate, load_cases
from speech.grammar.model import NAMES_PATH, SLOT

FREE = "ShareAppreciationIntent.appreciation"


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return default_grammar()


def said(grammar: Grammar, text: str, expecting: str | None = None):
    parse = grammar.parse(text, expecting=expecting)
    return None if parse is None else (parse.intent, parse.values())


# The phrases DESIGN.md and the skill's own prompts teach people to say.
@pytest.mark.parametrize(("text", "intent", "slots"), [
    ("give us a question", "QuestionIntent", {}),
    ("a fun question", "QuestionIntent", {"category": "fun"}),
    ("a question about our dreams", "QuestionIntent", {"category": "dreams"}),
    ("next", "AMAZON.NextIntent", {}),
    ("repeat", "AMAZON.RepeatIntent", {}),
    ("start a twenty second hug", "HugIntent", {"duration": "PT20S"}),
    ("hug for a minute", "HugIntent", {"duration": "PT1M"}),
    ("hug for thirty seconds", "HugIntent", {"duration": "PT30S"}),
    ("hug for two minutes", "HugIntent", {"duration": "PT2M"}),
    ("start our appreciation round", "AppreciationRoundIntent", {}),
    ("we're sam and alex", "SetNamesIntent", {"firstName": "sam", "secondName": "alex"}),
    ("read our journal", "JournalIntent", {}),
    ("forget us", "ForgetUsIntent", {}),
    ("rose thorn bud", "CheckInIntent", {}),
    ("yes", "AMAZON.YesIntent", {}),
    ("no", "AMAZON.NoIntent", {}),
    ("help", "AMAZON.HelpIntent", {}),
    ("stop", "AMAZON.StopIntent", {}),
    ("cancel", "AMAZON.CancelIntent", {}),
    ("never mind", "AMAZON.CancelIntent", {}),
    ("what can i say", "AMAZON.HelpIntent", {}),
    ("start over", "AMAZON.StartOverIntent", {}),
    ("go home", "AMAZON.NavigateHomeIntent", {}),
    ("another one", "AMAZON.NextIntent", {}),
    ("say that again", "AMAZON.RepeatIntent", {}),
])
def test_the_documented_phrases(grammar, text, intent, slots):
    assert said(grammar, text) == (intent, slots)


@pytest.mark.parametrize(("text", "intent", "slots"), [
    ("open closer together", LAUNCH, {}),
    ("start closer together", LAUNCH, {}),
    ("alexa open closer together", LAUNCH, {}),
    ("alexa ask closer together to give us a question", "QuestionIntent", {}),
    ("ask closer together for a silly question", "QuestionIntent", {"category": "fun"}),
    ("tell closer together start a hug", "HugIntent", {}),
    ("open closer together and start our appreciation round", "AppreciationRoundIntent", {}),
    ("ask closer together what's the weather", "AMAZON.FallbackIntent", {}),
    ("alexa, give us a question please", "QuestionIntent", {}),
    ("hey, next one thanks", "AMAZON.NextIntent", {}),
    ("okay", "AMAZON.YesIntent", {}),
    ("okay stop", "AMAZON.StopIntent", {}),
    ("Lets have a DEEP question!!", "QuestionIntent", {"category": "deep"}),
    ("hug for 30 secs", "HugIntent", {"duration": "PT30S"}),
    ("We’re Sam & Alex.", "SetNamesIntent", {"firstName": "sam", "secondName": "alex"}),
    ("giv us a fun quesiton", "QuestionIntent", {"category": "fun"}),
])
def test_invocation_courtesies_and_typing(grammar, text, intent, slots):
    assert said(grammar, text) == (intent, slots)


@pytest.mark.parametrize(("spoken", "iso"), [
    ("twenty seconds", "PT20S"), ("a minute", "PT1M"), ("a minute and a half", "PT1M30S"),
    ("one and a half minutes", "PT1M30S"), ("ninety seconds", "PT1M30S"),
    ("half a minute", "PT30S"), ("two minutes", "PT2M"), ("thirty five seconds", "PT35S"),
    ("30 seconds", "PT30S"), ("thirty-five seconds", "PT35S"), ("five seconds", "PT5S"),
    ("three seconds", "PT3S"), ("one hundred and twenty seconds", "PT2M"),
    ("a hundred twenty seconds", "PT2M"), ("three hundred seconds", "PT5M"),
    ("ten minutes", "PT10M"), ("a minute thirty seconds", "PT1M30S"),
    ("two minutes and fifteen seconds", "PT2M15S"), ("an hour", "PT1H"),
    # Outside 5-120 s: parsed, so the skill says what it can do instead of "didn't catch".
    ("zero seconds", "PT0S"), ("three hours", "PT3H"), ("0 seconds", "PT0S"),
])
def test_spoken_durations_become_iso_8601(grammar, spoken, iso):
    assert said(grammar, f"hug for {spoken}") == ("HugIntent", {"duration": iso})


def test_every_duration_the_skill_might_correct_still_parses(grammar):
    for seconds in range(1, 301):
        minutes, rest = divmod(seconds, 60)
        want = "PT" + (f"{minutes}M" if minutes else "") + (f"{rest}S" if rest else "")
        assert said(grammar, f"hug for {seconds} seconds") == ("HugIntent", {"duration": want})
        assert said(grammar, f"a {seconds} second hug") == ("HugIntent", {"duration": want})
    for minutes in range(1, 11):
        assert said(grammar, f"hug for {minutes} minutes") == (
            "HugIntent", {"duration": f"PT{minutes}M"})


def test_every_category_word_resolves_to_its_canonical_id(grammar):
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    (kind,) = [t for t in raw["interactionModel"]["languageModel"]["types"]
               if t["name"] == "CardCategory"]
    for value in kind["values"]:
        for word in [value["name"]["value"], *value["name"].get("synonyms", [])]:
            parse = grammar.parse(f"give us a {word} question")
            assert parse is not None and parse.intent == "QuestionIntent", word
            slot = parse.slots["category"]
            assert (slot.spoken, slot.value, slot.resolved_id) == (word, value["id"], value["id"])


# Asked for by what the cards are about, not by the category's name (a `closer chat` run,
# session 8: each of these got "didn't catch that" before its synonym was added).
@pytest.mark.parametrize(("text", "category"), [
    ("a question about our first date", "memories"), ("something about us as kids", "memories"),
    ("a question about growing up", "memories"), ("a question about family", "memories"),
    ("a romantic question", "us"), ("a question about our relationship", "us"),
    ("a thoughtful question", "deep"), ("a creative question", "ideas"),
    ("a would you rather", "fun"), ("a question about us", "us"),
    ("a spiritual question", "meaning"), ("a question about purpose", "meaning"),
    ("something philosophical", "meaning"), ("a question for after a fight", "repair"),
])
def test_a_card_asked_for_by_its_subject(grammar, text, category):
    assert said(grammar, text) == ("QuestionIntent", {"category": category})


def test_first_names_are_many_and_lower_case(grammar):
    names = grammar.language.first_names
    assert len(names) >= 1000
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+( [a-z]+)*", n) for n in names)
    assert NAMES_PATH.exists()
    for first, second in [("priya", "arjun"), ("kwame", "ama"), ("hiroshi", "sakura"),
                          ("fatima", "omar"), ("siobhan", "sean"), ("zeynep", "mehmet"),
                          ("jamal", "keisha"), ("leilani", "keanu"), ("dmitri", "olga")]:
        assert said(grammar, f"we are {first} and {second}") == (
            "SetNamesIntent", {"firstName": first, "secondName": second})


def test_every_sample_in_the_model_parses_back_to_its_intent(grammar):
    fill = {"CardCategory": "silly", "CardDepth": "deeper", "AMAZON.FirstName": "sam",
            "AMAZON.SearchQuery": "you made dinner", "RitualType": "appreciation round",
            "DayPart": "night", "AMAZON.TIME": "nine thirty", "HugAgain": "again"}
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    for intent in raw["interactionModel"]["languageModel"]["intents"]:
        kinds = {s["name"]: s["type"] for s in intent.get("slots") or []}
        for sample in intent.get("samples", []):
            def value(m, kinds=kinds, sample=sample):
                if kinds[m[1]] == "AMAZON.DURATION":  # an adjective before a noun: singular
                    return "thirty seconds" if sample.endswith(m[0]) else "thirty second"
                return fill[kinds[m[1]]]
            text = SLOT.sub(value, sample)
            parse = grammar.parse(text)
            assert parse is not None and parse.intent == intent["name"], (sample, parse)
            assert set(parse.slots) == set(SLOT.findall(sample)) or not SLOT.search(sample), (
                sample, parse)


@pytest.mark.parametrize(("path", "least_in", "least_out"), [
    (HELDOUT, 150, 60),  # the cutoff was tuned on this one
    (HELDOUT.with_name("fresh.yaml"), 50, 25),  # written after tuning, never tuned on
    (HELDOUT.with_name("second_look.yaml"), 90, 14),  # its misses then fixed; one remains
    (HELDOUT.with_name("third_look.yaml"), 80, 20),  # its misses then fixed
    (HELDOUT.with_name("fourth_look.yaml"), 60, 20),  # its misses then fixed
    (HELDOUT.with_name("fifth_look.yaml"), 40, 14),  # one miss remains
])
def test_held_out_speech_is_understood_and_the_rest_refused(grammar, path, least_in, least_out):
    result = evaluate(grammar, load_cases(path), grammar.cutoff)
    wrong = [f"{case.text!r} -> {got}" for case, got in result.misses]
    assert result.in_domain >= least_in and result.out_of_domain >= least_out
    assert result.false_accepts == 0, wrong
    assert result.accuracy >= 0.97, wrong


@pytest.mark.parametrize("text", [
    "turn off the kitchen lights", "set a timer for ten minutes", "set a timer for twenty seconds",
    "what's the weather tomorrow", "play some jazz", "add milk to the shopping list",
    "next song", "repeat the last song", "stop the music", "give me the news",
    "previously on grey's anatomy", "i can't believe you did that", "",
    # Reactions to a card, not requests for another one.
    "what a question", "such a fun question", "i have a question for you",
    "that was a good question", "good question", "oh, what a question", "hmm, good question",
    # Not hugs.
    "hold on a second", "hold my hand", "hold the door",
])
def test_out_of_domain_is_refused_not_forced_onto_a_command(grammar, text):
    assert grammar.parse(text) is None


# A command after a short remark is heard; words that only mention one are not.
@pytest.mark.parametrize(("text", "intent", "slots"), [
    ("we're bored give us a question", "QuestionIntent", {}),
    ("dinner is ready give us a fun question", "QuestionIntent", {"category": "fun"}),
    ("we had a rough day start a two minute hug", "HugIntent", {"duration": "PT2M"}),
    ("it's late let's start our appreciation round", "AppreciationRoundIntent", {}),
    ("we don't want a hug", None, {}),
    ("please don't give us a question", None, {}),
    ("what happens if we start a hug", None, {}),
    ("i hate when you ask us a question", None, {}),
    ("what's the weather and give us a question", None, {}),
    ("my friend said to start a hug", None, {}),
    ("he said we should start a hug", None, {}),
])
def test_a_command_after_a_remark(grammar, text, intent, slots):
    assert said(grammar, text) == (None if intent is None else (intent, slots))


def test_free_text_turn_takes_the_whole_answer(grammar):
    for text in ["You made me laugh at breakfast", "I appreciated that you held my hand",
                 "you stopped me from worrying about work", "you helped me with the dishes",
                 "that you said next time we cook together"]:
        assert said(grammar, text, FREE) == ("ShareAppreciationIntent", {"appreciation": text})


@pytest.mark.parametrize(("text", "intent"), [
    ("stop", "AMAZON.StopIntent"), ("cancel", "AMAZON.CancelIntent"),
    ("never mind", "AMAZON.CancelIntent"), ("help", "AMAZON.HelpIntent"),
    ("repeat", "AMAZON.RepeatIntent"), ("say that again please", "AMAZON.RepeatIntent"),
    ("start over", "AMAZON.StartOverIntent"),
])
def test_free_text_turn_still_hears_commands(grammar, text, intent):
    assert said(grammar, text, FREE) == (intent, {})


@pytest.mark.parametrize(("text", "intent", "slots"), [
    ("a question about our dreams", "QuestionIntent", {"category": "dreams"}),
    ("start a twenty second hug", "HugIntent", {"duration": "PT20S"}),
    ("read our journal", "JournalIntent", {}),
    ("forget us", "ForgetUsIntent", {}),
])
def test_free_text_turn_switches_on_a_whole_request(grammar, text, intent, slots):
    assert said(grammar, text, FREE) == (intent, slots)


@pytest.mark.parametrize("text", ["a hug", "our walk", "you read our journal to me",
                                  "you gave us a question to talk about", "thank you for the hug"])
def test_free_text_turn_keeps_an_appreciation_that_mentions_a_ritual(grammar, text):
    assert said(grammar, text, FREE) == ("ShareAppreciationIntent", {"appreciation": text})


def test_outside_the_round_an_appreciation_keeps_alexas_slot(grammar):
    assert said(grammar, "i appreciated that you made dinner") == (
        "ShareAppreciationIntent", {"appreciation": "you made dinner"})


def test_command_phrases_for_vosk(grammar):
    phrases = grammar.command_phrases()
    assert 1000 < len(phrases) < 6000
    assert len(set(phrases)) == len(phrases)
    assert all(p == p.lower() and "{" not in p for p in phrases)
    words = {w for p in phrases for w in p.split()}
    assert words <= grammar.vocabulary()
    assert set(grammar.language.first_names) <= words
    assert {"fun", "silly", "future", "thought", "provoking", "ninety", "half"} <= words
    for phrase in phrases:
        assert grammar.parse(phrase, cutoff=1.0) is not None, phrase


def test_jsgf_declares_the_slot_rules(grammar):
    text = grammar.jsgf()
    assert text.startswith("#JSGF V1.0;")
    for rule in ("<command>", "<CardCategory>", "<duration>", "<first_name>"):
        assert f"{rule} =" in text
    assert {"sam", "alex", "seventy", "hug", "closer", "together"} <= grammar.vocabulary()


def _espeak_16k(text: str, path: Path) -> bytes:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(path)],
                   check=True)
    with wave.open(str(path)) as wav:
        return wav.readframes(wav.getnframes())


def _pronunciations(vocabulary: set[str]) -> dict[str, list[str]]:
    """Words PocketSphinx's dictionary lacks, pronounced by speech.pronounce (its committed
    file when it covers them, espeak-ng for the rest)."""
    import pocketsphinx

    from speech import pronounce

    cmudict = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    known = pronounce.dictionary_words(cmudict)
    derived = pronounce.read_dict(pronounce.DATA_FILE)
    missing = sorted(w for w in vocabulary if w not in known and w not in derived)
    with ThreadPoolExecutor(8) as pool:
        derived |= dict(zip(missing, pool.map(pronounce.derive, missing), strict=True))
    return {w: derived[w] for w in vocabulary if w not in known}


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs espeak-ng and sox (deploy/install-system-packages.sh)")
def test_jsgf_loads_into_pocketsphinx_and_decodes_a_command(grammar, tmp_path):
    import pocketsphinx

    decoder = pocketsphinx.Decoder(lm=None, loglevel="ERROR")
    for word, phones in _pronunciations(grammar.vocabulary()).items():
        decoder.add_word(word, " ".join(phones), False)
    decoder.add_jsgf_string("commands", grammar.jsgf())
    decoder.activate_search("commands")
    pcm = _espeak_16k("give us a fun question", tmp_path / "fun.wav")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    heard = decoder.hyp().hypstr
    assert said(grammar, heard) == ("QuestionIntent", {"category": "fun"}), heard


# ---------------------------------------------------------------- the command decision


@pytest.fixture(scope="module")
def recorded():
    """Both PocketSphinx readings of every command fixture clip, as the decision was fitted
    on them (bench/readings.jsonl, written by `python -m bench.calibrate`)."""
    from bench.calibrate import DEFAULT_READINGS, load
    from tests.support.utterances import load_manifest

    readings = load(DEFAULT_READINGS)
    return [(clip, readings[clip.file]) for clip in load_manifest() if clip.file in readings]


def test_no_out_of_domain_reading_is_acted_on(grammar, recorded):
    from speech.grammar.decision import choose

    acted = [(c.name, r.said) for c, r in recorded
             if not c.in_domain and choose(grammar, r).accepted]
    assert acted == []


def test_a_paraphrase_is_acted_on_though_the_grammar_heard_another_sentence(grammar, recorded):
    """Where the grammar's forced reading differs from what the language model heard, a
    reading the parser understands can still be acted on, and rightly."""
    from speech.grammar.decision import choose
    from tests.support.utterances import Heard, correct

    right = []
    for clip, readings in recorded:
        choice = choose(grammar, readings)
        if clip.in_domain and choice.accepted and readings.said != readings.forced:
            parse = grammar.parse(choice.text)
            right.append(correct(clip, Heard(choice.text, parse.intent, parse.values())))
    assert len(right) >= 40 and sum(right) / len(right) >= 0.9, (sum(right), len(right))


def test_names_are_taken_only_when_both_readings_hear_the_same_names(grammar):
    from speech.grammar.decision import Readings, candidates

    assert candidates(grammar, Readings("we are maria and james", "we are maria and james"))
    assert not candidates(grammar, Readings("we are maria and james", "we are marta and jane"))
