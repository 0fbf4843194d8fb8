"""One request's view of the world: the household, the session, slots, and the reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.dialog import ElicitSlotDirective
from ask_sdk_model.intent import Intent
from ask_sdk_model.slot import Slot

from skill import ssml
from skill.alexa_api import AlexaApi
from skill.cards import Deck
from skill.store import Household, Store
from skill.zones import TimeZones

COUNSELOR = "For hard times, a couples counselor is the right person to talk to."


class Mode(StrEnum):
    """What the open session is in the middle of: what "yes", "next" or "repeat" mean."""

    CARDS = "cards"  # a card was dealt: next, repeat, lighter, deeper
    ROUND = "round"  # the appreciation round (its step says what it waits for)
    FORGET = "forget_confirm"  # "forget us" asked: yes deletes everything
    DEEP = "deep"  # the deeper conversation, one question at a time
    CARE = "care_offer"  # a hard evening: one gentle offer awaits yes or no


@dataclass
class Services:
    """What every handler may use: the household store, the card deck, a clock, the
    households' time zones and Alexa's REST APIs."""

    store: Store
    deck: Deck
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    zones: TimeZones = field(default_factory=TimeZones)
    alexa: AlexaApi = field(default_factory=AlexaApi)


class Turn:
    """Helpers over a HandlerInput so that handlers read like the conversation they hold."""

    def __init__(self, handler_input: HandlerInput, services: Services) -> None:
        self.input = handler_input
        self.services = services
        self.store = services.store
        self.deck = services.deck
        self.now = services.clock()
        self._household: Household | None = None

    # -- who is talking ---------------------------------------------------------------
    @property
    def household_id(self) -> str:
        return self.input.request_envelope.context.system.user.user_id

    @property
    def household(self) -> Household:
        if self._household is None:
            self._household = self.store.load(self.household_id)
        return self._household

    @property
    def spoken_names(self) -> tuple[str, str] | None:
        """The two first names, escaped for SSML; None until the couple has said them."""
        names = self.household.names
        return None if names is None else (ssml.text(names[0]), ssml.text(names[1]))

    @property
    def zone(self) -> tzinfo:
        """The household's time zone (asked of Alexa once a day; see skill/zones.py)."""
        return self.services.zones.of(self.input.request_envelope.context.system)

    @property
    def locale(self) -> str:
        return getattr(self.input.request_envelope.request, "locale", None) or "en-US"

    def remember(self, **changes: object) -> Household:
        self._household = self.store.update(self.household_id, **changes)
        return self._household

    # -- session ------------------------------------------------------------------------
    @property
    def session(self) -> dict:
        """The session's attributes, already checked (skill/session.py): signed by us, and
        each of the expected type."""
        return self.input.attributes_manager.session_attributes

    @property
    def in_session(self) -> bool:
        return self.input.request_envelope.session is not None

    @property
    def mode(self) -> Mode | None:
        value = self.session.get("mode")
        return Mode(value) if value in Mode.__members__.values() else None

    def set_mode(self, mode: Mode | None) -> None:
        if mode is None:
            self.session.pop("mode", None)
            self.session.pop("step", None)
        else:
            self.session["mode"] = mode.value

    @property
    def step(self) -> str | None:
        """Where the current ritual is (the round's: names, optin, first, second...)."""
        return self.session.get("step")

    def counselor_once(self) -> str:
        """The counselor line, the first time this session asks for it; then ""."""
        if self.session.get("counselor"):
            return ""
        if self.in_session:
            self.session["counselor"] = True
        return COUNSELOR

    # -- slots --------------------------------------------------------------------------
    def slot(self, name: str) -> Slot | None:
        request = self.input.request_envelope.request
        intent = getattr(request, "intent", None)
        if intent is None or not intent.slots:
            return None
        return intent.slots.get(name)

    def slot_value(self, name: str) -> str | None:
        found = self.slot(name)
        value = found.value if found else None
        return value.strip() if isinstance(value, str) and value.strip() else None

    def slot_id(self, name: str) -> str | None:
        """The entity-resolution id of a custom slot value (a synonym resolves to its id)."""
        found = self.slot(name)
        resolutions = getattr(found, "resolutions", None) if found else None
        for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
            code = getattr(getattr(authority, "status", None), "code", None)
            if code is None or code.value != "ER_SUCCESS_MATCH":
                continue
            for item in authority.values or []:
                value = getattr(item, "value", None)
                if value is not None and (value.id or value.name):
                    return value.id or value.name
        return None

    # -- replies ------------------------------------------------------------------------
    def say(
        self,
        speech: str,
        reprompt: str | None = None,
        *,
        end: bool | None = None,
        again: str | None = None,
    ) -> Response:
        """Answer with SSML ``speech`` (already escaped). With a reprompt the session stays
        open. ``again`` names a message "repeat" can say again outside a ritual ("welcome",
        "help"...): it is said anew, never replayed from the session."""
        builder = self.input.response_builder.speak(ssml.speak(" ".join(speech.split())))
        if reprompt:
            builder.ask(ssml.speak(reprompt))
        if again is not None and self.in_session:
            self.session["again"] = again
        if end is None:
            end = reprompt is None
        builder.set_should_end_session(end)
        return builder.response

    def elicit(self, intent_name: str, slot_name: str, speech: str, reprompt: str) -> Response:
        """Ask for one slot (Dialog.ElicitSlot): the reply fills ``slot_name``."""
        updated = Intent(name=intent_name, slots={slot_name: Slot(name=slot_name)})
        self.input.response_builder.add_directive(
            ElicitSlotDirective(updated_intent=updated, slot_to_elicit=slot_name)
        )
        return self.say(speech, reprompt, end=False)
