"""Daily nudges: which ritual, at what time of the couple's day, and how the nudge is said.

One meaning for both doors: on Alexa the nudge is a reminder Alexa keeps and rings
(skill/handlers/reminders.py makes it with the Reminders API); the local speaker keeps the
schedule in the household store and speaks it itself (speech/schedule.py). Either way a
nudge is an invitation, never a nag: it says when it is a lovely time, not what was missed,
and it comes at most once a day per ritual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from skill.store import REMINDER_RITUALS

SCOPE = "alexa::alerts:reminders:skill:readwrite"

# When "remind us to hug" names no time: a time that suits the ritual.
RITUAL_TIMES = {"appreciation": "21:00", "hug": "08:00", "question": "19:00",
                "checkin": "20:00", "listening": "20:00"}
# A part of the day said alone (DayPart ids; Alexa's AMAZON.TIME gives MO, AF, EV, NI).
PART_TIMES = {"morning": "08:00", "afternoon": "15:00", "evening": "19:00", "night": "21:00"}
ALEXA_PARTS = {"MO": "morning", "AF": "afternoon", "EV": "evening", "NI": "night"}
AFTER_NOON_PARTS = frozenset({"afternoon", "evening", "night"})
DEFAULT_RITUAL = "appreciation"  # "remind us every night at nine": the nightly ritual

# The ritual as the nudge names it, and the words that start it.
_NAMES = {"appreciation": "your appreciation round", "hug": "a hug",
          "question": "a question together", "checkin": "a check in",
          "listening": "your listening practice"}
_ASK = {"appreciation": "to start our appreciation round", "hug": "for a hug",
        "question": "for a question", "checkin": "for a check in",
        "listening": "to practice listening"}
_SAY = {"appreciation": "start our appreciation round", "hug": "start a hug",
        "question": "give us a question", "checkin": "let's do a check in",
        "listening": "let's practice listening"}
# What the store records when a ritual is done (store RITUAL_KINDS), per reminder ritual.
DONE_AS = {"appreciation": frozenset({"appreciation_round", "quiet_round"}),
           "hug": frozenset({"hug"}), "question": frozenset({"question"}),
           "checkin": frozenset({"checkin"}), "listening": frozenset({"listening"})}
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Nudge:
    """A daily nudge asked for: the ritual (a RitualType id) and the local time "HH:MM"."""

    ritual: str
    local_time: str

    @property
    def hour(self) -> int:
        return int(self.local_time[:2])

    @property
    def minute(self) -> int:
        return int(self.local_time[3:])

    def token(self) -> str:
        """How the nudge travels through Alexa's permission request and back."""
        return f"reminder:{self.ritual}@{self.local_time}"

    @classmethod
    def from_token(cls, token: object) -> Nudge | None:
        """The nudge a permission request carried, if the token is one of ours."""
        found = re.fullmatch(r"reminder:(\w+)@(\d\d:\d\d)", token or "") \
            if isinstance(token, str) else None
        if found is None or found[1] not in REMINDER_RITUALS or not _CLOCK.fullmatch(found[2]):
            return None
        return cls(found[1], found[2])


def asked(ritual: str | None, time_value: str | None, part: str | None) -> Nudge | None:
    """The nudge the couple asked for, from ReminderIntent's slots; None when the time is
    not one Alexa's AMAZON.TIME gives for a time of day. A clock time said with a later part
    of the day moves past noon ("every night at nine thirty" is 21:30: Alexa gives 09:30)."""
    ritual = ritual if ritual in REMINDER_RITUALS else DEFAULT_RITUAL
    part = part if part in PART_TIMES else None
    if time_value is None:
        return Nudge(ritual, PART_TIMES[part] if part else RITUAL_TIMES[ritual])
    if time_value in ALEXA_PARTS:
        return Nudge(ritual, PART_TIMES[ALEXA_PARTS[time_value]])
    clock = _CLOCK.fullmatch(time_value)
    if clock is None:
        return None
    hour, minute = int(clock[1]), int(clock[2])
    if part in AFTER_NOON_PARTS and 1 <= hour <= 11:
        hour += 12
    elif part == "night" and hour == 12:
        hour = 0
    return Nudge(ritual, f"{hour:02d}:{minute:02d}")


def said_time(local_time: str) -> str:
    """A time of day as the speaker says it: "9:30 at night", "8 in the morning", "noon"."""
    hour, minute = int(local_time[:2]), int(local_time[3:])
    if (hour, minute) == (12, 0):
        return "noon"
    if (hour, minute) == (0, 0):
        return "midnight"
    clock = f"{hour % 12 or 12}" + (f":{minute:02d}" if minute else "")
    if 5 <= hour < 12:
        return f"{clock} in the morning"
    if 12 <= hour < 17:
        return f"{clock} in the afternoon"
    if 17 <= hour < 21:
        return f"{clock} in the evening"
    return f"{clock} at night"


def named(ritual: str) -> str:
    return _NAMES[ritual]


def invitation(ritual: str) -> str:
    """The nudge itself: when it is a lovely time, never what was missed."""
    return f"When you're ready, it's a lovely time for {_NAMES[ritual]}."


def alexa_nudge(ritual: str) -> str:
    """What Alexa's reminder says (Alexa says it twice, after "Here's your reminder")."""
    return f"{invitation(ritual)} Just say, Alexa, ask Closer Together {_ASK[ritual]}."


def spoken_nudge(ritual: str) -> str:
    """What the local speaker says at the time."""
    return f"{invitation(ritual)} Just say, closer together, {_SAY[ritual]}."


def reminder_request(nudge: Nudge, zone: tzinfo, zone_id: str | None, now: datetime,
                     locale: str) -> dict:
    """The Reminders API's body for a daily reminder at the nudge's time in the household's
    zone: SCHEDULED_ABSOLUTE, recurring by RRULE from today. Without a zone name (the
    time-zone lookup failed) Alexa uses the device's own zone."""
    local_now = now.astimezone(zone)
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    rule = f"FREQ=DAILY;BYHOUR={nudge.hour};BYMINUTE={nudge.minute};BYSECOND=0"
    trigger: dict = {"type": "SCHEDULED_ABSOLUTE",
                     "recurrence": {"startDateTime": _local(start), "recurrenceRules": [rule]}}
    if zone_id:
        trigger["timeZoneId"] = zone_id
    return {
        "requestTime": _local(local_now),
        "trigger": trigger,
        "alertInfo": {"spokenInfo": {"content": [
            {"locale": locale, "text": alexa_nudge(nudge.ritual)}]}},
        # The nudge belongs where the ritual happens, not on a phone.
        "pushNotification": {"status": "DISABLED"},
    }


def _local(at: datetime) -> str:
    """ISO-8601 without an offset, as the Reminders API takes local times."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.000")


def next_time(local_time: str, after: datetime) -> datetime:
    """The next moment at ``local_time`` strictly after ``after`` (an aware datetime, in
    the household's zone)."""
    hour, minute = int(local_time[:2]), int(local_time[3:])
    today = after.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today > after else today + timedelta(days=1)
