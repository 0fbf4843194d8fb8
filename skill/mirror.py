"""What a partner's answer in the appreciation round is, and how the speaker says it back.

Text in, text out (no SSML: the handler escapes). Words are compared lower-cased, with
contractions spelled out ("you're" -> "you are", "didn't" -> "did not"); between the words
of any phrase below, intensifiers ("so", "really", "just", ...) may come and are skipped.

classify(said), in this order:
  1. HURT: a hurt aimed at the partner anywhere ("you hurt me", "mean to me", "upset with
     you"), unless negated ("you never let me down") or apologised for ("you said sorry after
     you yelled at me"); or a hurt feeling opening the answer or a clause after "but"/"nothing"
     ("I'm still hurt", "it hurt when...", "I didn't like how you...").
  2. Openers come off the front: fillers and thinking aloud ("um", "let me think"), the
     thanked partner's reaction ("aw", "thank you love", "that's so kind") unless "for" or
     "to" follows ("thank you for dinner" is the appreciation itself), and hedges ("I don't
     know", "maybe").
  3. Nothing left: NOTHING after a hedge, THANKS after a reaction, else HESITATION.
  4. With a trailing "really", "tonight", "please"... ignored: a pass ("pass", "skip me", "not
     tonight") is PASS; "nothing really", "can't think of anything", alone or with a reason,
     is NOTHING, but "nothing really but you made tea" is judged on "you made tea".
  5. Anything else is an APPRECIATION.

mirror(said, giver, receiver) is one sentence per sentence said, each opening with the giver's
name, told to the receiver ("you" stays "you"); retell(...) is the same for the journal with
both names and no "you". The giver's "I/me/my" become the name ("Ana's"), never a gendered
or ambiguous pronoun; "we/us" become "you two / the two of you" and "our" "the" ("the walk"),
or "your" for what is plainly shared ("your anniversary"); the journal says "the two of them"
and "their". The frame keeps the giver's own verb:
  "I love how you cook"            -> "Ana loves how you cook"
  "thank you for dinner"           -> "Ana thanks you for dinner"    (journal: "thanked Jo")
  "you're amazing", "you look..."  -> "Ana thinks you're amazing"    (journal: "said")
  "you fixed my bike"              -> "Ana appreciated that you fixed Ana's bike"
  "when you sang"                  -> "Ana appreciated it when you sang"
  "how did you know I needed that" -> "Ana wonders how you knew Ana needed that"
  "do you know how much I love you"-> "Ana wants you to know how much Ana loves you"
  "your soup was amazing"          -> "Ana says your soup was amazing" (journal: "said")
  "the flowers", "cooking dinner"  -> "Ana appreciated the flowers / you cooking dinner"
Fillers, reactions and hedges at the front are not the giver's appreciation and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from itertools import groupby


class Answer(Enum):
    APPRECIATION = "appreciation"
    THANKS = "thanks"
    PASS = "pass"
    NOTHING = "nothing"
    HURT = "hurt"
    HESITATION = "hesitation"


def _words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> tuple[tuple[str, ...], ...]:
    """Comma-separated phrases, longest first so the longest match wins."""
    found = {tuple(p.split()) for p in text.replace("\n", " ").split(",") if p.strip()}
    return tuple(sorted(found, key=len, reverse=True))


# --- Word lists (contractions spelled out; intensifiers left out: they are skipped) ---

_INTENSIFIERS = _words_of("so really just very truly still totally actually quite super such "
                          "too all")
_FILLERS = _words_of("um umm uh uhm er erm hmm hm mm mmm ah eh oh well okay ok alright right "
                     "anyway honestly yeah yes and but so like")
_THINKING = _phrases("""let me think, let me see, give me a second, give me a minute, one second,
    one sec, hang on, hold on, wait, just a moment, good question, i am thinking, thinking,
    i want to say, i wanted to say, i would like to say, i have to say, i got to say,
    i must say, can i say, may i say, let me say, to be honest, i would say, i think, i guess,
    i suppose""")
_SELF_HEDGES = frozenset({("i", "think"), ("i", "guess"), ("i", "suppose"), ("i", "would", "say")})
_REACTIONS = _phrases("""thank you, thanks, thank you much, thanks much, thank you very much,
    cheers, aw, aww, awww, aw shucks, oh stop, stop it, that is sweet, that is kind,
    that is lovely, that is nice, that is beautiful, that is cute, that is kind of you,
    that is sweet of you, that is lovely of you, that is nice of you, how sweet, how lovely,
    how kind, sweet, you are sweet, you are kind, that means a lot, that means a lot to me,
    that means so much, that means so much to me, i needed that, i needed to hear that,
    i am blushing, you are making me blush, you made me blush, wow,
    thank you for saying that, thank you for saying so, thank you for that, thanks for that,
    thanks for saying that, thank you for noticing, thanks for noticing,
    thank you for the kind words, thank you for appreciating me, thanks for appreciating me""")
_THANKS_WORDS = frozenset({"thank", "thanks", "cheers"})
_PET_NAMES = _phrases("""love, my love, babe, baby, honey, hon, darling, sweetheart, sweetie,
    dear, my dear, sweet pea, gorgeous, handsome, beautiful""")
_LINKS = frozenset({"for", "to", "because"})  # "thank you FOR dinner"
_UNSURE = _phrases("""i do not know, do not know, not sure, i am not sure, i have no idea,
    no idea, maybe, perhaps, probably""")
_PASSES = _phrases("""pass, i pass, i will pass, i am going to pass, i would like to pass,
    pass for me, can i pass, pass on this one, skip, skip me, skip it, skip my turn, skip this,
    let us skip, can we skip, can i skip, i will skip, i am going to skip, next, not tonight,
    not now, not today, tomorrow, another time, some other time, later, i would rather not,
    i would rather not say, i do not want to, i do not want to say, i do not want to answer,
    i will sit this one out, i am out, no, nope, no thanks, no thank you, can you skip me,
    could you skip me, you can skip me, please skip me""")
_NOTHINGS = _phrases("""nothing, nothing much, nothing special, nothing in particular,
    not much, not really, nothing comes to mind, nothing i can think of,
    i can not think of anything, can not think of anything, i can not think of one,
    i can not think of something, i can not remember, i do not remember, i do not have anything,
    i have not got anything, i got nothing, i have nothing, i did not appreciate anything,
    i do not appreciate anything, there was nothing, there is nothing, nothing to say,
    i do not have one, i did not notice anything, my mind is blank, i am drawing a blank,
    i do not know, i have no idea, no idea, not sure, i am not sure""")
# After a bare "nothing", a verb makes it praise: "nothing beats your pancakes".
_NOTHING_VERBS = _words_of("beats compares tops is makes feels could can would will says means "
                           "matters")
_TAILS = _phrases("""really, today, tonight, please, thanks, thank you, sorry, honestly,
    to be honest, for now, this time, at all, i am afraid, i guess, i think, right now,
    this evening, this one, for tonight, i suppose""")

_HURTS = _phrases("""you hurt me, hurt me, hurt my feelings, you ignored me, ignored me,
    you ignored my, you yelled at me, yelled at me, you shouted at me, shouted at me,
    snapped at me, you lied, lied to me, you insulted me, you criticized me, you criticised me,
    you embarrassed me, you humiliated me, you belittled me, you blamed me, you dismissed me,
    you forgot my, you forgot about me, you forgot to, let me down, you scared me,
    you frightened me, you were mean, mean to me, you were awful, you were horrible,
    you were rude, rude to me, you were cruel, cruel to me, you were cold, cold to me,
    you were nasty, nasty to me, you were unkind, unkind to me, you were selfish,
    you were distant, you were hurtful, you were harsh, harsh with me, you are mean,
    you are awful, you are horrible, you are selfish, you never listen, you do not listen,
    you did not listen, you never help, you did not help, you do not care, you did not care,
    you were not there, you are never there, you made me feel small, you made me feel bad,
    you made me feel stupid, you made me feel terrible, you made me feel awful,
    you made me feel alone, you made me feel invisible, you made me feel worthless,
    you made me feel unwanted, you made me feel ignored, you broke your promise,
    you did not call, you did not text, you did not say goodnight, you did not notice me,
    you never call, you did not even say, you did not even call, you did not even text,
    you did not even notice, you did not even ask, you did not even look at me,
    you did not even listen, you did not even thank me, you did not even reply,
    broke my heart, upset with you, upset at you, angry with you, angry at you, mad at you,
    annoyed with you, annoyed at you, furious with you, frustrated with you,
    disappointed in you, disappointed with you, hurt by you, thank you for nothing,
    thanks for nothing""")
_HURT_OPENINGS = _phrases(", ".join(
    [f"{who} {feel}" for who in ("i am", "i feel", "i felt", "i was", "i am feeling")
     for feel in _words_of("hurt upset angry mad sad annoyed furious ignored unappreciated lonely")
     if not (who == "i was" and feel in {"sad", "lonely", "upset"})]
    + [f"{dislike} {what}"
       for dislike in ("i did not appreciate", "i do not appreciate", "i did not like",
                       "i do not like", "i did not love", "i hated", "i hate")
       for what in ("how", "when", "that", "the way", "it when", "it", "you", "your", "what")]
    + ["it hurt", "that hurt", "i did not feel appreciated", "i do not feel appreciated"]))
_NEGATORS = frozenset({"never", "not", "no", "nobody", "without"})
_APOLOGY = frozenset({"sorry", "apologized", "apologised", "apologizing", "apologising",
                      "apology", "forgave", "forgiving", "forgiven"})

# --- Grammar the mirror needs ---

_ADVERBS = _INTENSIFIERS | _words_of("always never often also even sometimes usually ever "
                                     "genuinely definitely absolutely especially first finally "
                                     "personally once already")
_MODALS = _words_of("can could will would shall should may might must did was is has had "
                    "does")
_PREPOSITIONS = _words_of("with for to at of about on in from by without behind beside near "
                          "like than around into onto towards toward against beyond upon "
                          "over under through")
_SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she"})
_WH = frozenset({"how", "why", "what", "where", "who"})
_AUX = _words_of("do does did are is am were was would could can will have has should "
                 "might")
_CARRIERS = _words_of("love loved appreciate appreciated adore adored admire admired enjoyed "
                      "liked miss missed cherish cherished value valued treasure "
                      "treasured")
_FEELINGS = _words_of("proud grateful thankful lucky happy glad blessed")
_LOOKS = _words_of("are were look looks looked seem seems seemed")
_PLACES = _words_of("there here home back up out away after")
# Verbs that take "you" as their object ("thank you", "love you", "saw you smile").
_OBJECT_VERBS = _CARRIERS | _words_of("thank see hear watch need want know trust tell ask help "
                                      "let make hug kiss call remind support believe have "
                                      "get")
# Base form -> past, for the verbs an appreciation uses; also how a past form is recognised.
_PAST = {
    "be": "was", "become": "became", "begin": "began", "break": "broke", "bring": "brought",
    "build": "built", "buy": "bought", "catch": "caught", "choose": "chose", "come": "came",
    "cut": "cut", "do": "did", "draw": "drew", "drink": "drank", "drive": "drove", "eat": "ate",
    "fall": "fell", "feed": "fed", "feel": "felt", "find": "found", "fly": "flew",
    "forget": "forgot", "forgive": "forgave", "get": "got", "give": "gave", "go": "went",
    "grow": "grew", "have": "had", "hear": "heard", "hide": "hid", "hold": "held", "hit": "hit",
    "hurt": "hurt", "keep": "kept", "know": "knew", "lead": "led", "leave": "left",
    "lend": "lent", "let": "let", "lose": "lost", "make": "made", "mean": "meant",
    "meet": "met", "pay": "paid", "put": "put", "read": "read", "ride": "rode", "ring": "rang",
    "run": "ran", "say": "said", "see": "saw", "sell": "sold", "send": "sent", "set": "set",
    "sing": "sang", "sit": "sat", "sleep": "slept", "speak": "spoke", "spend": "spent",
    "stand": "stood", "swim": "swam", "take": "took", "teach": "taught", "tell": "told",
    "think": "thought", "throw": "threw", "understand": "understood", "wake": "woke",
    "wear": "wore", "win": "won", "write": "wrote", "plan": "planned", "stop": "stopped",
    "hug": "hugged", "carry": "carried", "try": "tried", "worry": "worried",
}
_PAST_FORMS = frozenset(_PAST.values())
# The same in present and past: "you let me" is past, "you always let me" is not.
_SAME_PAST = frozenset(base for base, past in _PAST.items() if base == past)
_HABITS = frozenset({"always", "never", "usually", "often", "sometimes"})
_THIRD_PERSON = {"am": "is", "are": "is", "were": "was", "have": "has", "be": "is"}
_NEGATIVE = {"does": "doesn't", "has": "hasn't", "is": "isn't", "was": "wasn't"}
# Words that start a phrase but are not verbs: "you two", "you and me", "I too".
_NOT_VERBS = (_PREPOSITIONS - {"like"}) | _SUBJECTS | _words_of(
    "and or two both guys all too yourself myself alone the a an not")
_EXPERIENCES = _words_of("having getting spending feeling waking seeing hearing sleeping "
                         "talking")
# What "our" keeps as "your" when said to one partner ("your anniversary"); anything else
# becomes "the" ("the walk"), since "your walk" would sound like the listener's alone.
_SHARED = _words_of("home house flat place life lives relationship marriage anniversary "
                    "wedding family future love first song story")
# -ing words that are no gerund: nouns, and adjectives ("you were amazing").
_NOT_GERUNDS = _words_of("thing nothing something anything everything morning evening wedding "
                         "building painting feeling ring spring king darling amazing loving "
                         "caring charming stunning understanding interesting inspiring calming "
                         "comforting encouraging forgiving willing outstanding relaxing "
                         "refreshing touching")
_YOURS = frozenset({"you", "your", "yours", "yourself", "together", "we", "us", "our"})

_SUBJECT_PHRASES = _phrases("""you and me, you and i, me and you, you, we, both of us, all of us,
    the two of us, us both""")
# The couple together -> (said to one partner, told in the journal); longest first. "" keeps
# the words as they are.
_TOGETHER = {
    ("the", "two", "of", "us"): ("the two of you", "the two of them"),
    ("both", "of", "us"): ("both of you", "both of them"),
    ("all", "of", "us"): ("everyone", "everyone"),
    ("we", "both"): ("you both", "they both"), ("we", "all"): ("you all", "they all"),
    ("us", "both"): ("both of you", "both of them"), ("us", "all"): ("everyone", "everyone"),
    ("you", "two"): ("", "the two of them"), ("you", "both"): ("", "they both"),
    ("you", "guys"): ("", "the two of them"),
    ("we",): ("you two", "the two of them"), ("us",): ("the two of you", "the two of them"),
    ("our",): ("your", "their"), ("ours",): ("yours", "theirs"),
    ("ourselves",): ("yourselves", "themselves"),
}

_FRAMES = {  # frame -> (said to the receiver, told in the journal)
    "thanks": ("{giver} thanks you", "{giver} thanked {receiver}"),
    "know": ("{giver} wants you to know", "{giver} wanted {receiver} to know"),
    "wonder": ("{giver} wonders", "{giver} wondered"),
    "think": ("{giver} thinks", "{giver} said"),
    "say": ("{giver} says", "{giver} said"),
    "appreciated": ("{giver} appreciated", "{giver} appreciated"),
    "self": ("", ""),
}


# --- Words ---

_TOKEN = re.compile(r"\w+(?:['\-]\w+)*|[.!?,]")
_SPECIAL = {"can't": ("can", "not"), "cannot": ("can", "not"), "won't": ("will", "not"),
            "shan't": ("shall", "not"), "ain't": ("is", "not"), "wanna": ("want", "to"),
            "gonna": ("going", "to"), "gotta": ("got", "to"), "dunno": ("do", "not", "know"),
            "let's": ("let's",)}
_CLITICS = {"n't": "not", "'re": "are", "'ve": "have", "'ll": "will", "'m": "am"}
_IS_HOSTS = _words_of("it that what there here he she who where how this everything")


@dataclass(frozen=True)
class _Word:
    low: str        # lower-case, contraction spelled out
    token: int      # the said token it came from; -1 for the speaker's own words


def _expand(token: str, following: str) -> tuple[str, ...]:
    """"didn't" -> ("did", "not"); "I'd" -> ("i", "would"), or ("i", "had") before "been"."""
    if token in _SPECIAL:
        return _SPECIAL[token]
    for clitic, word in _CLITICS.items():
        if token.endswith(clitic) and len(token) > len(clitic):
            return (*_expand(token[: -len(clitic)], ""), word)
    host, _, tail = token.rpartition("'")
    if tail == "d" and host:
        perfect = following == "been" or _is_past(following)
        return (host, "had" if perfect else "would")
    if tail == "s" and host in _IS_HOSTS:
        return (host, "is")
    return (token,)


def _tokens(said: str) -> list[str]:
    return _TOKEN.findall(said.replace("\u2019", "'").replace("\u2018", "'"))


def _words(tokens: list[str]) -> list[_Word]:
    words = []
    for i, token in enumerate(tokens):
        if token != ",":  # commas are no words; the mirror keeps them where it can
            following = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
            words += [_Word(low, i) for low in _expand(token.lower(), following)]
    return words


def _match(words: list[str], phrase: tuple[str, ...], at: int = 0) -> int:
    """How many words from `at` the phrase covers (0: none); intensifiers inside are skipped."""
    i = at
    for k, want in enumerate(phrase):
        while k and i < len(words) and words[i] != want and words[i] in _INTENSIFIERS:
            i += 1
        if i >= len(words) or words[i] != want:
            return 0
        i += 1
    return i - at


def _longest(words: list[str], phrases: tuple[tuple[str, ...], ...], at: int = 0) -> int:
    if at >= len(words):
        return 0
    indexed = _BY_FIRST_WORD.get(id(phrases))
    if indexed is not None and indexed[0] is phrases:  # only phrases starting with this word
        phrases = indexed[1].get(words[at], ())
    return max((_match(words, p, at) for p in phrases), default=0)


def _by_first_word(phrases: tuple[tuple[str, ...], ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        if phrase:
            index.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(group) for first, group in index.items()}


# --- Classifying ---

def classify(said: str) -> Answer:
    """What a partner's answer in the round is: "thank you" -> THANKS, "I love you" ->
    APPRECIATION, "you hurt me today" -> HURT (the rules are in the module docstring)."""
    words = [w.low for w in _words(_tokens(said)) if w.low not in ".!?"]
    return Answer.HURT if _hurt(words) else _judge(words)[0]


def _hurt(words: list[str]) -> bool:
    for i in range(len(words)):
        if _longest(words, _HURTS, i) and not _excused(words, i):
            return True
    at, _ = _opening(words)
    starts = {at} | {i + 1 for i, word in enumerate(words) if word == "but"}
    if nothing := _longest(words, _NOTHINGS, at):
        starts.add(at + nothing)
    return any(_longest(words, _HURT_OPENINGS, start) for start in starts)


def _excused(words: list[str], at: int) -> bool:
    """"you never let me down" and "you said sorry after you yelled" are not complaints."""
    return bool(_NEGATORS.intersection(words[max(0, at - 2):at])
                or _APOLOGY.intersection(words[:at]))


def _judge(words: list[str]) -> tuple[Answer, int]:
    """The answer's class, and where the appreciation in it begins."""
    at, heard = _opening(words)
    said, rest = words[at:], _without_tail(words[at:])
    if not rest:
        kind = "unsure" if "unsure" in heard else "thanks" if "thanks" in heard else "pause"
        return {"unsure": Answer.NOTHING, "thanks": Answer.THANKS,
                "pause": Answer.HESITATION}[kind], at
    if len(rest) == _longest(rest, _PASSES) or len(said) == _longest(said, _PASSES):
        return Answer.PASS, at
    if nothing := _longest(said, _NOTHINGS):
        but = at + nothing
        while but < len(words) and words[but] in _INTENSIFIERS:
            but += 1
        if words[but:but + 1] == ["but"] and words[but + 1:]:  # "nothing really, but..."
            answer, start = _judge(words[but + 1:])
            return answer, but + 1 + start
        praise = nothing == 1 and said[1:2] and said[1] in _NOTHING_VERBS  # "nothing beats..."
        if not praise:
            return Answer.NOTHING, at
    return Answer.APPRECIATION, at


def _opening(words: list[str]) -> tuple[int, set[str]]:
    """Where the answer proper starts, past fillers, thinking aloud, the thanked partner's
    reaction and hedges; and which of those were heard ("pause", "thanks", "unsure")."""
    at, heard = 0, set()
    while at < len(words):
        if _is_filler(words, at):
            at, kind = at + 1, "pause"
        elif n := _longest(words, _THINKING, at):
            if tuple(words[at:at + n]) in _SELF_HEDGES and words[at + n:at + n + 1] != ["i"]:
                break  # "I think you're amazing" is the giver's own verb
            at, kind = at + n, "pause"
        elif (n := _reaction(words, at)) and not _linked(words, at + n):
            thanked = words[at] in _THANKS_WORDS
            at, kind = at + n + _pet_name(words, at + n, thanked), "thanks"
        elif n := _longest(words, _UNSURE, at):
            at, kind = at + n, "unsure"
        else:
            break
        heard.add(kind)
    return at, heard


def _is_filler(words: list[str], at: int) -> bool:
    """"um", "well", "so"; but "so proud of you" and "so much" keep their "so"."""
    after = words[at + 1] if at + 1 < len(words) else ""
    return words[at] in _FILLERS and not (words[at] == "so" and (
        after in _FEELINGS or after in {"much", "many"}))


def _reaction(words: list[str], at: int) -> int:
    """How many words of the thanked partner's reaction start at `at`; "thank you for that"
    only as the whole answer ("thank you for that lovely dinner" is an appreciation)."""
    n = _longest(words, _REACTIONS, at)
    if "for" in words[at:at + n] and at + n + _pet_name(words, at + n, False) < len(words):
        n = _longest(words, tuple(p for p in _REACTIONS if "for" not in p), at)
    return n


def _linked(words: list[str], at: int) -> bool:
    """"thank you FOR dinner", "that's kind of you TO cook": praise, not a reaction."""
    while at < len(words) and words[at] in _INTENSIFIERS | {"much"}:
        at += 1
    return at < len(words) and words[at] in _LINKS


def _pet_name(words: list[str], at: int, thanked: bool) -> int:
    """How many words after a reaction are whom it is said to: "thanks babe", "thank you Jo"."""
    if n := _longest(words, _PET_NAMES, at):
        return n
    rest = words[at:]
    plain = not (_NOT_VERBS | _FILLERS | _LINKS | _FEELINGS | _CARRIERS).intersection(rest)
    return len(rest) if thanked and 0 < len(rest) <= 2 and plain else 0


def _without_tail(words: list[str]) -> list[str]:
    trimmed = True
    while trimmed and words:
        trimmed = False
        for tail in _TAILS:
            if len(words) >= len(tail) and tuple(words[-len(tail):]) == tail:
                words, trimmed = words[: -len(tail)], True
                break
    return words


# --- Mirroring ---

def mirror(said: str, giver: str, receiver: str) -> str:
    """The giver's appreciation said to the receiver by a third party, one sentence per
    sentence said: "I love how you cook" -> "Ana loves how you cook"."""
    return _tell(said, giver, receiver, journal=False)


def retell(said: str, giver: str, receiver: str) -> str:
    """The appreciation for the journal, all third person: "you fixed my bike" ->
    "Ana appreciated that Jo fixed Ana's bike"."""
    return _tell(said, giver, receiver, journal=True)


def _tell(said: str, giver: str, receiver: str, journal: bool) -> str:
    tokens = _tokens(said)
    sentences = [list(group) for end, group in groupby(
        _words(tokens), key=lambda w: w.low in ".!?") if not end]
    thanks = _FRAMES["thanks"][journal].format(giver=giver, receiver=receiver)
    told = []
    for sentence in sentences:
        answer, start = _judge([w.low for w in sentence])
        if answer is Answer.APPRECIATION:
            told.append(_sentence(sentence[start:], tokens, giver, receiver, journal))
        elif answer is Answer.THANKS and told:  # "I loved dinner. Thank you."
            told.append(thanks)
    if told:
        return ". ".join(told)
    # Not an appreciation (callers ask classify() first): said as heard, fillers aside.
    words = [word for sentence in sentences for word in sentence]
    if not words:
        return ""
    if classify(said) is Answer.THANKS:
        return thanks
    start, _ = _opening([w.low for w in words])
    return _sentence(words[start:] or words, tokens, giver, receiver, journal)


def _sentence(words: list[_Word], tokens: list[str], giver: str, receiver: str,
              journal: bool) -> str:
    words = _trim(words, receiver)
    frame, body = _frame(words)
    lead = _FRAMES[frame][journal].format(giver=giver, receiver=receiver)
    spoken = _voice(body, giver, receiver if journal else None)
    text = _render(spoken, tokens)
    return f"{lead} {text}".strip() if text else lead


def _trim(words: list[_Word], receiver: str) -> list[_Word]:
    """Without the receiver's name or a pet name in front ("Jo, you were amazing") and
    hedges at the end ("... I guess")."""
    lows = [w.low for w in words]
    name = receiver.lower().split()
    if lows[: len(name)] == name and len(lows) > len(name):
        return _trim(words[len(name):], receiver)
    if (n := _longest(lows, _PET_NAMES)) and lows[0] not in _CARRIERS and len(lows) > n \
            and lows[n] in _SUBJECTS:
        return words[n:]
    for tail in (("i", "guess"), ("i", "think"), ("i", "suppose"), ("you", "know"),
                 ("or", "something"), ("haha",), ("lol",)):
        if len(lows) > len(tail) and tuple(lows[-len(tail):]) == tail:
            return words[: -len(tail)]
    return words


def _frame(words: list[_Word]) -> tuple[str, list[_Word]]:
    """Which frame opens the sentence, and the giver's words that follow it."""
    lows = [w.low for w in words] + ["", ""]
    first, second = lows[0], lows[1]
    if first == "i":
        return "self", words
    if first in _CARRIERS:  # "love you", "loved the flowers"
        return "self", [_new("i"), *words]
    if first in _FEELINGS or (first in _INTENSIFIERS and second in _FEELINGS):
        return "self", [_new("i"), _new("am"), *words]  # "so proud of you"
    if (n := _longest(lows, (("thank", "you"), ("thanks",)))) and _linked(lows, n):
        return "thanks", words[n:]
    know = _longest(lows, (("do", "you", "know"), ("did", "you", "know"), ("you", "know")))
    if know and know < len(words):
        return "know", words[know:]
    if first in _WH and second in _AUX and len(words) > 2:
        return "wonder", _uninverted(words)
    subject = _longest(lows, _SUBJECT_PHRASES)
    if subject:
        at = next((i for i in range(subject, len(lows))
                   if lows[i] not in _ADVERBS | {"two", "both", "guys"}), len(lows) - 1)
        verb, after = lows[at], lows[at + 1] if at + 1 < len(lows) else ""
        if verb in _LOOKS and after not in _PREPOSITIONS | _PLACES and not _is_gerund(after):
            return "think", words  # "you look lovely"; not "you looked after me", "were there"
        if not verb or verb in _NOT_VERBS or _is_gerund(verb):  # "me and you on the sofa"
            return "appreciated", words
        return "appreciated", [_new("that"), *words]
    if first in {"when", "whenever"}:
        return "appreciated", [_new("it"), *words]
    if first == "what" and second in {"a", "an"}:
        return "say", words  # "what a lovely evening"
    if _has_main_verb(lows[:-2]):
        return "say", words  # "your soup was amazing", "that's so kind of you to cook"
    if _is_gerund(first) and first not in _EXPERIENCES and not _YOURS.intersection(lows):
        return "appreciated", [_new("you"), *words]  # "cooking dinner": the partner did
    return "appreciated", words


def _new(low: str) -> _Word:
    return _Word(low, -1)


def _uninverted(words: list[_Word]) -> list[_Word]:
    """"how did you know" -> "how you knew"; "what would I do" -> "what I would do"."""
    wh, aux, subject, rest = words[0], words[1], words[2], words[3:]
    if subject.low not in {"you", "i", "we"}:
        return words
    if aux.low in {"do", "does"}:
        return [wh, subject, *rest]
    if aux.low == "did":
        verb = next((i for i, w in enumerate(rest) if w.low not in _ADVERBS), None)
        if verb is not None:
            rest = [*rest[:verb], _new(_past(rest[verb].low)), *rest[verb + 1:]]
        return [wh, subject, *rest]
    return [wh, subject, aux, *rest]


def _has_main_verb(lows: list[str]) -> bool:
    """"your soup WAS amazing" has one; "the flowers you brought me" does not."""
    for i, low in enumerate(lows[1:], start=1):
        if lows[i - 1] in _SUBJECTS:
            continue  # "you brought": a clause inside a noun phrase
        if low in _AUX or low in _PAST_FORMS or low in _NOTHING_VERBS or low in {
                "feels", "looks", "tastes", "helps"}:
            return True
        if _is_past(low) and lows[i - 1] not in {"a", "an", "the", "so", "very", "my", "your",
                                                 "our", "too", "more", "most", "really"}:
            return True
    return False


def _voice(words: list[_Word], giver: str, receiver: str | None) -> list[tuple[str, int]]:
    """The giver's words with the giver named; "you" stays "you" for the mirror and becomes
    the receiver's name, verbs agreeing, for the journal (receiver given)."""
    out: list[tuple[str, int]] = []
    lows = [w.low for w in words] + ["", ""]
    skip = 0
    for i, word in enumerate(words):
        if skip:
            skip -= 1
            continue
        low, nxt, token = word.low, lows[i + 1], word.token
        plural, skip = _plural(lows, i, receiver is None)
        if plural:
            out.append((plural, token))
        elif low in {"by", "to"} and nxt in {"myself", "yourself"} and not (
                nxt == "yourself" and receiver is None):
            out.append(("alone", token))  # "time to myself" -> "time alone"
            skip = 1
        elif low in {"i", "me", "myself"} or (receiver and low in {"you", "yourself"}):
            name = giver if low in {"i", "me", "myself"} else receiver
            out.append((name, token))
            if _is_subject(lows, i) and low in {"i", "you"}:
                skip = _agree(words, i + 1, out)
        elif low == "thank" and nxt == "you" and (i == 0 or lows[i - 1] in {"and", "but", "so"}):
            out.append(("thanks", token))  # "I'm sorry I was grumpy and thank you for..."
        elif low in {"my", "mine"} or (receiver and low in {"your", "yours"}):
            out.append((f"{giver if low in {'my', 'mine'} else receiver}'s", token))
        else:
            out.append((low, token))
    return out


def _plural(lows: list[str], i: int, mirrored: bool) -> tuple[str, int]:
    """The couple together ("we", "both of us"; in the journal also "you two"): what it
    becomes and how many more words it used, or ("", 0)."""
    if lows[i] == "our" and mirrored and not _SHARED.intersection(lows[i + 1:i + 3]):
        return "the", 0  # "you planned our weekend": "your weekend" would sound like Jo's
    for phrase, (said_to_one, told) in _TOGETHER.items():
        if tuple(lows[i:i + len(phrase)]) == phrase and (said_to_one if mirrored else told):
            return (said_to_one if mirrored else told), len(phrase) - 1
    return "", 0


def _is_subject(lows: list[str], i: int) -> bool:
    """"I" or "you" doing the verb after it, not its object ("love you", "saw you smile") nor
    half of "you and me"."""
    before = lows[i - 1] if i else ""
    if lows[i + 1] in {"and", "or"} or before in {"and", "or"} and lows[i - 2:i - 1] in (
            ["you"], ["me"], ["i"]):
        return False
    return not (before in _PREPOSITIONS or before in _OBJECT_VERBS or _is_past(before)
                or _is_gerund(before))


def _agree(words: list[_Word], at: int, out: list[tuple[str, int]]) -> int:
    """The verb after a name that was "I" or "you" agrees with it ("love" -> "loves", "am" ->
    "is"); adverbs on the way are kept. How many words it used."""
    used = 0
    while at + used < len(words) and words[at + used].low in _ADVERBS:
        out.append((words[at + used].low, words[at + used].token))
        used += 1
    if at + used >= len(words):
        return used
    verb = words[at + used].low
    habit = _HABITS.intersection(w.low for w in words[at:at + used])
    said = verb + "s" if habit and verb in _SAME_PAST else _third_person(verb)
    out.append((said, words[at + used].token))
    return used + 1


def _third_person(verb: str) -> str:
    """"love" -> "loves", "fix" -> "fixes", "carry" -> "carries", "am" -> "is"; past forms,
    modals and non-verbs unchanged."""
    if verb in _THIRD_PERSON:
        return _THIRD_PERSON[verb]
    if verb in _MODALS or verb in _NOT_VERBS or _is_past(verb) or _is_gerund(verb) \
            or not verb.isalpha():
        return verb
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in set("aeiou"):
        return verb[:-1] + "ies"
    return verb + "s"


def _past(verb: str) -> str:
    if verb in _PAST:
        return _PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in set("aeiou"):
        return verb[:-1] + "ied"
    return verb + "ed"


def _is_gerund(word: str) -> bool:
    return word.endswith("ing") and len(word) > 4 and word not in _NOT_GERUNDS


def _is_past(word: str) -> bool:
    """"made", "fixed"; not "need" or "bed"."""
    return word in _PAST_FORMS or (word.endswith("ed") and len(word) > 4
                                   and not word.endswith("eed"))


def _render(spoken: list[tuple[str, int]], tokens: list[str]) -> str:
    """Words back into text: a token whose words are unchanged is said as it was ("didn't",
    "you're", its capitals); a changed one is spelled out ("Ana is", "doesn't")."""
    own = {}
    for word in _words(tokens):
        own.setdefault(word.token, []).append(word.low)
    parts: list[str] = []
    for token, group in groupby(spoken, key=lambda said: said[1]):
        texts = [text for text, _ in group]
        if token >= 0 and texts == own[token]:
            parts.append(tokens[token] if parts or not _common(texts[0]) else
                         tokens[token].lower())
        elif token >= 0 and len(texts) == 2 and texts[1] == "not" \
                and tokens[token].lower().endswith("n't"):
            parts.append(_NEGATIVE.get(texts[0], f"{texts[0]} not"))
        else:
            parts.extend(texts)
        if 0 <= token < len(tokens) - 1 and tokens[token + 1] == ",":
            parts[-1] += ","
    return " ".join(parts).rstrip(",")


def _common(low: str) -> bool:
    """A word that is capitalised only because it opened the sentence."""
    return low in _NOT_VERBS | _FILLERS | _WH | _AUX | _ADVERBS | _CARRIERS or low in {
        "your", "my", "our", "it", "that", "this", "there", "what", "when", "dinner"}


# The long phrase lists, indexed by first word: a round's answer is classified by trying
# every list at every word, and a scan of each list took a tenth of a request's time.
_BY_FIRST_WORD = {id(phrases): (phrases, _by_first_word(phrases)) for phrases in (
    _HURTS, _NOTHINGS, _HURT_OPENINGS, _PASSES, _THINKING, _UNSURE, _REACTIONS, _PET_NAMES,
    _SUBJECT_PHRASES)}
