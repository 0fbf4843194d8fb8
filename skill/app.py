"""The skill: every ritual's handler behind one ask-sdk-core CustomSkill.

Both front doors (the Alexa webhook and the local speaker) call ``invoke``; nothing
here knows which door a request came through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from functools import partial

from ask_sdk_core.dispatch_components import (
    AbstractExceptionHandler,
    AbstractRequestHandler,
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import get_request_type, is_request_type
from ask_sdk_model import RequestEnvelope, Response, ResponseEnvelope

from skill.alexa_api import AlexaApi
from skill.cards import Deck, default_deck
from skill.config import Config, ConfigError
from skill.handlers import (
    appreciation,
    cards,
    care,
    checkin,
    deeper,
    general,
    hug,
    journal,
    listening,
    privacy,
    reminders,
    week,
)
from skill.serialize import FastSerializer
from skill.session import SessionSigner, derive_key
from skill.store import (
    Cipher,
    Retention,
    Store,
    StoreUnavailable,
    load_key,
    load_or_create_key_file,
    open_store,
)
from skill.turn import Services, Turn
from skill.zones import TimeZones

log = logging.getLogger("closer.skill")
serializer = FastSerializer()
# Set when a handler failed and the skill answered with its spoken apology, so a door can
# count the request as an error although the answer itself is a valid 200.
_handler_failed: ContextVar[bool] = ContextVar("handler_failed", default=False)

Ritual = Callable[[Turn], Response]

INTENTS: dict[str, Ritual] = {
    "QuestionIntent": cards.question,
    "HugIntent": hug.hug,
    "AppreciationRoundIntent": appreciation.start,
    "QuietAppreciationRoundIntent": appreciation.quiet_round,
    "ShareAppreciationIntent": appreciation.share,
    "ThanksIntent": general.thanks,
    "CheckInIntent": checkin.check_in,
    "DeepConversationIntent": deeper.start,
    "ListeningPracticeIntent": listening.practice,
    "JournalIntent": journal.read_journal,
    "WeekIntent": week.look_back,
    "ReminderIntent": reminders.remind,
    "StopRemindersIntent": reminders.stop,
    "SetNamesIntent": appreciation.set_names,
    "ForgetUsIntent": privacy.ask_forget,
    "HardTimesIntent": care.hard_times,
    "SafetyIntent": care.safety,
    "AMAZON.NextIntent": general.next_,
    "AMAZON.RepeatIntent": general.repeat,
    "AMAZON.HelpIntent": general.help_,
    "AMAZON.StopIntent": general.stop,
    "AMAZON.CancelIntent": general.stop,
    "AMAZON.YesIntent": partial(general.yes_no, yes=True),
    "AMAZON.NoIntent": partial(general.yes_no, yes=False),
    "AMAZON.StartOverIntent": general.start_over,
    "AMAZON.FallbackIntent": general.fallback,
    "AMAZON.NavigateHomeIntent": general.navigate_home,
}


class IntentRouter(AbstractRequestHandler):
    """Every IntentRequest: one dictionary lookup by intent name; unknown names get a polite
    answer. (One handler per intent would make ask-sdk ask each of them in turn.)"""

    def __init__(self, services: Services) -> None:
        self.services = services

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        name = handler_input.request_envelope.request.intent.name
        ritual = INTENTS.get(name, general.unknown)
        return ritual(Turn(handler_input, self.services))


class RequestRoute(AbstractRequestHandler):
    """Any request of one type (LaunchRequest, SessionEndedRequest, a skill event)."""

    def __init__(self, request_type: str, ritual: Callable[[Turn], Response | None],
                 services: Services) -> None:
        self.request_type, self.ritual, self.services = request_type, ritual, services

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type(self.request_type)(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        answer = self.ritual(Turn(handler_input, self.services))
        return answer if answer is not None else handler_input.response_builder.response


def _session_ended(turn: Turn) -> None:
    return None


def _skill_disabled(turn: Turn) -> None:
    """AlexaSkillEvent.SkillDisabled: the household's data goes with the skill."""
    privacy.forget_household(turn)
    log.info("household forgotten on skill disable")


class AnyOtherRequest(AbstractRequestHandler):
    """Events the skill does not act on (SkillEnabled, ...) get an empty, valid answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.response


class LogRequest(AbstractRequestInterceptor):
    """One line per request: its type and intent name, never what was said."""

    def process(self, handler_input: HandlerInput) -> None:
        request = handler_input.request_envelope.request
        intent = getattr(getattr(request, "intent", None), "name", None)
        log.info("request", extra={"request_type": get_request_type(handler_input),
                                   "intent": intent})


class CheckSession(AbstractRequestInterceptor):
    """Only attributes the skill itself signed, each of its type, reach the handlers."""

    def __init__(self, signer: SessionSigner) -> None:
        self.signer = signer

    def process(self, handler_input: HandlerInput) -> None:
        if handler_input.request_envelope.session is not None:  # skill events have none
            manager = handler_input.attributes_manager
            manager.session_attributes = self.signer.verified(manager.session_attributes)


class SignSession(AbstractResponseInterceptor):
    def __init__(self, signer: SessionSigner) -> None:
        self.signer = signer

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if handler_input.request_envelope.session is not None:
            manager = handler_input.attributes_manager
            manager.session_attributes = self.signer.sign(manager.session_attributes)


class HandlerFailed(AbstractExceptionHandler):
    """Any handler's exception: logged by type only, answered with a spoken apology."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        unreachable = isinstance(exception, StoreUnavailable)
        _handler_failed.set(True)
        log.error("handler failed", extra={"error": type(exception).__name__})
        if not unreachable:
            log.debug("handler failure detail", exc_info=exception)
        return general.trouble(Turn(handler_input, self.services), unreachable)


def build_skill(store: Store, deck: Deck | None = None,
                clock: Callable | None = None, zones: TimeZones | None = None,
                session_key: bytes | None = None, alexa: AlexaApi | None = None) -> CustomSkill:
    """The skill on ``store``. ``session_key`` signs session attributes: every process
    serving one skill must share it (without one, a random key for this process).
    ``zones`` and ``alexa`` reach Alexa's APIs (tests point them at a stand-in)."""
    services = Services(store=store, deck=deck or default_deck())
    signer = SessionSigner(session_key)
    if clock is not None:
        services.clock = clock
    if zones is not None:
        services.zones = zones
    if alexa is not None:
        services.alexa = alexa
    builder = SkillBuilder()
    builder.add_global_request_interceptor(LogRequest())
    builder.add_global_request_interceptor(CheckSession(signer))
    builder.add_global_response_interceptor(SignSession(signer))
    builder.add_request_handler(RequestRoute("LaunchRequest", general.launch, services))
    builder.add_request_handler(IntentRouter(services))
    builder.add_request_handler(RequestRoute("SessionEndedRequest", _session_ended, services))
    builder.add_request_handler(
        RequestRoute("AlexaSkillEvent.SkillDisabled", _skill_disabled, services))
    builder.add_request_handler(
        RequestRoute("Connections.Response", reminders.permission_answered, services))
    builder.add_request_handler(RequestRoute("AlexaSkillEvent.SkillPermissionChanged",
                                             reminders.permission_changed, services))
    builder.add_request_handler(AnyOtherRequest())
    builder.add_exception_handler(HandlerFailed(services))
    return builder.create()


def data_key(config: Config) -> bytes:
    """The key that encrypts names and appreciations at rest: CLOSER_DATA_KEY, or for a
    SQLite file (one machine) a key file made beside it on first start. Every instance on
    one PostgreSQL database must share a key, so there it has to be configured."""
    if config.data_key:
        try:
            return load_key(config.data_key)
        except ValueError as error:
            raise ConfigError(f"CLOSER_DATA_KEY: {error}") from None
    if config.uses_postgres:
        raise ConfigError("set CLOSER_DATA_KEY (32 random bytes as base64) on every instance "
                          "that shares the PostgreSQL database: it encrypts names and "
                          "appreciations, and they must all read each other's")
    return load_or_create_key_file(config.key_file)


def open_configured_store(config: Config, key: bytes | None = None) -> Store:
    """The household store the configuration names (PostgreSQL or a SQLite file), sealing
    names and appreciations under the data key, keeping them as long as promised."""
    key = key or data_key(config)
    try:
        old = [load_key(text) for text in config.old_data_keys]
        retention = Retention(journal_days=config.journal_days)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return open_store(db_path=config.db_path, database_url=config.database_url,
                      cipher=Cipher(key, old_keys=old), retention=retention)


def configured_skill(config: Config) -> CustomSkill:
    """The skill as the configuration asks: its store, and session attributes signed with a
    key derived from the data key (so every worker and host of the skill shares it)."""
    key = data_key(config)
    return build_skill(open_configured_store(config, key), session_key=derive_key(key))


def invoke(skill: CustomSkill, envelope: dict) -> dict:
    """Run one Alexa request (as parsed JSON) through the skill; returns the response JSON.

    Raises ask-sdk's SerializationException when the envelope is not a valid request.
    """
    return answer(skill, envelope)[0]


def answer(skill: CustomSkill, envelope: dict) -> tuple[dict, bool]:
    """``invoke``, and whether a handler failed (the answer is then the spoken apology)."""
    request = serializer.from_json(envelope, RequestEnvelope)
    token = _handler_failed.set(False)
    try:
        response: ResponseEnvelope = skill.invoke(request_envelope=request, context=None)
        return serializer.serialize(response), _handler_failed.get()
    finally:
        _handler_failed.reset(token)
