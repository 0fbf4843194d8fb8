"""`closer chat`: what a couple hears for what they say. Most conversations run in process
(the `talk` fixture: the same grammar, device and skill as the command); the command itself,
as a user runs it (typed turns on stdin, what the speaker says on stdout), is a system test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skill.store.sqlite import SQLiteStore
from tests.support.processes import free_port

CLOSER = str(Path(sys.executable).with_name("closer"))
ROUND = ["start our appreciation round", "we're sam and alex", "yes",
         "you made me laugh at dinner when I was tired", "I loved that you called my mom"]


def chat(db: Path, *lines: str, args: tuple[str, ...] = (), **env: str
         ) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"CLOSER_DATABASE_URL", "CLOSER_HOUSEHOLD_ID", "CLOSER_SKILL_IDS"}}
    environment.update(CLOSER_DB=str(db), **env)
    done = subprocess.run([CLOSER, "chat", *args], input="".join(f"{line}\n" for line in lines),
                          text=True, capture_output=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def said(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("closer: ") for line in done.stdout.splitlines()
            if line.startswith("closer: ")]


def test_card_next_repeat(tmp_path: Path) -> None:
    card, following, again = said(chat(tmp_path / "db", "give us a question", "next", "repeat"))
    assert card.startswith("Here's your question.") and card.endswith("[1 s pause]")
    assert following.startswith("Here's your question.") and following != card
    assert again == following


def test_appreciation_round_and_the_journal_after_a_restart(tmp_path: Path) -> None:
    done = chat(tmp_path / "db", *ROUND)
    replies = said(done)
    assert "Tell me your two first names" in replies[0]
    assert "keep your appreciations in a private journal" in replies[1]
    assert replies[2].endswith("Sam, what's one thing you appreciated about Alex today?")
    assert "Alex, Sam appreciated that you made Sam laugh at dinner when Sam was tired. " \
           "[1 s pause] Alex, what's one thing you appreciated about Sam today?" in replies[3]
    assert "Sam, Alex loved that you called Alex's mom." in replies[4]
    assert replies[4].endswith("Goodnight.")
    assert "laugh" not in done.stderr and "Sam" not in done.stderr  # nothing said is logged
    # A new process on the same store is the same household: the journal is still there.
    (journal,) = said(chat(tmp_path / "db", "read our journal"))
    assert "Sam appreciated that Alex made Sam laugh at dinner" in journal


@pytest.mark.parametrize(("answer", "kept"), [
    ("yes keep them", True), ("we'd like that", True), ("sure", True),
    ("don't keep them", False), ("we'd rather not", False), ("no thank you", False),
])
def test_the_journal_offer_answered_in_a_few_words(tmp_path: Path, answer: str, kept: bool
                                                   ) -> None:
    replies = said(chat(tmp_path / "db", "start our appreciation round", "we're sam and alex",
                        answer, "you fixed the bike", "you let me sleep in", "read our journal"))
    assert replies[2].endswith("Sam, what's one thing you appreciated about Alex today?")
    assert ("Alex appreciated that Sam let Alex sleep in" in replies[-1]) is kept
    assert replies[-1].startswith("Your journal is off") is not kept


def test_a_hesitation_is_waited_for_not_mirrored(tmp_path: Path) -> None:
    replies = said(chat(tmp_path / "db", "start our appreciation round", "we're sam and alex",
                        "no", "um", "hmm, well", "you fixed the bike"))
    assert replies[3] == replies[4] == (
        "Take your time. Sam, what's one thing you appreciated about Alex today?")
    assert replies[5].startswith("Thank you. Alex, Sam appreciated that you fixed the bike.")


def test_first_launch_after_a_one_shot_request_is_a_welcome_back(tmp_path: Path) -> None:
    card, welcome = said(chat(tmp_path / "db", "ask closer together for a fun question",
                              "open closer together"))
    assert card.startswith("Here's a fun one.")
    assert welcome.startswith("Welcome back.")


def test_forget_us(tmp_path: Path) -> None:
    replies = said(chat(tmp_path / "db", *ROUND, "forget us", "yes", "read our journal"))
    assert "Should I forget you? Yes or no." in replies[-3]
    assert replies[-2] == "Done. I've forgotten everything about your household."
    assert replies[-1].startswith("Your journal is off")


def test_hug_shows_its_pause_and_chime(tmp_path: Path) -> None:
    (hug,) = said(chat(tmp_path / "db", "hug for thirty seconds"))
    assert "Starting now. [30 s pause] [chime] And, time." in hug


def test_blank_line_ends_the_chat(tmp_path: Path) -> None:
    done = chat(tmp_path / "db", "give us a question", "", "next")
    assert len(said(done)) == 1
    assert done.stdout.splitlines()[0] == "you: give us a question"


def test_not_understood(tmp_path: Path) -> None:
    (reply,) = said(chat(tmp_path / "db", "set a timer for ten minutes"))
    assert reply.startswith("Sorry, I didn't catch that.")


def test_household_id_from_the_environment(tmp_path: Path) -> None:
    chat(tmp_path / "db", *ROUND, CLOSER_HOUSEHOLD_ID="kitchen")
    (other,) = said(chat(tmp_path / "db", "read our journal", CLOSER_HOUSEHOLD_ID="bedroom"))
    assert other.startswith("Your journal is off")
    (same,) = said(chat(tmp_path / "db", "read our journal", CLOSER_HOUSEHOLD_ID="kitchen"))
    assert "made Sam laugh" in same


def test_through_a_webhook(tmp_path: Path, unverified_server: tuple[str, Path]) -> None:
    url, server_db = unverified_server
    card, following = said(chat(tmp_path / "local.sqlite3", "give us a fun question", "next",
                                args=("--endpoint", url)))
    assert card.startswith("Here's a fun one.") and following != card
    # No store is opened on the speaker's side: its household id lives in a small file.
    assert not (tmp_path / "local.sqlite3").exists()
    household = (tmp_path / "household-id").read_text().strip()
    server = SQLiteStore(server_db)
    try:  # the cards were dealt by the server, to the speaker's household
        assert server.load(household).last_category == "fun"
    finally:
        server.close()


def test_unreachable_webhook_is_one_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/alexa"
    done = subprocess.run([CLOSER, "chat", "--endpoint", url], input="give us a question\n",
                          text=True, capture_output=True, timeout=60,
                          env={**os.environ, "CLOSER_DB": str(tmp_path / "db")})
    assert done.returncode == 1
    assert f"cannot reach the webhook at {url}" in done.stderr


def test_around_a_card_a_remark_asking_again_and_thanks(tmp_path: Path) -> None:
    card, remark, again, thanks = said(chat(
        tmp_path / "db", "give us a question", "hmm, good question",
        "what was the question again", "thanks"))
    assert card.startswith("Here's your question.")
    # A remark is not a new card, and the table stays open for next or repeat.
    assert remark == ("Sorry, I didn't catch that. "
                      "Say next for another question, or repeat to hear it again.")
    assert again == card  # the question, not the "didn't catch that"
    assert thanks == "Okay. Take care of each other."  # not a card about gratitude


@pytest.mark.xfail(strict=True, reason="issue 11: 'lighter' is a depth move now, no longer a "
                                       "category synonym; the handlers' depth moves deal it")
def test_something_lighter_after_a_card_deals_a_lighter_one(tmp_path: Path) -> None:
    card, lighter = said(chat(tmp_path / "db", "a deep question", "something lighter"))
    assert card.startswith("Here's a deeper one.")
    assert not lighter.startswith("Sorry")
