"""The incident pages: the list, one incident, "mine", the crisis view, and the parts of
them a page refreshes in place."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from core.models import IncidentStatus, Priority
from sereno.api import QueryError
from sereno.console import data, who
from sereno.console.page import RENDERER, fragment, html, language, supported_commands
from sereno.keys import PIPELINE

SINCE = {"": None, "1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
MEMBERS_PAGE = 100
TIMELINE_PAGE = 100
TEXT_MAX = 256


def _text(request: web.Request, name: str) -> str:
    value = request.query.get(name, "").strip()
    if len(value) > TEXT_MAX:
        raise QueryError(name, f"write at most {TEXT_MAX} characters")
    return value


def filters_of(request: web.Request) -> data.Filters:
    """The list's filters from the query string; a value it cannot use is a 400 naming it."""
    status = request.query.get("status", "active")
    if status not in data.STATUSES:
        raise QueryError("status", "write one of: " + ", ".join(data.STATUSES))
    priority = request.query.get("priority", "")
    if priority and priority not in Priority.__members__:
        raise QueryError("priority", "write one of: P1, P2, P3, P4, P5")
    since = request.query.get("since", "")
    if since not in SINCE:
        raise QueryError("since", "write one of: 1h, 24h, 7d")
    return data.Filters(
        status=status,
        priority=Priority(priority) if priority else None,
        service=_text(request, "service"),
        group=_text(request, "group"),
        assignee=_text(request, "assignee"),
        source=_text(request, "source"),
        since=SINCE[since],
        q=_text(request, "q"),
    )


def _query(request: web.Request) -> str:
    return f"?{request.query_string}" if request.query_string else ""


async def _rows(request: web.Request) -> list[data.Row]:
    pipeline = request.app[PIPELINE]
    return await data.list_incidents(
        pipeline.storage.store, filters_of(request), pipeline.clock.now()
    )


async def incident_list(request: web.Request) -> web.Response:
    """GET /: the incidents, most urgent and oldest first."""
    where = filters_of(request)
    return html(
        request, "incidents.html.j2", section="incidents", rows=await _rows(request), f=where,
        statuses=data.STATUSES, priorities=list(Priority), since_choices=list(SINCE),
        since=request.query.get("since", ""), query=_query(request),
    )  # fmt: skip


async def incident_list_live(request: web.Request) -> web.Response:
    return fragment(request, "_live_incidents.html.j2", rows=await _rows(request))


async def _incident_context(request: web.Request) -> dict[str, object] | None:
    store = request.app[PIPELINE].storage.store
    incident_id = request.match_info["id"]
    found = await data.get_header(store, incident_id)
    if found is None:
        return None
    header, alert_count = found
    timeline, timeline_next = await data.timeline_page(
        store, incident_id, request.query.get("timeline", ""), TIMELINE_PAGE
    )
    return {
        "header": header,
        "alert_count": alert_count,
        "holder": data.holder(header),
        "timeline": timeline,
        "timeline_next": timeline_next,
        "tickets": await data.tickets(store, incident_id),
    }


def _not_found(request: web.Request) -> web.Response:
    lang = language(request)
    message = request.app[RENDERER].text(lang, "not_found") + f": {request.match_info['id']}"
    return html(request, "not_found.html.j2", status=404, message=message)


def _silence_query(header: data.Header, members: list[data.Member]) -> str:
    """A silence form filled in for the incident's alerts, ready to preview."""
    names = sorted({m.name for m in members})
    resources = sorted({m.resource for m in members if m.resource})
    fields = {
        "names": ", ".join(names[:10]),
        "resources": ", ".join(resources) if len(resources) <= 10 else "",
        "comment": f"{header.id}: {header.title}",
        "preview": "1",
    }
    return urlencode(fields)


async def incident_page(request: web.Request) -> web.Response:
    """GET /incidents/{id}: header, timeline, members, actions, runbook, ticket."""
    context = await _incident_context(request)
    if context is None:
        return _not_found(request)
    store = request.app[PIPELINE].storage.store
    incident_id = request.match_info["id"]
    members, members_next = await data.members_page(
        store, incident_id, request.query.get("members", ""), MEMBERS_PAGE
    )
    header = context["header"]
    assert isinstance(header, data.Header)  # noqa: S101 - narrows the context's type
    return html(
        request, "incident.html.j2", context, section="incidents", members=members,
        members_next=members_next, supported=supported_commands(request.app),
        silence_query=_silence_query(header, members), query=_query(request),
    )  # fmt: skip


async def incident_live(request: web.Request) -> web.Response:
    context = await _incident_context(request)
    if context is None:
        return _not_found(request)
    return fragment(request, "_incident_live.html.j2", context)


async def _mine_context(request: web.Request) -> dict[str, object]:
    pipeline = request.app[PIPELINE]
    store, now, me = pipeline.storage.store, pipeline.clock.now(), who.current(request)
    mine = await data.list_incidents(store, data.Filters(holders=(me.name,)), now)
    group = (
        await data.list_incidents(store, data.Filters(groups=me.groups), now) if me.groups else []
    )
    unheld = await data.list_incidents(store, data.Filters(unheld=True), now)
    return {"mine": mine, "group": group, "unheld": unheld}


async def mine_page(request: web.Request) -> web.Response:
    """GET /mine: what I hold, what my groups hold, what nobody holds yet."""
    return html(request, "mine.html.j2", await _mine_context(request), section="mine")


async def mine_live(request: web.Request) -> web.Response:
    return fragment(request, "_live_mine.html.j2", await _mine_context(request))


async def _crisis_context(request: web.Request) -> dict[str, object] | None:
    store = request.app[PIPELINE].storage.store
    incident_id = request.match_info["id"]
    found = await data.get_header(store, incident_id)
    if found is None:
        return None
    header = found[0]
    renderer, lang = request.app[RENDERER], language(request)
    zone = ZoneInfo(request.app[PIPELINE].settings.timezone)
    since = (header.crisis_declared_at or header.opened_at).astimezone(zone)
    known = request.app[PIPELINE].rules.current.services.get(header.service)
    what = (
        renderer.text(lang, "crisis_plain_service", service=known.name if known else header.service)
        if header.service
        else renderer.text(lang, "crisis_plain_title", title=header.title)
    )
    who_text = (
        renderer.text(lang, "crisis_plain_group", group=header.group)
        if header.group
        else renderer.text(lang, "crisis_plain_nobody")
    )
    plain = renderer.text(
        lang, "crisis_plain", since=since.strftime("%H:%M"), what=what,
        users=f"{header.users_affected:,}", who=who_text,
    )  # fmt: skip
    if header.status is IncidentStatus.RESOLVED and header.resolved_at is not None:
        ended = header.resolved_at.astimezone(zone)
        plain = f"{plain} ({renderer.text(lang, 'resolved')}: {ended:%H:%M})"
    return {
        "header": header,
        "plain": plain,
        "updates": await data.crisis_updates(store, incident_id),
        "next_update": await data.next_crisis_update(store, incident_id),
    }


async def crisis_page(request: web.Request) -> web.Response:
    """GET /incidents/{id}/crisis: for the committee, in plain words."""
    context = await _crisis_context(request)
    if context is None:
        return _not_found(request)
    return html(request, "crisis.html.j2", context, section="incidents")


async def crisis_live(request: web.Request) -> web.Response:
    context = await _crisis_context(request)
    if context is None:
        return _not_found(request)
    return fragment(request, "_live_crisis.html.j2", context)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", incident_list)
    app.router.add_get("/incidents/{id}", incident_page)
    app.router.add_get("/incidents/{id}/crisis", crisis_page)
    app.router.add_get("/mine", mine_page)
    app.router.add_get("/_live/incidents", incident_list_live)
    app.router.add_get("/_live/incidents/{id}", incident_live)
    app.router.add_get("/_live/incidents/{id}/crisis", crisis_live)
    app.router.add_get("/_live/mine", mine_live)
