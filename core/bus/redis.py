"""The distributed bus: Redis Streams, one stream per edge, one consumer group per stage.

Each read is one Lua script, so taking back a consumer's own entries, reclaiming entries
idle past the threshold (XAUTOCLAIM) and reading new ones happen in one round trip and
report true delivery counts. Acknowledgement normally happens in the store's commit
script, atomically with the effect (`core.store.redis`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from redis.exceptions import ResponseError

from core.bus import Backlog, DeadLetter, Entry, Stream
from core.errors import StorageUnavailableError
from core.metrics import BusMetrics
from core.redisdb import RedisDatabase, text, unavailable

log = logging.getLogger(__name__)

FORGET_CONSUMERS_AFTER_S = 24 * 3600
"""A consumer with nothing pending and silent this long is gone: its name is dropped from
the group (names carry host and pid, so every restart leaves one behind)."""

LONGEST_WAIT_S = 2.0
"""A blocking wait holds a connection; it stays well under the command timeout."""

_READ = """
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local want = tonumber(ARGV[3])
-- The group is born reading from the very start: nothing published before it is missed.
redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
local out, n, held, claimed = {}, 0, 0, 0
local cursor = ARGV[6]
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return ''
end
local function emit(entry, again)
  local deliveries = 1
  if again then
    local p = redis.call('XPENDING', stream, group, entry[1], entry[1], 1)
    if p[1] then deliveries = p[1][4] end
  end
  out[#out + 1] = {entry[1], field(entry[2], 'b'), field(entry[2], 't'), deliveries}
  n = n + 1
end
if ARGV[4] == '1' then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', want,
                       'STREAMS', stream, '0')
  if r and r[1] then
    for _, e in ipairs(r[1][2]) do
      held = held + 1
      if e[2] then emit(e, true)
      else redis.call('XACK', stream, group, e[1]) end  -- deleted while pending
    end
  end
end
if n < want and tonumber(ARGV[5]) >= 0 then
  local r = redis.call('XAUTOCLAIM', stream, group, consumer, ARGV[5], cursor,
                       'COUNT', want - n)
  cursor = r[1]
  for _, e in ipairs(r[2]) do
    emit(e, true)
    claimed = claimed + 1
  end
end
if n < want then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', want - n,
                       'STREAMS', stream, '>')
  if r and r[1] then
    for _, e in ipairs(r[1][2]) do emit(e, false) end
  end
end
return {cursor, held, claimed, out}
"""

BURY_LUA = """
local function bury(stream, dead, group, id, body, reason, deliveries, now)
  local p = redis.call('XPENDING', stream, group, id, id, 1)
  if not p[1] then return 0 end
  redis.call('XADD', dead, '*', 'g', group, 'id', id, 'b', body, 'reason', reason,
             'n', deliveries, 'at', now)
  redis.call('XACK', stream, group, id)
  return 1
end
"""
"""Lua function moving one pending entry to the dead letters; shared with the commit."""

_DEAD_LETTER = (
    BURY_LUA
    + """
local moved = 0
for i = 4, #ARGV, 3 do
  moved = moved + bury(KEYS[1], KEYS[2], ARGV[1], ARGV[i], ARGV[i + 1], ARGV[2],
                       ARGV[i + 2], ARGV[3])
end
return moved
"""
)

_TRIM = """
local stream = KEYS[1]
if redis.call('EXISTS', stream) == 0 then return 0 end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, seq
end
local function before(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end
local floor = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  -- What this group may still need: its oldest pending entry, else the one after the last
  -- it read. Entries below the lowest of these are read and acknowledged by every group.
  local need
  local p = redis.call('XPENDING', stream, info['name'])
  if p[1] > 0 then
    need = p[2]
  else
    local ms, seq = parse(info['last-delivered-id'])
    need = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
  end
  if floor == nil or before(need, floor) then floor = need end
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, info['name'])) do
    local ci = {}
    for i = 1, #c, 2 do ci[c[i]] = c[i + 1] end
    if ci['pending'] == 0 and ci['idle'] > tonumber(ARGV[1]) then
      redis.call('XGROUP', 'DELCONSUMER', stream, info['name'], ci['name'])
    end
  end
end
if floor == nil then return 0 end
return redis.call('XTRIM', stream, 'MINID', floor)
"""


_COUNT_AFTER = """
local n, after = 0, '(' .. ARGV[1]
while true do
  local page = redis.call('XRANGE', KEYS[1], after, '+', 'COUNT', 1000)
  n = n + #page
  if #page < 1000 then return n end
  after = '(' .. page[#page][1]
end
"""


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class RedisBus:
    """`Bus` on Redis Streams, for any number of processes on any number of machines."""

    def __init__(
        self, db: RedisDatabase, claim_idle_s: float = 60.0, metrics: BusMetrics | None = None
    ) -> None:
        self._db = db
        self._claim_idle_ms = int(claim_idle_s * 1000)
        # Scanning for idle entries costs a walk of the pending list: at most about once a
        # second, and never later than half the idle threshold.
        self._claim_every_s = min(1.0, claim_idle_s / 2)
        self._metrics = metrics
        self._recovered: set[tuple[Stream, str, str]] = set()
        self._cursors: dict[tuple[Stream, str], str] = {}
        self._last_claim: dict[tuple[Stream, str], float] = {}
        self._groups: dict[Stream, set[str]] = {}

    async def publish(self, stream: Stream, bodies: Sequence[str]) -> list[str]:
        if not bodies:
            return []
        key = self._db.stream_key(stream)
        now = repr(time.time())
        with unavailable():
            # One MULTI/EXEC: a request's alerts are stored all together or not at all.
            async with self._db.client.pipeline(transaction=True) as pipe:
                for body in bodies:
                    pipe.xadd(key, {"b": body, "t": now})
                ids = await pipe.execute()
        return [str(i) for i in ids]

    async def read(self, stream: Stream, group: str, consumer: str, count: int) -> list[Entry]:
        where = (stream, group)
        take_back = (stream, group, consumer) not in self._recovered
        now = time.monotonic()
        claim = now - self._last_claim.get(where, float("-inf")) >= self._claim_every_s
        if claim:
            self._last_claim[where] = now
        with unavailable():
            cursor, held, claimed, rows = await self._db.script(_READ)(
                keys=[self._db.stream_key(stream)],
                args=[group, consumer, count, int(take_back),
                      self._claim_idle_ms if claim else -1, self._cursors.get(where, "0-0")],
            )  # fmt: skip
        self._cursors[where] = str(cursor)
        self._groups.setdefault(stream, set()).add(group)
        if take_back and int(held) < count:
            # Everything it held is back in hand; later reads take only what is idle.
            self._recovered.add((stream, group, consumer))
        if self._metrics is not None and int(claimed):
            self._metrics.reclaimed.labels(stream.value, group).inc(int(claimed))
        return [
            Entry(stream, str(entry_id), str(body), float(at or 0), int(deliveries))
            for entry_id, body, at, deliveries in rows
        ]

    async def ack(self, stream: Stream, group: str, ids: Sequence[str]) -> None:
        if ids:
            with unavailable():
                await self._db.client.xack(self._db.stream_key(stream), group, *ids)

    async def wait(self, stream: Stream, at_most_s: float) -> None:
        groups = self._groups.get(stream)
        at_most_s = min(at_most_s, LONGEST_WAIT_S)
        try:
            with unavailable():
                key = self._db.stream_key(stream)
                infos = await self._db.client.xinfo_groups(key) if groups else []
                ids = [str(i["last-delivered-id"]) for i in infos if i["name"] in (groups or ())]
                if not ids:
                    await asyncio.sleep(at_most_s)
                    return
                # Wakes at once if anything lies past where the group has read.
                await self._db.client.xread(
                    {key: min(ids, key=_order)}, count=1, block=max(1, int(at_most_s * 1000))
                )
        except StorageUnavailableError:
            # The next read reports it; waiting must not spin while the server is away.
            await asyncio.sleep(at_most_s)
        except ResponseError:  # the stream vanished with a server that lost its data
            await asyncio.sleep(at_most_s)

    async def backlog(self) -> list[Backlog]:
        lags = []
        with unavailable():
            for stream in Stream:
                key = self._db.stream_key(stream)
                try:
                    infos = await self._db.client.xinfo_groups(key)
                except ResponseError:  # no such stream yet
                    continue
                for info in sorted(infos, key=lambda i: str(i["name"])):
                    unread = info.get("lag")
                    if unread is None:
                        # Redis cannot always tell (after deletions); count on the server.
                        unread = await self._db.script(_COUNT_AFTER)(
                            keys=[key], args=[text(info["last-delivered-id"])]
                        )
                    lags.append(
                        Backlog(stream, str(info["name"]), int(unread), int(info["pending"]))
                    )
        return lags

    async def redeliver(self, stream: Stream, group: str, consumer: str) -> None:
        self._recovered.discard((stream, group, consumer))

    async def dead_letter(
        self, stream: Stream, group: str, entries: Sequence[Entry], reason: str
    ) -> int:
        if not entries:
            return 0
        args: list[str | int] = [group, reason, repr(time.time())]
        for entry in entries:
            args += [entry.id, entry.body, entry.deliveries]
        with unavailable():
            moved = await self._db.script(_DEAD_LETTER)(
                keys=[self._db.stream_key(stream), self._db.dead_key(stream)], args=args
            )
        return int(moved)

    async def dead_letters(self, stream: Stream, limit: int = 1000) -> list[DeadLetter]:
        with unavailable():
            rows = await self._db.client.xrange(self._db.dead_key(stream), count=limit)
        letters = []
        for _, raw in rows or []:
            f = {text(k): text(v) for k, v in (raw or {}).items()}
            letters.append(
                DeadLetter(
                    stream, f["g"], f["id"], f["b"], f["reason"], int(f["n"]), float(f["at"])
                )
            )
        return letters

    async def trim(self, stream: Stream) -> int:
        with unavailable():
            dropped = await self._db.script(_TRIM)(
                keys=[self._db.stream_key(stream)], args=[FORGET_CONSUMERS_AFTER_S * 1000]
            )
        return int(dropped)
