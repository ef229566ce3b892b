"""Records as flat maps of strings, the only values API Gateway carries from an authorizer to the
route's handler: the one codec for every record that travels that way (the caller, and a
security event the handler stores for the authorizer, which only reads).

Each field is a camelCase key (after ``prefix``), or the name its metadata gives (:func:`named`:
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
_PLANS: dict[tuple[type[Any], str], dict[str, tuple[str, Callable[[str], Any], bool]]] = {}
_DECODERS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "bool": lambda text: text == "1",
    "datetime": from_iso,
    "Generations": lambda text: tuple(int(count) for count in text.split(",")),
}


_NAME = "flat_name"


def named(key: str) -> dict[str, str]:
    """A field's metadata giving its key (after the prefix), instead of its camelCase name."""
    return {_NAME: key}


def encode(record: object, prefix: str = "") -> dict[str, str]:
    """``record``'s fields as strings, keyed by their camelCase names after ``prefix``."""
    return {key: _text(getattr(record, name)) for name, (key, _, _) in _fields(type(record), prefix).items()}


def decode(kind: type[Record], values: Mapping[str, str], prefix: str = "") -> Record:
    """The ``kind`` record :func:`encode` wrote (a key left out keeps the field's default)."""
    found = {}
    for name, (key, decoder, optional) in _fields(kind, prefix).items():
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


def _key(prefix: str, field: dataclasses.Field[Any]) -> str:
    head, *rest = field.name.split("_")
    key = str(field.metadata.get(_NAME, head + "".join(part.capitalize() for part in rest)))
    return prefix + key[:1].upper() + key[1:] if prefix else key


def _fields(kind: type[Any], prefix: str) -> dict[str, tuple[str, Callable[[str], Any], bool]]:
    """Each field's key, decoder and whether it may be None, read once from its annotation."""
    if (kind, prefix) not in _PLANS:
        namespace = vars(sys.modules[kind.__module__])
        plan = {}
        for field in dataclasses.fields(kind):
            annotation = str(field.type)
            base = annotation.removesuffix(" | None")
            decoder = _DECODERS.get(base) or namespace[base]  # otherwise an enum of the record's module
            plan[field.name] = (_key(prefix, field), decoder, base != annotation)
        _PLANS[(kind, prefix)] = plan
    return _PLANS[(kind, prefix)]
