"""Messages from templates: shipped in English and Spanish under notify/templates/<language>/,
overridable by the operator (settings `templates_dir`, same names), always rendered in a
sandbox, with HTML autoescaped and times in the configured time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2.sandbox import SandboxedEnvironment

from core.models import Incident, Ticket
from core.templating import LANGUAGES, Language, sandboxed_environment
from notify.channels.escape import one_line

SHIPPED = Path(__file__).parent / "templates"


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
        self._timezone = timezone
        self._envs = {lang: self._environment(lang, operator_dir) for lang in LANGUAGES}

    def _environment(self, language: Language, operator_dir: Path | None) -> SandboxedEnvironment:
        folders = [SHIPPED / language]
        if operator_dir is not None:
            folders.insert(0, operator_dir / language)
        env = sandboxed_environment(folders, language, self._timezone)
        # Every value printed is one line: a title or service name carrying CR/LF must not
        # cut the subject (the text's first line) short or write paragraphs of its own.
        env.finalize = one_line
        return env

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
