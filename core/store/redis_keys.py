"""Where the Redis store keeps what, and the sortable members of its indexes.

Every record kind is a few hashes keyed by id plus sorted sets of members that sort as
SQLite's ORDER BY does: all scores are 0, so members sort byte by byte (as SQLite's
BINARY collation does) and a member is `time|insertion number|id`, the insertion number
standing for SQLite's rowid. All keys are fixed names, passed to scripts as KEYS.

An incident's `incident-body` is its header. Its alerts are the fields `sized id` + their
sequence number (the order they joined in, from 1) of `incident-members`, found by
fingerprint through `incident-member-seq` (`sized id` + fingerprint: that number), counted
in `incident-member-count`; its timeline entries likewise in `incident-timeline` and
`incident-timeline-count`; its tallies (`core.store.Changes.tallies`) in `incident-tallies`
under `sized id` + `sized dimension` + value.

Derived indexes, kept by the commit script as SQLite's transaction keeps its tables:
`incidents-due` holds `due_at NUL insertion number|id` of each unresolved incident with a
timer (NUL first, so a time sorts before any longer time it starts, as in SQLite);
`incident-resources` holds `sized resource` + id for each resource whose `failing` tally is
above 0 in that incident (readers skip resolved incidents);
`open-site-services` counts the incidents saying each `sized site` + service is down;
`tickets-due` holds `due_at NUL insertion number|id` of each ticket with a timer
(`ticket-due` remembers each one's member).

Alert volumes: `alert-volumes` holds `hour NUL sized source` + name of every counted hour,
source and name; `alert-volume-received` (and `-deduplicated`, `-suppressed`) count under it.

The delivery outbox `notification-outbox` and the timers `notify-states-due` are sorted
sets scored by epoch seconds, members the ids (ties sort by id, as SQLite's ORDER BY).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.bus import Stream
from core.redisdb import RedisDatabase

SEQ_DIGITS = 20


@dataclass(frozen=True, slots=True)
class StoreKeys:
    ids: str
    seq: str
    incident_body: str
    incident_members: str
    incident_member_seq: str
    incident_member_count: str
    incident_timeline: str
    incident_timeline_count: str
    incident_tallies: str
    incident_key: str
    incident_status: str
    incident_priority: str
    incident_service: str
    incident_name: str
    incident_member: str
    incident_open: str
    incidents_by_key: str
    incidents_by_time: str
    incident_due: str
    incidents_due: str
    incident_resources: str
    incident_site_service: str
    open_site_services: str
    alert_state: str
    ticket_body: str
    ticket_for: str
    tickets_by_time: str
    ticket_member: str
    ticket_due: str
    tickets_due: str
    notification_body: str
    notification_member: str
    notifications_by_time: str
    silence_body: str
    silence_member: str
    silences_by_time: str
    suppressions: str
    heartbeats: str
    alert_volumes: str
    alert_volume_received: str
    alert_volume_deduplicated: str
    alert_volume_suppressed: str
    markers: str
    notification_outbox: str
    notify_state_body: str
    notify_states_due: str

    @classmethod
    def of(cls, db: RedisDatabase) -> StoreKeys:
        return cls(**{name: db.key(name.replace("_", "-")) for name in cls.__dataclass_fields__})

    def fixed(self) -> list[str]:
        """The store's keys in a fixed order; the commit script reads them as KEYS[1..n]."""
        return [getattr(self, name) for name in self.__dataclass_fields__]


STORE_KEY_COUNT = len(StoreKeys.__dataclass_fields__)


def stream_keys(db: RedisDatabase) -> list[str]:
    """Each stream and its dead letters, after the store's keys: KEYS[n+1..]."""
    return [key for stream in Stream for key in (db.stream_key(stream), db.dead_key(stream))]


def key_prefix(correlation_key: str) -> str:
    """Start of every `incidents-by-key` member of `correlation_key`.

    The length in bytes first, so no key is the start of another's members, whatever
    bytes either holds."""
    return sized(correlation_key) + "\x00"


def sized(text: str) -> str:
    """`text` after its length in bytes: no sized text is the start of another's."""
    return f"{len(text.encode()):08d}:{text}"


def unsized(pair: str) -> tuple[str, str]:
    """The sized text at the start of `pair`, and what follows it."""
    raw = pair.encode()
    length = int(raw[:8])
    return raw[9 : 9 + length].decode(), raw[9 + length :].decode()


def ticket_pair(incident_id: str, backend: str) -> str:
    """The `ticket-for` field of one incident and backend, unambiguous whatever they hold."""
    return sized(incident_id) + backend


def member_id(member: str) -> str:
    """The id at the end of a `time|insertion number|id` member."""
    return member.split("|", 2)[2]


def volume_field(hour: str, source: str, name: str) -> str:
    """The `alert-volumes` member of one hour, source and name; sorts by hour first."""
    return f"{hour}\x00{sized(source)}{name}"


def volume_parts(member: str) -> tuple[str, str, str]:
    """Hour, source and name of an `alert-volumes` member."""
    hour, _, rest = member.partition("\x00")
    source, name = unsized(rest)
    return hour, source, name
