"""ask-sdk's DefaultSerializer, with deserialization that plans each model type once.

The SDK's deserializer re-reads every model's type strings on every request and parses
timestamps with dateutil; on this webhook that was a third of a request's CPU. This one
walks the same model metadata (``deserialized_types``, ``attribute_map``,
``get_real_child_model``) and produces the same objects, but resolves each type string
once and reads ISO-8601 timestamps with ``datetime.fromisoformat``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer

Decoder = Callable[[Any], Any]

_LIST = re.compile(r"list\[(.*)\]")
_DICT = re.compile(r"dict\(([^,]*), (.*)\)")
_SCALARS = (str, int, float, bool, bytes)


class FastSerializer(DefaultSerializer):
    """Same results as DefaultSerializer (checked in tests/test_serialize.py), less work."""

    def __init__(self) -> None:
        self._decoders: dict[object, Decoder] = {}
        self._fields: dict[type, dict[str, tuple[str, object]]] = {}
        self._classes: dict[str, type] = {}
        self._outputs: dict[type, tuple[tuple[str, str], ...]] = {}

    def serialize(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, _SCALARS):
            return obj
        outputs = self._outputs.get(type(obj))
        if outputs is None:
            if isinstance(obj, dict):
                return {key: self.serialize(value) for key, value in obj.items()}
            if not hasattr(obj, "deserialized_types") or isinstance(obj, Enum):
                return super().serialize(obj)  # lists, tuples, dates, enums, decimals
            outputs = self._outputs[type(obj)] = tuple(_attribute_keys(type(obj)).items())
        out = {}
        for attr, key in outputs:
            value = getattr(obj, attr)
            if value is not None:
                out[key] = self.serialize(value)
        return out

    def deserialize(self, payload: str | bytes | None, obj_type: object) -> Any:
        if payload is None:
            return None
        try:
            data = json.loads(payload)
        except ValueError as error:
            raise SerializationException("Couldn't parse request body") from error
        return self.from_json(data, obj_type)

    def from_json(self, data: Any, obj_type: object) -> Any:
        """Deserialize already-parsed JSON (the webhook has parsed it to verify it)."""
        return self._decoder(obj_type)(data)

    # -- planning ------------------------------------------------------------------------

    def _decoder(self, obj_type: object) -> Decoder:
        decoder = self._decoders.get(obj_type)
        if decoder is None:
            decoder = self._decoders[obj_type] = self._plan(obj_type)
        return decoder

    def _plan(self, obj_type: object) -> Decoder:
        if isinstance(obj_type, str):
            if obj_type.startswith("list["):
                return self._plan_list(obj_type)
            if obj_type.startswith("dict("):
                return self._plan_dict(obj_type)
            obj_type = self.NATIVE_TYPES_MAPPING.get(obj_type) or self._load(obj_type)
        if obj_type in self.PRIMITIVE_TYPES:
            return _optional(_primitive(obj_type))
        if obj_type is object:
            return lambda payload: payload
        if obj_type in (date, datetime):
            return _optional(_timestamp(obj_type))
        return _optional(self._model_decoder(obj_type))

    def _plan_list(self, obj_type: str) -> Decoder:
        match = _LIST.match(obj_type)
        if match is None:
            return lambda payload: []
        inner = [t.strip() for t in match.group(1).split(",")]
        if len(inner) > 1:  # a list of items of different types, by position
            return _optional(lambda payload: [
                self._decoder(t)(item) for item, t in zip(payload, inner, strict=False)])
        return _optional(lambda payload: [self._decoder(inner[0])(item) for item in payload])

    def _plan_dict(self, obj_type: str) -> Decoder:
        match = _DICT.match(obj_type)
        if match is None:
            return lambda payload: {}
        value_type = match.group(2)
        return _optional(lambda payload: {
            key: self._decoder(value_type)(value) for key, value in payload.items()})

    def _model_decoder(self, base: type) -> Decoder:
        if issubclass(base, Enum):
            return _enum(base)
        if not hasattr(base, "deserialized_types"):
            return lambda payload: payload
        polymorphic = hasattr(base, "get_real_child_model")

        def decode(payload: Any) -> Any:
            try:
                cls = self._child(base, payload) if polymorphic else base
                return self._build(cls, payload)
            except SerializationException:
                raise
            except Exception as error:  # the SDK reports any failure this way
                raise SerializationException(str(error)) from error

        return decode

    def _child(self, base: Any, payload: Any) -> type:
        name = base.get_real_child_model(payload)
        if not name:
            raise SerializationException(
                f"Couldn't resolve object by discriminator type for {base} class")
        return self._load(name)

    def _build(self, cls: Any, payload: dict) -> Any:
        fields = self._fields.get(cls)
        if fields is None:
            fields = self._fields[cls] = {
                key: (attr, cls.deserialized_types[attr])
                for attr, key in _attribute_keys(cls).items()}
        model = cls()
        for key, value in payload.items():
            field = fields.get(key)
            if field is None:  # the SDK keeps unknown keys as attributes
                setattr(model, key, value)
            else:
                setattr(model, field[0], self._decoder(field[1])(value))
        return model

    def _load(self, class_name: str) -> type:
        cls = self._classes.get(class_name)
        if cls is None:
            module_name, _, name = class_name.rpartition(".")
            try:
                module = __import__(module_name, fromlist=[name])
                cls = self._classes[class_name] = getattr(module, name)
            except (ImportError, AttributeError, ValueError) as error:
                raise SerializationException(f"Unable to resolve class {class_name}") from error
        return cls


def _attribute_keys(cls: Any) -> dict[str, str]:
    """Model attribute -> JSON key, for every attribute the model declares."""
    return {**{attr: attr for attr in cls.deserialized_types}, **getattr(cls, "attribute_map", {})}


def _optional(decoder: Decoder) -> Decoder:
    return lambda payload: None if payload is None else decoder(payload)


def _primitive(obj_type: type) -> Decoder:
    def cast(payload: Any) -> Any:
        try:
            return obj_type(payload)
        except TypeError:
            return payload
        except ValueError as error:
            raise SerializationException(
                f"Failed to parse value into '{obj_type.__name__}' object") from error

    return cast


def _timestamp(obj_type: type) -> Decoder:
    def parse(payload: Any) -> Any:
        try:
            parsed = datetime.fromisoformat(payload)
        except (TypeError, ValueError):
            parsed = _dateutil(payload)  # odd but valid forms, as the SDK accepts them
        return parsed.date() if obj_type is date else parsed

    return parse


def _enum(enum: type[Enum]) -> Decoder:
    def member(payload: Any) -> Enum:
        try:
            return enum(payload)
        except ValueError as error:
            raise SerializationException(str(error)) from error

    return member


def _dateutil(payload: Any) -> datetime:
    from dateutil.parser import ParserError, parse

    try:
        return parse(payload)
    except (ParserError, ValueError, TypeError, OverflowError) as error:
        raise SerializationException("Failed to parse a timestamp") from error
