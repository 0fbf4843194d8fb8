"""A nightly nudge: "remind us every night at nine thirty to do our appreciation round",
"remind us to hug every morning", "when is our reminder", "stop reminding us".

ReminderIntent with a ritual, a time or a part of the day sets a daily nudge (one per
ritual; a new time replaces the old); without any of them it says what is set. On Alexa the
nudge is an Alexa reminder made with the Reminders API, which needs the couple's permission:
without it Alexa is asked to ask them (Connections.SendRequest AskFor), and the answer comes
back as a Connections.Response carrying the nudge in its token. The local speaker keeps the
schedule in the store and speaks it itself (speech/schedule.py).

Nothing is half-saved: the store keeps a reminder only once Alexa has made it, an old one is
deleted at Alexa only after its replacement exists, and "stop" clears the store only when
Alexa has let go of every one. Every failure gets a spoken, honest answer.
"""

from __future__ import annotations

import logging

from ask_sdk_model import Response
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.ui import AskForPermissionsConsentCard

from skill import nudges
from skill.alexa_api import Access, ApiFailure, Failure
from skill.nudges import Nudge
from skill.store import Reminder, StoreUnavailable
from skill.turn import Turn
from skill.zones import zone_name

log = logging.getLogger("closer.reminders")

TRY = "Try, remind us every night at nine to do our appreciation round."
STOP_HINT = "To stop the reminders, say, stop reminding us."
_NOT_SET = {
    Failure.UNAUTHORIZED: "Alexa didn't accept my request just now, so no reminder is set. "
                          "Please ask again in a moment.",
    Failure.THROTTLED: "Alexa's reminders are busy just now, so no reminder is set. "
                       "Please try again in a minute.",
    Failure.REFUSED: "Alexa couldn't make that reminder, so no reminder is set. "
                     "You can see your reminders in the Alexa app.",
}
_NOT_REACHED = ("I couldn't reach Alexa's reminders just now, so no reminder is set. Please "
                "try again a little later.")
_NOT_ALLOWED = ("Closer Together doesn't have permission for reminders yet, so no reminder is "
                "set. You can allow it in the Alexa app, in Closer Together's settings.")
_NOT_STOPPED = {
    Failure.UNAUTHORIZED: "Alexa didn't accept my request just now, so your reminders are "
                          "still set. Please ask again in a moment.",
    Failure.THROTTLED: "Alexa's reminders are busy just now, so your reminders are still "
                       "set. Please try again in a minute.",
}
_STOP_NOT_REACHED = ("I couldn't reach Alexa's reminders just now, so your reminders are still "
                     "set. Please try again a little later.")


# -- asking ---------------------------------------------------------------------------------


def remind(turn: Turn) -> Response:
    """ReminderIntent: set the nudge asked for, or, asked nothing, say what is set."""
    ritual = turn.slot_id("ritual")
    time_value = turn.slot_value("time")
    part = turn.slot_id("daypart")
    if ritual is None and time_value is None and part is None:
        return tell(turn)
    nudge = nudges.asked(ritual, time_value, part)
    if nudge is None:
        return turn.say(f"I didn't catch the time. {TRY}", TRY)
    return set_nudge(turn, nudge)


def tell(turn: Turn) -> Response:
    """What is set, earliest in the day first."""
    kept = turn.store.reminders(turn.household_id)
    if not kept:
        return turn.say(f"You don't have a reminder yet. {TRY}", end=True)
    told = [f"at {nudges.said_time(r.local_time)} for {nudges.named(r.ritual)}" for r in kept]
    listed = told[0] if len(told) == 1 else f"{', '.join(told[:-1])}, and {told[-1]}"
    return turn.say(f"Every day, {listed}. {STOP_HINT}", end=True)


# -- setting --------------------------------------------------------------------------------


def set_nudge(turn: Turn, nudge: Nudge, *, permission_asked: bool = False) -> Response:
    access = Access.of(turn.input.request_envelope.context.system)
    if access is None:  # the local speaker: its own schedule, nothing leaves the machine
        old = turn.store.set_reminder(turn.household_id, nudge.ritual, nudge.local_time)
        return _confirmed(turn, nudge, old)
    if not permission_asked and not _granted(turn):
        return ask_permission(turn, nudge)
    return _with_alexa(turn, access, nudge, permission_asked)


def _with_alexa(turn: Turn, access: Access, nudge: Nudge, permission_asked: bool) -> Response:
    zone = turn.zone
    body = nudges.reminder_request(nudge, zone, zone_name(zone), turn.now, turn.locale)
    api = turn.services.alexa
    try:
        token = api.create_reminder(access, body)
    except ApiFailure as failure:
        if failure.kind is Failure.FORBIDDEN:
            return (turn.say(_NOT_ALLOWED, end=True) if permission_asked
                    else ask_permission(turn, nudge))
        return turn.say(_NOT_SET.get(failure.kind, _NOT_REACHED), end=True)
    try:
        old = turn.store.set_reminder(turn.household_id, nudge.ritual, nudge.local_time,
                                      alexa_token=token)
    except StoreUnavailable:  # not kept here: take it back at Alexa, so nothing is half-set
        _delete_quietly(api, access, token)
        raise
    left_behind = False
    if old is not None and old.alexa_token and old.alexa_token != token:
        try:
            api.delete_reminder(access, old.alexa_token)
        except ApiFailure:
            left_behind = True
    return _confirmed(turn, nudge, old, left_behind=left_behind)


def _delete_quietly(api, access: Access, token: str) -> None:
    try:
        api.delete_reminder(access, token)
    except ApiFailure:
        log.warning("reminder left at alexa", extra={"reason": "store unavailable"})


def _confirmed(turn: Turn, nudge: Nudge, old: Reminder | None, *,
               left_behind: bool = False) -> Response:
    when = nudges.said_time(nudge.local_time)
    what = nudges.named(nudge.ritual)
    if old is not None and old.local_time != nudge.local_time:
        said = f"Okay. The reminder for {what} moves to {when}, every day."
    else:
        said = f"Okay. Every day at {when}, a gentle reminder for {what}."
    if left_behind:
        said += (" Alexa didn't let me remove the old one just now, so you may hear it once "
                 "more. You can delete it in the Alexa app, under Reminders.")
    return turn.say(f"{said} {STOP_HINT}", end=True)


# -- permission -----------------------------------------------------------------------------


def _granted(turn: Turn) -> bool:
    """Whether the request says the couple allowed reminders."""
    permissions = turn.input.request_envelope.context.system.user.permissions
    if permissions is None:
        return False
    scope = (permissions.scopes or {}).get(nudges.SCOPE)
    if scope is not None:
        return getattr(getattr(scope, "status", None), "value", None) == "GRANTED"
    return bool(permissions.consent_token)


def ask_permission(turn: Turn, nudge: Nudge) -> Response:
    """Alexa asks the couple for the reminders permission; the nudge rides in the token."""
    builder = turn.input.response_builder
    builder.speak("<speak>To set a gentle daily reminder, Closer Together needs your permission "
                  "for reminders.</speak>")
    builder.add_directive(SendRequestDirective(
        name="AskFor", token=nudge.token(),
        payload={"@type": "AskForPermissionsConsentRequest", "@version": "1",
                 "permissionScope": nudges.SCOPE}))
    builder.set_card(AskForPermissionsConsentCard(permissions=[nudges.SCOPE]))
    return builder.response


def permission_answered(turn: Turn) -> Response:
    """Connections.Response to AskFor: accepted sets the nudge asked for; anything else is
    met kindly, with nothing set."""
    request = turn.input.request_envelope.request
    if getattr(request, "name", None) != "AskFor":
        return turn.input.response_builder.response
    payload = request.payload or {}
    code = getattr(getattr(request, "status", None), "code", None)
    nudge = Nudge.from_token(request.token)
    if str(code) == "200" and payload.get("status") == "ACCEPTED":
        if nudge is None:
            return turn.say(f"Thank you. {TRY}", end=True)
        return set_nudge(turn, nudge, permission_asked=True)
    return turn.say("That's okay, no reminder is set. Your rituals are here whenever you want "
                    "them.", end=True)


# -- stopping -------------------------------------------------------------------------------


def stop(turn: Turn) -> Response:
    """StopRemindersIntent: every nudge goes, at Alexa first, then here."""
    kept = turn.store.reminders(turn.household_id)
    if not kept:
        return turn.say("There are no reminders to stop. Your rituals are here whenever you "
                        "want them.", end=True)
    at_alexa = [r.alexa_token for r in kept if r.alexa_token]
    if at_alexa:
        access = Access.of(turn.input.request_envelope.context.system)
        try:
            for token in at_alexa:
                turn.services.alexa.delete_reminder(access, token)
        except ApiFailure as failure:
            if failure.kind is not Failure.FORBIDDEN:
                return turn.say(_NOT_STOPPED.get(failure.kind, _STOP_NOT_REACHED), end=True)
            turn.store.clear_reminders(turn.household_id)
            return turn.say("Closer Together no longer has permission to change your "
                            "reminders, so please remove them in the Alexa app, under "
                            "Reminders. I won't set any more.", end=True)
    turn.store.clear_reminders(turn.household_id)
    return turn.say("Okay, no more reminders. Your rituals are here whenever you want them.",
                    end=True)


def permission_changed(turn: Turn) -> None:
    """AlexaSkillEvent.SkillPermissionChanged: with the reminders permission taken back,
    the skill can no longer change the reminders Alexa keeps, so it stops claiming them
    ("when is our reminder" then says there is none). Kept otherwise."""
    body = getattr(turn.input.request_envelope.request, "body", None)
    accepted = getattr(body, "accepted_permissions", None) or []
    if not any(getattr(p, "scope", None) == nudges.SCOPE for p in accepted):
        turn.store.clear_reminders(turn.household_id)
        log.info("reminders forgotten on permission change")
