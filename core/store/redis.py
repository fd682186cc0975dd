"""The distributed store: state in Redis, beside the streams, with the SQLite store's rules.

Reads that need two steps (an index, then the record) are one small Lua script each, so
they cost one round trip. Commits are `core.store.redis_commit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from core.bus import NotPendingError
from core.errors import StorageUnavailableError
from core.models import AlertState, Incident, Notification, Ticket
from core.redisdb import RedisDatabase, optional_text, text, unavailable
from core.store import Changes, ConflictError, IncidentFilter
from core.store.redis_commit import COMMIT_LUA, pack
from core.store.redis_keys import StoreKeys, key_prefix, member_id, ticket_pair

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

    async def get_incident(self, incident_id: str) -> Incident | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.incident_body, incident_id)
        return _parse(Incident, body)

    async def open_incident_for_key(self, key: str) -> Incident | None:
        with unavailable():
            body = await self._db.script(_BY_INDEX)(
                keys=[self._keys.incident_open, self._keys.incident_body], args=[key]
            )
        return _parse(Incident, body)

    async def latest_incident_for_key(self, key: str) -> Incident | None:
        start = key_prefix(key)
        with unavailable():
            body = await self._db.script(_LATEST_FOR_KEY)(
                keys=[self._keys.incidents_by_key, self._keys.incident_body],
                # Every member of `key` lies in [start, start with its NUL raised to 1).
                args=[f"({start[:-1]}\x01", f"[{start}", len(start.encode())],
            )
        return _parse(Incident, body)

    async def list_incidents(self, where: IncidentFilter) -> list[Incident]:
        client, keys = self._db.client, self._keys
        found: list[Incident] = []
        upper = "+"
        with unavailable():
            while len(found) < where.limit:
                members = await client.zrevrangebylex(keys.incidents_by_time, upper, "-", 0, PAGE)
                if not members:
                    break
                upper = f"({text(members[-1])}"
                ids = [member_id(text(m)) for m in members]
                ids = await self._matching(ids, where)
                bodies = await client.hmget(keys.incident_body, ids) if ids else []
                found += [Incident.model_validate_json(text(b)) for b in bodies if b is not None]
                if len(members) < PAGE:
                    break
        return found[: where.limit]

    async def _matching(self, ids: list[str], where: IncidentFilter) -> list[str]:
        tests = [
            (self._keys.incident_status, where.status and where.status.value),
            (self._keys.incident_priority, where.priority and where.priority.value),
            (self._keys.incident_service, where.service),
        ]
        for key, wanted in tests:
            if wanted is not None:
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

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        with unavailable():
            body = await self._db.client.hget(self._keys.ticket_body, ticket_id)
        return _parse(Ticket, body)

    async def ticket_for_incident(self, incident_id: str, backend: str) -> Ticket | None:
        with unavailable():
            body = await self._db.script(_BY_INDEX)(
                keys=[self._keys.ticket_for, self._keys.ticket_body],
                args=[ticket_pair(incident_id, backend)],
            )
        return _parse(Ticket, body)

    async def list_tickets(self, limit: int = 500) -> list[Ticket]:
        with unavailable():
            members = await self._db.client.zrevrangebylex(
                self._keys.tickets_by_time, "+", "-", 0, limit
            )
            bodies = await self._bodies(self._keys.ticket_body, members)
        return [Ticket.model_validate_json(b) for b in bodies]

    async def list_notifications(self, limit: int = 5000) -> list[Notification]:
        with unavailable():
            members = await self._db.client.zrangebylex(
                self._keys.notifications_by_time, "-", "+", 0, limit
            )
            bodies = await self._bodies(self._keys.notification_body, members)
        return [Notification.model_validate_json(b) for b in bodies]

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
