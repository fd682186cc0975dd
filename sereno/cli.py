"""The `sereno` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from core.clock import WallClock
from core.config import ConfigError, Settings, StageName, load_settings
from core.rules import Rules, RulesError, RulesRef, RulesVersion, load_rules, read_rules
from core.runbooks import load_runbooks
from notify.channels.readiness import unusable_channels
from report.render import ReportFormat, render
from sereno.app import create_app
from sereno.auth import users_command
from sereno.auth.access_log import CombinedAccessLogger
from sereno.auth.setup import OpenBeyondLoopbackError
from sereno.reload import reload_on_sighup
from sereno.reports import produce
from ticketer.backends.online import try_backends

if TYPE_CHECKING:
    from report.model import DailyReport
    from sereno.compare import Comparison
    from sereno.replay import ReplayResult

log = logging.getLogger("sereno")

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sereno",
        description="Monitoring alerts in; correlated incidents, tickets and notifications out.",
    )
    parser.add_argument("--version", action="version", version=f"sereno {version('sereno')}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run every stage and the HTTP API in one process")
    serve.add_argument("--config", type=Path, help="settings file (YAML), e.g. sereno.yaml")
    serve.add_argument("--listen", help="HOST:PORT to listen on (default 127.0.0.1:8080)")
    serve.add_argument("--data", type=Path, help="folder for the embedded data file (./data)")
    serve.add_argument("--redis", metavar="URL", help="keep streams and state in Redis instead")

    worker = commands.add_parser("worker", help="run one stage against Redis")
    worker.add_argument("stage", choices=[s.value for s in StageName], help="the stage to run")
    worker.add_argument("--config", type=Path, help="settings file (YAML)")
    worker.add_argument("--redis", metavar="URL", help="redis://HOST:PORT/DB (or redis_url)")
    worker.add_argument(
        "--listen",
        help="HOST:PORT for the receivers (ingest; default from the settings) or for"
        " /healthz, /readyz and /metrics (other stages; none unless given)",
    )

    replay = commands.add_parser(
        "replay", help="run recorded alerts through the pipeline on a virtual clock"
    )
    replay.add_argument("file", type=Path, help="JSON Lines: one received request per line")
    replay.add_argument("--config", type=Path, help="settings file (YAML)")
    replay.add_argument("--json", action="store_true", help="print one JSON document")
    replay.add_argument(
        "--compare-config",
        type=Path,
        metavar="OTHER",
        help="replay also under OTHER's rules (a settings file, or a rules folder) and print "
        "what they would have done differently",
    )

    past = replay.add_mutually_exclusive_group()
    past.add_argument(
        "--until",
        type=_moment,
        metavar="TIME",
        help="let time pass after the last line until TIME (ISO 8601, e.g. "
        "2026-11-20T12:00:00Z): calm periods, hold-downs and SLA targets end as live",
    )
    past.add_argument(
        "--drain", action="store_true", help="let time pass until no timer is left (up to 2 days)"
    )
    replay.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="also write the daily report of the replayed day to FILE (.html, .md or .json)",
    )
    replay.add_argument(
        "--report-date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="which day's report (default: the first due after the last line)",
    )

    report = commands.add_parser("report", help="the operations reports")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    daily = report_commands.add_parser("daily", help="write the daily operations report")
    daily.add_argument(
        "--date", type=_day, metavar="YYYY-MM-DD", help="the meeting's day (default: latest due)"
    )
    daily.add_argument(
        "--format", choices=[f.value for f in ReportFormat], default="html", help="html, md, json"
    )
    daily.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    daily.add_argument("--config", type=Path, help="settings file (YAML)")
    daily.add_argument("--data", type=Path, help="folder of the embedded data file (./data)")
    daily.add_argument("--redis", metavar="URL", help="read the state from Redis instead")

    users_command.add_parser(commands)

    rules = commands.add_parser("rules", help="work with the rules")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_commands.add_parser("check", help="validate the rules and explain each error")
    check.add_argument("--config", type=Path, help="settings file (YAML)")
    check.add_argument(
        "--online", action="store_true",
        help="also try each configured ticket system and what the rules map to there",
    )  # fmt: skip
    return parser


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write YYYY-MM-DD") from None


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a moment with its zone: write e.g. 2026-11-20T12:00:00Z"
        )
    return moment.astimezone(UTC)


def _report_format(path: Path) -> ReportFormat:
    try:
        return ReportFormat(path.suffix.lstrip(".").replace("markdown", "md"))
    except ValueError:
        raise ConfigError(f"{path}: name the report .html, .md or .json") from None


def _settings_and_rules(config: Path | None, **overrides: object) -> tuple[Settings, Rules]:
    settings = load_settings(config, **overrides)
    return settings, load_rules(settings.rules_dir)


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings(
        args.config, listen=args.listen, data_dir=args.data, redis_url=args.redis
    )
    loaded = read_rules(settings.rules_dir)
    clock = WallClock()
    rules = RulesRef(loaded.rules, RulesVersion(loaded.digest, clock.now()))
    for line in _channel_warnings(loaded.rules):
        log.warning("%s", line)
    app = create_app(settings, rules, clock)
    app.cleanup_ctx.append(reload_on_sighup)
    log.info(
        "Sereno listening on http://%s (data in %s, rules version %s from %s; SIGHUP reloads "
        "them)",
        settings.listen, settings.redis_url or settings.data_dir, loaded.digest,
        settings.rules_dir,
    )  # fmt: skip
    if settings.auth.access_log:
        web.run_app(
            app, host=settings.host, port=settings.port, print=None,
            access_log=logging.getLogger("sereno.access"),
            access_log_class=CombinedAccessLogger,
        )  # fmt: skip
    else:
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from sereno.worker import check_worker_settings, run_worker  # noqa: PLC0415 - only here

    settings, rules = _settings_and_rules(args.config, redis_url=args.redis)
    check_worker_settings(settings)
    asyncio.run(run_worker(settings, RulesRef(rules), StageName(args.stage), args.listen))
    return 0


def _say(line: str) -> None:
    print(f"sereno replay: {line}", file=sys.stderr, flush=True)  # noqa: T201 - progress


def _replay(args: argparse.Namespace) -> int:
    from sereno.compare import run_comparison  # noqa: PLC0415 - only this command needs it
    from sereno.replay import ReplayError, run_replay  # noqa: PLC0415

    settings, rules = _settings_and_rules(args.config)
    daily: DailyReport | None = None
    try:
        if args.compare_config is not None:
            base_label = str(args.config) if args.config else str(settings.rules_dir)
            other = _other_config(args.compare_config, settings)
            result: ReplayResult | Comparison = asyncio.run(
                run_comparison(args.file, (base_label, settings, rules), other)
            )
        else:
            replayed = asyncio.run(
                run_replay(args.file, settings, rules, report=args.report is not None,
                           report_day=args.report_date, progress=_say,
                           until="drain" if args.drain else args.until)
            )  # fmt: skip
            result, daily = replayed, replayed.report
    except ReplayError as e:
        print(f"sereno replay: {e}", file=sys.stderr)  # noqa: T201 - the command's own output
        return EXIT_USAGE
    print(result.to_json() if args.json else result.to_text())  # noqa: T201
    if args.report is not None and daily is not None:
        args.report.write_text(
            render(daily, _report_format(args.report), settings.language),
            encoding="utf-8",
        )
    return 0


def _report_daily(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, data_dir=args.data, redis_url=args.redis)
    text = asyncio.run(produce(settings, args.date, ReportFormat(args.format), WallClock().now()))
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0


def _other_config(other: Path, settings: Settings) -> tuple[str, Settings, Rules]:
    """What --compare-config names: a settings file, or a rules folder to use with the
    same settings."""
    if other.is_dir():
        return str(other), settings.model_copy(update={"rules_dir": other}), load_rules(other)
    other_settings, other_rules = _settings_and_rules(other)
    return str(other), other_settings, other_rules


def _channel_warnings(rules: Rules) -> list[str]:
    """One line per notification channel that cannot deliver as configured, and why."""
    return [
        f"channel {name} cannot deliver: {problem}; its messages are recorded as undeliverable"
        for name, problem in sorted(unusable_channels(rules.notifications).items())
    ]


def _rules_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    loaded = read_rules(settings.rules_dir)
    runbooks = load_runbooks(settings.runbooks_dir, loaded.rules)
    print(  # noqa: T201 - the command's own output
        f"rules in {settings.rules_dir} are valid ({len(loaded.files)} files, version "
        f"{loaded.digest}): {loaded.rules.summary()}; {len(runbooks)} runbooks in "
        f"{settings.runbooks_dir} are valid"
    )
    for line in _channel_warnings(loaded.rules):
        print(f"warning: {line}")  # noqa: T201
    if not args.online:
        return 0
    findings = asyncio.run(try_backends(settings.ticket_backends, loaded.rules.tickets.systems))
    for finding in findings:
        outcome = f"FAILED: {finding.problem}" if finding.problem else "ok"
        print(f"  {finding.backend}: {finding.what}: {outcome}")  # noqa: T201 - the command's own output
    if not findings:
        print("  no ticket system is configured (ticket_backends)")  # noqa: T201
    return EXIT_USAGE if any(f.problem for f in findings) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    commands = {
        "serve": _serve, "worker": _worker, "replay": _replay, "report": _report_daily,
        "rules": _rules_check, "users": users_command.run,
    }  # fmt: skip
    try:
        return commands[args.command](args)
    except ConfigError as e:
        print(f"sereno: configuration error:\n{e}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    except OpenBeyondLoopbackError as e:
        print(f"sereno: {e}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    except RulesError as e:
        count = f"{len(e.problems)} problem{'s' if len(e.problems) != 1 else ''}"
        print(f"sereno: invalid rules ({count}):", file=sys.stderr)  # noqa: T201
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
