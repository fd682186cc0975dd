"""What every adapter's tests share: golden bodies, parsing one alert or the fields named in a
refusal, and for property tests any JSON value, a golden body mutated key by key, and the one
promise checked — alerts, or a PayloadError naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from core.models import Alert
from core.rules import Rules
from ingest.adapters import Adapter, AdapterContext
from ingest.problems import PayloadError
from tests.conftest import T0

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> dict[str, Any]:
    """A golden payload of tests/ingest/golden, as the vendor documents it."""
    loaded = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def parse_one(parse: Adapter, payload: object, rules: Rules) -> Alert:
    [alert] = parse(payload, AdapterContext(T0, rules))
    return alert


def problem_fields(parse: Adapter, payload: object, rules: Rules) -> set[str]:
    """The fields a refusal of `payload` names."""
    with pytest.raises(PayloadError) as caught:
        parse(payload, AdapterContext(T0, rules))
    return {p.field for p in caught.value.problems}


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(),
    lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids),
    max_leaves=30,
)

FUZZ = settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def mutated(
    draw: st.DrawFn, base: dict[str, Any], values: st.SearchStrategy[Any] = json_values
) -> dict[str, Any]:
    """`base` with some keys dropped and others replaced by a drawn value."""
    out = dict(base)
    if not base:
        return out
    for key in draw(st.lists(st.sampled_from(sorted(base)), unique=True)):
        if draw(st.booleans()):
            del out[key]
        else:
            out[key] = draw(values)
    return out


def outcome(parse: Adapter, payload: object, rules: Rules) -> list[Alert] | PayloadError:
    """What the adapter makes of `payload`: its alerts, or the error it raised."""
    try:
        return parse(payload, AdapterContext(T0, rules))
    except PayloadError as e:
        return e


def check_one_alert_or_problems(result: list[Alert] | PayloadError) -> None:
    """The promise for one-event-per-request sources: one alert with an identity, or a
    PayloadError that names at least one problem."""
    if isinstance(result, PayloadError):
        assert result.problems
    else:
        [alert] = result
        assert alert.source_id
        assert alert.name
