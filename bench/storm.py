"""Storm benchmark: a core switch goes down and N hosts behind it alert at once.

Starts `sereno serve` with the checkout's `sereno.yaml` (example rules: `srv-mad-*` sits
behind `sw-mad-core-1`) on a free loopback port, posts one generic `SwitchDown` on
`sw-mad-core-1`, then the N hosts as ONE Alertmanager webhook of N alerts (what
Alertmanager sends for one group with `max_alerts: 0`), and prints one JSON line per N:

- `answered_s`: until the webhook post was answered;
- `settled_s`: until the switch's incident holds the switch and all N hosts;
- `per_alert_ms`: `settled_s` per host;
- `peak_rss_mb`: the server's peak resident memory (VmHWM);
- `healthz_max_ms`: the slowest `/healthz` answer while the storm settled (polled every
  20 ms from another process's point of view: over real loopback).

`--redis URL` keeps streams and state in Redis under a key prefix of the run's own
(deleted afterwards). `--sereno PATH` runs another build's `sereno` (an earlier checkout's
virtual environment), so before and after are measured in the same run:

    python bench/storm.py --sizes 1000 10000 100000
    python bench/storm.py --sizes 1000 10000 --redis redis://127.0.0.1:6379/0
    python bench/storm.py --sizes 1000 5000 --sereno ../before/.venv/bin/sereno --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import SERENO, free_port, log, peak_rss_mb, process

REPO = Path(__file__).resolve().parent.parent
SWITCH = "sw-mad-core-1"


def storm_body(hosts: int) -> bytes:
    """One Alertmanager webhook: a group of `hosts` HostDown alerts."""
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "HostDown",
                "instance": f"srv-mad-{n:05d}:9100",
                "job": "node",
                "severity": "critical",
            },
            "annotations": {"summary": f"srv-mad-{n:05d} does not answer"},
            "startsAt": "2026-12-04T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{n:016x}",
        }
        for n in range(hosts)
    ]
    return json.dumps(
        {"version": "4", "groupKey": '{}:{alertname="HostDown"}', "truncatedAlerts": 0,
         "status": "firing", "receiver": "sereno", "groupLabels": {"alertname": "HostDown"},
         "commonLabels": {"alertname": "HostDown"}, "commonAnnotations": {},
         "externalURL": "http://alertmanager:9093", "alerts": alerts}
    ).encode()  # fmt: skip


def held(incident: dict[str, Any]) -> int:
    """How many alerts the incident holds (an older build lists them all instead)."""
    if "alert_count" in incident:
        return int(incident["alert_count"])
    return len(incident.get("alerts", []))


async def watch_health(base: str, stop: asyncio.Event, worst: list[float]) -> None:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            began = time.perf_counter()
            async with session.get(f"{base}/healthz") as response:
                await response.read()
            worst.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(0.02)


async def storm(base: str, hosts: int, within_s: float) -> dict[str, float]:
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        switch = {"name": "SwitchDown", "resource": SWITCH, "severity": "critical"}
        async with session.post(f"{base}/api/v1/alerts/generic", json=switch) as response:
            if response.status != 202:
                raise SystemExit(f"the switch's alert was refused: {await response.text()}")
        incident_id = await _incident_of_switch(session, base)
        body = storm_body(hosts)
        stop, health = asyncio.Event(), list[float]()
        watcher = asyncio.create_task(watch_health(base, stop, health))
        began = time.perf_counter()
        async with session.post(
            f"{base}/api/v1/alerts/alertmanager", data=body,
            headers={"Content-Type": "application/json"},
        ) as response:  # fmt: skip
            if response.status != 202:
                raise SystemExit(f"the storm was refused: {await response.text()}")
        answered = time.perf_counter() - began
        deadline = time.monotonic() + within_s
        count = 0
        while time.monotonic() < deadline:
            async with session.get(f"{base}/api/v1/incidents/{incident_id}") as response:
                count = held(await response.json())
            if count >= hosts + 1:
                break
            await asyncio.sleep(0.05)
        settled = time.perf_counter() - began
        stop.set()
        await watcher
    if count < hosts + 1:
        raise SystemExit(f"after {within_s}s the incident holds {count} of {hosts + 1} alerts")
    return {
        "answered_s": round(answered, 3),
        "settled_s": round(settled, 3),
        "per_alert_ms": round(settled * 1000 / hosts, 4),
        "healthz_max_ms": round(max(health, default=0.0), 1),
    }


async def _incident_of_switch(session: aiohttp.ClientSession, base: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with session.get(f"{base}/api/v1/incidents") as response:
            listed = (await response.json())["incidents"]
        if listed:
            return str(listed[0]["id"])
        await asyncio.sleep(0.05)
    raise SystemExit("the switch's incident never opened")


def run_once(sereno: Path, hosts: int, redis_url: str | None, within_s: float) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sereno-storm-") as tmp:
        workdir = Path(tmp)
        args = [str(sereno), "serve", "--config", str(REPO / "sereno.yaml"),
                "--listen", f"127.0.0.1:{port}", "--data", str(workdir / "data")]  # fmt: skip
        prefix = ""
        if redis_url is not None:
            prefix = f"{{storm-{uuid.uuid4().hex[:8]}}}"
            config = workdir / "sereno.yaml"
            text = (REPO / "sereno.yaml").read_text()
            config.write_text(
                f"{text}\nredis_url: {redis_url}\nredis_prefix: '{prefix}'\n"
                f"rules_dir: {REPO / 'rules'}\nrunbooks_dir: {REPO / 'runbooks'}\n"
            )
            args[3] = str(config)
        try:
            with process(args, f"http://127.0.0.1:{port}/readyz", workdir / "serve.log") as child:
                figures = asyncio.run(storm(f"http://127.0.0.1:{port}", hosts, within_s))
                figures["peak_rss_mb"] = peak_rss_mb(child.pid) or 0.0
        finally:
            if redis_url is not None:
                client = redis.Redis.from_url(redis_url)
                keys = list(client.scan_iter(match=f"{prefix}*", count=10_000))
                for start in range(0, len(keys), 1000):
                    client.delete(*keys[start : start + 1000])
                client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians printed")
    parser.add_argument("--redis", default=None, help="redis:// URL: state and streams there")
    parser.add_argument("--sereno", type=Path, default=SERENO, help="the sereno to measure")
    parser.add_argument("--within", type=float, default=1800.0, help="give up after (s)")
    args = parser.parse_args()
    for hosts in args.sizes:
        runs = []
        for n in range(args.repeat):
            log(f"storm of {hosts} hosts, run {n + 1} of {args.repeat} ({args.sereno})")
            runs.append(run_once(args.sereno, hosts, args.redis, args.within))
        medians = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(json.dumps({"hosts": hosts, "store": "redis" if args.redis else "sqlite",
                          "sereno": str(args.sereno), "runs": len(runs), **medians}),
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
