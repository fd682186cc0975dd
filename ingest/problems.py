"""What is wrong with a request, said so the sender can fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    problem: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem}


class PayloadError(Exception):
    """The payload can never be accepted as it is; 4xx with `problems`. `close`: the rest
    of the body was not read and must not be, so the connection closes after the answer."""

    def __init__(
        self,
        message: str,
        problems: Sequence[FieldProblem] = (),
        status: int = 422,
        *,
        close: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)
        self.status = status
        self.close = close


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """('alerts', 0, 'labels') -> 'alerts[0].labels'."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


def from_validation(error: ValidationError, what: str, prefix: str = "") -> PayloadError:
    problems = [
        FieldProblem(field_path(tuple(e["loc"]), prefix), e["msg"]) for e in error.errors()[:50]
    ]
    fields = ", ".join(dict.fromkeys(p.field for p in problems[:5]))
    return PayloadError(f"invalid {what}: check {fields}", problems)
