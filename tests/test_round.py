"""The appreciation round as a couple lives it, through the same words `closer chat` hears:
thanks that do not end it, passes, a hurt met with care, any names, and a close that fits."""

from __future__ import annotations

import re

import pytest

from tests.support.talk import Talk

ASK_ANA = "Ana, what's one thing you appreciated about Jo today?"
ASK_JO = "Jo, what's one thing you appreciated about Ana today?"


def begin(talk: Talk, *, journal: str = "yes") -> None:
    """Names and the journal offer answered: Ana is asked first."""
    _, _, asked = talk("start our appreciation round", "we are ana and jo", journal)
    assert asked.endswith(ASK_ANA), asked


def test_thank_you_from_the_partner_just_thanked_never_ends_the_round(talk: Talk) -> None:
    begin(talk)
    mirrored = talk.one("I love how you cook")
    assert "Jo, Ana loves how you cook." in mirrored and mirrored.endswith(ASK_JO)
    for thanks in ("thank you", "thanks", "aw", "that's sweet"):
        reply = talk.one(thanks)
        assert reply.endswith(ASK_JO), (thanks, reply)
        assert "Take care" not in reply and "Goodnight" not in reply
    closing = talk.one("you made me laugh when I was tired")
    assert "Ana, Jo appreciated that you made Jo laugh when Jo was tired." in closing
    assert "Two appreciations, said out loud." in closing


def test_a_thank_you_is_never_kept_in_the_journal(talk: Talk) -> None:
    begin(talk)
    talk("you fixed my bike", "thank you", "pass")
    journal = talk.one("read our journal")
    assert "Ana appreciated that Jo fixed Ana's bike." in journal
    assert "thank you" not in journal.lower()


def test_a_pass_is_fine_and_the_close_says_so(talk: Talk) -> None:
    begin(talk)
    talk.one("the flowers")
    closing = talk.one("pass")
    assert closing.startswith("That's fine. Passing is always okay.")
    assert "One appreciation, said out loud." in closing


def test_nothing_really_gets_one_gentle_nudge_then_moves_on(talk: Talk) -> None:
    begin(talk)
    nudged = talk.one("nothing really")
    assert nudged.startswith("That's okay. It can be something small") and nudged.endswith(
        ASK_ANA)
    moved_on = talk.one("I don't know")
    assert moved_on.startswith("That's okay. Some days are like that.")
    assert moved_on.endswith(ASK_JO)
    assert "appreciated" not in moved_on.split(".")[0]


def test_a_hurt_is_not_said_back_and_the_round_offers_to_stop(talk: Talk) -> None:
    begin(talk)
    offered = talk.one("you hurt me today")
    assert "That sounds like it hurt" in offered and offered.endswith("Yes or no.")
    assert "appreciated" not in offered and "hurt me" not in offered
    closed = talk.one("yes")
    assert "a couples counselor is the right person" in closed
    assert talk.replies[-1].ends_session
    journal = talk.one("read our journal")
    assert "hurt" not in journal


def test_after_a_hurt_the_round_can_go_on_and_closes_gently(talk: Talk) -> None:
    begin(talk)
    talk.one("honestly you were mean to me")
    going_on = talk.one("no")
    assert going_on.startswith("Okay, we'll go on.") and going_on.endswith(ASK_ANA)
    talk.one("you made tea")
    closing = talk.one("you listened")
    assert "Thank you both for staying with it tonight." in closing


@pytest.mark.parametrize(("said", "first", "second"), [
    ("we are Xochitl and Nnamdi", "Xochitl", "Nnamdi"),
    ("Aoife and Tadhg", "Aoife", "Tadhg"),
    ("we are José and Zoë", "José", "Zoë"),
    ("our names are Mary Ann and Jean-Luc", "Mary Ann", "Jean-Luc"),
    ("I'm Siobhan, this is O'Brien", "Siobhan", "O'Brien"),
])
def test_any_names_work(talk: Talk, said: str, first: str, second: str) -> None:
    asked = talk.one("start our appreciation round")
    assert "Tell me your two first names" in asked
    hello = talk.one(said)
    assert hello.startswith(f"Lovely to meet you, {first} and {second}."), hello
    asked = talk.one("no")
    assert asked.endswith(f"{first}, what's one thing you appreciated about {second} today?")


def test_names_not_heard_twice_means_going_on_without_them(talk: Talk) -> None:
    talk.one("start our appreciation round")
    again = talk.one("mumble grumble")
    assert again.startswith("Sorry, I didn't catch that.")
    on = talk.one("blah")
    assert on.startswith("Let's go on without names tonight.")
    assert on.endswith("Yes or no.")  # the journal offer
    asked = talk.one("no")
    assert asked.endswith("Whoever would like to start: what's one thing you appreciated "
                          "about your partner today?")
    said_back = talk.one("you made dinner")
    assert "Your partner appreciated that you made dinner." in said_back
    closing = talk.one("you listened")
    assert closing.endswith("Sleep well, you two.")


def test_a_hesitation_is_waited_for(talk: Talk) -> None:
    begin(talk)
    assert talk.one("um") == f"Take your time. {ASK_ANA}"


def test_an_endless_answer_is_asked_for_its_heart(talk: Talk) -> None:
    begin(talk)
    reply = talk.one("you " + "really " * 120 + "helped")
    assert reply.startswith("That's a lot to hold at once.") and reply.endswith(ASK_ANA)


def test_a_round_resumes_the_same_evening(talk: Talk) -> None:
    begin(talk)
    talk.one("stop")
    resumed = talk.one("start our appreciation round")
    assert resumed == f"Let's pick up your round where you stopped. {ASK_ANA}"


def test_help_in_the_round_explains_then_asks_again(talk: Talk) -> None:
    begin(talk)
    helped = talk.one("help")
    assert helped.startswith("In this round, each of you tells the other")
    assert helped.endswith(ASK_ANA)
    assert len(re.findall(r"[\w']+", helped)) < 45


def test_fear_said_during_the_round_is_never_kept(talk: Talk) -> None:
    begin(talk)
    answer = talk.one("my partner scares me")
    assert "nine one one" in answer
    assert talk.replies[-1].request == "SafetyIntent"
    assert "scares" not in talk.one("read our journal")
