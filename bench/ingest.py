"""Ingest benchmark: how fast Sereno accepts alerts and turns them into incidents and tickets.

Starts `sereno serve` on a free loopback port (or targets `--url`), posts N alerts with K
distinct fingerprints, B alerts per request (each request one Alertmanager group, as
Alertmanager sends them), at concurrency C, and prints one JSON line of figures. With
`--vs-alertmanager` it runs the same load against the local Alertmanager binary in the same
run and prints the ratio. Before either, it measures the load generator's own ceiling
against a trivial handler, so a generator-bound figure is never mistaken for the server's.

With `--redis URL` Sereno keeps its streams and state in Redis (under a key prefix of the
run's own, deleted afterwards); with `--correlate-workers N [M ...]` as well, `sereno serve`
runs every stage but correlate and N `sereno worker correlate` processes do that, one
JSON line per N, all in the same run.

    python bench/ingest.py --batch 1
    python bench/ingest.py --batch 100 --vs-alertmanager --repeat 3
    python bench/ingest.py --baseline ../sereno-before --repeat 3   # an earlier checkout
    python bench/ingest.py --batch 100 --redis redis://127.0.0.1:6379/0 --correlate-workers 1 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis

REPO = Path(__file__).resolve().parent.parent
SERENO = Path(sys.executable).with_name("sereno")
START_TIMEOUT_S = 30.0
TRIVIAL_SERVER = """
import sys
from aiohttp import web
async def accept(request):
    await request.read()
    return web.Response(status=202 if request.method == "POST" else 200)
app = web.Application(client_max_size=64 * 1024 * 1024)
app.router.add_route("*", "/{tail:.*}", accept)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class Load:
    alerts: int
    fingerprints: int
    batch: int
    concurrency: int

    @property
    def groups(self) -> int:
        return -(-self.fingerprints // self.batch)

    def group_labels(self, group: int) -> list[dict[str, str]]:
        first = group * self.batch
        return [
            {"alertname": "BenchAlert", "instance": f"host-{k}:9100", "service": "bench",
             "severity": "warning", "group": str(group)}
            for k in range(first, min(first + self.batch, self.fingerprints))
        ]  # fmt: skip

    def requests(self) -> int:
        return max(1, self.alerts // self.batch)

    def sereno_bodies(self) -> list[bytes]:
        """Alertmanager webhook v4 bodies, one group per request, groups in turn."""
        started = "2026-11-20T08:00:00Z"
        bodies = []
        for r in range(self.requests()):
            group = r % self.groups
            bodies.append(
                json.dumps(
                    {"version": "4", "groupKey": f'{{}}:{{group="{group}"}}', "status": "firing",
                     "receiver": "sereno", "groupLabels": {"group": str(group)},
                     "commonLabels": {}, "commonAnnotations": {},
                     "externalURL": "http://127.0.0.1:9093",
                     "alerts": [{"status": "firing", "labels": labels,
                                 "annotations": {"summary": "bench"}, "startsAt": started,
                                 "endsAt": "0001-01-01T00:00:00Z",
                                 "fingerprint": labels["instance"]}
                                for labels in self.group_labels(group)]}
                ).encode()
            )  # fmt: skip
        return bodies

    def alertmanager_bodies(self) -> list[bytes]:
        """Alertmanager API v2 bodies: the same alerts as lists of postable alerts."""
        return [
            json.dumps(
                [{"labels": labels, "annotations": {"summary": "bench"},
                  "generatorURL": "http://127.0.0.1:9090"}
                 for labels in self.group_labels(r % self.groups)]
            ).encode()
            for r in range(self.requests())
        ]  # fmt: skip


@dataclass
class Posted:
    accepted_alerts: int
    errors: int
    seconds: float
    latencies_ms: list[float]


async def post_all(url: str, bodies: list[bytes], batch: int, concurrency: int) -> Posted:
    """Post every body with `concurrency` workers; bounded by the number of bodies."""
    latencies: list[float] = []
    accepted = errors = 0
    cursor = iter(bodies)
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal accepted, errors
            for body in cursor:
                began = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status in (200, 202)
                latencies.append((time.perf_counter() - began) * 1000)
                if ok:
                    accepted += batch
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return Posted(accepted, errors, seconds, latencies)


@contextmanager
def process(args: list[str], ready_url: str, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child until the block ends; wait until `ready_url` answers 200."""
    with log_path.open("ab") as out:
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        asyncio.run(wait_ready(ready_url, child))
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def wait_ready(url: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise SystemExit(f"{child.args!r} exited with {child.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not become ready")


def generator_ceiling(load: Load, bodies: list[bytes], workdir: Path) -> float:
    """Requests per second this generator reaches against a handler that does nothing."""
    port = free_port()
    sample = bodies[: min(len(bodies), 4000)]
    with process(
        [sys.executable, "-c", TRIVIAL_SERVER, str(port)],
        f"http://127.0.0.1:{port}/ready",
        workdir / "trivial.log",
    ):
        posted = asyncio.run(post_all(f"http://127.0.0.1:{port}/x", sample, 1, load.concurrency))
    return round(len(sample) / posted.seconds, 1)


async def drained(base: str, load: Load, within_s: float) -> tuple[list[Any], list[Any]]:
    """Wait until every group has its incident and ticket; returns both lists."""
    deadline = time.monotonic() + within_s
    incidents: list[Any] = []
    tickets: list[Any] = []
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            async with session.get(f"{base}/api/v1/incidents?limit=100000") as r:
                incidents = (await r.json())["incidents"]
            async with session.get(f"{base}/api/v1/tickets?limit=100000") as r:
                tickets = (await r.json())["tickets"]
            if len(incidents) >= load.groups and len(tickets) >= load.groups:
                break
            log(f"draining: {len(incidents)}/{load.groups} incidents, {len(tickets)} tickets")
            await asyncio.sleep(1)
    return incidents, tickets


async def settled(base: str, within_s: float) -> float:
    """Wait until no stream has anything unread or pending; returns when (perf_counter)."""
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            async with session.get(f"{base}/metrics") as r:
                text = await r.text()
            backlog = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith(("sereno_bus_backlog_unread{", "sereno_bus_backlog_pending{"))
            )
            if backlog == 0:
                return time.perf_counter()
            await asyncio.sleep(0.1)
    raise SystemExit(f"the pipeline did not settle within {within_s}s")


def pipeline_latencies(incidents: list[Any], tickets: list[Any]) -> dict[str, float | None]:
    """Alert → incident and alert → ticket, from the server's own wall-clock timestamps."""
    first_seen = {
        i["id"]: min(datetime.fromisoformat(a["first_seen"]) for a in i["sample"])
        for i in incidents
    }
    to_incident = [
        (datetime.fromisoformat(i["opened_at"]) - first_seen[i["id"]]).total_seconds() * 1000
        for i in incidents
    ]
    to_ticket = [
        (datetime.fromisoformat(t["created_at"]) - first_seen[t["incident_id"]]).total_seconds()
        * 1000
        for t in tickets
        if t["incident_id"] in first_seen
    ]
    return {
        "alert_to_incident_p50_ms": percentile(to_incident, 0.5),
        "alert_to_incident_p99_ms": percentile(to_incident, 0.99),
        "alert_to_ticket_p50_ms": percentile(to_ticket, 0.5),
        "alert_to_ticket_p99_ms": percentile(to_ticket, 0.99),
    }


def figures(target: str, load: Load, posted: Posted, pid: int | None) -> dict[str, Any]:
    return {
        "target": target,
        "alerts": load.alerts,
        "fingerprints": load.fingerprints,
        "batch": load.batch,
        "concurrency": load.concurrency,
        "alerts_per_s": round(posted.accepted_alerts / posted.seconds, 1),
        "requests_per_s": round(len(posted.latencies_ms) / posted.seconds, 1),
        "requests": len(posted.latencies_ms),
        "errors": posted.errors,
        "request_p50_ms": percentile(posted.latencies_ms, 0.5),
        "request_p99_ms": percentile(posted.latencies_ms, 0.99),
        "peak_rss_mb": peak_rss_mb(pid),
    }


@dataclass(frozen=True)
class Build:
    """One Sereno to measure: this checkout, or an earlier one given by --baseline."""

    name: str
    checkout: Path

    @property
    def binary(self) -> Path:
        return SERENO if self.checkout == REPO else self.checkout / ".venv" / "bin" / "sereno"

    def config(self, workdir: Path, extra: list[str]) -> Path:
        config = workdir / f"sereno-{self.name}-{uuid.uuid4().hex[:8]}.yaml"
        text = f"rules_dir: {self.checkout / 'rules'}\n"
        if self.checkout == REPO:
            # The limiter runs, with limits no benchmark reaches: it measures the server's
            # cost of checking, not a cap. (An earlier build may not know these settings.)
            text += "ingest:\n  rate_per_s: 1000000000\n  burst: 1000000000\n"
        config.write_text(text + "".join(f"{line}\n" for line in extra))
        return config


def run_sereno(
    load: Load, args: argparse.Namespace, workdir: Path, build: Build, correlate_workers: int = 0
) -> dict[str, Any]:
    bodies = load.sereno_bodies()
    if args.url:
        base, pid = args.url.rstrip("/"), args.pid
        posted = asyncio.run(post_all(f"{base}/api/v1/alerts/alertmanager", bodies, load.batch,
                                      load.concurrency))  # fmt: skip
        incidents, tickets = asyncio.run(drained(base, load, args.drain_timeout))
        return figures("sereno", load, posted, pid) | pipeline_latencies(incidents, tickets)
    prefix = f"{{sereno-bench-{uuid.uuid4().hex[:12]}}}"
    lines = [f"redis_prefix: '{prefix}'"] if args.redis else []
    if correlate_workers:
        lines.append("stages: [ingest, ticketer, notify]")
    config = build.config(workdir, lines)
    redis_args = ["--redis", args.redis] if args.redis else []
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with ExitStack() as stack:
            data = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
            child = stack.enter_context(process(
                [str(build.binary), "serve", "--config", str(config),
                 "--listen", f"127.0.0.1:{port}", "--data", str(data), *redis_args],
                f"{base}/readyz", workdir / f"sereno-{build.name}.log",
            ))  # fmt: skip
            workers = []
            for _ in range(correlate_workers):
                worker_port = free_port()
                workers.append(stack.enter_context(process(
                    [str(build.binary), "worker", "correlate", "--config", str(config), *redis_args,
                     "--listen", f"127.0.0.1:{worker_port}"],
                    f"http://127.0.0.1:{worker_port}/readyz", workdir / "worker.log",
                )))  # fmt: skip
            log(f"posting {load.alerts} alerts to sereno {build.name} ({len(bodies)} requests,"
                f" {correlate_workers or 'no separate'} correlate workers)")  # fmt: skip
            began = time.perf_counter()
            posted = asyncio.run(post_all(f"{base}/api/v1/alerts/alertmanager", bodies,
                                          load.batch, load.concurrency))  # fmt: skip
            incidents, tickets = asyncio.run(drained(base, load, args.drain_timeout))
            done = asyncio.run(settled(base, args.drain_timeout))
            result = figures(f"sereno-{build.name}", load, posted, child.pid)
            worker_rss = [peak_rss_mb(w.pid) for w in workers]
    finally:
        if args.redis:
            forget(args.redis, prefix)
    return result | pipeline_latencies(incidents, tickets) | {
        "incidents": len(incidents), "tickets": len(tickets),
        "storage": "redis" if args.redis else "sqlite",
        "correlate_workers": correlate_workers,
        "worker_peak_rss_mb": worker_rss,
        "pipeline_s": round(done - began, 2),
        "processed_alerts_per_s": round(load.alerts / (done - began), 1),
    }  # fmt: skip


def forget(url: str, prefix: str) -> None:
    """Delete the run's keys, and only those."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def run_alertmanager(load: Load, workdir: Path) -> dict[str, Any]:
    binary = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if binary is None:
        raise SystemExit("--vs-alertmanager: install Debian package prometheus-alertmanager")
    config = workdir / "alertmanager.yml"
    config.write_text("route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bodies = load.alertmanager_bodies()
    with process(
        [binary, f"--config.file={config}", f"--storage.path={workdir / 'am-data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        f"{base}/-/ready", workdir / "alertmanager.log",
    ) as child:  # fmt: skip
        log(f"posting {load.alerts} alerts to alertmanager ({len(bodies)} requests)")
        posted = asyncio.run(post_all(f"{base}/api/v2/alerts", bodies, load.batch,
                                      load.concurrency))  # fmt: skip
        return figures("alertmanager", load, posted, child.pid)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median alerts/s, and every run's alerts/s beside it."""
    ordered = sorted(runs, key=lambda r: r["alerts_per_s"])
    return ordered[len(ordered) // 2] | {"alerts_per_s_runs": [r["alerts_per_s"] for r in runs]}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="target a running Sereno instead of starting one")
    parser.add_argument("--pid", type=int, help="its process id, for peak RSS")
    parser.add_argument("--alerts", type=int, default=20_000, help="N alerts in all")
    parser.add_argument("--fingerprints", type=int, default=2_000, help="K distinct alerts")
    parser.add_argument("--batch", type=int, default=1, help="B alerts per request")
    parser.add_argument("--concurrency", type=int, default=16, help="C requests at once")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each target; median")
    parser.add_argument("--vs-alertmanager", action="store_true")
    parser.add_argument(
        "--baseline", type=Path,
        help="an earlier Sereno checkout (with its .venv installed) measured in the same run, "
        "runs interleaved with this one's",
    )  # fmt: skip
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--redis", metavar="URL", help="streams and state in this Redis")
    parser.add_argument(
        "--correlate-workers", type=int, nargs="+", default=[0], metavar="N",
        help="with --redis: correlate in N `sereno worker` processes (several N: one run each)",
    )  # fmt: skip
    args = parser.parse_args()
    if any(args.correlate_workers) and not args.redis:
        parser.error("--correlate-workers needs --redis")
    if args.redis and args.baseline:
        parser.error("--baseline measures on SQLite: an earlier build may not know --redis")
    return args


def run_name(build: Build, workers: int, args: argparse.Namespace) -> str:
    """`current`, `baseline`, or with a second --correlate-workers N: `current-N-workers`."""
    return build.name if workers == args.correlate_workers[0] else f"{build.name}-{workers}-workers"


def main() -> None:
    args = parse_args()
    load = Load(args.alerts, args.fingerprints, args.batch, args.concurrency)
    builds = [Build("current", REPO)]
    if args.baseline:
        builds.append(Build("baseline", args.baseline.resolve()))
    with tempfile.TemporaryDirectory(prefix="sereno-bench-") as tmp:
        workdir = Path(tmp)
        ceiling = generator_ceiling(load, load.sereno_bodies(), workdir)
        log(f"generator ceiling: {ceiling} requests/s against a handler that does nothing")
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.repeat):
            for build in builds:
                for workers in args.correlate_workers:
                    runs.setdefault(run_name(build, workers, args), []).append(
                        run_sereno(load, args, workdir, build, workers)
                    )
            if args.vs_alertmanager:
                runs.setdefault("alertmanager", []).append(run_alertmanager(load, workdir))
        results = {name: median_run(r) for name, r in runs.items()}
        for result in results.values():
            result["generator_ceiling_rps"] = ceiling
            result["generator_bound"] = result["requests_per_s"] > 0.7 * ceiling
            result["cores"] = os.cpu_count()
            print(json.dumps(result), flush=True)
        sereno = results["current"]
        if "baseline" in results:
            print(json.dumps({
                "ratio_current_vs_baseline_alerts_per_s": round(
                    sereno["alerts_per_s"] / results["baseline"]["alerts_per_s"], 3
                ),
                "baseline": str(args.baseline),
            }), flush=True)  # fmt: skip
        if "alertmanager" in results:
            alertmanager = results["alertmanager"]
            ratio = sereno["alerts_per_s"] / alertmanager["alerts_per_s"]
            print(json.dumps({
                "ratio_sereno_vs_alertmanager_alerts_per_s": round(ratio, 2),
                "ratio_sereno_vs_alertmanager_p99": round(
                    (sereno["request_p99_ms"] or 0) / (alertmanager["request_p99_ms"] or 1), 2
                ),
                "cores": os.cpu_count(),
            }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
