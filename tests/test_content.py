"""What a couple hears: the card deck, the deep-conversation sequence and their loaders.

Near-duplicates (a question asked twice in other words) are found lexically:
  1. lower-case; a leading touch invitation ("Hold hands while you answer:") is set aside;
  2. stop words are dropped: function words, and the deck's framing ("tell", "partner", "what",
     "would", "love", "feel", time words such as "week" or "lately", and category words such as
     "dream", "grateful" or "memory" that most cards of a category share);
  3. each remaining word is stemmed by a small suffix stripper ("celebrating" -> "celebrat");
  4. stems are folded through a short thesaurus of the deck's recurring ideas (first / early /
     start / create -> begin; met / date -> meet; house / household -> home; fair / chore ->
     share; give / gift / present -> gift; ritual / custom -> tradition; ...);
  5. two cards are near-duplicates when they share at least 2 of these content stems and the
     shared stems are at least 60% of the smaller card's (overlap coefficient >= 0.6).
Checked across every category and the deep-conversation sequence together: 0 pairs may be
flagged, apart from the reviewed ALLOWED_PAIRS (each with its reason; empty today). The method
was calibrated on the deck before issue 11's rewrite, where it flags the rewordings the issue
names (OLD_REWORDINGS below). It only sees shared words: a rewording that shares none ("a
lesson you learned the hard way" / "a mistake you are grateful you made") is left to review,
done with sentence embeddings while writing.

Synonyms: every CardCategory synonym (in every locale's model) is either a *mood* word of its
category, listed in MOOD_WORDS and answered by every card of that category (a mood that implies
a depth, such as "light" or "serious", is checked against each card's depth), or a *topic* word
(deck.topic_for), and at least 5 cards of that category carry that topic: the skill deals a
topic-tagged card when a couple names the topic.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from closer import packaging
from skill.cards import (
    DEFAULT_PATH,
    DEPTHS,
    MAX_WORDS,
    Card,
    Deck,
    DeepSequence,
    default_deck,
    default_sequence,
    word_count,
)

MIN_PER_CATEGORY = 48
MIN_TOTAL = 560
MIN_PER_SET = 16
MIN_CARDS_PER_TOPIC = 5
# "any question" at dinner draws light and medium cards; each category must offer plenty.
MIN_DINNER_CARDS = 20
ID_PATTERN = re.compile(r"^(?P<category>[a-z]+)-(?P<number>\d{3})$")
MODEL_PATH = Path(__file__).resolve().parent.parent / "interaction_models" / "en-US.json"


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Whole words that must never be read aloud by a speaker in a shared home.
BLOCKLIST = _word_set("""
sex sexy sexual naked nude seduce seductive kinky orgasm lust erotic horny porn strip
stripper foreplay lingerie undress drunk wasted hangover shots weed cocaine damn hell wine
beer alcohol booze cocktail
""")
SSML_BREAKING = ("&", "<", ">")
# The speaker is not one of the couple: these words may appear only inside a quoted stem.
FIRST_PERSON = _word_set("""
i me my mine myself i'm i've i'd i'll we us our ours ourselves we're we've we'd we'll let's
""")
AUXILIARIES = _word_set("""
do does did is are was were am have has had can could will would should shall may might must
""")
# A light card assumes nothing: not a shared home, a job, children, living parents, a happy
# childhood or able legs. Cards that need one of these are medium or deep and say so.
ASSUMPTIONS = _word_set("""
home homes house household kitchen bedroom sofa kids kid children child baby babies job jobs
work works working career boss colleague colleagues office commute parents parent mum mom
dad mother father family families childhood school teenager walk walks walking run running
hike hiking dance dancing drive driving car swim swimming climb climbing money rich salary
wife husband married wedding retire retirement grandchildren church pray prayer god
""")
# Cards dealt at random never invite score-keeping, nor touch broken trust, money trouble,
# conflict or loss; those belong to `repair` (asked for by name) and the deep sequence.
CARE_WORDS = _word_set("""
money debt debts afford broke betray betrayal cheat cheated affair lie lied lies lying
divorce divorced die died dies death dead funeral grief grieve grieving mourn loss fight
fights fought argument arguments argue blame fault owe owed score scores disagree
disagreement
""")
# Moods answered by every card of a category. Anything else a couple may say for a category
# must be a topic (skill/content/cards.yaml `topics`) carried by enough of its cards.
MOOD_WORDS = {
    "fun": {"fun", "light", "silly", "playful", "funny", "lighthearted", "light hearted", "goofy",
            "easy", "fun one", "laugh"},
    "deep": {"deep", "meaningful", "serious", "emotional", "heartfelt", "intimate", "profound",
             "vulnerable", "thoughtful", "personal"},
    "dreams": {"dreams", "dream", "future", "the future", "hopes", "goals", "wishes", "plans",
               "ambitions", "aspirations", "someday", "hopes and dreams"},
    "memories": {"memories", "memory", "past", "nostalgia", "nostalgic", "remember when",
                 "history", "the old days"},
    "gratitude": {"gratitude", "thankful", "grateful", "thankfulness", "appreciation",
                  "appreciative"},
    "values": {"values", "value", "beliefs", "principles", "what matters", "priorities",
               "morals"},
    "ideas": {"ideas", "idea", "curious", "big ideas", "thought provoking", "brainy",
              "intellectual", "interesting"},
    "adventure": {"adventure", "adventures", "adventurous", "experiences", "things to do",
                  "things to do together"},
    "us": {"us", "about us", "each other", "the two of us", "our relationship", "relationship",
           "love", "admiration", "fondness"},
    "meaning": {"meaning", "meaning of life", "the meaning of life", "big questions",
                "the big questions"},
    "repair": {"repair", "after a fight", "after an argument", "after a disagreement",
               "disagreement", "making up", "make up", "hard conversation", "a hard conversation",
               "difficult conversation", "reconnect", "reconnecting"},
}
# A mood that promises a depth: every card of the category must be of one of these depths.
MOOD_DEPTHS = {
    **dict.fromkeys(("light", "easy", "lighthearted", "light hearted", "silly", "playful"),
                    {"light"}),
    **dict.fromkeys(("deep", "serious", "emotional", "heartfelt", "intimate", "profound",
                     "vulnerable"), {"medium", "deep"}),
}
# Key words of the 36 questions of Aron et al. (1997): the deep sequence is original writing
# and must not echo them, reworded or not.
ARON_ECHOES = (
    "dinner guest", "be famous", "rehearse", "perfect day", "sing", "live to", "hunch",
    "in common", "feel most grateful", "were raised", "life story", "quality or ability",
    "crystal ball", "dreamed of doing", "accomplishment", "friendship", "treasured",
    "terrible memory", "would die", "affection", "positive characteristic", "close and warm",
    "mother", "statements", "someone with whom", "close friend", "embarrassing", "cry", "cried",
    "joked", "regret", "catches fire", "death", "personal problem", "advice",
)

# ---------------------------------------------------------------- near-duplicate method

_FUNCTION_WORDS = """a an the and or but if of to in on at for with by from as about into over
under up down out off than so too very just only also even still ever never once again more most
much many any some is are was were be been being am do does did done have has had having can
could would should will shall may might must among what which who whom whose when where why how
that this these those there here it its you your yours yourself yourselves they them their
theirs themselves i me my we us our he she him her his not no nor yes each other one two both
either every all"""
# The deck's framing: who is addressed, how a card asks, when, and each category's own word.
_BOILERPLATE = """tell partner partners together thing things something anything someone anyone
everyone way ways like love loved loves make made makes feel feels felt feeling get got let say
said know think really right now question questions ask asked answer go goes going want wanted
favourite favorite kind part little small time times day days week weeks weekend month months
year years today tonight lately recently moment these since ago life dream dreams memory memories
remember grateful thankful gratitude appreciate appreciated thank glad value values adventure
idea ideas disagreement disagree better find look perfect best see own around whatever often
young younger come rather"""
STOP_WORDS = _word_set(_FUNCTION_WORDS) | _word_set(_BOILERPLATE)
# Words the deck uses for one idea: folded together so a reworded question still matches.
CONCEPT_GROUPS = {
    "home": "home house household",
    "begin": "begin first early start create",
    "meet": "meet met date",
    "build": "build craft",
    "gift": "gift give given present",
    "share": "share fair fairness chore",
    "tradition": "tradition ritual custom",
    "laugh": "laugh funny funniest joke",
    "food": "food meal dish snack",
    "shop": "shop business store",
    "rest": "rest recharge unwind relax",
    "celebrate": "celebrate celebration milestone anniversary",
    "community": "community neighbourhood neighborhood neighbour neighbor",
}
MIN_SHARED_STEMS = 2
MIN_OVERLAP = 0.6
_SUFFIXES = ("ations", "ation", "nesses", "ness", "ments", "ment", "ities", "ity", "ingly",
             "ing", "ies", "ied", "ers", "est", "ed", "ly", "es", "s")
_INVITATION = re.compile(
    r"^(hold hands[^:]*:|holding hands,|with your hand (on|in) your partner's \w+,|"
    r"sitting (close|side by side),|looking at your partner,|facing your partner,|"
    r"after a long hug,|look at your partner for a moment:)\s*"
)
# Reviewed pairs that share words but ask different things: {(id, id): reason}. Keep it small.
ALLOWED_PAIRS: dict[tuple[str, str], str] = {}


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


_CONCEPT_OF = {stem(word): name for name, words in CONCEPT_GROUPS.items() for word in words.split()}


def content_stems(text: str) -> frozenset[str]:
    """The words that carry a card's meaning, stemmed and folded through CONCEPT_GROUPS."""
    text = _INVITATION.sub("", text.lower()).replace("'s", "").replace("'", "")
    stems = (stem(word) for word in re.findall(r"[a-z]+", text) if word not in STOP_WORDS)
    return frozenset(_CONCEPT_OF.get(s, s) for s in stems if s not in STOP_WORDS)


def near_duplicates(a: str, b: str) -> bool:
    ours, theirs = content_stems(a), content_stems(b)
    shared = ours & theirs
    return (len(shared) >= MIN_SHARED_STEMS
            and len(shared) / min(len(ours), len(theirs)) >= MIN_OVERLAP)


# Rewordings in the deck before issue 11 (the texts as they were); the first five are the
# pairs the issue names. Rewordings that share no content word ("What does rest really look
# like for you?" / "How do you recharge after giving a lot of yourself to others?") are beyond
# a lexical method and are not listed.
OLD_REWORDINGS = [
    ("What do you remember most clearly about the first time we met?",
     "Which early date of ours do you remember in the most detail?"),
    ("What does fairness mean to you in a household?",
     "How do you think we should share responsibilities at home?"),
    ("What tradition would you love for us to create and keep for years?",
     "What is a new tradition we could start this month?"),
    ("What would you love to be able to build with your own hands?",
     "What is something we could build or make together with our hands?"),
    ("What is the best surprise anyone has ever given you?",
     "What is a surprise that turned out to be a gift?"),
    ("If we opened a tiny shop, what would we sell?",
     "If you could open any kind of small business, what would it be?"),
    ("How could we turn our next walk into a little adventure?",
     "What is a new route we could take on our next walk?"),
    ("If you could spend a season doing one hobby full time, which would you choose?",
     "What hobby could we pick up together this season?"),
    ("How do you like to celebrate each other's wins?",
     "What is a creative way to celebrate a small win?"),
    ("If we got lost somewhere beautiful, how would you want to spend the day?",
     "What is the most beautiful place you have ever been lost in?"),
    ("If you could live inside any painting for a day, which would it be?",
     "Which adventure movie would you love to live inside for a day?"),
    ("What would make our home feel even more like a dream to come back to?",
     "Which smell in our home do you love coming back to?"),
    ("How do you want to give back to our community?",
     "How could we give back to our neighbourhood together?"),
]
# Same words, different questions: the method must not flag these.
DIFFERENT_QUESTIONS = [
    ("Which emotion do you find hardest to put into words?",
     "What compliment do you find hardest to believe about yourself?"),
    ("What does loyalty mean to you?", "What does forgiveness mean to you?"),
    ("Hold hands while you answer: what would help you feel a little lighter this week?",
     "Hold hands while you answer: what is your favourite way to spend time together?"),
]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def deck() -> Deck:
    return default_deck()


@pytest.fixture(scope="module")
def sequence() -> DeepSequence:
    return default_sequence()


def _spoken(deck: Deck, sequence: DeepSequence) -> list[tuple[str, str, str]]:
    """(id, text, depth) of every card and every sequence question."""
    return ([(card.id, card.text, card.depth) for card in deck]
            + [(step.id, step.text, step.depth) for step in sequence])


def _unquoted(text: str) -> str:
    """The card without its quoted sentence stems (what the partners say themselves)."""
    return re.sub(r'"[^"]*"', '""', text)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


# ---------------------------------------------------------------- the deck's shape


def test_categories_are_exactly_the_expected_ones() -> None:
    assert Deck.CATEGORIES == ("fun", "deep", "dreams", "memories", "gratitude", "values",
                               "ideas", "adventure", "us", "meaning", "repair")
    assert frozenset({"repair"}) == Deck.ON_REQUEST


def test_counts_per_category_and_total(deck: Deck) -> None:
    for category in Deck.CATEGORIES:
        count = len(deck.in_category(category))
        assert count >= MIN_PER_CATEGORY, f"{category} has only {count} cards"
    assert len(deck) >= MIN_TOTAL
    assert len(list(deck)) == len(deck)


def test_the_any_pool_is_every_category_but_repair(deck: Deck) -> None:
    pool = deck.ids()
    assert pool == deck.ids(None)
    assert not [card_id for card_id in pool if card_id.startswith("repair-")]
    assert len(pool) == sum(len(deck.ids(c)) for c in Deck.CATEGORIES if c != "repair")
    assert len(pool) + len(deck.ids("repair")) == len(deck)


def test_ids_filter_by_depth_and_topic(deck: Deck) -> None:
    dinner = deck.ids(depths=("light", "medium"))
    assert dinner and all(deck.get(i).depth != "deep" for i in dinner)
    assert set(deck.ids("fun", depths=["light"])) == set(deck.ids("fun"))
    first_dates = deck.ids("memories", topic="first date")
    assert len(first_dates) >= MIN_CARDS_PER_TOPIC
    assert all("first date" in deck.get(i).topics for i in first_dates)
    with pytest.raises(ValueError, match="unknown depth"):
        deck.ids("fun", depths=["spicy"])
    with pytest.raises(ValueError, match="unknown topic"):
        deck.ids("fun", topic="gossip")


def test_topic_for_maps_what_a_couple_says(deck: Deck) -> None:
    assert deck.topic_for("our first date") == "first date"
    assert deck.topic_for("  How We Met ") == "first date"
    assert deck.topic_for("would you rather") == "would you rather"
    assert deck.topic_for("spiritual") == "spiritual"
    assert deck.topic_for("holidays") == "travel"
    assert deck.topic_for("fun") is None
    assert deck.topic_for(None) is None


def test_every_declared_topic_is_carried_by_cards(deck: Deck) -> None:
    carried = Counter(topic for card in deck for topic in card.topics)
    assert set(carried) == set(deck.topics)


def test_ids_are_unique_and_well_formed(deck: Deck) -> None:
    ids = [card.id for card in deck]
    assert len(ids) == len(set(ids))
    for card in deck:
        match = ID_PATTERN.match(card.id)
        assert match, card.id
        assert match.group("category") == card.category


def test_retired_ids_are_never_reused(deck: Deck) -> None:
    header = DEFAULT_PATH.read_text(encoding="utf-8").split("\ntopics:")[0]
    retired = set(re.findall(r"\b[a-z]+-\d{3}\b", header.split("Retired ids")[1]))
    assert len(retired) > 100  # the list is there and parsed
    assert not retired & {card.id for card in deck}


# ---------------------------------------------------------------- how every line is written


def test_every_card_is_one_short_question(deck: Deck, sequence: DeepSequence) -> None:
    for card_id, text, _ in _spoken(deck, sequence):
        assert text.endswith("?"), card_id
        assert text.count("?") == 1, f"{card_id} should ask exactly one question"
        assert word_count(text) <= MAX_WORDS, f"{card_id}: {word_count(text)} words"
        assert text == text.strip(), card_id


def test_cards_are_safe_for_speech(deck: Deck, sequence: DeepSequence) -> None:
    for card_id, text, _ in _spoken(deck, sequence):
        assert not any(ch in text for ch in SSML_BREAKING), card_id
        assert text.isascii(), f"{card_id} has non-ASCII characters (emoji?)"
        assert "(" not in text and ")" not in text, card_id
        assert text.count('"') % 2 == 0, f"{card_id} has an unclosed quote"


def test_no_blocked_words(deck: Deck, sequence: DeepSequence) -> None:
    for card_id, text, _ in _spoken(deck, sequence):
        blocked = set(_words(text)) & BLOCKLIST
        assert not blocked, f"{card_id} contains blocked words: {sorted(blocked)}"


def test_the_speaker_never_speaks_as_one_of_the_couple(
        deck: Deck, sequence: DeepSequence) -> None:
    offenders = [(card_id, text) for card_id, text, _ in _spoken(deck, sequence)
                 if set(_words(_unquoted(text))) & FIRST_PERSON]
    assert not offenders


def test_quoted_stems_are_said_by_the_partners(deck: Deck) -> None:
    stems = [card for card in deck if '"' in card.text]
    assert len(stems) >= 5
    assert any("I " in re.findall(r'"([^"]*)"', card.text)[0] for card in stems)


def test_questions_are_open(deck: Deck, sequence: DeepSequence) -> None:
    """No bare yes/no question; an either-or choice asks why."""
    for card_id, text, _ in _spoken(deck, sequence):
        asked = _unquoted(text).lower()
        clauses = {asked, asked.rsplit(":", 1)[-1], asked.rsplit(",", 1)[-1]}
        for clause in clauses:
            first = _words(clause)[:1]
            if asked.startswith("would you rather"):
                continue
            assert not set(first) & AUXILIARIES, f"{card_id} is a yes/no question: {text}"
        choice = (asked.startswith("would you rather") or " prefer " in asked
                  or re.search(r"\b(more|rather)\b", asked) and " or " in asked)
        if choice:
            assert "why" in asked, f"{card_id} offers a choice without asking why: {text}"


def test_every_card_has_a_depth_and_each_category_a_spread(deck: Deck) -> None:
    for category in Deck.CATEGORIES:
        depths = Counter(card.depth for card in deck.in_category(category))
        dinner = depths["light"] + depths["medium"]
        assert dinner >= MIN_DINNER_CARDS, f"{category}: {dinner} light or medium cards"
    assert {card.depth for card in deck.in_category("fun")} == {"light"}
    repair = Counter(card.depth for card in deck.in_category("repair"))
    assert repair["light"] * 10 <= sum(repair.values())  # mostly medium and deep
    assert repair["deep"] >= MIN_PER_CATEGORY // 3


def test_light_cards_assume_nothing(deck: Deck) -> None:
    offenders = [(card.id, sorted(set(_words(card.text)) & ASSUMPTIONS))
                 for card in deck if card.depth == "light" and set(_words(card.text)) & ASSUMPTIONS]
    assert not offenders


def test_random_cards_leave_hard_subjects_to_repair(deck: Deck) -> None:
    offenders = [(card.id, sorted(set(_words(card.text)) & CARE_WORDS))
                 for card in deck
                 if card.category not in Deck.ON_REQUEST and set(_words(card.text)) & CARE_WORDS]
    assert not offenders


def test_touch_and_acts_of_service_are_woven_in(deck: Deck) -> None:
    touch = deck.ids(None, topic="touch") + deck.ids("repair", topic="touch")
    assert len(touch) >= 10
    assert all(re.search(r"\b(hand|hands|hug|shoulder|arm|close|side by side)\b",
                         deck.get(i).text.lower()) for i in touch)
    assert len(deck.ids(None, topic="service")) >= 5


# ---------------------------------------------------------------- duplicates


def test_no_exact_duplicates(deck: Deck, sequence: DeepSequence) -> None:
    texts = [" ".join(_words(text)) for _, text, _ in _spoken(deck, sequence)]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize(("a", "b"), OLD_REWORDINGS)
def test_the_method_catches_the_old_decks_rewordings(a: str, b: str) -> None:
    assert near_duplicates(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_QUESTIONS)
def test_the_method_lets_different_questions_be(a: str, b: str) -> None:
    assert not near_duplicates(a, b)


def test_no_near_duplicates_across_the_deck_and_the_sequence(
        deck: Deck, sequence: DeepSequence) -> None:
    spoken = [(card_id, text) for card_id, text, _ in _spoken(deck, sequence)]
    flagged = [(id_a, id_b, a, b) for (id_a, a), (id_b, b) in itertools.combinations(spoken, 2)
               if near_duplicates(a, b) and (id_a, id_b) not in ALLOWED_PAIRS]
    assert not flagged, f"{len(flagged)} near-duplicate pairs: {flagged}"
    assert len(ALLOWED_PAIRS) <= 10


# ---------------------------------------------------------------- what couples can ask for


def _synonyms_by_category() -> dict[str, set[str]]:
    """Every CardCategory synonym in every locale's model, by category id."""
    source = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    said: dict[str, set[str]] = {}
    for locale in packaging.LOCALES:
        model = packaging.localize_model(source, locale)
        types = model["interactionModel"]["languageModel"]["types"]
        card_category = next(t for t in types if t["name"] == "CardCategory")
        for value in card_category["values"]:
            words = said.setdefault(value["id"], set())
            words.update([value["name"]["value"], *value["name"].get("synonyms", [])])
    return said


def test_the_model_offers_exactly_the_decks_categories() -> None:
    assert sorted(_synonyms_by_category()) == sorted(Deck.CATEGORIES)


def test_every_synonym_lands_where_its_cards_answer_it(deck: Deck) -> None:
    misleading = []
    for category, words in _synonyms_by_category().items():
        cards = deck.in_category(category)
        for word in sorted(words):
            if word in MOOD_WORDS[category]:
                wrong_depth = [c.id for c in cards if c.depth not in MOOD_DEPTHS.get(word, DEPTHS)]
                if wrong_depth:
                    misleading.append((word, category, f"cards of another depth: {wrong_depth}"))
                continue
            topic = deck.topic_for(word)
            carried = [c.id for c in cards if topic in c.topics] if topic else []
            if len(carried) < MIN_CARDS_PER_TOPIC:
                misleading.append((word, category, f"topic {topic!r} on {len(carried)} cards"))
    assert not misleading



def test_depth_moods_are_not_category_words() -> None:
    """"lighter", "deeper", "more serious" move along depth (the handler); they name no category."""
    said = set().union(*_synonyms_by_category().values())
    assert not said & {"lighter", "deeper", "more serious", "less serious", "more meaningful"}


# ---------------------------------------------------------------- the deep conversation


def test_the_sequence_has_three_sets_that_escalate(sequence: DeepSequence) -> None:
    assert len(sequence.sets) == 3
    rank = {depth: level for level, depth in enumerate(DEPTHS)}
    means = []
    for number, steps in enumerate(sequence.sets, start=1):
        assert len(steps) >= MIN_PER_SET, f"set {number} has {len(steps)} questions"
        assert all(step.set_number == number for step in steps)
        expected_ids = [f"deeper-{number}-{i:02d}" for i in range(1, len(steps) + 1)]
        assert sequence.ids(number) == expected_ids
        means.append(sum(rank[step.depth] for step in steps) / len(steps))
    assert means == sorted(means) and len(set(means)) == 3, means
    assert {step.depth for step in sequence.sets[0]} <= {"light", "medium"}
    assert {step.depth for step in sequence.sets[2]} == {"deep"}


def test_the_sequence_ends_with_appreciation_of_each_other(sequence: DeepSequence) -> None:
    last = sequence.sets[2][-2:]
    assert all(re.search(r"\blove\b", step.text) for step in last)


def test_the_sequence_is_not_arons_questions(sequence: DeepSequence) -> None:
    echoes = [(step.id, phrase) for step in sequence
              for phrase in ARON_ECHOES if re.search(rf"\b{phrase}\b", step.text.lower())]
    assert not echoes


def test_sequence_lookup(sequence: DeepSequence) -> None:
    assert len(sequence) == len(sequence.ids()) == sum(len(s) for s in sequence.sets)
    assert sequence.get("deeper-1-01").set_number == 1
    assert sequence.get("deeper-9-01") is None
    with pytest.raises(ValueError, match="unknown set"):
        sequence.ids(4)


# ---------------------------------------------------------------- loaders


def test_get_unknown_returns_none(deck: Deck) -> None:
    assert deck.get("fun-999") is None
    assert deck.get("nonsense") is None
    first = deck.get("fun-001")
    assert isinstance(first, Card)
    assert first.category == "fun"
    assert first.depth == "light"


def test_unknown_category_lookup_raises(deck: Deck) -> None:
    with pytest.raises(ValueError, match="unknown category"):
        deck.in_category("spicy")


def test_defaults_are_cached() -> None:
    assert default_deck() is default_deck()
    assert default_sequence() is default_sequence()


def _write(tmp_path: Path, body: str, name: str = "cards.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_loader_accepts_small_valid_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "topics:\n  silly: [goofy]\n"
                            "fun:\n  - id: fun-001\n    depth: light\n    topics: [silly]\n"
                            '    text: "What makes you laugh?"\n')
    small = Deck.load(path)
    assert len(small) == 1
    assert small.ids("fun") == ["fun-001"]
    assert small.ids("deep") == []
    assert small.topic_for("goofy") == "silly"
    assert small.get("fun-001").topics == ("silly",)


_CARD = 'fun:\n  - id: fun-001\n    depth: light\n    text: "{text}"\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('spicy:\n  - id: spicy-001\n    depth: light\n    text: "What?"\n', "unknown category"),
        ('fun:\n  - {id: fun-001, depth: light, text: "One?"}\n'
         '  - {id: fun-001, depth: light, text: "Two?"}\n', "duplicate card id"),
        (_CARD.format(text="No question mark here."), "must end with"),
        (_CARD.format(text="a" * 181 + "?"), "max 180"),
        (_CARD.format(text="Why " * 26 + "?"), "max 25"),
        ("fun:\n  - id: fun-001\n    depth: light\n", "missing a string 'text'"),
        ('fun:\n  - depth: light\n    text: "Where is my id?"\n', "missing a string 'id'"),
        ('fun:\n  - id: fun-001\n    text: "How deep?"\n', "depth must be one of"),
        ('fun:\n  - id: fun-001\n    depth: spicy\n    text: "How deep?"\n',
         "depth must be one of"),
        ('fun:\n  - {id: fun-001, depth: light, topics: [gossip], text: "Who?"}\n',
         "declared under 'topics'"),
        ("topics:\n  a: [x]\n  b: [x]\n", "names both"),
        ("topics: [x]\n", "'topics' must map"),
        ("- just a list\n", "top level must be a mapping"),
        ('fun:\n  - id: fun-001\n    text: "Unclosed?\n', "invalid YAML"),
        ('fun:\n  - id: deep-001\n    depth: light\n    text: "Wrong prefix?"\n',
         "must start with 'fun-'"),
    ],
)
def test_loader_rejects_malformed_yaml(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Deck.load(_write(tmp_path, body))


_SETS = "sets:\n  1: [{q1}]\n  2: [{q2}]\n  3: [{q3}]\n"
_Q = '{{id: deeper-{n}-01, depth: {d}, text: "{t}"}}'


def _sequence_body(**overrides: str) -> str:
    questions = {f"q{n}": _Q.format(n=n, d="deep", t="Why?") for n in (1, 2, 3)}
    return _SETS.format(**{**questions, **overrides})


def test_sequence_loader_accepts_small_valid_file(tmp_path: Path) -> None:
    small = DeepSequence.load(_write(tmp_path, _sequence_body(), "deeper.yaml"))
    assert small.ids() == ["deeper-1-01", "deeper-2-01", "deeper-3-01"]
    assert small.get("deeper-2-01").set_number == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sets:\n  1: []\n  2: []\n", "must map each of"),
        ("- 1\n", "must map each of"),
        (_sequence_body(q2=""), "non-empty list"),
        (_sequence_body(q2=_Q.format(n=7, d="deep", t="Why?")), "must look like deeper-2-01"),
        (_sequence_body(q3=_Q.format(n=3, d="spicy", t="Why?")), "depth must be one of"),
        (_sequence_body(q1=_Q.format(n=1, d="light", t="Why not")), "must end with"),
    ],
)
def test_sequence_loader_rejects_malformed_yaml(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeepSequence.load(_write(tmp_path, body, "deeper.yaml"))
