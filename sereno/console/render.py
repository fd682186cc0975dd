"""The console's templates: one autoescaping environment per language, with times shown in
the configured zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sereno.console.data import Member
from sereno.console.i18n import LANGUAGES, Language, translate

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True, slots=True)
class MemberGroup:
    resource: str
    name: str
    items: list[Member] = field(default_factory=list)


def group_members(members: Iterable[Member]) -> list[MemberGroup]:
    """Consecutive members of one resource and name, together (they come sorted so)."""
    groups: list[MemberGroup] = []
    for member in members:
        if not groups or (groups[-1].resource, groups[-1].name) != (member.resource, member.name):
            groups.append(MemberGroup(member.resource, member.name))
        groups[-1].items.append(member)
    return groups


def span(length: timedelta) -> str:
    """A duration as a person says it at a glance: 40 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = int(abs(length.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def is_url(value: object) -> bool:
    """Only web addresses become links: a `javascript:` or `data:` value stays text."""
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _environment(language: Language, zone: ZoneInfo) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def t(key: str, **values: object) -> str:
        return translate(language, key, **values)

    def when(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def ago(at: datetime, now: datetime) -> str:
        return t("ago", n=span(now - at))

    def until(at: datetime, now: datetime) -> str:
        return t("in_time", n=span(at - now)) if at > now else t("overdue", n=span(now - at))

    env.globals["t"] = t
    env.filters.update(
        when=when, ago=ago, until=until, is_url=is_url, groupby_ordered=group_members
    )
    return env


class Renderer:
    """Renders a page in a language; built once per application."""

    def __init__(self, timezone: str) -> None:
        zone = ZoneInfo(timezone)
        self._envs = {language: _environment(language, zone) for language in LANGUAGES}

    def render(self, language: Language, template: str, **context: object) -> str:
        return self._envs[language].get_template(template).render(**context)

    def text(self, language: Language, key: str, **values: object) -> str:
        return translate(language, key, **values)
