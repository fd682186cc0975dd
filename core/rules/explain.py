"""Validation errors in the operator's words: what is wrong here, and what to write instead.

Pydantic says "Input should be a valid list"; an operator editing YAML needs to hear "write
a list, e.g. [directory, dns]". The schema itself is walked to name the keys a mapping takes,
so a misspelt key gets a "did you mean".
"""

from __future__ import annotations

import difflib
import inspect
import re
import types
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Location = tuple[str | int, ...]

DICT_KEY = "[key]"
"""Pydantic's last location step when a mapping's key, not its value, is wrong."""

_QUOTED = re.compile(r"'([^']*)'")


def where(loc: Location) -> str:
    """A location as an operator reads it: correlation.rules[0].group_by[1]."""
    text = ""
    for step in loc:
        if step == DICT_KEY:
            text += " (the key)"
        elif isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    return text


def did_you_mean(word: str, choices: list[str]) -> str:
    """A " (did you mean 'x'?)" when one of `choices` is close to `word`, else ""."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unwrap(annotation: object) -> object:
    """The type that holds values: Annotated metadata and an optional None removed."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            arms = [a for a in get_args(annotation) if a is not type(None)]
            annotation = arms[0]
        else:
            return annotation


def schema_at(root: type[BaseModel], loc: Location) -> object:
    """The schema type found at `loc` under `root` (a model, dict[...], list[...], a scalar
    type), or None when the location leaves the schema."""
    current: object = root
    for step in loc:
        current = _unwrap(current)
        if inspect.isclass(current) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(step))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple):
            current = get_args(current)[0]
        else:
            return None
    return _unwrap(current)


def _keys_of(root: type[BaseModel], loc: Location) -> list[str]:
    model = schema_at(root, loc)
    if inspect.isclass(model) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown_key(root: type[BaseModel], loc: Location) -> str:
    key = str(loc[-1])
    keys = _keys_of(root, loc[:-1])
    known = f"; the keys here are: {', '.join(keys)}" if keys else ""
    return f"unknown key '{key}'; check its spelling{did_you_mean(key, keys)}{known}"


def _missing(root: type[BaseModel], loc: Location) -> str:
    name = str(loc[-1])
    model = schema_at(root, loc[:-1])
    description = ""
    if inspect.isclass(model) and issubclass(model, BaseModel) and name in model.model_fields:
        description = model.model_fields[name].description or ""
    return f"'{name}' is required here; add {name}: …" + (
        f" ({description})" if description else ""
    )


def _not_allowed(error: ErrorDetails) -> str:
    expected = str(error.get("ctx", {}).get("expected", ""))
    value = error["input"]
    choices = _QUOTED.findall(expected)
    hint = did_you_mean(str(value), choices) if isinstance(value, str | int) else ""
    what = "key" if error["loc"] and error["loc"][-1] == DICT_KEY else "value"
    return f"{_shown(value)} is not an allowed {what} here{hint}; write one of: {expected}"


def _time_of_day(error: ErrorDetails) -> str:
    shown = _shown(error["input"])
    return f'{shown} is not a time of day; write hours:minutes in quotes, e.g. "22:00"'


def _own_words(error: ErrorDetails) -> str:
    # Our own validators already say what to write; pydantic's prefix adds nothing.
    return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


_HINTS = {
    "list_type": "write a list, e.g. [a, b], or one '- item' per line",
    "dict_type": "write a mapping: one 'key: value' per line",
    "model_type": "write a mapping: one 'key: value' per line",
    "model_attributes_type": "write a mapping: one 'key: value' per line",
    "int_type": "write a whole number, e.g. 5000",
    "int_parsing": "write a whole number, e.g. 5000",
    "int_from_float": "write a whole number, e.g. 5000",
    "float_type": "write a number, e.g. 2.5",
    "float_parsing": "write a number, e.g. 2.5",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "string_type": "write text; put it in quotes if YAML reads it as something else",
    "datetime_type": "write a date and time with its zone, e.g. 2026-11-20T22:00:00+01:00",
    "datetime_parsing": "write a date and time with its zone, e.g. 2026-11-20T22:00:00+01:00",
    "datetime_from_date_parsing": (
        "write a date and time with its zone, e.g. 2026-11-20T22:00:00+01:00"
    ),
    "timedelta_type": "write a duration, e.g. 90s, 5m, 2h or 1d",
    "timedelta_parsing": "write a duration, e.g. 90s, 5m, 2h or 1d",
}


def explain(root: type[BaseModel], error: ErrorDetails) -> str:
    """One validation error of `root` as a sentence: what is wrong and what to write."""
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        return _unknown_key(root, loc)
    if kind == "missing":
        return _missing(root, loc)
    by_kind = {
        "enum": _not_allowed,
        "literal_error": _not_allowed,
        "time_type": _time_of_day,
        "time_parsing": _time_of_day,
        "value_error": _own_words,
        "assertion_error": _own_words,
    }
    if kind in by_kind:
        return by_kind[kind](error)
    hint = _HINTS.get(kind)
    if hint is None:
        return error["msg"]
    return f"{error['msg']} (got {_shown(error['input'])}); {hint}"
