"""`sereno rules check --online`: try each configured ticket system, and that what the
rules map to exists there (RT queues, GLPI categories and groups, the Jira project).
Read-only calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.config import TicketBackends
from core.rules.ticket_systems import TicketSystems
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError
from ticketer.backends.glpi_client import GlpiClient
from ticketer.backends.jira import JiraTicketBackend
from ticketer.backends.rt_client import RtClient
from ticketer.texts import TicketTexts

Get = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing tried: which backend, what, and the problem ("" when it went well)."""

    backend: str
    what: str
    problem: str = ""


async def _each(backend: str, get: Get, tries: list[tuple[str, str]]) -> list[Finding]:
    """GET each (what, path) in order; after a failed first one (the connection) stop."""
    found: list[Finding] = []
    for n, (what, path) in enumerate(tries):
        try:
            await get(path)
        except (BackendUnavailableError, BackendRejectedError) as e:
            found.append(Finding(backend, what, str(e)))
            if n == 0:
                break
        else:
            found.append(Finding(backend, what))
    return found


async def try_backends(configured: TicketBackends, systems: TicketSystems) -> list[Finding]:
    """Each configured backend's connection, then each mapped queue, category or group."""
    found: list[Finding] = []
    if configured.rt is not None:
        rt = RtClient(configured.rt)
        mapping = systems.rt
        queues = sorted({mapping.queue, *mapping.queues.values(), *mapping.services.values()})
        tries = [(f"REST2 at {configured.rt.url}", "/rt")]
        tries += [(f"queue {q!r}", f"/queue/{q}") for q in queues]
        try:
            found += await _each("rt", lambda path: rt.call("GET", path), tries)
        finally:
            await rt.close()
    if configured.glpi is not None:
        glpi = GlpiClient(configured.glpi)
        glpi_map = systems.glpi
        categories = {glpi_map.category, *glpi_map.categories.values(),
                      *glpi_map.services.values()} - {0}  # fmt: skip
        tries = [(f"session at {configured.glpi.url}", "/getActiveProfile")]
        tries += [(f"ITIL category {c}", f"/ITILCategory/{c}") for c in sorted(categories)]
        tries += [(f"group {g}", f"/Group/{g}") for g in sorted(set(glpi_map.groups.values()))]
        try:
            found += await _each("glpi", lambda path: glpi.call("GET", path), tries)
        finally:
            await glpi.close()
    if configured.jira is not None:
        jira = JiraTicketBackend(configured.jira, TicketTexts("en", "UTC"))
        project = configured.jira.project
        tries = [(f"project {project}", f"/rest/api/2/project/{project}")]
        try:
            found += await _each("jira", lambda path: jira.call("GET", path), tries)
        finally:
            await jira.close()
    return found
