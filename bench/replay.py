"""Replay benchmark: a realistic day of alerts through `sereno replay`, and how fast it goes.

Generates one day (2026-11-20, UTC) of the example operations centre's alerts as replay
JSON Lines, from the four kinds of sender it has: Alertmanager webhook groups (resent as
Alertmanager does: on change at each group_interval, and at each repeat_interval while
firing), Zabbix problems and recoveries, Nagios host and service notifications (with
re-notifications while a problem lasts) and generic JSON from scripts. Resources are the
ones of rules/ (topology and catalogue), so correlation has real work: core switch and
router outages with hundreds of hosts alerting behind them from three monitors at once,
flapping checks, a site power alarm, a patching window, monitors' heartbeats (one falls
silent for a while), and a background of problems that repeat and resolve. The random seed
is fixed: the same arguments give the same file.

Then runs `sereno replay FILE --json` on it N times and prints one JSON line: alerts/s
(the median of the runs, and each run), incidents, tickets, compression (alerts per
incident) and peak RSS.

    python bench/replay.py                      # 100,000 alerts, 3 runs
    python bench/replay.py --alerts 5000 --runs 1
    python bench/replay.py --alerts 300 --generate-only day.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SERENO = Path(sys.executable).with_name("sereno")
DAY = datetime(2026, 11, 20, tzinfo=UTC)
DAY_END = DAY + timedelta(days=1)
FULL_DAY_ALERTS = 100_000
GROUP_WAIT = timedelta(seconds=30)
GROUP_INTERVAL = timedelta(minutes=5)
REPEAT_INTERVAL = timedelta(hours=1)
NAGIOS_RENOTIFY = timedelta(minutes=60)
SCRIPT_REPOST = timedelta(minutes=15)
AM_URL = "http://alertmanager.example.org:9093"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The example operations centre's resources (rules/services.yaml, rules/topology.yaml).
def _hosts(prefix: str, count: int, width: int = 1) -> list[str]:
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


MADRID_CORE_1 = _hosts("srv-mad-", 400, 3) + _hosts("web-", 20, 2) + _hosts("mail-", 6, 2)
MADRID_CORE_2 = _hosts("db-portal-", 4) + _hosts("dc-", 4) + _hosts("ns-", 4)
TOLEDO_CORE_1 = (
    _hosts("srv-tol-", 300, 3) + _hosts("pay-", 8) + _hosts("bill-", 6) + _hosts("intra-", 4)
)
OTHERS = ["db-1", *_hosts("vpn-", 2), *_hosts("mx-", 2)]
SERVERS = MADRID_CORE_1 + MADRID_CORE_2 + TOLEDO_CORE_1 + OTHERS
SWITCHES = ["sw-mad-core-1", "sw-mad-core-2", "sw-tol-core-1"]
ROUTERS = ["rt-mad-edge-1", "rt-tol-edge-1"]
APP_SERVICES = {  # Alertmanager application alerts: service label, alert name, hosts
    "email": ("MailQueueHigh", _hosts("mail-", 6, 2)),
    "citizen-portal": ("HTTPErrorRateHigh", _hosts("web-", 20, 2)),
    "portal-db": ("PostgresReplicationLag", _hosts("db-portal-", 4)),
    "directory": ("LDAPSlowBind", _hosts("dc-", 4)),
    "dns": ("DNSResolutionFailures", _hosts("ns-", 4)),
    "payroll": ("JobQueueStuck", _hosts("pay-", 8)),
}
NODE_ALERTS = [  # name, severity label, weight
    ("HostHighCpuLoad", "warning", 5),
    ("HostOutOfMemory", "critical", 2),
    ("HostOutOfDiskSpace", "warning", 4),
    ("HostFilesystemReadOnly", "critical", 1),
    ("HostClockSkew", "warning", 1),
    ("InstanceDown", "critical", 2),
]
ZABBIX_PROBLEMS = [  # name, severity, weight
    ("High CPU utilization", "Warning", 5),
    ("Free disk space is less than 10% on volume /", "Average", 4),
    ("Unavailable by ICMP ping", "High", 2),
    ("Swap space is less than 10%", "Warning", 2),
    ("System time is out of sync", "Warning", 1),
    ("Too many processes running", "Average", 1),
]
NETWORK_ZABBIX = [  # what a switch or router reports: name, severity, weight
    ("High CPU utilization", "Warning", 3),
    ("Interface Gi0/24: Link down", "Average", 4),
    ("Unavailable by ICMP ping", "High", 1),
]
NETWORK_NAGIOS = [("PING", "WARNING", 3), ("", "DOWN", 1)]
NAGIOS_CHECKS = [  # check, state, weight
    ("HTTP", "CRITICAL", 3),
    ("SSH", "CRITICAL", 1),
    ("Disk /var", "WARNING", 4),
    ("Load", "WARNING", 4),
    ("NTP", "WARNING", 1),
    ("", "DOWN", 1),  # the host check
]
SCRIPT_ALERTS = [  # name, severity, resources
    ("BackupFailed", "major", ["db-1", *_hosts("db-portal-", 4), *_hosts("bill-", 6)]),
    ("CertificateExpiring", "warning", _hosts("web-", 20, 2)),
    ("SyntheticLoginFailed", "critical", _hosts("web-", 20, 2)),
    ("BatchJobLate", "minor", _hosts("pay-", 8)),
]


@dataclass
class Problem:
    """One thing wrong on one resource, as one monitor sees it."""

    name: str
    resource: str
    start: datetime
    end: datetime | None
    """None: still wrong when the day ends."""
    severity: str
    service: str = ""

    def firing_at(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass
class Day:
    """The recording being built: (moment, order, source, payload, alerts in it)."""

    rng: random.Random
    lines: list[tuple[datetime, int, str, dict[str, Any], int]] = field(default_factory=list)
    alerts: int = 0
    zabbix_event: int = 40_000
    alertmanager_groups: dict[tuple[str, str], list[Problem]] = field(default_factory=dict)

    def alertmanager(self, problem: Problem) -> None:
        """A problem Prometheus sees: it goes to Alertmanager's group of its alertname and
        service label, sent when every problem of the day is known (send_alertmanager)."""
        self.alertmanager_groups.setdefault((problem.name, problem.service), []).append(problem)

    def send_alertmanager(self) -> None:
        for problems in self.alertmanager_groups.values():
            self.alertmanager_group(sorted(problems, key=lambda p: p.start))
        self.alertmanager_groups.clear()

    def add(self, moment: datetime, source: str, payload: dict[str, Any], alerts: int) -> None:
        moment = min(max(moment, DAY), DAY_END - timedelta(seconds=1))
        self.lines.append((moment, len(self.lines), source, payload, alerts))
        self.alerts += alerts

    def jsonl(self) -> Iterator[str]:
        for moment, _, source, payload, _ in sorted(self.lines, key=lambda x: (x[0], x[1])):
            yield json.dumps({"at": _stamp(moment), "source": source, "payload": payload})

    # --- Alertmanager: groups by alertname and service, as rules' README configures it.

    def alertmanager_group(
        self, problems: list[Problem], *, repeat: timedelta | None = None
    ) -> None:
        """Webhooks for one Alertmanager group: at group_wait after the first alert, then at
        each group_interval when the group changed, and at each repeat_interval while firing;
        each carries every firing alert and those resolved since the last one."""
        if not problems:
            return
        repeat = repeat or REPEAT_INTERVAL
        first = problems[0]
        group_labels = {
            "alertname": first.name,
            **({"service": first.service} if first.service else {}),
        }
        key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in group_labels.items()) + "}"
        moment = min(p.start for p in problems) + GROUP_WAIT
        last_end = max((p.end or DAY_END) for p in problems)
        sent: set[int] = set()
        last_firing: frozenset[int] = frozenset()
        last_sent = DAY - repeat
        while moment < DAY_END and moment <= last_end + GROUP_INTERVAL:
            firing = frozenset(i for i, p in enumerate(problems) if p.firing_at(moment))
            # Sent as firing before and no longer firing: resolved since the last webhook.
            resolved = sorted(sent - firing)
            due = firing != last_firing or resolved or (firing and moment - last_sent >= repeat)
            if due and (firing or resolved):
                body = [self._am_alert(problems[i], moment) for i in sorted(firing)]
                body += [self._am_alert(problems[i], moment) for i in resolved]
                self.add(
                    moment,
                    "alertmanager",
                    {
                        "version": "4",
                        "groupKey": key,
                        "truncatedAlerts": 0,
                        "status": "firing" if firing else "resolved",
                        "receiver": "sereno",
                        "groupLabels": group_labels,
                        "commonLabels": group_labels,
                        "commonAnnotations": {},
                        "externalURL": AM_URL,
                        "alerts": body,
                    },
                    len(body),
                )
                sent = (sent | firing) - set(resolved)
                last_sent = moment
            last_firing = firing
            moment += GROUP_INTERVAL

    @staticmethod
    def _am_alert(problem: Problem, moment: datetime) -> dict[str, Any]:
        job = "vpn" if problem.resource.startswith("vpn-") else "node"
        labels = {
            "alertname": problem.name,
            **({"instance": f"{problem.resource}.example.org:9100"} if problem.resource else {}),
            "job": job,
            "severity": problem.severity,
            **({"service": problem.service} if problem.service else {}),
        }
        resolved = not problem.firing_at(moment)
        return {
            "status": "resolved" if resolved else "firing",
            "labels": labels,
            "annotations": {"summary": f"{problem.name} on {problem.resource}"},
            "startsAt": _stamp(problem.start),
            "endsAt": _stamp(problem.end) if resolved and problem.end else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=up",
            "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[
                :16
            ],
        }

    # --- Zabbix: a problem event, an acknowledgement sometimes, a recovery.

    def zabbix(self, problem: Problem, *, budget: int | None = None) -> None:
        self.zabbix_event += 1
        event = {
            "event_id": str(self.zabbix_event),
            "event_name": problem.name,
            "event_severity": problem.severity,
            "event_nseverity": "",
            "event_date": problem.start.strftime("%Y.%m.%d"),
            "event_time": problem.start.strftime("%H:%M:%S"),
            "event_timezone": "UTC",
            "event_recovery_date": "{EVENT.RECOVERY.DATE}",
            "event_recovery_time": "{EVENT.RECOVERY.TIME}",
            "event_update_status": "0",
            "event_update_action": "{EVENT.UPDATE.ACTION}",
            "event_update_message": "{EVENT.UPDATE.MESSAGE}",
            "event_update_user": "{USER.FULLNAME}",
            "event_value": "1",
            "event_opdata": "",
            "event_tags": json.dumps(
                [{"tag": "service", "value": problem.service}] if problem.service else []
            ),
            "host_host": f"{problem.resource.upper()}.corp.example",
            "host_name": problem.resource,
            "host_ip": "192.0.2.10",
            "trigger_id": str(10_000 + self.zabbix_event % 5000),
            "trigger_description": problem.name,
            "zabbix_url": "https://zabbix.example.org/zabbix/",
            "sereno_url": "https://sereno.example.org",
        }
        sends = [(problem.start, event)]
        long = problem.end is not None and problem.end - problem.start > timedelta(minutes=20)
        if long and self.rng.random() < 0.15:
            ack = {
                **event,
                "event_update_status": "1",
                "event_update_action": "acknowledged",
                "event_update_message": "looking into it",
                "event_update_user": "Operator",
            }
            sends.append((problem.start + timedelta(minutes=self.rng.uniform(5, 15)), ack))
        if problem.end is not None:
            recovery = {
                **event,
                "event_value": "0",
                "event_recovery_date": problem.end.strftime("%Y.%m.%d"),
                "event_recovery_time": problem.end.strftime("%H:%M:%S"),
            }
            sends.append((problem.end, recovery))
        for moment, body in sends[:budget]:
            self.add(moment, "zabbix", body, 1)

    # --- Nagios: PROBLEM, re-notifications while it lasts, RECOVERY.

    def nagios(self, problem: Problem, check: str, *, budget: int | None = None) -> None:
        def note(kind: str, state: str, moment: datetime) -> dict[str, Any]:
            return {
                "source": "nagios",
                "type": kind,
                "host": f"{problem.resource}.corp.example",
                "host_address": "192.0.2.20",
                "service": check,
                "state": state,
                "output": f"{check or 'PING'} {state}: {problem.name}",
                "long_output": "",
                "author": "",
                "comment": "",
                "timestamp": int(moment.timestamp()),
            }

        ok = "UP" if not check else "OK"
        sends = [(problem.start, note("PROBLEM", problem.severity, problem.start))]
        again = problem.start + NAGIOS_RENOTIFY
        while again < (problem.end or DAY_END):
            sends.append((again, note("PROBLEM", problem.severity, again)))
            again += NAGIOS_RENOTIFY
        if problem.end is not None:
            sends.append((problem.end, note("RECOVERY", ok, problem.end)))
        for moment, body in sends[:budget]:
            self.add(moment, "nagios", body, 1)

    # --- Scripts posting generic JSON: fire, repost while failing, resolve.

    def generic(self, problem: Problem, *, budget: int | None = None) -> None:
        def body(status: str) -> dict[str, Any]:
            return {
                "name": problem.name,
                "resource": problem.resource,
                "service": problem.service,
                "severity": problem.severity,
                "status": status,
                "summary": f"{problem.name} on {problem.resource}",
                "starts_at": _stamp(problem.start),
            }

        sends = [(problem.start, body("firing"))]
        again = problem.start + SCRIPT_REPOST
        while again < (problem.end or DAY_END):
            sends.append((again, body("firing")))
            again += SCRIPT_REPOST
        if problem.end is not None:
            sends.append((problem.end, body("resolved")))
        for moment, payload in sends[:budget]:
            self.add(moment, "generic", payload, 1)


def _at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def _scaled(count: int, scale: float, least: int = 1) -> int:
    return max(least, round(count * scale))


def storm(
    day: Day, device: str, behind: list[str], start: datetime, minutes: float, scale: float
) -> None:
    """A core device fails: it alerts, and every host behind it alerts from three monitors,
    some before the device's own alert arrives."""
    rng = day.rng
    end = start + timedelta(minutes=minutes)
    day.nagios(Problem("Host down", device, start + timedelta(seconds=20), end, "DOWN"), "")
    day.zabbix(
        Problem("Unavailable by ICMP ping", device, start + timedelta(seconds=50), end, "High")
    )
    hosts = rng.sample(behind, min(len(behind), _scaled(len(behind), scale, 2)))
    for host in hosts:
        back = end + timedelta(seconds=rng.uniform(10, 120))
        day.alertmanager(
            Problem(
                "InstanceDown",
                host,
                start + timedelta(seconds=rng.uniform(0, 60)),
                back,
                "critical",
            )
        )
        day.nagios(
            Problem(
                "Host unreachable",
                host,
                start + timedelta(seconds=rng.uniform(30, 120)),
                back,
                "UNREACHABLE",
            ),
            "",
        )
        if rng.random() < 0.7:
            day.zabbix(
                Problem(
                    "Unavailable by ICMP ping",
                    host,
                    start + timedelta(seconds=rng.uniform(60, 180)),
                    back,
                    "High",
                )
            )


def flapping(day: Day, scale: float) -> None:
    """Checks that go up and down every few minutes for an hour or two."""
    rng = day.rng
    for resource, check, hours in (
        ("web-07", "HTTP", 9.0),
        ("srv-mad-123", "Load", 15.5),
        ("intra-2", "HTTP", 11.0),
    ):
        moment, until = _at(hours), _at(hours + rng.uniform(1, 2) * min(1.0, scale * 10))
        while moment < until:
            down = timedelta(minutes=rng.uniform(1, 4))
            day.nagios(
                Problem(
                    f"{check} check failing",
                    resource,
                    moment,
                    moment + down,
                    "CRITICAL",
                ),
                check,
            )
            moment += down + timedelta(minutes=rng.uniform(2, 6))
    moment, until = _at(17.0), _at(17.0 + 1.5 * min(1.0, scale * 10))
    while moment < until:
        up = timedelta(minutes=rng.uniform(2, 5))
        day.zabbix(
            Problem("Interface Gi0/12: Link down", "sw-tol-core-1", moment, moment + up, "Average")
        )
        moment += up + timedelta(minutes=rng.uniform(2, 8))


def patching(day: Day, scale: float) -> None:
    """Toledo servers reboot inside the Thursday patching window (until 01:00 UTC)."""
    rng = day.rng
    for host in rng.sample(_hosts("srv-tol-", 300, 3), _scaled(60, scale)):
        start = _at(rng.uniform(0.1, 0.85))
        end = start + timedelta(minutes=rng.uniform(3, 6))
        day.zabbix(Problem("Unavailable by ICMP ping", host, start, end, "High"))
        day.nagios(Problem("Host down", host, start + timedelta(seconds=40), end, "DOWN"), "")


def site_power(day: Day) -> None:
    """A power cut at the Toledo site: its UPS and PDU alarm (one incident by rule)."""
    start = _at(13.03)
    day.zabbix(
        Problem("UPS on battery", "ups-tol-1", start, start + timedelta(minutes=9), "Disaster")
    )
    day.zabbix(
        Problem(
            "PDU input voltage low",
            "pdu-tol-2",
            start + timedelta(seconds=40),
            start + timedelta(minutes=8),
            "High",
        )
    )


def heartbeats(day: Day) -> None:
    """Prometheus's Watchdog through Alertmanager every 5 minutes; Zabbix's heartbeat every
    10, except for 40 minutes in the afternoon when the Zabbix server hangs."""
    watchdog = Problem("Watchdog", "", DAY, None, "none")
    day.alertmanager_group([watchdog], repeat=GROUP_INTERVAL)
    moment = DAY
    while moment < DAY_END:
        if not _at(16.0) <= moment < _at(16.67):
            day.zabbix(
                Problem(
                    "Zabbix heartbeat",
                    "zabbix-1",
                    moment,
                    moment + timedelta(seconds=30),
                    "Information",
                )
            )
        moment += timedelta(minutes=10)


def _duration(rng: random.Random) -> timedelta | None:
    """Most problems last minutes, some hours; a few are still there at the end of the day."""
    if rng.random() < 0.05:
        return None
    return timedelta(minutes=min(600.0, rng.lognormvariate(2.7, 1.1)))


def _start(rng: random.Random) -> datetime:
    # More goes wrong in working hours (07:00-19:00 UTC) than at night.
    hours = rng.uniform(6, 19) if rng.random() < 0.7 else rng.uniform(0, 24)
    return _at(hours)


def _weighted(rng: random.Random, choices: list[tuple[str, str, int]]) -> tuple[str, str]:
    name, severity, _ = rng.choices(choices, weights=[c[2] for c in choices])[0]
    return name, severity


def _until(start: datetime, span: timedelta | None) -> datetime | None:
    return None if span is None else start + span


def alertmanager_background(day: Day, scale: float) -> None:
    """Node and application alerts through Alertmanager, grouped by alertname and service;
    a few chronic problems come back again and again."""
    rng = day.rng
    for _ in range(_scaled(1800, scale)):
        if rng.random() < 0.3:
            service = rng.choice(sorted(APP_SERVICES))
            name, hosts = APP_SERVICES[service]
            severity = rng.choice(["warning", "critical"])
        else:
            service, hosts = "", SERVERS
            name, severity = _weighted(rng, NODE_ALERTS)
        start = _start(rng)
        day.alertmanager(
            Problem(
                name, rng.choice(hosts), start, _until(start, _duration(rng)), severity, service
            )
        )
    for _ in range(_scaled(12, scale)):  # chronic: db-1's disk crosses its threshold all day
        start = _at(rng.uniform(0, 23))
        end = start + timedelta(minutes=rng.uniform(5, 40))
        day.alertmanager(Problem("HostOutOfDiskSpace", "db-1", start, end, "warning"))


def background(day: Day, target: int) -> None:
    """Zabbix, Nagios and scripts' problems until the day holds `target` alerts; the last
    problem is cut short to land on `target` exactly."""
    rng = day.rng
    network = SWITCHES + ROUTERS
    while day.alerts < target:
        budget = target - day.alerts
        start = _start(rng)
        span = _duration(rng)
        kind = rng.random()
        # One problem in twenty is on the network gear, in its own words.
        on_network = rng.random() < 0.05
        resource = rng.choice(network if on_network else SERVERS)
        if kind < 0.45:
            name, severity = _weighted(rng, NETWORK_ZABBIX if on_network else ZABBIX_PROBLEMS)
            day.zabbix(Problem(name, resource, start, _until(start, span), severity), budget=budget)
        elif kind < 0.85:
            check, state = _weighted(rng, NETWORK_NAGIOS if on_network else NAGIOS_CHECKS)
            name = f"{check} check failing" if check else "Host down"
            day.nagios(
                Problem(name, resource, start, _until(start, span), state), check, budget=budget
            )
        else:
            name, severity, resources = rng.choice(SCRIPT_ALERTS)
            day.generic(
                Problem(name, rng.choice(resources), start, _until(start, span), severity),
                budget=budget,
            )


def generate(target: int, seed: int) -> Day:
    """A day of `target` alerts; the same `target` and `seed` give the same day."""
    day = Day(random.Random(seed))
    scale = target / FULL_DAY_ALERTS
    if scale >= 0.05:  # a smaller day is too short a sample for monitors' heartbeats
        heartbeats(day)
    patching(day, scale)
    storm(
        day, "rt-mad-edge-1", MADRID_CORE_1 + MADRID_CORE_2 + ["sw-mad-core-1"], _at(3.33), 4, scale
    )
    storm(day, "sw-mad-core-1", MADRID_CORE_1, _at(10.25), 12, scale)
    storm(day, "sw-tol-core-1", TOLEDO_CORE_1, _at(14.67), 8, scale)
    storm(day, "sw-mad-core-2", MADRID_CORE_2, _at(19.08), 6, scale)
    flapping(day, scale)
    site_power(day)
    alertmanager_background(day, scale)
    day.send_alertmanager()
    if day.alerts > target:
        raise SystemExit(f"the fixed scenario alone has {day.alerts} alerts; ask for more")
    background(day, target)
    return day


def write_day(path: Path, target: int, seed: int) -> tuple[int, int]:
    """Write the day to `path`; returns (requests, alerts)."""
    day = generate(target, seed)
    with path.open("w", encoding="utf-8") as out:
        for line in day.jsonl():
            out.write(line + "\n")
    return len(day.lines), day.alerts


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    """User and system time of the replay: steadier than wall time on a shared machine."""
    peak_rss_mb: float
    stats: dict[str, Any]


def replay_once(recording: Path, config: Path, workdir: Path) -> Run:
    """`sereno replay --json` in a child process, timed, with its peak memory. Its progress
    and errors go to this script's standard error."""
    out_path = workdir / "replay.json"
    with out_path.open("wb") as out:
        began = time.perf_counter()
        child = subprocess.Popen(
            [str(SERENO), "replay", str(recording), "--config", str(config), "--json"],
            stdout=out,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"sereno replay failed ({child.returncode}); its errors are above")
    stats: dict[str, Any] = json.loads(out_path.read_bytes())["stats"]
    cpu = usage.ru_utime + usage.ru_stime
    return Run(round(wall, 2), round(cpu, 2), round(usage.ru_maxrss / 1024, 1), stats)  # KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=FULL_DAY_ALERTS, help="alerts in the day")
    parser.add_argument("--runs", type=int, default=3, help="replays of the day; median")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--config", type=Path, default=REPO / "sereno.yaml")
    parser.add_argument(
        "--generate-only", type=Path, metavar="FILE", help="write the day to FILE and stop"
    )
    parser.add_argument("--keep", type=Path, metavar="FILE", help="also keep the day in FILE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sereno-bench-") as tmp:
        workdir = Path(tmp)
        recording = args.generate_only or args.keep or workdir / "day.jsonl"
        began = time.perf_counter()
        requests, alerts = write_day(recording, args.alerts, args.seed)
        generated_s = time.perf_counter() - began
        size_mb = round(recording.stat().st_size / 1e6, 1)
        log(
            f"{recording}: {requests} requests, {alerts} alerts, {size_mb} MB in {generated_s:.1f}s"
        )
        if args.generate_only:
            return
        runs = []
        for number in range(1, args.runs + 1):
            run = replay_once(recording, args.config, workdir)
            log(
                f"run {number}: {run.wall_s}s ({run.cpu_s}s of CPU), "
                f"{run.stats['alerts'] / run.wall_s:.0f} alerts/s, "
                f"{run.stats['incidents']} incidents, peak RSS {run.peak_rss_mb} MB"
            )
            runs.append(run)
    stats = runs[-1].stats
    per_s = [round(r.stats["alerts"] / r.wall_s, 1) for r in runs]
    per_cpu_s = [round(r.stats["alerts"] / r.cpu_s, 1) for r in runs]
    print(
        json.dumps(
            {
                "bench": "replay",
                "alerts": alerts,
                "requests": requests,
                "file_mb": size_mb,
                "seed": args.seed,
                "runs": len(runs),
                "alerts_per_s": statistics.median(per_s),
                "alerts_per_s_runs": per_s,
                "wall_s_runs": [r.wall_s for r in runs],
                "alerts_per_cpu_s": statistics.median(per_cpu_s),
                "cpu_s_runs": [r.cpu_s for r in runs],
                "pipeline_alerts_per_s_runs": [r.stats["alerts_per_s"] for r in runs],
                "incidents": stats["incidents"],
                "tickets": stats["tickets"],
                "notifications": stats["notifications"],
                "suppressed": stats["suppressed"],
                "crises": stats["crises"],
                "rejected_requests": stats["rejected_requests"],
                "compression": stats["compression"],
                "peak_rss_mb": max(r.peak_rss_mb for r in runs),
                "peak_rss_mb_runs": [r.peak_rss_mb for r in runs],
            }
        )
    )


if __name__ == "__main__":
    main()
