"""Records as flat maps of strings, the only values API Gateway carries from an authorizer to the
route's handler: the one codec for what travels that way (the caller).

Each field is a camelCase key, or the name its metadata gives (:func:`named`:
keys are a contract between two Lambda functions that a deploy updates one after the other, so
a field renamed in the code keeps its key); ``""`` is None (or false, or an empty string); times
are RFC 3339, enums their value, pairs of counts ``"3,1"``.
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from chalicelib.timeutil import from_iso, to_iso

Record = TypeVar("Record")
_PLANS: dict[type[Any], dict[str, tuple[str, Callable[[str], Any], bool]]] = {}
_DECODERS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "bool": lambda text: text == "1",
    "datetime": from_iso,
    "Generations": lambda text: tuple(int(count) for count in text.split(",")),
}


_NAME = "flat_name"


_LEFT_OUT = "flat_left_out"


def named(key: str) -> dict[str, str]:
    """A field's metadata giving its key, instead of its camelCase name."""
    return {_NAME: key}


def not_in_context() -> dict[str, bool]:
    """A field's metadata leaving it out of the map: the authorizer uses it, and the context it
    hands every API that attaches it has no need of it (a decoded record has its default)."""
    return {_LEFT_OUT: True}


def encode(record: object) -> dict[str, str]:
    """``record``'s fields as strings, keyed by their camelCase names."""
    return {key: _text(getattr(record, name)) for name, (key, _, _) in _fields(type(record)).items()}


def decode(kind: type[Record], values: Mapping[str, str]) -> Record:
    """The ``kind`` record :func:`encode` wrote (a key left out keeps the field's default)."""
    found = {}
    for name, (key, decoder, optional) in _fields(kind).items():
        text = values.get(key)
        if text is not None:
            found[name] = None if optional and text == "" else decoder(text)
    return kind(**found)


def _text(value: object) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ",".join(str(part) for part in value)
    return str(value)


def _key(field: dataclasses.Field[Any]) -> str:
    head, *rest = field.name.split("_")
    return str(field.metadata.get(_NAME, head + "".join(part.capitalize() for part in rest)))


def _fields(kind: type[Any]) -> dict[str, tuple[str, Callable[[str], Any], bool]]:
    """Each field's key, decoder and whether it may be None, read once from its annotation."""
    if kind not in _PLANS:
        namespace = vars(sys.modules[kind.__module__])
        plan = {}
        for field in dataclasses.fields(kind):
            if field.metadata.get(_LEFT_OUT):
                continue
            annotation = str(field.type)
            base = annotation.removesuffix(" | None")
            decoder = _DECODERS.get(base) or namespace[base]  # otherwise an enum of the record's module
            plan[field.name] = (_key(field), decoder, base != annotation)
        _PLANS[kind] = plan
    return _PLANS[kind]
