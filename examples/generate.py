"""Writes the replay recordings of examples/: `python examples/generate.py`.

Each scenario is a story told in the payloads its monitoring systems really send
(Alertmanager webhook groups, Zabbix media-type events, Nagios notifications). Nothing here is
random: running it again rewrites every file byte for byte, and a test checks that it does.
The expected outcomes (expected.json) and the READMEs are written by hand, not generated.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
"""What Alertmanager writes as the end of an alert that has not ended."""

ZABBIX_ZONE = "Europe/Madrid"
"""The example centre's Zabbix server runs on Madrid time and says so in event_timezone."""

ZABBIX_SEVERITY_NUMBERS = {"Information": "1", "Warning": "2", "Average": "3", "High": "4",
                           "Disaster": "5"}  # fmt: skip

Json = dict[str, object]


def utc(day: str, clock: str) -> datetime:
    """A moment written as '2026-11-20', '08:00:00' (UTC)."""
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Recording:
    """The requests a Sereno would have received, one JSON line each, in order."""

    lines: list[tuple[datetime, str, Json]] = field(default_factory=list)

    def add(self, at: datetime, source: str, payload: Json) -> None:
        self.lines.append((at, source, payload))

    def text(self) -> str:
        ordered = sorted(self.lines, key=lambda line: line[0])  # stable: same moment, same order
        return "".join(
            json.dumps({"at": stamp(at), "source": source, "payload": payload},
                       ensure_ascii=False) + "\n"
            for at, source, payload in ordered
        )  # fmt: skip


# --- Alertmanager (webhook version 4) -------------------------------------------------------


@dataclass(frozen=True)
class PromAlert:
    """One Prometheus alert as Alertmanager holds it: its labels, since when, until when."""

    labels: tuple[tuple[str, str], ...]
    summary: str
    starts_at: datetime
    ends_at: datetime | None = None

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def resolved(self, at: datetime) -> PromAlert:
        return PromAlert(self.labels, self.summary, self.starts_at, at)


def prom_alert(summary: str, starts_at: datetime, **labels: str) -> PromAlert:
    return PromAlert(tuple(sorted(labels.items())), summary, starts_at)


def _am_fingerprint(labels: dict[str, str]) -> str:
    # Alertmanager's fingerprint is a 64-bit hash of the label set in 16 hex digits: this one
    # has its shape and, like it, is the same for the same labels (not its value).
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def am_webhook(group_by: Iterable[str], alerts: list[PromAlert]) -> Json:
    """One Alertmanager notification of one group: every alert the group holds, firing or
    just resolved, as Alertmanager sends it at each group_interval, in its order (by job,
    then instance, then the whole label set)."""
    alerts = sorted(alerts, key=lambda a: (a.label_map.get("job", ""),
                                           a.label_map.get("instance", ""), a.labels))  # fmt: skip
    maps = [a.label_map for a in alerts]
    group_labels = {name: maps[0][name] for name in group_by if name in maps[0]}
    common = {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps)}
    group_key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items())) + "}"
    firing = any(a.ends_at is None for a in alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "sereno",
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.org:9093",
        "alerts": [
            {
                "status": "firing" if a.ends_at is None else "resolved",
                "labels": a.label_map,
                "annotations": {"summary": a.summary},
                "startsAt": stamp(a.starts_at),
                "endsAt": GO_ZERO_TIME if a.ends_at is None else stamp(a.ends_at),
                "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr="
                f"ALERTS%7Balertname%3D%22{a.label_map['alertname']}%22%7D",
                "fingerprint": _am_fingerprint(a.label_map),
            }
            for a in alerts
        ],
    }


# --- Zabbix (media type contrib/zabbix/media_type_sereno.yaml) -------------------------------


@dataclass(frozen=True)
class ZabbixProblem:
    """One Zabbix problem event: the same event id in its problem and recovery messages."""

    event_id: int
    name: str
    host: str
    severity: str
    started: datetime
    trigger_id: int
    tags: tuple[tuple[str, str], ...] = ()
    opdata: str = ""

    def _local(self, moment: datetime) -> tuple[str, str]:
        local = moment.astimezone(ZoneInfo(ZABBIX_ZONE))
        return local.strftime("%Y.%m.%d"), local.strftime("%H:%M:%S")

    def event(self, recovered: datetime | None = None) -> Json:
        date, time = self._local(self.started)
        recovery_date, recovery_time = (
            self._local(recovered) if recovered else ("{EVENT.RECOVERY.DATE}",
                                                      "{EVENT.RECOVERY.TIME}")
        )  # fmt: skip
        return {
            "event_date": date,
            "event_id": str(self.event_id),
            "event_name": self.name,
            "event_nseverity": ZABBIX_SEVERITY_NUMBERS[self.severity],
            "event_opdata": self.opdata,
            "event_recovery_date": recovery_date,
            "event_recovery_time": recovery_time,
            "event_severity": self.severity,
            "event_tags": json.dumps([{"tag": t, "value": v} for t, v in self.tags],
                                     separators=(",", ":")),
            "event_time": time,
            "event_timezone": ZABBIX_ZONE,
            "event_update_action": "{EVENT.UPDATE.ACTION}",
            "event_update_message": "{EVENT.UPDATE.MESSAGE}",
            "event_update_status": "0",
            "event_update_user": "{USER.FULLNAME}",
            "event_value": "0" if recovered else "1",
            "host_host": self.host,
            "host_ip": _address(self.host),
            "host_name": self.host,
            "sereno_url": "https://sereno.example.org",
            "trigger_description": f"{self.name}. Check the host and its network path.",
            "trigger_id": str(self.trigger_id),
            "zabbix_url": "https://zabbix.example.org/zabbix/",
        }  # fmt: skip


def _address(host: str) -> str:
    """A documentation address (RFC 5737) that stays the same for the same host."""
    number = int(hashlib.sha256(host.encode()).hexdigest()[:4], 16) % 250 + 2
    return f"198.51.100.{number}"


# --- Nagios / Icinga (contrib/nagios/sereno-notify) ------------------------------------------


def nagios(kind: str, host: str, service: str, state: str, output: str, at: datetime) -> Json:
    return {
        "source": "nagios",
        "type": kind,
        "host": host,
        "host_address": _address(host),
        "service": service,
        "state": state,
        "output": output,
        "long_output": "",
        "author": "",
        "comment": "",
        "timestamp": int(at.timestamp()),
    }


# --- the Watchdog ----------------------------------------------------------------------------


def watchdog(recording: Recording, since: datetime, until: datetime) -> None:
    """Prometheus's always-firing Watchdog, re-sent by Alertmanager every 5 minutes: a sign of
    life that opens nothing. It also keeps a recording's clock running past its last alert,
    as a live system's clock runs, so hold-downs and calm periods can end."""
    dog = prom_alert(
        "Alerting pipeline is alive", since - timedelta(minutes=1),
        alertname="Watchdog", severity="none", prometheus="monitoring/k8s",
    )  # fmt: skip
    at = since
    while at <= until:
        recording.add(at, "alertmanager", am_webhook(["alertname"], [dog]))
        at += timedelta(minutes=5)


# --- scenarios -------------------------------------------------------------------------------

DAY = "2026-11-20"  # a Friday: no maintenance window of rules/maintenance.yaml is open


def switch_outage() -> Recording:
    """Core switch sw-mad-core-1 fails at 08:00:00; the 300 hosts behind it alert within 90 s
    from Zabbix (ICMP) and Alertmanager (node exporter), a few of them 20 s before the
    switch's own alert. Everything recovers at 08:20."""
    rec = Recording()
    switch_down = utc(DAY, "08:00:00")
    servers = [f"srv-mad-{n:03d}" for n in range(1, 181)]
    webs = [f"web-{n:03d}" for n in range(1, 91)]
    mails = [f"mail-{n:02d}" for n in range(1, 31)]

    def ping(number: int, host: str, at: datetime) -> ZabbixProblem:
        return ZabbixProblem(
            40_000 + number, "Unavailable by ICMP ping", host, "High", at, 20_000 + number,
            tags=(("component", "network"), ("scope", "availability")),
            opdata="Packet loss: 100%",
        )  # fmt: skip

    switch = ping(0, "sw-mad-core-1", switch_down)
    # Zabbix polls the first servers 20 s before it polls the switch.
    early = [ping(i + 1, host, switch_down - timedelta(seconds=20 - i)) for i, host in
             enumerate(servers[:3])]  # fmt: skip
    # The other 177 servers from 08:00:02 to 08:01:10, two or three a second.
    later = [
        ping(i + 4, host, switch_down + timedelta(seconds=2 + (i * 68) // 176))
        for i, host in enumerate(servers[3:])
    ]
    servers_down = [*early, switch, *later]
    for problem in servers_down:
        rec.add(problem.started, "zabbix", problem.event())

    def instance_down(host: str, service: str, since: datetime) -> PromAlert:
        return prom_alert(f"{host}.example.org:9100 has been down for more than 30 seconds.",
                          since, alertname="InstanceDown", instance=f"{host}.example.org:9100",
                          job="node", service=service, severity="critical")  # fmt: skip

    group_by = ["alertname", "service"]
    # Alertmanager (group_wait 30s, group_interval 30s) sends each group as it grows.
    web_down = [instance_down(h, "citizen-portal", switch_down - timedelta(seconds=50))
                for h in webs]  # fmt: skip
    mail_down = [instance_down(h, "email", switch_down - timedelta(seconds=10)) for h in mails]
    web_sends = [("07:59:45", 12), ("08:00:15", 50), ("08:00:45", 90), ("08:01:15", 90)]
    for clock, count in web_sends:
        rec.add(utc(DAY, clock), "alertmanager", am_webhook(group_by, web_down[:count]))
    for clock, count in [("08:00:20", 20), ("08:00:50", 30)]:
        rec.add(utc(DAY, clock), "alertmanager", am_webhook(group_by, mail_down[:count]))

    # Recovery: the switch first, then everything behind it.
    switch_up = utc(DAY, "08:20:00")
    rec.add(switch_up, "zabbix", switch.event(recovered=switch_up))
    for i, problem in enumerate(p for p in servers_down if p is not switch):
        up = switch_up + timedelta(seconds=30 + (i * 60) // 179)
        rec.add(up, "zabbix", problem.event(recovered=up))
    web_up = [a.resolved(utc(DAY, "08:20:10")) for a in web_down]
    rec.add(utc(DAY, "08:20:40"), "alertmanager", am_webhook(group_by, web_up))
    mail_up = [a.resolved(utc(DAY, "08:20:12")) for a in mail_down]
    rec.add(utc(DAY, "08:20:45"), "alertmanager", am_webhook(group_by, mail_up))
    return rec


def switch_same_group() -> Recording:
    """Core switch sw-tol-core-1 of the Toledo data centre fails at 10:00. Alertmanager's
    blackbox ICMP probes watch the switch and the servers behind it alike, so they all alert
    in one group, the servers (srv-tol-*) listed before the switch (sw-tol-core-1)."""
    rec = Recording()
    down = utc(DAY, "10:00:00")

    def unreachable(host: str) -> PromAlert:
        return prom_alert(f"ICMP probe of {host} failed", down - timedelta(seconds=30),
                          alertname="ProbeFailure", instance=host, job="icmp",
                          severity="critical")  # fmt: skip

    switch = unreachable("sw-tol-core-1")
    servers = [unreachable(f"srv-tol-{n:03d}") for n in range(1, 41)]
    rec.add(down, "alertmanager", am_webhook(["alertname"], [switch, *servers[:15]]))
    everything = [switch, *servers]
    rec.add(utc(DAY, "10:00:30"), "alertmanager", am_webhook(["alertname"], everything))
    recovered = [a.resolved(utc(DAY, "10:24:30")) for a in everything]
    rec.add(utc(DAY, "10:25:00"), "alertmanager", am_webhook(["alertname"], recovered))
    return rec


def maintenance() -> Recording:
    """Sunday night's full backups (window weekly-backups, 01:00-05:00 Madrid = 00:00-04:00
    UTC in November) make the billing and portal databases slow: nothing opens. After 05:00
    Madrid, an alert still firing and a new one open incidents as usual."""
    day = "2026-11-22"  # a Sunday
    rec = Recording()
    group_by = ["alertname", "service"]

    def slow(host: str) -> PromAlert:
        return prom_alert(f"MySQL on {host} has more than 10 slow queries a second",
                          utc(day, "03:29:30"), alertname="MySQLSlowQueries",
                          instance=f"{host}.example.org:9104", job="mysqld",
                          service="portal-db", severity="warning")  # fmt: skip

    portal = [slow("db-portal-1"), slow("db-portal-2")]
    rec.add(utc(day, "03:30:00"), "alertmanager", am_webhook(group_by, portal))
    billing_db = ZabbixProblem(
        51_001, "MySQL: Slow queries detected", "DB-1.corp.example", "Warning",
        utc(day, "03:32:00"), 31_001, tags=(("service", "billing"), ("class", "database")),
        opdata="Slow queries: 14/s",
    )  # fmt: skip
    rec.add(billing_db.started, "zabbix", billing_db.event())
    load = prom_alert("Load average on bill-02 is above 4 per core", utc(day, "03:34:30"),
                      alertname="NodeHighLoad", instance="bill-02.example.org:9100",
                      job="node", service="billing", severity="warning")  # fmt: skip
    rec.add(utc(day, "03:35:00"), "alertmanager", am_webhook(group_by, [load]))
    rec.add(utc(day, "03:50:00"), "alertmanager",
            am_webhook(group_by, [a.resolved(utc(day, "03:49:30")) for a in portal]))  # fmt: skip
    rec.add(utc(day, "03:52:00"), "zabbix", billing_db.event(recovered=utc(day, "03:52:00")))
    # 05:05 Madrid: the window has closed. The load alert is still firing (Alertmanager's
    # repeat_interval of 30m sends it again) and a new slow-query alert fires.
    rec.add(utc(day, "04:05:00"), "alertmanager", am_webhook(group_by, [load]))
    again = prom_alert(portal[0].summary, utc(day, "04:09:30"), **portal[0].label_map)
    rec.add(utc(day, "04:10:00"), "alertmanager", am_webhook(group_by, [again]))
    return rec


def flapping() -> Recording:
    """The VPN tunnel to the Toledo site goes down and up 20 times in an hour (40 changes of
    state), then stays up."""
    rec = Recording()
    start = utc(DAY, "10:00:00")
    tunnel = prom_alert("IPsec tunnel vpn-gw-1 to Toledo is down", start,
                        alertname="VPNTunnelDown", instance="vpn-gw-1.example.org:9100",
                        job="vpn", service="vpn", severity="warning")  # fmt: skip
    for pair in range(20):
        down = start + timedelta(minutes=3 * pair)
        up = down + timedelta(seconds=90)
        fired = PromAlert(tunnel.labels, tunnel.summary, down)
        rec.add(down, "alertmanager", am_webhook(["alertname", "service"], [fired]))
        rec.add(up, "alertmanager", am_webhook(["alertname", "service"], [fired.resolved(up)]))
    watchdog(rec, start, utc(DAY, "11:35:00"))
    return rec


def flapping_zabbix() -> Recording:
    """The same flapping uplink, seen by Zabbix: each time it goes down is a new problem with
    a new event id, so no single alert ever changes state more than twice."""
    rec = Recording()
    start = utc(DAY, "10:00:00")
    for pair in range(20):
        down = start + timedelta(minutes=3 * pair)
        up = down + timedelta(seconds=90)
        problem = ZabbixProblem(
            70_001 + pair, "Interface Gi0/1(uplink to Toledo): Link down", "vpn-gw-1",
            "Average", down, 24_501, tags=(("component", "network"), ("interface", "Gi0/1")),
            opdata="Current state: down (2)",
        )  # fmt: skip
        rec.add(down, "zabbix", problem.event())
        rec.add(up, "zabbix", problem.event(recovered=up))
    watchdog(rec, start, utc(DAY, "11:35:00"))
    return rec


def crisis() -> Recording:
    """Email (55,000 users) fails at 09:00 for three hours: SMTP and IMAP probes of every mail
    server fail, one server briefly recovers and fails again, all recover at 12:00."""
    rec = Recording()
    group_by = ["alertname", "service"]

    def probe(host: str, port: int, since: str) -> PromAlert:
        protocol = {25: "SMTP", 993: "IMAPS"}[port]
        return prom_alert(f"{protocol} probe of {host}:{port} failed", utc(DAY, since),
                          alertname="ProbeFailure", instance=f"{host}:{port}",
                          job="blackbox", service="email", severity="critical")  # fmt: skip

    first = [probe("mail-01", 25, "08:59:30"), probe("mail-01", 993, "08:59:30")]
    rest = [probe("mail-02", 25, "09:00:00"), probe("mail-02", 993, "09:00:00"),
            probe("mx-01", 25, "09:00:00")]  # fmt: skip
    everything = [*first, *rest]
    rec.add(utc(DAY, "09:00:00"), "alertmanager", am_webhook(group_by, first))
    rec.add(utc(DAY, "09:00:30"), "alertmanager", am_webhook(group_by, everything))
    rec.add(utc(DAY, "10:00:30"), "alertmanager", am_webhook(group_by, everything))  # repeat
    mx_back = [*everything[:4], everything[4].resolved(utc(DAY, "10:19:30"))]
    rec.add(utc(DAY, "10:20:00"), "alertmanager", am_webhook(group_by, mx_back))
    # mx-01 fails again after two hours: the incident changes while the rule long-p1 (a P1
    # open longer than 2h) holds, and the crisis is still not declared a second time.
    mx_again = [*everything[:4], probe("mx-01", 25, "11:14:30")]
    rec.add(utc(DAY, "11:15:00"), "alertmanager", am_webhook(group_by, mx_again))
    rec.add(utc(DAY, "11:35:00"), "alertmanager", am_webhook(group_by, mx_again))  # repeat
    recovered = [a.resolved(utc(DAY, "11:59:30")) for a in mx_again]
    rec.add(utc(DAY, "12:00:00"), "alertmanager", am_webhook(group_by, recovered))
    return rec


def cross_source() -> Recording:
    """The same host seen by several monitoring systems, each naming it its own way."""
    rec = Recording()
    mysql = ZabbixProblem(
        28_341, "MySQL: Service is down", "DB-1.corp.example", "High", utc(DAY, "07:58:12"),
        23_107, tags=(("class", "database"), ("service", "billing")),
        opdata="Current value: 0",
    )  # fmt: skip
    rec.add(utc(DAY, "07:58:15"), "zabbix", mysql.event())
    exporter = prom_alert("MySQL on db-1:9104 is down", utc(DAY, "07:58:20"),
                          alertname="MySQLDown", instance="db-1:9104", job="mysqld",
                          severity="critical")  # fmt: skip
    rec.add(utc(DAY, "07:58:50"), "alertmanager", am_webhook(["alertname"], [exporter]))
    rec.add(utc(DAY, "07:59:02"), "nagios",
            nagios("PROBLEM", "db-1.corp.example", "MySQL", "CRITICAL",
                   "Can't connect to MySQL server on 'db-1.corp.example' (111)",
                   utc(DAY, "07:59:01")))  # fmt: skip
    # Another host, the other way round: Prometheus first, Zabbix second.
    disk = prom_alert("Filesystem / on pay-01:9100 has 3% space left", utc(DAY, "08:04:30"),
                      alertname="NodeFilesystemAlmostFull", instance="pay-01:9100",
                      job="node", severity="error")  # fmt: skip
    rec.add(utc(DAY, "08:05:00"), "alertmanager", am_webhook(["alertname"], [disk]))
    space = ZabbixProblem(
        28_377, "/: Disk space is critically low (used > 95%)", "PAY-01.corp.example",
        "Average", utc(DAY, "08:05:40"), 23_180, tags=(("component", "storage"),),
        opdata="Space used: 97.1% of 40 GB",
    )  # fmt: skip
    rec.add(utc(DAY, "08:05:42"), "zabbix", space.event())
    # Recovery, each system in its own time.
    rec.add(utc(DAY, "08:20:00"), "zabbix", mysql.event(recovered=utc(DAY, "08:19:58")))
    rec.add(utc(DAY, "08:20:30"), "alertmanager",
            am_webhook(["alertname"], [exporter.resolved(utc(DAY, "08:20:05"))]))  # fmt: skip
    rec.add(utc(DAY, "08:21:00"), "nagios",
            nagios("RECOVERY", "db-1.corp.example", "MySQL", "OK",
                   "Uptime: 95 Threads: 2 Questions: 41", utc(DAY, "08:20:59")))  # fmt: skip
    return rec


def monitor_silent() -> Recording:
    """Prometheus's Watchdog arrives every 5 minutes, stops for 30 minutes (Prometheus is
    down), then comes back."""
    rec = Recording()
    watchdog(rec, utc(DAY, "08:00:00"), utc(DAY, "08:30:00"))
    watchdog(rec, utc(DAY, "09:00:00"), utc(DAY, "09:10:00"))
    return rec


def hold_down() -> Recording:
    """Payroll's web front fails; it recovers for 30 s and fails again, then recovers for
    good. Replayed with hold_down: 2m (examples/hold-down/rules)."""
    rec = Recording()
    group_by = ["alertname", "service"]
    probe = prom_alert("HTTPS probe of pay-01 failed: 502 Bad Gateway", utc(DAY, "07:59:30"),
                       alertname="ProbeFailure", instance="pay-01:443", job="blackbox",
                       service="payroll", severity="critical")  # fmt: skip
    rec.add(utc(DAY, "08:00:00"), "alertmanager", am_webhook(group_by, [probe]))
    rec.add(utc(DAY, "08:10:00"), "alertmanager",
            am_webhook(group_by, [probe.resolved(utc(DAY, "08:09:50"))]))  # fmt: skip
    blip = PromAlert(probe.labels, probe.summary, utc(DAY, "08:10:20"))
    rec.add(utc(DAY, "08:10:30"), "alertmanager", am_webhook(group_by, [blip]))
    rec.add(utc(DAY, "08:30:00"), "alertmanager",
            am_webhook(group_by, [blip.resolved(utc(DAY, "08:29:50"))]))  # fmt: skip
    watchdog(rec, utc(DAY, "08:00:00"), utc(DAY, "08:40:00"))
    return rec


def reopen() -> Recording:
    """Tax collection's web front fails its HTTP check, recovers, fails again 15 minutes
    later (the same incident reopens), then once more 45 minutes after that (a new one)."""
    rec = Recording()
    events = [
        ("08:00:00", "PROBLEM", "CRITICAL", "HTTP CRITICAL: HTTP/1.1 503 Service Unavailable"),
        ("08:10:00", "RECOVERY", "OK", "HTTP OK: HTTP/1.1 200 OK - 10975 bytes"),
        ("08:25:00", "PROBLEM", "CRITICAL", "HTTP CRITICAL: HTTP/1.1 503 Service Unavailable"),
        ("08:30:00", "RECOVERY", "OK", "HTTP OK: HTTP/1.1 200 OK - 10975 bytes"),
        ("09:15:00", "PROBLEM", "CRITICAL", "HTTP CRITICAL: Connection refused"),
        ("09:20:00", "RECOVERY", "OK", "HTTP OK: HTTP/1.1 200 OK - 10975 bytes"),
    ]
    for clock, kind, state, output in events:
        at = utc(DAY, clock)
        rec.add(at, "nagios", nagios(kind, "bill-01.corp.example", "HTTP", state, output, at))
    return rec


def growing_incident() -> Recording:
    """A storage array degrades: hosts outside the service catalogue find their filesystems
    read-only one after another, and Alertmanager's group grows from 2 to 55 hosts."""
    rec = Recording()
    hosts = [f"app-{n:03d}" for n in range(1, 56)]
    read_only = [
        prom_alert(f"Filesystem /data on {h} is read-only", utc(DAY, "07:59:30"),
                   alertname="NodeFilesystemReadOnly", instance=f"{h}.example.org:9100",
                   job="storage-clients", severity="critical")
        for h in hosts
    ]  # fmt: skip
    for clock, count in [("08:00:00", 2), ("08:05:00", 6), ("08:10:00", 20), ("08:15:00", 55)]:
        rec.add(utc(DAY, clock), "alertmanager", am_webhook(["alertname"], read_only[:count]))
    writable = [a.resolved(utc(DAY, "08:39:30")) for a in read_only]
    rec.add(utc(DAY, "08:40:00"), "alertmanager", am_webhook(["alertname"], writable))
    return rec


SCENARIOS: dict[str, Callable[[], Recording]] = {
    "switch-outage": switch_outage,
    "switch-same-group": switch_same_group,
    "maintenance": maintenance,
    "flapping": flapping,
    "flapping-zabbix": flapping_zabbix,
    "crisis": crisis,
    "cross-source": cross_source,
    "monitor-silent": monitor_silent,
    "hold-down": hold_down,
    "reopen": reopen,
    "growing-incident": growing_incident,
}

HOLD_DOWN_SHIPPED = "  hold_down: 0s\n"
HOLD_DOWN_EXAMPLE = "  hold_down: 2m\n"


def hold_down_rules() -> dict[str, str]:
    """The example rules with a hold-down of 2 minutes, everything else as shipped."""
    files = {}
    for path in sorted((REPO / "rules").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if path.name == "correlation.yaml":
            if HOLD_DOWN_SHIPPED not in text:
                raise SystemExit(f"{path}: no '{HOLD_DOWN_SHIPPED.strip()}' line to change")
            text = text.replace(HOLD_DOWN_SHIPPED, HOLD_DOWN_EXAMPLE)
        files[f"hold-down/rules/{path.name}"] = text
    files["hold-down/sereno.yaml"] = (
        "# The example settings, with the rules of this folder (hold_down: 2m).\n"
        "rules_dir: rules\ntimezone: Europe/Madrid\nlanguage: en\n"
    )
    return files


def build() -> dict[str, str]:
    """Every generated file, by path relative to examples/."""
    files = {f"{name}/alerts.jsonl": make().text() for name, make in SCENARIOS.items()}
    files.update(hold_down_rules())
    return files


def main() -> int:
    for relative, text in build().items():
        path = HERE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote examples/{relative}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
