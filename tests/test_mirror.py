"""What the speaker does with a partner's answer in the appreciation round: tell what kind of
answer it is, say it back to the other partner in the giver's own words, and keep it in the
journal in one third-person voice. The reviewed lists are in tests/fixtures/mirror/."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from skill.handlers.journal import retell as journal_retell
from skill.mirror import Answer, classify, mirror, retell
from skill.store import Appreciation

FIXTURES = Path(__file__).parent / "fixtures" / "mirror"
REVIEWED = yaml.safe_load((FIXTURES / "appreciations.yaml").read_text())
GIVER, RECEIVER = REVIEWED["giver"], REVIEWED["receiver"]
APPRECIATIONS = REVIEWED["appreciations"]
ANSWERS = [(said, Answer[kind.upper()])
           for kind, saids in yaml.safe_load((FIXTURES / "answers.yaml").read_text()).items()
           for said in saids]
SAID = [entry["said"] for entry in APPRECIATIONS]


def test_the_lists_are_as_long_as_promised() -> None:
    assert len(APPRECIATIONS) >= 60
    assert len({said for said in SAID}) == len(SAID)
    assert sum(kind is not Answer.APPRECIATION for _, kind in ANSWERS) >= 25


@pytest.mark.parametrize("entry", APPRECIATIONS, ids=SAID)
def test_the_mirror_says_it_back_as_reviewed(entry: dict) -> None:
    assert mirror(entry["said"], GIVER, RECEIVER) == entry["mirror"]


@pytest.mark.parametrize("entry", APPRECIATIONS, ids=SAID)
def test_the_journal_retells_it_as_reviewed(entry: dict) -> None:
    assert retell(entry["said"], GIVER, RECEIVER) == entry["journal"]


@pytest.mark.parametrize("said", SAID)
def test_every_reviewed_appreciation_is_taken_as_one(said: str) -> None:
    assert classify(said) is Answer.APPRECIATION


@pytest.mark.parametrize(("said", "kind"), ANSWERS, ids=[said for said, _ in ANSWERS])
def test_answers_in_the_round_are_told_apart(said: str, kind: Answer) -> None:
    assert classify(said) is kind


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


# The speaker is a third party: a partner's "I/me/my/we" never comes out of its mouth, nor a
# gendered or ambiguous pronoun for a partner (the giver is named instead).
PARTNER_PRONOUNS = {"i", "i'm", "i've", "i'd", "me", "my", "mine", "myself", "we", "we're",
                    "us", "our", "ours", "he", "she", "him", "her", "his", "hers", "herself",
                    "himself", "they", "them", "their", "themselves"}


@pytest.mark.parametrize("entry", APPRECIATIONS, ids=SAID)
def test_the_speaker_never_speaks_as_a_partner(entry: dict) -> None:
    spoken = _words(entry["mirror"])
    assert not spoken & PARTNER_PRONOUNS
    assert entry["mirror"].startswith(GIVER)


@pytest.mark.parametrize("entry", APPRECIATIONS, ids=SAID)
def test_the_journal_keeps_one_voice(entry: dict) -> None:
    # "they/them/their" only for the couple together ("the two of them", "their walk").
    together = re.sub(r"\b(the two of them|both of them|they both|they all)\b", "",
                      entry["journal"])
    told = _words(together)
    assert not told & {"you", "your", "you're", "yours", "yourself"}
    assert not told & (PARTNER_PRONOUNS - {"their"})
    assert entry["journal"].startswith(GIVER)


@pytest.mark.parametrize(("said", "giver", "receiver", "echo", "told"), [
    ("you fixed my bike", "Mary Ann", "Jean-Luc", "Mary Ann appreciated that you fixed "
     "Mary Ann's bike", "Mary Ann appreciated that Jean-Luc fixed Mary Ann's bike"),
    ("José, you made me paella", "Zoë", "José", "Zoë appreciated that you made Zoë paella",
     "Zoë appreciated that José made Zoë paella"),
    ("Mary Ann you were amazing", "Tadhg", "Mary Ann", "Tadhg thinks you were amazing",
     "Tadhg said Mary Ann was amazing"),
    ("I love you", "Xochitl", "Nnamdi", "Xochitl loves you", "Xochitl loves Nnamdi"),
])
def test_any_names_work_and_the_receivers_name_in_front_is_not_repeated(
        said: str, giver: str, receiver: str, echo: str, told: str) -> None:
    assert mirror(said, giver, receiver) == echo
    assert retell(said, giver, receiver) == told


def test_the_partners_words_are_kept_as_said_apart_from_the_pronouns() -> None:
    # Contractions stay ("didn't", "you're"), capitals stay ("Saturday"), nothing is cut.
    said = "you didn't moan once, you're a saint and you gave up your Saturday for my mum"
    assert mirror(said, "Ana", "Jo") == ("Ana appreciated that you didn't moan once, you're a "
                                         "saint and you gave up your Saturday for Ana's mum")


def test_a_reaction_alone_is_thanks_and_a_blank_answer_says_nothing() -> None:
    assert mirror("aww thanks babe", "Ana", "Jo") == "Ana thanks you"
    assert retell("aww thanks babe", "Ana", "Jo") == "Ana thanked Jo"
    assert mirror("", "Ana", "Jo") == mirror("...", "Ana", "Jo") == ""


def test_the_journal_handler_retells_a_saved_entry_in_one_voice() -> None:
    entry = Appreciation(giver="Sam", receiver="Alex", text="you always make me laugh",
                         said_at=datetime.now(UTC))
    assert journal_retell(entry) == "Sam appreciated that Alex always makes Sam laugh"
