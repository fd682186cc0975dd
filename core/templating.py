"""One way to render what people read: jinja2 in a sandbox, per language, times in the
configured time zone. Shared by every stage that writes text (notifications, tickets)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")

_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}


def local_time(at: datetime | None, language: Language, zone: ZoneInfo) -> str:
    """`at` as people read it in `zone`: "20 Nov 2026 09:00 CET"; "" for None."""
    if at is None:
        return ""
    local = at.astimezone(zone)
    month = _MONTHS[language][local.month - 1]
    return f"{local.day} {month} {local.year} {local:%H:%M} {local.tzname()}"


def number(n: int, language: Language) -> str:
    """`n` with the thousands separator of `language`."""
    return f"{n:,}".replace(",", "." if language == "es" else ",")


def sandboxed_environment(
    folders: Sequence[Path], language: Language, timezone: str
) -> SandboxedEnvironment:
    """Templates from `folders` (the first that has a name wins), sandboxed so that a
    template cannot reach beyond the values it is given, undefined names an error, HTML
    autoescaped in `*.html.j2` only. Values are data: text inside them (an alert summary
    saying `{{ 7*7 }}`) is printed as it is, never run. Filters: `when` (a time in
    `timezone`, in `language`), `number` (thousands separated as `language` does)."""
    zone = ZoneInfo(timezone)
    env = SandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["when"] = lambda at: local_time(at, language, zone)
    env.filters["number"] = lambda n: number(n, language)
    return env
