"""Batches: one bad alert in a request must not cost the good ones.

Alertmanager does not retry a 4xx, so refusing a whole group for one bad timestamp would
lose every valid alert in it. A batch adapter parses each item alone: the good ones are
accepted, the bad ones are listed by index and field; only a batch where nothing is good
is refused whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from core.models import Alert
from ingest.problems import FieldProblem, PayloadError, from_validation


@dataclass(frozen=True, slots=True)
class Refusal:
    """One item of a batch that was not accepted, and why."""

    index: int
    problem: FieldProblem

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, **self.problem.as_json()}


class PartlyRefusedError(PayloadError):
    """Some items of a batch were refused; `alerts` are the rest, which are good."""

    def __init__(self, what: str, alerts: list[Alert], refusals: list[Refusal]) -> None:
        indexes = sorted({r.index for r in refusals})
        super().__init__(
            f"{len(indexes)} of the {len(indexes) + len(alerts)} alerts in this {what} "
            "were refused",
            [r.problem for r in refusals],
        )
        self.alerts = alerts
        self.refusals = refusals


def each_item(
    items: Sequence[object],
    parse_one: Callable[[object], Alert | None],
    what: str,
    prefix: str = "alerts",
) -> list[Alert]:
    """`parse_one` applied to every item; an item it refuses (PayloadError or a pydantic
    ValidationError, with fields relative to the item) is listed under `prefix[index]`.
    None from `parse_one` is an item that is no alert. Raises PayloadError when every
    item is refused, PartlyRefusedError when some are."""
    alerts: list[Alert] = []
    refusals: list[Refusal] = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]"
        try:
            alert = parse_one(item)
        except ValidationError as e:
            problems = from_validation(e, what, prefix=where).problems
        except PayloadError as e:
            problems = [FieldProblem(_under(where, p.field), p.problem) for p in e.problems]
        else:
            if alert is not None:
                alerts.append(alert)
            continue
        refusals += [Refusal(index, p) for p in problems or [FieldProblem(where, "refused")]]
    if refusals and not alerts:
        fields = ", ".join(dict.fromkeys(r.problem.field for r in refusals[:5]))
        raise PayloadError(f"invalid {what}: check {fields}", [r.problem for r in refusals][:200])
    if refusals:
        raise PartlyRefusedError(what, alerts, refusals[:200])
    return alerts


def _under(where: str, field: str) -> str:
    if field in {"", "(body)"}:
        return where
    return f"{where}{field}" if field.startswith("[") else f"{where}.{field}"
