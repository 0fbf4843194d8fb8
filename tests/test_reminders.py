"""A nightly nudge on Alexa: the Reminders API with the couple's permission, every failure
answered honestly with nothing half-saved.

Alexa's Reminders and Device Settings APIs cannot be reached from here, so a real HTTP server
on loopback stands in for them (the only stand-in: the skill, its store and its HTTP client
are real). The local speaker's own schedule is tested in tests/test_schedule.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.services.reminder_management import PushNotification, SpokenInfo, Trigger

from skill import nudges
from skill.alexa_api import AlexaApi
from skill.app import build_skill, invoke
from skill.store import Reminder, StoreUnavailable
from skill.store.sqlite import SQLiteStore
from skill.zones import TimeZones
from tests.support.alexa import check_alexa_limits, speech_text
from tests.support.envelopes import envelope, slot

USER = "amzn1.ask.account.REMINDERS"
DEVICE = "amzn1.ask.device.BEDROOM"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.reminders.test"
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 20:00 on Monday in New York
REMINDERS = "/v1/alerts/reminders"
ZONE_PATH = f"/v2/devices/{DEVICE}/settings/System.timeZone"


class AlexaAPIs(BaseHTTPRequestHandler):
    """Alexa's Device Settings API (the time zone) and Reminders API for one household.
    ``answers`` maps "POST" / "DELETE" to a list of (status, body) served in turn (the last
    one repeats); ``delay_s`` makes every answer late; ``seen`` records every call."""

    answers: dict[str, list[tuple[int, object]]] = {}
    delay_s = 0.0
    seen: list[tuple[str, str, str | None, object]] = []
    redirect_to: str | None = None

    def _record(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        type(self).seen.append((self.command, self.path, self.headers.get("Authorization"),
                                body))
        return body

    def _answer(self, status: int, body: object = None, headers: dict | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except BrokenPipeError:  # the skill stopped waiting (the slow case)
            pass

    def _serve(self) -> None:
        self._record()
        if self.path == ZONE_PATH:
            self._answer(200, "America/New_York")
            return
        time.sleep(self.delay_s)
        if self.redirect_to:
            self._answer(307, None, {"Location": f"{self.redirect_to}{self.path}"})
            return
        queue = type(self).answers.get(self.command) or [(404, None)]
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        self._answer(status, body)

    do_GET = do_POST = do_DELETE = _serve  # noqa: N815 (http.server's names)

    def log_message(self, *args: object) -> None:
        pass


def _server() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AlexaAPIs)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def api() -> Iterator[str]:
    AlexaAPIs.answers = {"POST": [(201, {"alertToken": "tok-1"})], "DELETE": [(204, None)]}
    AlexaAPIs.delay_s, AlexaAPIs.seen, AlexaAPIs.redirect_to = 0.0, [], None
    server, url = _server()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "closer.sqlite3")
    yield opened
    opened.close()


def skill_for(store, api: str, timeout_s: float = 1.0):
    allowed = frozenset({api})
    return build_skill(store, clock=lambda: NOW, zones=TimeZones(endpoints=allowed),
                       alexa=AlexaApi(endpoints=allowed, timeout_s=timeout_s))


def request(api: str, intent: str | None = None, *, granted: bool | None = True,
            request_type: str = "IntentRequest", **slots: dict) -> dict:
    sent = envelope(request_type, intent, slots or None, user=USER)
    system = sent["context"]["System"]
    system.update(apiEndpoint=api, apiAccessToken=TOKEN,
                  device={"deviceId": DEVICE, "supportedInterfaces": {}})
    if granted is not None:
        status = "GRANTED" if granted else "DENIED"
        system["user"]["permissions"] = {"scopes": {nudges.SCOPE: {"status": status}}}
    return sent


def reminder_intent(api: str, ritual: str | None = "appreciation", time_value: str | None = None,
                    daypart: str | None = None, **kwargs) -> dict:
    slots = {"ritual": slot("ritual", ritual, ritual) if ritual else slot("ritual"),
             "time": slot("time", time_value) if time_value else slot("time"),
             "daypart": slot("daypart", daypart, daypart) if daypart else slot("daypart")}
    return request(api, "ReminderIntent", **slots, **kwargs)


def answer_of(skill, sent: dict) -> dict:
    answer = invoke(skill, sent)
    check_alexa_limits(answer)
    return answer


def calls(method: str) -> list[tuple[str, str, str | None, object]]:
    return [call for call in AlexaAPIs.seen if call[0] == method]


# -- what is asked of Alexa ------------------------------------------------------------------


def test_every_night_at_nine_thirty_becomes_a_daily_reminder_at_21_30(store, api) -> None:
    told = speech_text(answer_of(skill_for(store, api),
                                 reminder_intent(api, time_value="09:30", daypart="night")))
    assert told.startswith("Okay. Every day at 9:30 at night, a gentle reminder for your "
                           "appreciation round.")
    [(_, path, authorization, body)] = calls("POST")
    assert (path, authorization) == (REMINDERS, f"Bearer {TOKEN}")
    trigger = body["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE"
    assert trigger["timeZoneId"] == "America/New_York"
    assert trigger["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=21;BYMINUTE=30;BYSECOND=0"]
    assert trigger["recurrence"]["startDateTime"] == "2026-11-23T00:00:00.000"  # New York
    spoken = body["alertInfo"]["spokenInfo"]["content"][0]
    assert spoken["locale"] == "en-US"
    assert spoken["text"].startswith("When you're ready, it's a lovely time for your "
                                     "appreciation round.")
    assert store.reminders(USER) == [Reminder("appreciation", "21:30", "tok-1")]


def test_the_reminder_body_is_what_ask_sdk_model_expects() -> None:
    body = nudges.reminder_request(nudges.Nudge("hug", "08:00"), UTC, "Europe/Dublin", NOW,
                                   "en-GB")
    assert set(body) == {"requestTime", "trigger", "alertInfo", "pushNotification"}
    # Part by part: ask-sdk-model's ReminderRequest names a module it lacks for alertInfo.
    serializer = DefaultSerializer()
    trigger = serializer.deserialize(json.dumps(body["trigger"]), Trigger)
    assert trigger.recurrence.recurrence_rules == ["FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0"]
    assert (trigger.object_type.value, trigger.time_zone_id) == ("SCHEDULED_ABSOLUTE",
                                                                "Europe/Dublin")
    spoken = serializer.deserialize(json.dumps(body["alertInfo"]["spokenInfo"]), SpokenInfo)
    assert spoken.content[0].locale == "en-GB" and "a hug" in spoken.content[0].text
    push = serializer.deserialize(json.dumps(body["pushNotification"]), PushNotification)
    assert push.status.value == "DISABLED"


def test_a_new_time_replaces_the_old_reminder_at_alexa(store, api) -> None:
    skill = skill_for(store, api)
    AlexaAPIs.answers["POST"] = [(201, {"alertToken": "tok-1"}), (201, {"alertToken": "tok-2"})]
    answer_of(skill, reminder_intent(api, time_value="21:30"))
    told = speech_text(answer_of(skill, reminder_intent(api, time_value="21:00")))
    assert "The reminder for your appreciation round moves to 9 at night" in told
    assert [path for _, path, _, _ in calls("DELETE")] == [f"{REMINDERS}/tok-1"]
    assert store.reminders(USER) == [Reminder("appreciation", "21:00", "tok-2")]


def test_an_old_reminder_that_will_not_go_is_said_honestly(store, api) -> None:
    skill = skill_for(store, api)
    AlexaAPIs.answers["POST"] = [(201, {"alertToken": "tok-1"}), (201, {"alertToken": "tok-2"})]
    answer_of(skill, reminder_intent(api, time_value="21:30"))
    AlexaAPIs.answers["DELETE"] = [(503, None)]
    told = speech_text(answer_of(skill, reminder_intent(api, time_value="21:00")))
    assert "you may hear it once more" in told and "in the Alexa app" in told
    assert store.reminders(USER) == [Reminder("appreciation", "21:00", "tok-2")]


# -- permission ------------------------------------------------------------------------------


def test_without_permission_alexa_is_asked_to_ask_the_couple(store, api) -> None:
    answer = answer_of(skill_for(store, api), reminder_intent(api, "hug", daypart="morning",
                                                              granted=None))
    assert speech_text(answer) == ("To set a gentle daily reminder, Closer Together needs your "
                                   "permission for reminders.")
    [directive] = answer["response"]["directives"]
    parsed = DefaultSerializer().deserialize(json.dumps(directive), SendRequestDirective)
    assert (parsed.name, parsed.token) == ("AskFor", "reminder:hug@08:00")
    assert parsed.payload == {"@type": "AskForPermissionsConsentRequest", "@version": "1",
                              "permissionScope": nudges.SCOPE}
    assert answer["response"]["card"] == {"type": "AskForPermissionsConsent",
                                          "permissions": [nudges.SCOPE]}
    assert AlexaAPIs.seen == [] and store.reminders(USER) == []


def test_a_denied_scope_asks_again_rather_than_calling(store, api) -> None:
    answer = answer_of(skill_for(store, api), reminder_intent(api, granted=False))
    assert answer["response"]["directives"][0]["name"] == "AskFor"
    assert calls("POST") == []


def test_a_403_from_alexa_asks_for_permission(store, api) -> None:
    AlexaAPIs.answers["POST"] = [(403, {"code": "FORBIDDEN"})]
    answer = answer_of(skill_for(store, api), reminder_intent(api))
    assert answer["response"]["directives"][0]["name"] == "AskFor"
    assert store.reminders(USER) == []


def connections_response(api: str, status: str, token: str = "reminder:appreciation@21:30",
                         code: str = "200") -> dict:
    sent = request(api, request_type="Connections.Response", granted=status == "ACCEPTED")
    sent["request"].update(name="AskFor", status={"code": code, "message": "OK"},
                           payload={"permissionScope": nudges.SCOPE, "status": status},
                           token=token)
    return sent


def test_accepted_sets_the_reminder_they_asked_for(store, api) -> None:
    told = speech_text(answer_of(skill_for(store, api), connections_response(api, "ACCEPTED")))
    assert told.startswith("Okay. Every day at 9:30 at night, a gentle reminder for your "
                           "appreciation round.")
    assert len(calls("POST")) == 1
    assert store.reminders(USER) == [Reminder("appreciation", "21:30", "tok-1")]


def test_accepted_but_still_forbidden_does_not_ask_again(store, api) -> None:
    AlexaAPIs.answers["POST"] = [(403, None)]
    answer = answer_of(skill_for(store, api), connections_response(api, "ACCEPTED"))
    assert "doesn't have permission for reminders yet" in speech_text(answer)
    assert "directives" not in answer["response"] or not answer["response"]["directives"]


@pytest.mark.parametrize("status", ["DENIED", "NOT_ANSWERED"])
def test_declined_is_met_kindly_with_nothing_set(store, api, status: str) -> None:
    told = speech_text(answer_of(skill_for(store, api), connections_response(api, status)))
    assert told == ("That's okay, no reminder is set. Your rituals are here whenever you want "
                    "them.")
    assert AlexaAPIs.seen == [] and store.reminders(USER) == []


def test_a_token_that_is_not_ours_sets_nothing(store, api) -> None:
    sent = connections_response(api, "ACCEPTED", token="reminder:dishes@03:00")
    told = speech_text(answer_of(skill_for(store, api), sent))
    assert told.startswith("Thank you.") and store.reminders(USER) == []


# -- failures: a spoken, honest answer and nothing half-saved ---------------------------------


@pytest.mark.parametrize(("status", "said"), [
    (401, "Alexa didn't accept my request just now, so no reminder is set."),
    (429, "Alexa's reminders are busy just now, so no reminder is set."),
    (500, "I couldn't reach Alexa's reminders just now, so no reminder is set."),
    (503, "I couldn't reach Alexa's reminders just now, so no reminder is set."),
    (400, "Alexa couldn't make that reminder, so no reminder is set."),
])
def test_api_errors_are_said_and_nothing_is_kept(store, api, status: int, said: str) -> None:
    AlexaAPIs.answers["POST"] = [(status, {"code": "ERROR"})]
    told = speech_text(answer_of(skill_for(store, api), reminder_intent(api)))
    assert told.startswith(said)
    assert store.reminders(USER) == []


def test_a_slow_api_is_a_timeout_said_in_time(store, api) -> None:
    AlexaAPIs.delay_s = 3.0
    skill = skill_for(store, api, timeout_s=0.3)
    started = time.monotonic()
    told = speech_text(answer_of(skill, reminder_intent(api)))
    assert time.monotonic() - started < 2.0
    assert told.startswith("I couldn't reach Alexa's reminders just now")
    assert store.reminders(USER) == []


def test_an_answer_without_an_alert_token_keeps_nothing(store, api) -> None:
    AlexaAPIs.answers["POST"] = [(201, {"status": "ON"})]
    told = speech_text(answer_of(skill_for(store, api), reminder_intent(api)))
    assert told.startswith("I couldn't reach Alexa's reminders") and store.reminders(USER) == []


def test_the_token_never_follows_a_redirect(store, api) -> None:
    elsewhere, elsewhere_url = _server()  # records its calls in the same list
    try:
        AlexaAPIs.redirect_to = elsewhere_url
        told = speech_text(answer_of(skill_for(store, api), reminder_intent(api)))
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert told.startswith("Alexa couldn't make that reminder")
    assert len(calls("POST")) == 1  # only the first host was asked
    assert store.reminders(USER) == []


def test_only_alexas_endpoints_are_called(store, api) -> None:
    skill = build_skill(store, clock=lambda: NOW, zones=TimeZones(endpoints=frozenset({api})),
                        alexa=AlexaApi())  # the real endpoint list: loopback is not on it
    told = speech_text(answer_of(skill, reminder_intent(api)))
    assert told.startswith("I couldn't reach Alexa's reminders") and calls("POST") == []


class FailingStore(SQLiteStore):
    """The store goes away between Alexa's answer and the save (the outage itself is tested
    with a real server in tests/test_store_outage.py)."""

    def set_reminder(self, *args, **kwargs):
        raise StoreUnavailable("cannot save reminder")


def test_a_reminder_the_store_cannot_keep_is_taken_back_at_alexa(tmp_path: Path, api) -> None:
    store = FailingStore(tmp_path / "closer.sqlite3")
    try:
        told = speech_text(answer_of(skill_for(store, api), reminder_intent(api)))
    finally:
        store.close()
    assert told.startswith("Sorry, I can't reach my memory right now.")
    assert [path for _, path, _, _ in calls("DELETE")] == [f"{REMINDERS}/tok-1"]


# -- stopping --------------------------------------------------------------------------------


def test_stop_deletes_every_reminder_at_alexa_then_here(store, api) -> None:
    store.set_reminder(USER, "appreciation", "21:30", "tok-a")
    store.set_reminder(USER, "hug", "08:00", "tok-h")
    AlexaAPIs.answers["DELETE"] = [(204, None), (404, None)]  # one already gone: fine
    told = speech_text(answer_of(skill_for(store, api), request(api, "StopRemindersIntent")))
    assert told.startswith("Okay, no more reminders.")
    assert sorted(path for _, path, _, _ in calls("DELETE")) == [f"{REMINDERS}/tok-a",
                                                                 f"{REMINDERS}/tok-h"]
    assert store.reminders(USER) == []


@pytest.mark.parametrize(("status", "said"), [
    (401, "Alexa didn't accept my request just now, so your reminders are still set."),
    (429, "Alexa's reminders are busy just now, so your reminders are still set."),
    (500, "I couldn't reach Alexa's reminders just now, so your reminders are still set."),
])
def test_stop_that_alexa_refuses_keeps_the_reminders(store, api, status: int, said: str) -> None:
    store.set_reminder(USER, "appreciation", "21:30", "tok-a")
    AlexaAPIs.answers["DELETE"] = [(status, None)]
    told = speech_text(answer_of(skill_for(store, api), request(api, "StopRemindersIntent")))
    assert told.startswith(said)
    assert store.reminders(USER) == [Reminder("appreciation", "21:30", "tok-a")]


def test_stop_without_permission_says_where_to_remove_them(store, api) -> None:
    store.set_reminder(USER, "appreciation", "21:30", "tok-a")
    AlexaAPIs.answers["DELETE"] = [(403, None)]
    told = speech_text(answer_of(skill_for(store, api), request(api, "StopRemindersIntent")))
    assert "please remove them in the Alexa app, under Reminders" in told
    assert store.reminders(USER) == []


def test_taking_back_the_permission_forgets_the_reminders(store, api) -> None:
    store.set_reminder(USER, "appreciation", "21:30", "tok-a")
    event = envelope("AlexaSkillEvent.SkillPermissionChanged", user=USER)
    event["request"]["body"] = {"acceptedPermissions": []}
    answer_of(skill_for(store, api), event)
    assert store.reminders(USER) == []


def test_when_is_our_reminder(store, api) -> None:
    skill = skill_for(store, api)
    assert speech_text(answer_of(skill, reminder_intent(api, None))).startswith(
        "You don't have a reminder yet.")
    store.set_reminder(USER, "appreciation", "21:30", "tok-a")
    store.set_reminder(USER, "hug", "07:15", "tok-h")
    told = speech_text(answer_of(skill, reminder_intent(api, None)))
    assert told.startswith("Every day, at 7:15 in the morning for a hug, and at 9:30 at night "
                           "for your appreciation round.")
    assert AlexaAPIs.seen == []  # the store knows; Alexa is not asked
