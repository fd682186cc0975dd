"""What a ticket says, from templates: shipped in English and Spanish under
ticketer/templates/<language>/, rendered in a sandbox, times in the configured time zone.

Everything an alert brings (titles, summaries, resource names) reaches a template as a value,
never as template source: an alert saying `{{ 7*7 }}` is shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.models import Incident, Ticket, TicketChange, TicketEvent, TicketEventKind
from core.templating import Language, sandboxed_environment

SHIPPED = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """Where the incident is seen in Sereno, and its service as people know it."""

    url: str
    service_name: str

    @property
    def runbook_base(self) -> str:
        return self.url.split("/api/v1/", 1)[0]


class TicketTexts:
    """Renders the ticket's title, description, history notes and backend comments in the
    configured language and time zone."""

    def __init__(self, language: Language, timezone: str) -> None:
        self.language: Language = language
        self._env = sandboxed_environment([SHIPPED / language], language, timezone)

    def _render(self, template: str, **values: Any) -> str:  # noqa: ANN401 - template values are of any model
        return self._env.get_template(f"{template}.txt.j2").render(values).strip()

    def title(self, incident: Incident) -> str:
        """One line: priority, service and the incident's title."""
        return self._render("title", incident=incident)

    def description(self, incident: Incident, page: IncidentPage, runbook_url: str) -> str:
        """What a support agent needs without opening Sereno."""
        return self._render(
            "description", incident=incident, service_name=page.service_name,
            incident_url=page.url, runbook_url=runbook_url, shown=50,
        )  # fmt: skip

    def note(self, kind: str, **values: Any) -> str:  # noqa: ANN401 - what each note names
        """The note of one history entry: `kind` chooses the sentence, `values` fill it."""
        return self._render("note", kind=kind, **values)

    def problem_title(self, service: str, alert: str) -> str:
        return self._render("problem_title", service=service, alert=alert)

    def problem_description(
        self, service: str, alert: str, incidents: Sequence[Incident], base_url: str
    ) -> str:
        """A recurring problem: how often, and each incident with its link."""
        return self._render(
            "problem_description", service=service, alert=alert, incidents=incidents,
            base_url=base_url,
        )  # fmt: skip

    def comment(self, event: TicketEvent, changes: Sequence[TicketChange]) -> str:
        """An external backend's comment on one ticket event: what changed, one a line."""
        ticket: Ticket = event.ticket
        breach = ticket.breaches[-1] if event.kind is TicketEventKind.SLA_BREACHED else None
        return self._render(
            "comment", kind=event.kind.value, ticket=ticket, changes=changes, breach=breach
        )

    def silence_comment(self, incident: Incident, by: str, until: datetime, url: str) -> str:
        """The comment of the silence that tells a source an incident was acknowledged:
        which incident, who took it, until when, and where to see it."""
        return self._render(
            "silence_comment", incident=incident, by=by, until=until, incident_url=url
        )
