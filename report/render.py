"""The daily report as a person reads it: HTML (one self-contained page, fit for an email),
Markdown, or JSON, in the configured language and time zone.

Every text comes from `templates/`; the HTML environment escapes everything it prints, so an
alert's own words (titles, names, resources) can never become markup or script.
"""

from __future__ import annotations

import enum
import functools
import re
from datetime import datetime
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from report import charts
from report.model import DailyReport, Figure

Language = Literal["en", "es"]

NEW, REPEATS, SUPPRESSED, OPEN = "#2563eb", "#93c5fd", "#d1d5db", "#f59e0b"
"""Chart colours: new alerts, repeats, suppressed, open incidents."""
GOOD, BAD, FLAT = "#15803d", "#b91c1c", "#6b7280"


class ReportFormat(enum.StrEnum):
    HTML = "html"
    MARKDOWN = "md"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return {"html": "text/html", "md": "text/markdown", "json": "application/json"}[self]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters but tab and line breaks: a NUL from an alert has no place in a page."""


def _printable(value: object) -> object:
    """Every value a report template prints, without control characters. Markup is the
    report's own (charts), already made safe."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROL.sub("", value)
    return value


def markdown_text(value: object) -> str:
    """`value` as literal Markdown text: its markup characters escaped, HTML neutralised,
    on one line (a newline would end a table row)."""
    text = " ".join(_CONTROL.sub("", str(value)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_printable,
    )
    env.filters["md"] = markdown_text
    return env


@functools.cache
def labels(language: Language) -> dict[str, Any]:
    """The words of the report in `language`."""
    text = (
        resources.files("report")
        .joinpath(f"templates/labels.{language}.yaml")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


class Formatter:
    """Numbers, times and comparisons as a reader of `language` in `zone` writes them."""

    def __init__(self, language: Language, zone: ZoneInfo) -> None:
        self.language = language
        self.zone = zone
        self._labels = labels(language)

    def num(self, value: float | None, suffix: str = "") -> str:
        if value is None:
            return str(self._labels["none"])
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
        if self.language == "es":  # 1.234,5
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return text + suffix

    def percent(self, value: float | None) -> str:
        return self.num(value, " %" if self.language == "es" else "%")

    def minutes(self, value: float | None) -> str:
        """A duration given in minutes, in the largest unit that reads well."""
        if value is None:
            return str(self._labels["none"])
        if value < 90:
            return self.num(round(value), " " + self._labels["minutes"])
        if value < 48 * 60:
            return self.num(round(value / 60, 1), " " + self._labels["hours"])
        return self.num(round(value / 1440, 1), " " + self._labels["days"])

    def hours(self, value: float) -> str:
        return self.minutes(value * 60)

    def when(self, moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        if moment is None:
            return str(self._labels["none"])
        return moment.astimezone(self.zone).strftime(pattern)

    def trend(self, figure: Figure, *, lower_is_better: bool = True) -> tuple[str, str]:
        """An arrow for the change since the day before, and its colour."""
        if figure.value is None or figure.previous is None or figure.value == figure.previous:
            return "=", FLAT
        rising = figure.value > figure.previous
        good = rising != lower_is_better
        return ("▲" if rising else "▼"), (GOOD if good else BAD)


def _charts(report: DailyReport, fmt: Formatter, words: dict[str, Any]) -> dict[str, Any]:
    by_hour = report.alerts.by_hour
    hours = [fmt.when(h.hour, "%H") for h in by_hour]
    volume = charts.stacked_bars(
        [
            charts.Series(words["new_alerts"], NEW,
                          [h.received - h.deduplicated - h.suppressed for h in by_hour]),
            charts.Series(words["repeats"], REPEATS, [h.deduplicated for h in by_hour]),
            charts.Series(words["suppressed"], SUPPRESSED, [h.suppressed for h in by_hour]),
        ],
        hours,
        every=2,
    )  # fmt: skip
    backlog = charts.stacked_bars(
        [charts.Series(words["open_incidents"], OPEN, [h.backlog for h in by_hour])],
        hours,
        height=130,
        every=2,
    )
    sla = report.sla
    rows = [
        (f"{words['sla_response']} · {words['today']}", sla.response_compliance.value, NEW),
        (f"{words['yesterday']}", sla.response_compliance.previous, REPEATS),
        (f"{words['avg_7d']}", sla.response_compliance.average_7d, SUPPRESSED),
        (f"{words['sla_resolution']} · {words['today']}", sla.resolution_compliance.value, NEW),
        (f"{words['yesterday']}", sla.resolution_compliance.previous, REPEATS),
        (f"{words['avg_7d']}", sla.resolution_compliance.average_7d, SUPPRESSED),
    ]
    return {"volume": volume, "backlog": backlog, "sla": charts.percent_bars(rows)}


def render(
    report: DailyReport, report_format: ReportFormat, language: Language = "en", limit: int = 10
) -> str:
    """`report` in `report_format`; times in the report's own time zone. The JSON holds
    every crisis and incident; a page shows `limit` of each list and counts the rest."""
    if report_format is ReportFormat.JSON:
        return report.model_dump_json(indent=2) + "\n"
    words = labels(language)
    fmt = Formatter(language, ZoneInfo(report.timezone))
    context: dict[str, Any] = {
        "r": report,
        "t": words,
        "f": fmt,
        "language": language,
        "limit": limit,
    }
    if report_format is ReportFormat.HTML:
        context["charts"] = _charts(report, fmt, words)
        return _environment().get_template("daily.html.j2").render(context)
    return _environment().get_template("daily.md.j2").render(context)
