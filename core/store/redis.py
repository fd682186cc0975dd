"""The distributed store: state in Redis, beside the streams, with the SQLite store's rules.

Reads that need two steps (an index, then the record) are one small Lua script each, so
they cost one round trip. Commits are `core.store.redis_commit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from core.bus import NotPendingError
from core.errors import StorageUnavailableError
from core.matchers import Silence
from core.models import (
    AlertState,
    AlertVolume,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Notification,
    NotifyState,
    Suppression,
    Ticket,
    TimelineEntry,
)
from core.redisdb import RedisDatabase, optional_text, text, unavailable
from core.store import Changes, ConflictError, IncidentFilter
from core.store.redis_commit import COMMIT_LUA, pack
from core.store.redis_keys import (
    StoreKeys,
    key_prefix,
    member_id,
    sized,
    ticket_pair,
    unsized,
    volume_parts,
)

PAGE = 1000
PING_TIMEOUT_S = 2.0

_BY_INDEX = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[2], id)
"""

_LATEST_FOR_KEY = """
local found = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, 1)
if not found[1] then return false end
local member = string.sub(found[1], tonumber(ARGV[3]) + 1)
return redis.call('HGET', KEYS[2], string.match(member, '^[^|]*|[^|]*|(.*)$'))
"""

# The first incident, by id, in which each resource fails and that is not resolved.
_FIRST_IN_RANGE = """
local found = {}
for i, start in ipairs(ARGV) do
  found[i] = ''
  local after = '[' .. start
  repeat
    local page = redis.call('ZRANGEBYLEX', KEYS[1], after, '(' .. start .. '\\255', 'LIMIT', 0, 50)
    for _, m in ipairs(page) do
      if redis.call('HGET', KEYS[2], string.sub(m, #start + 1)) ~= 'resolved' then
        found[i] = m
        break
      end
    end
    if page[50] then after = '(' .. page[50] end
  until found[i] ~= '' or not page[50]
end
return found
"""

_DUE = """
local bodies = {}
for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[1] .. '\\1')) do
  local id = string.sub(m, string.find(m, string.char(0), 1, true) + 22)
  bodies[#bodies + 1] = redis.call('HGET', KEYS[2], id)
end
return bodies
"""

# An incident's alerts by fingerprint: their numbers, then their bodies.
_MEMBERS_BY_FINGERPRINT = """
local found = {}
for n = 2, #ARGV do
  local seq = redis.call('HGET', KEYS[1], ARGV[1] .. ARGV[n])
  if seq then found[#found + 1] = redis.call('HGET', KEYS[2], ARGV[1] .. seq) end
end
return found
"""

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], body: object) -> M | None:
    return None if body is None else model.model_validate_json(text(body))


class RedisStore:
    """`Store` on Redis. Commits acknowledge on the bus's streams in the same script."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._keys = StoreKeys.of(db)

    async def next_id(self, prefix: str) -> str:
        with unavailable():
            value = await self._db.client.hincrby(self._keys.ids, prefix, 1)
        return f"{prefix}-{value}"

    async def commit(self, changes: Changes) -> None:
        keys, args = pack(changes, self._db)
        with unavailable():
            outcome = await self._db.script(COMMIT_LUA)(keys=keys, args=args)
        match outcome:
            case ["ok"]:
                return
            case ["conflict", why]:
                raise ConflictError(str(why))
            case ["stale", why]:
                raise NotPendingError(str(why))
        raise RuntimeError(f"commit script answered {outcome!r}")

    @staticmethod
    def _incidents(bodies: Sequence[object]) -> list[Incident]:
        return [Incident.model_validate_json(text(b)) for b in bodies if b is not None]

    async def _incident(self, body: object) -> Incident | None:
        found = self._incidents([body])
        return found[0] if found else None

    async def get_incident(self, incident_id: str) -> Incident | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.incident_body, incident_id)
        return await self._incident(body)

    async def incident_members(
        self, incident_id: str, fingerprints: Sequence[str]
    ) -> dict[str, IncidentAlert]:
        unique = list(dict.fromkeys(fingerprints))
        found: dict[str, IncidentAlert] = {}
        with unavailable():
            for start in range(0, len(unique), PAGE):
                bodies = await self._db.script(_MEMBERS_BY_FINGERPRINT)(
                    keys=[self._keys.incident_member_seq, self._keys.incident_members],
                    args=[sized(incident_id), *unique[start : start + PAGE]],
                )
                for body in bodies:
                    alert = IncidentAlert.model_validate_json(text(body))
                    found[alert.fingerprint] = alert
        return found

    async def _page(
        self, body_key: str, count_key: str, incident_id: str, after: int, limit: int
    ) -> tuple[list[str], int | None]:
        with unavailable():
            count = int(optional_text(await self._db.client.hget(count_key, incident_id)) or 0)
            last = min(count, after + limit)
            fields = [sized(incident_id) + str(seq) for seq in range(after + 1, last + 1)]
            bodies = await self._db.client.hmget(body_key, fields) if fields else []
        return [text(b) for b in bodies if b is not None], (last if last < count else None)

    async def members_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[IncidentAlert], int | None]:
        bodies, cursor = await self._page(
            self._keys.incident_members, self._keys.incident_member_count, incident_id,
            after, limit,
        )  # fmt: skip
        return [IncidentAlert.model_validate_json(b) for b in bodies], cursor

    async def timeline_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[TimelineEntry], int | None]:
        bodies, cursor = await self._page(
            self._keys.incident_timeline, self._keys.incident_timeline_count, incident_id,
            after, limit,
        )  # fmt: skip
        return [TimelineEntry.model_validate_json(b) for b in bodies], cursor

    async def tallies(
        self, incident_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        unique = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], int] = {}
        with unavailable():
            for start in range(0, len(unique), PAGE):
                chunk = unique[start : start + PAGE]
                fields = [sized(incident_id) + sized(dim) + value for dim, value in chunk]
                values = await self._db.client.hmget(self._keys.incident_tallies, fields)
                for key, value in zip(chunk, values, strict=True):
                    if value is not None:
                        found[key] = int(text(value))
        return found

    async def open_incident_for_key(self, key: str) -> Incident | None:
        with unavailable():
            body = await self._db.script(_BY_INDEX)(
                keys=[self._keys.incident_open, self._keys.incident_body], args=[key]
            )
        return await self._incident(body)

    async def latest_incident_for_key(self, key: str) -> Incident | None:
        start = key_prefix(key)
        with unavailable():
            body = await self._db.script(_LATEST_FOR_KEY)(
                keys=[self._keys.incidents_by_key, self._keys.incident_body],
                # Every member of `key` lies in [start, start with its NUL raised to 1).
                args=[f"({start[:-1]}\x01", f"[{start}", len(start.encode())],
            )
        return await self._incident(body)

    async def list_incidents(self, where: IncidentFilter) -> list[Incident]:
        client, keys = self._db.client, self._keys
        found: list[Incident] = []
        upper = "+"
        since = where.opened_since.isoformat() if where.opened_since else None
        # Every member opened at or after `since` sorts at or after it (a few before it do
        # too, when their time is the start of `since`: the test on the time drops them).
        lower = "-" if since is None else f"[{since}"
        with unavailable():
            while len(found) < where.limit:
                members = await client.zrevrangebylex(keys.incidents_by_time, upper, lower, 0, PAGE)
                if not members:
                    break
                upper = f"({text(members[-1])}"
                ids = [
                    member_id(text(m))
                    for m in members
                    if since is None or text(m).split("|", 1)[0] >= since
                ]
                ids = await self._matching(ids, where)
                bodies = await client.hmget(keys.incident_body, ids) if ids else []
                found += self._incidents(bodies)
                if len(members) < PAGE:
                    break
        return found[: where.limit]

    async def _matching(self, ids: list[str], where: IncidentFilter) -> list[str]:
        tests = [
            (self._keys.incident_status, where.status and where.status.value),
            (self._keys.incident_priority, where.priority and where.priority.value),
            (self._keys.incident_service, where.service),
            (self._keys.incident_name, where.name),
        ]
        if where.open_only and ids:
            statuses = await self._db.client.hmget(self._keys.incident_status, ids)
            ids = [
                i
                for i, status in zip(ids, statuses, strict=True)
                if optional_text(status) != IncidentStatus.RESOLVED.value
            ]
        for key, wanted in tests:
            if wanted is not None and ids:
                values = await self._db.client.hmget(key, ids)
                ids = [
                    i
                    for i, value in zip(ids, values, strict=True)
                    if optional_text(value) == wanted
                ]
        return ids

    async def alert_states(self, fingerprints: Sequence[str]) -> dict[str, AlertState]:
        unique = list(dict.fromkeys(fingerprints))
        states: dict[str, AlertState] = {}
        with unavailable():
            for start in range(0, len(unique), PAGE):
                chunk = unique[start : start + PAGE]
                for body in await self._db.client.hmget(self._keys.alert_state, chunk):
                    if body is not None:
                        state = AlertState.model_validate_json(text(body))
                        states[state.fingerprint] = state
        return states

    async def incidents_on_resources(self, resources: Sequence[str]) -> dict[str, str]:
        unique = list(dict.fromkeys(resources))
        found: dict[str, str] = {}
        with unavailable():
            for start in range(0, len(unique), PAGE):
                starts = [sized(r) for r in unique[start : start + PAGE]]
                members = await self._db.script(_FIRST_IN_RANGE)(
                    keys=[self._keys.incident_resources, self._keys.incident_status],
                    args=starts,
                )
                for resource, first, member in zip(
                    unique[start : start + PAGE], starts, members, strict=True
                ):
                    # The lowest incident id sorts first, as SQLite's ORDER BY incident_id.
                    if text(member):
                        found[resource] = text(member)[len(first) :]
        return found

    async def open_services_by_site(self) -> dict[str, set[str]]:
        with unavailable():
            pairs = await self._db.client.hgetall(self._keys.open_site_services)
        found: dict[str, set[str]] = {}
        for pair, count in pairs.items():
            if int(text(count)) > 0:
                site, service = unsized(text(pair))
                found.setdefault(site, set()).add(service)
        return found

    async def incidents_due(self, now: datetime) -> list[Incident]:
        with unavailable():
            bodies = await self._db.script(_DUE)(
                keys=[self._keys.incidents_due, self._keys.incident_body], args=[now.isoformat()]
            )
        return self._incidents(bodies)

    async def list_silences(self, limit: int = 1000) -> list[Silence]:
        with unavailable():
            members = await self._db.client.zrevrangebylex(
                self._keys.silences_by_time, "+", "-", 0, limit
            )
            bodies = await self._bodies(self._keys.silence_body, members)
        return [Silence.model_validate_json(b) for b in bodies]

    async def get_silence(self, silence_id: str) -> Silence | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.silence_body, silence_id)
        return _parse(Silence, body)

    async def list_suppressions(self, limit: int = 5000) -> list[Suppression]:
        if limit == 0:
            return []
        with unavailable():
            bodies = await self._db.client.lrange(self._keys.suppressions, 0, limit - 1)
        return [Suppression.model_validate_json(text(b)) for b in bodies]

    async def heartbeats(self) -> dict[str, datetime]:
        with unavailable():
            found = await self._db.client.hgetall(self._keys.heartbeats)
        return {text(name): datetime.fromisoformat(text(at)) for name, at in found.items()}

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.ticket_body, ticket_id)
        return None if body is None else Ticket.model_validate_json(text(body))

    async def ticket_for_incident(self, incident_id: str, backend: str) -> Ticket | None:
        with unavailable():
            body = await self._db.script(_BY_INDEX)(
                keys=[self._keys.ticket_for, self._keys.ticket_body],
                args=[ticket_pair(incident_id, backend)],
            )
        return None if body is None else Ticket.model_validate_json(text(body))

    async def tickets_due(self, now: datetime) -> list[Ticket]:
        with unavailable():
            bodies = await self._db.script(_DUE)(
                keys=[self._keys.tickets_due, self._keys.ticket_body], args=[now.isoformat()]
            )
        return [Ticket.model_validate_json(text(b)) for b in bodies]

    async def list_tickets(self, limit: int = 500) -> list[Ticket]:
        with unavailable():
            members = await self._db.client.zrevrangebylex(
                self._keys.tickets_by_time, "+", "-", 0, limit
            )
            bodies = await self._bodies(self._keys.ticket_body, members)
        return [Ticket.model_validate_json(text(b)) for b in bodies]

    async def list_notifications(self, limit: int = 5000) -> list[Notification]:
        with unavailable():
            members = await self._db.client.zrangebylex(
                self._keys.notifications_by_time, "-", "+", 0, limit
            )
            bodies = await self._bodies(self._keys.notification_body, members)
        return [Notification.model_validate_json(b) for b in bodies]

    async def alert_volumes(self, since: datetime, until: datetime) -> list[AlertVolume]:
        keys = self._keys
        lower, upper = since.astimezone(UTC).isoformat(), until.astimezone(UTC).isoformat()
        found: list[AlertVolume] = []
        with unavailable():
            members = [
                text(m)
                for m in await self._db.client.zrangebylex(
                    keys.alert_volumes, f"[{lower}", f"({upper}"
                )
            ]
            for start in range(0, len(members), PAGE):
                chunk = members[start : start + PAGE]
                counts = [
                    await self._db.client.hmget(key, chunk)
                    for key in (keys.alert_volume_received, keys.alert_volume_deduplicated,
                                keys.alert_volume_suppressed)
                ]  # fmt: skip
                for member, received, deduplicated, suppressed in zip(chunk, *counts, strict=True):
                    hour, source, name = volume_parts(member)
                    found.append(
                        AlertVolume(
                            hour=datetime.fromisoformat(hour), source=source, name=name,
                            received=int(optional_text(received) or 0),
                            deduplicated=int(optional_text(deduplicated) or 0),
                            suppressed=int(optional_text(suppressed) or 0),
                        )
                    )  # fmt: skip
        return sorted(found, key=lambda v: (v.hour, v.source, v.name))

    async def marker(self, name: str) -> str | None:
        with unavailable():
            value = await self._db.client.hget(self._keys.markers, name)
        return optional_text(value)

    async def get_notification(self, notification_id: str) -> Notification | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.notification_body, notification_id)
        return _parse(Notification, body)

    async def notifications_to_send(self, now: datetime, limit: int = 100) -> list[Notification]:
        with unavailable():
            ids: list[str] = [
                text(m)
                for m in await self._db.client.zrangebyscore(
                    self._keys.notification_outbox, "-inf", repr(now.timestamp()), 0, limit
                )
            ]
            bodies = await self._db.client.hmget(self._keys.notification_body, ids) if ids else []
        return [Notification.model_validate_json(text(b)) for b in bodies if b is not None]

    async def get_notify_state(self, incident_id: str) -> NotifyState | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.notify_state_body, incident_id)
        return _parse(NotifyState, body)

    async def notify_states_due(self, now: datetime) -> list[NotifyState]:
        with unavailable():
            ids: list[str] = [
                text(m)
                for m in await self._db.client.zrangebyscore(
                    self._keys.notify_states_due, "-inf", repr(now.timestamp())
                )
            ]
            bodies = await self._db.client.hmget(self._keys.notify_state_body, ids) if ids else []
        return [NotifyState.model_validate_json(text(b)) for b in bodies if b is not None]

    async def _bodies(self, key: str, members: Sequence[object]) -> list[str]:
        bodies: list[str] = []
        for start in range(0, len(members), PAGE):
            ids = [member_id(text(m)) for m in members[start : start + PAGE]]
            bodies += [text(b) for b in await self._db.client.hmget(key, ids) if b is not None]
        return bodies

    async def ping(self) -> bool:
        try:
            with unavailable():
                await asyncio.wait_for(self._db.client.ping(), PING_TIMEOUT_S)
        except (StorageUnavailableError, TimeoutError):
            return False
        return True
