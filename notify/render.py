"""Messages from templates: shipped in English and Spanish under notify/templates/<language>/,
overridable by the operator (settings `templates_dir`, same names), always rendered in a
sandbox, with HTML autoescaped and times in the configured time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from core.models import Incident, Ticket

Language = Literal["en", "es"]
SHIPPED = Path(__file__).parent / "templates"

_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What a template may speak of."""

    kind: str
    incident: Incident
    service_name: str
    """The business name of its service, as people know it."""
    at: datetime
    incident_url: str
    runbook_url: str
    summary: str
    """What the monitoring said, from the incident's first alert."""
    ticket: Ticket | None = None
    level: int = 0
    """Escalation: the level now notified (1 is the first)."""
    update_number: int = 0
    next_update_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    html: str


class Renderer:
    """Renders `<template>.txt.j2` (plain text, first line the subject) and wraps it in
    `email.html.j2` for HTML channels."""

    def __init__(self, timezone: str, operator_dir: Path | None = None) -> None:
        self._zone = ZoneInfo(timezone)
        self._envs = {lang: self._environment(lang, operator_dir) for lang in ("en", "es")}

    def _environment(self, language: str, operator_dir: Path | None) -> SandboxedEnvironment:
        folders = [SHIPPED / language]
        if operator_dir is not None:
            folders.insert(0, operator_dir / language)
        env = SandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        env.filters["when"] = lambda at: self._when(at, language)
        env.filters["number"] = lambda n: f"{n:,}".replace(",", "." if language == "es" else ",")
        return env

    def _when(self, at: datetime | None, language: str) -> str:
        if at is None:
            return ""
        local = at.astimezone(self._zone)
        month = _MONTHS[language][local.month - 1]
        return f"{local.day} {month} {local.year} {local:%H:%M} {local.tzname()}"

    def render(self, template: str, language: Language, context: MessageContext) -> Rendered:
        """The message `template` in `language`: its text, and the text as HTML."""
        env = self._envs[language]
        values = {name: getattr(context, name) for name in MessageContext.__dataclass_fields__}
        text = env.get_template(f"{template}.txt.j2").render(values).strip() + "\n"
        subject, _, body = text.partition("\n")
        html = env.get_template("email.html.j2").render(
            subject=subject, paragraphs=[p for p in body.strip().split("\n\n") if p.strip()],
            incident_url=context.incident_url,
        )  # fmt: skip
        return Rendered(text=text, html=html)
