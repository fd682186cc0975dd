"""The Redis store's commit: one Lua script, so the whole of `Changes` happens or none of it.

The script checks everything before it writes anything (a Lua script is not rolled back
if it fails half-way): first that each acknowledged entry is still pending (else
NotPendingError), then that what the stage read is still there (else ConflictError),
then the uniqueness rules row by row in the order SQLite's indexes check them (one
non-resolved incident per correlation key, one ticket per incident and backend). Only
then does it write the state (and the indexes SQLite keeps in the same transaction:
timers, failing resources as their tallies cross zero, services per site), publish
downstream, bury dead letters and acknowledge.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from core.bus.redis import BURY_LUA
from core.redisdb import RedisDatabase
from core.store import Changes
from core.store.redis_keys import STORE_KEY_COUNT, StoreKeys, stream_keys, volume_field

_NAMES = ", ".join(name.upper() for name in StoreKeys.__dataclass_fields__)

COMMIT_LUA = (
    f"local {_NAMES} = unpack(KEYS, 1, {STORE_KEY_COUNT})\n"
    + BURY_LUA
    + """
local NUL = string.char(0)
local now = ARGV[1]
local at = 2
local function take()
  local v = ARGV[at]
  at = at + 1
  return v
end
local function records(width)
  local list = {}
  for _ = 1, tonumber(take()) do
    local r = {}
    for j = 1, width do r[j] = take() end
    list[#list + 1] = r
  end
  return list
end
local expected = records(3)
local incidents = records(10)
local members = records(3)
local timeline = records(2)
local tallies = records(4)
local states = records(2)
local tickets = records(6)
local notes = records(4)
local notify_states = records(3)
local silences = records(3)
local suppressions = records(1)
local heartbeats = records(2)
local volumes = records(4)
local markers = records(2)
local published = records(2)
local buried = records(8)
local acks = {}
for _ = 1, tonumber(take()) do
  local stream, group, n = KEYS[tonumber(take())], take(), tonumber(take())
  local ids = {}
  for j = 1, n do ids[j] = take() end
  acks[#acks + 1] = {stream, group, ids}
end

local function pending(stream, group, id)
  local p = redis.pcall('XPENDING', stream, group, id, id, 1)
  return type(p) == 'table' and p[1] ~= nil
end
local function sized(text)
  return string.format('%08d', #text) .. ':' .. text
end

-- 1. The input is still ours to acknowledge.
for _, a in ipairs(acks) do
  for _, id in ipairs(a[3]) do
    if not pending(a[1], a[2], id) then
      return {'stale', a[2] .. ' no longer holds ' .. id}
    end
  end
end
for _, d in ipairs(buried) do
  if not pending(KEYS[tonumber(d[1])], d[3], d[4]) then
    return {'stale', d[3] .. ' no longer holds ' .. d[4]}
  end
end

-- 2. What the stage read is still what is stored.
local BODIES = {incident = INCIDENT_BODY, alert_state = ALERT_STATE, ticket = TICKET_BODY,
                notification = NOTIFICATION_BODY, notify_state = NOTIFY_STATE_BODY}
for _, e in ipairs(expected) do
  local stored = redis.call('HGET', BODIES[e[1]], e[2])
  local digest = ''
  if stored then digest = redis.sha1hex(stored) end
  if digest ~= e[3] then
    return {'conflict', e[1] .. ' ' .. e[2] .. ' changed since it was read'}
  end
end

-- 3. Uniqueness, row by row.
local open = {}
local function holder(key)
  if open[key] == nil then open[key] = redis.call('HGET', INCIDENT_OPEN, key) end
  return open[key]
end
for _, i in ipairs(incidents) do
  local id, key, status = i[1], i[2], i[3]
  local old_key = redis.call('HGET', INCIDENT_KEY, id)
  if old_key and holder(old_key) == id then open[old_key] = false end
  if status ~= 'resolved' then
    local h = holder(key)
    if h and h ~= id then
      return {'conflict', 'incident ' .. h .. ' is already open for key ' .. key}
    end
    open[key] = id
  end
end
local owners = {}
for _, t in ipairs(tickets) do
  if redis.call('HEXISTS', TICKET_BODY, t[1]) == 0 then
    local pair = sized(t[2]) .. t[3]
    if owners[pair] == nil then owners[pair] = redis.call('HGET', TICKET_FOR, pair) end
    if owners[pair] and owners[pair] ~= t[1] then
      return {'conflict', 'ticket ' .. owners[pair] .. ' already exists for ' .. t[2]}
    end
    owners[pair] = t[1]
  end
end

-- 4. Write.
local function member(time, id)
  return time .. '|' .. string.format('%020d', redis.call('INCR', SEQ)) .. '|' .. id
end
for _, i in ipairs(incidents) do
  local id, key, status, priority, service, opened, body, down_site, due, name = unpack(i)
  local m = redis.call('HGET', INCIDENT_MEMBER, id)
  if m then
    local old_key = redis.call('HGET', INCIDENT_KEY, id)
    if old_key ~= key then
      redis.call('ZREM', INCIDENTS_BY_KEY, sized(old_key) .. NUL .. m)
      redis.call('ZADD', INCIDENTS_BY_KEY, 0, sized(key) .. NUL .. m)
    end
    if redis.call('HGET', INCIDENT_OPEN, old_key) == id then
      redis.call('HDEL', INCIDENT_OPEN, old_key)
    end
  else
    m = member(opened, id)
    redis.call('HSET', INCIDENT_MEMBER, id, m)
    redis.call('ZADD', INCIDENTS_BY_TIME, 0, m)
    redis.call('ZADD', INCIDENTS_BY_KEY, 0, sized(key) .. NUL .. m)
  end
  redis.call('HSET', INCIDENT_BODY, id, body)
  redis.call('HSET', INCIDENT_KEY, id, key)
  redis.call('HSET', INCIDENT_STATUS, id, status)
  redis.call('HSET', INCIDENT_PRIORITY, id, priority)
  redis.call('HSET', INCIDENT_SERVICE, id, service)
  redis.call('HSET', INCIDENT_NAME, id, name)
  if status ~= 'resolved' then redis.call('HSET', INCIDENT_OPEN, key, id) end
  -- Its timer: due_at of an unresolved incident, in the order of SQLite's (due_at, rowid).
  local old_due = redis.call('HGET', INCIDENT_DUE, id)
  if old_due then
    redis.call('ZREM', INCIDENTS_DUE, old_due)
    redis.call('HDEL', INCIDENT_DUE, id)
  end
  if due ~= '' and status ~= 'resolved' then
    local due_member = due .. NUL .. string.match(m, '^[^|]*|([^|]*)|') .. '|' .. id
    redis.call('ZADD', INCIDENTS_DUE, 0, due_member)
    redis.call('HSET', INCIDENT_DUE, id, due_member)
  end
  -- Its service, counted at its site while it says the service is down (Incident.down_site).
  local old_pair = redis.call('HGET', INCIDENT_SITE_SERVICE, id)
  if old_pair then
    if redis.call('HINCRBY', OPEN_SITE_SERVICES, old_pair, -1) <= 0 then
      redis.call('HDEL', OPEN_SITE_SERVICES, old_pair)
    end
    redis.call('HDEL', INCIDENT_SITE_SERVICE, id)
  end
  if down_site ~= '' then
    local pair = sized(down_site) .. service
    redis.call('HSET', INCIDENT_SITE_SERVICE, id, pair)
    redis.call('HINCRBY', OPEN_SITE_SERVICES, pair, 1)
  end
end
-- Its alerts by fingerprint, numbered in the order they joined; its timeline in order.
for _, r in ipairs(members) do
  local id, fingerprint, body = unpack(r)
  local field = sized(id) .. fingerprint
  local seq = redis.call('HGET', INCIDENT_MEMBER_SEQ, field)
  if not seq then
    seq = redis.call('HINCRBY', INCIDENT_MEMBER_COUNT, id, 1)
    redis.call('HSET', INCIDENT_MEMBER_SEQ, field, seq)
  end
  redis.call('HSET', INCIDENT_MEMBERS, sized(id) .. seq, body)
end
for _, r in ipairs(timeline) do
  local id, body = unpack(r)
  local seq = redis.call('HINCRBY', INCIDENT_TIMELINE_COUNT, id, 1)
  redis.call('HSET', INCIDENT_TIMELINE, sized(id) .. seq, body)
end
-- Tallies; a resource enters (leaves) the failing index as its tally rises above (falls to) 0.
for _, r in ipairs(tallies) do
  local id, dim, value, n = r[1], r[2], r[3], tonumber(r[4])
  local after = redis.call('HINCRBY', INCIDENT_TALLIES, sized(id) .. sized(dim) .. value, n)
  if dim == 'failing' then
    if after > 0 and after - n <= 0 then
      redis.call('ZADD', INCIDENT_RESOURCES, 0, sized(value) .. id)
    elseif after <= 0 and after - n > 0 then
      redis.call('ZREM', INCIDENT_RESOURCES, sized(value) .. id)
    end
  end
end
for _, s in ipairs(silences) do
  local id, created, body = unpack(s)
  -- INSERT OR REPLACE: a replaced silence sorts as a new row would.
  local old = redis.call('HGET', SILENCE_MEMBER, id)
  if old then redis.call('ZREM', SILENCES_BY_TIME, old) end
  local m = member(created, id)
  redis.call('HSET', SILENCE_MEMBER, id, m)
  redis.call('ZADD', SILENCES_BY_TIME, 0, m)
  redis.call('HSET', SILENCE_BODY, id, body)
end
for _, s in ipairs(suppressions) do
  redis.call('RPUSH', SUPPRESSIONS, s[1])
end
for _, h in ipairs(heartbeats) do
  redis.call('HSET', HEARTBEATS, h[1], h[2])
end
for _, s in ipairs(states) do
  redis.call('HSET', ALERT_STATE, s[1], s[2])
end
for _, v in ipairs(volumes) do
  redis.call('ZADD', ALERT_VOLUMES, 0, v[1])
  redis.call('HINCRBY', ALERT_VOLUME_RECEIVED, v[1], v[2])
  redis.call('HINCRBY', ALERT_VOLUME_DEDUPLICATED, v[1], v[3])
  redis.call('HINCRBY', ALERT_VOLUME_SUPPRESSED, v[1], v[4])
end
for _, m in ipairs(markers) do
  redis.call('HSET', MARKERS, m[1], m[2])
end
for _, t in ipairs(tickets) do
  local id, incident_id, backend, created, body, due = unpack(t)
  local tm = redis.call('HGET', TICKET_MEMBER, id)
  if not tm then
    tm = member(created, id)
    -- A ticket written before members were remembered is already listed.
    if redis.call('HEXISTS', TICKET_BODY, id) == 0 then
      redis.call('HSET', TICKET_FOR, sized(incident_id) .. backend, id)
      redis.call('ZADD', TICKETS_BY_TIME, 0, tm)
    end
    redis.call('HSET', TICKET_MEMBER, id, tm)
  end
  redis.call('HSET', TICKET_BODY, id, body)
  -- Its timer, in the order of SQLite's (due_at, rowid).
  local old_due = redis.call('HGET', TICKET_DUE, id)
  if old_due then
    redis.call('ZREM', TICKETS_DUE, old_due)
    redis.call('HDEL', TICKET_DUE, id)
  end
  if due ~= '' then
    local due_member = due .. NUL .. string.match(tm, '^[^|]*|([^|]*)|') .. '|' .. id
    redis.call('ZADD', TICKETS_DUE, 0, due_member)
    redis.call('HSET', TICKET_DUE, id, due_member)
  end
end
for _, n in ipairs(notes) do
  local id, when, body, due = unpack(n)
  -- INSERT OR REPLACE: a replaced notification sorts as a new row would.
  local old = redis.call('HGET', NOTIFICATION_MEMBER, id)
  if old then redis.call('ZREM', NOTIFICATIONS_BY_TIME, old) end
  local m = member(when, id)
  redis.call('HSET', NOTIFICATION_MEMBER, id, m)
  redis.call('ZADD', NOTIFICATIONS_BY_TIME, 0, m)
  redis.call('HSET', NOTIFICATION_BODY, id, body)
  -- The delivery outbox holds the pending ones, by their next attempt.
  if due == '' then
    redis.call('ZREM', NOTIFICATION_OUTBOX, id)
  else
    redis.call('ZADD', NOTIFICATION_OUTBOX, due, id)
  end
end
for _, s in ipairs(notify_states) do
  local id, due, body = unpack(s)
  redis.call('HSET', NOTIFY_STATE_BODY, id, body)
  if due == '' then
    redis.call('ZREM', NOTIFY_STATES_DUE, id)
  else
    redis.call('ZADD', NOTIFY_STATES_DUE, due, id)
  end
end
for _, p in ipairs(published) do
  redis.call('XADD', KEYS[tonumber(p[1])], '*', 'b', p[2], 't', now)
end
for _, d in ipairs(buried) do
  bury(KEYS[tonumber(d[1])], KEYS[tonumber(d[2])], d[3], d[4], d[5], d[6], d[7], d[8])
end
for _, a in ipairs(acks) do
  for _, id in ipairs(a[3]) do redis.call('XACK', a[1], a[2], id) end
end
return {'ok'}
"""
)


def digest(body: str) -> str:
    """What the script compares a stored body with: redis.sha1hex of the same bytes."""
    return hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()


def pack(changes: Changes, db: RedisDatabase) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of the commit script for `changes`."""
    keys = StoreKeys.of(db).fixed() + stream_keys(db)
    args: list[str | int] = [repr(time.time()), len(changes.expected)]
    for (kind, key), read in changes.expected.items():
        args += [kind, key, "" if read is None else digest(read)]
    args += _state(changes)
    args += _deliveries(changes, db, {key: index for index, key in enumerate(keys, start=1)})
    return keys, args


def _incidents(changes: Changes) -> list[str | int]:
    """Headers, then alerts, timeline entries and tallies."""
    args: list[str | int] = [len(changes.incidents)]
    for i in changes.incidents:
        args += [i.id, i.key, i.status.value, i.priority.value, i.service,
                 i.opened_at.isoformat(), i.model_dump_json(), i.down_site,
                 i.due_at.isoformat() if i.due_at else "", i.title_name]  # fmt: skip
    args.append(len(changes.members))
    for incident_id, alert in changes.members:
        args += [incident_id, alert.fingerprint, alert.model_dump_json()]
    args.append(len(changes.timeline))
    for incident_id, entry in changes.timeline:
        args += [incident_id, entry.model_dump_json()]
    tallies = [(key, n) for key, n in changes.tallies.items() if n]
    args.append(len(tallies))
    for (incident_id, dim, value), count in tallies:
        args += [incident_id, dim, value, count]
    return args


def _state(changes: Changes) -> list[str | int]:
    args = _incidents(changes)
    args.append(len(changes.alert_states))
    for s in changes.alert_states:
        args += [s.fingerprint, s.model_dump_json()]
    args.append(len(changes.tickets))
    for t in changes.tickets:
        args += [t.id, t.incident_id, t.backend, t.created_at.isoformat(), t.model_dump_json(),
                 t.due_at.isoformat() if t.due_at else ""]  # fmt: skip
    args.append(len(changes.notifications))
    for n in changes.notifications:
        args += [n.id, n.at.isoformat(), n.model_dump_json(), _score(n.next_attempt_at)]
    args.append(len(changes.notify_states))
    for state in changes.notify_states:
        args += [state.incident_id, _score(state.due_at), state.model_dump_json()]
    args.append(len(changes.silences))
    for silence in changes.silences:
        args += [silence.id, silence.created_at.isoformat(), silence.model_dump_json()]
    args.append(len(changes.suppressions))
    args += [suppression.model_dump_json() for suppression in changes.suppressions]
    args.append(len(changes.heartbeats))
    for name, at in changes.heartbeats.items():
        args += [name, at.isoformat()]
    args.append(len(changes.alert_volumes))
    for v in changes.alert_volumes:
        args += [volume_field(v.hour.isoformat(), v.source, v.name),
                 v.received, v.deduplicated, v.suppressed]  # fmt: skip
    args.append(len(changes.markers))
    for name, value in changes.markers.items():
        args += [name, value]
    return args


def _score(at: datetime | None) -> str:
    """A time as a sorted-set score (epoch seconds, exact to the microsecond); '' for none."""
    return "" if at is None else repr(at.timestamp())


def _deliveries(changes: Changes, db: RedisDatabase, where: dict[str, int]) -> list[str | int]:
    """Entries published, buried and acknowledged; streams as their places in KEYS."""
    args: list[str | int] = [len(changes.publish)]
    for stream, body in changes.publish:
        args += [where[db.stream_key(stream)], body]
    args.append(len(changes.dead_letters))
    for d in changes.dead_letters:
        args += [where[db.stream_key(d.stream)], where[db.dead_key(d.stream)], d.group,
                 d.entry_id, d.body, d.reason, d.deliveries, repr(d.at)]  # fmt: skip
    args.append(len(changes.acks))
    for ack in changes.acks:
        args += [where[db.stream_key(ack.stream)], ack.group, len(ack.ids), *ack.ids]
    return args
