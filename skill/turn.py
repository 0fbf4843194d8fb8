"""One request's view of the world: the household, the session, slots, and the reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.dialog import ElicitSlotDirective
from ask_sdk_model.intent import Intent
from ask_sdk_model.slot import Slot

from skill import ssml
from skill.cards import Deck
from skill.store import Household, Store
from skill.zones import TimeZones


@dataclass
class Services:
    """What every handler may use: the household store, the card deck, a clock and the
    households' time zones."""

    store: Store
    deck: Deck
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    zones: TimeZones = field(default_factory=TimeZones)


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

    def remember(self, **changes: object) -> Household:
        self._household = self.store.update(self.household_id, **changes)
        return self._household

    # -- session ------------------------------------------------------------------------
    @property
    def session(self) -> dict:
        return self.input.attributes_manager.session_attributes

    @property
    def mode(self) -> str | None:
        return self.session.get("mode")

    def set_mode(self, mode: str | None) -> None:
        self.session["mode"] = mode

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
        repeatable: bool = True,
    ) -> Response:
        """Answer with SSML ``speech`` (already escaped). With a reprompt the session stays open.
        ``repeatable=False``: an aside such as "sorry, I didn't catch that", which "repeat"
        skips to say again what came before it (the question, most often)."""
        builder = self.input.response_builder.speak(ssml.speak(speech))
        if reprompt:
            builder.ask(ssml.speak(reprompt))
        # Skill events have no session.
        if repeatable and self.input.request_envelope.session is not None:
            self.session["last_speech"] = speech
            self.session["last_reprompt"] = reprompt
        if end is None:
            end = reprompt is None
        builder.set_should_end_session(end)
        return builder.response

    def elicit(self, intent_name: str, slot_name: str, speech: str, reprompt: str) -> Response:
        """Ask for one free-text slot (Dialog.ElicitSlot): the reply fills ``slot_name``."""
        updated = Intent(name=intent_name, slots={slot_name: Slot(name=slot_name)})
        self.input.response_builder.add_directive(
            ElicitSlotDirective(updated_intent=updated, slot_to_elicit=slot_name)
        )
        self.session["expecting"] = f"{intent_name}.{slot_name}"
        return self.say(speech, reprompt, end=False)
