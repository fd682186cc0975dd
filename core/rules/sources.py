"""How each monitoring system speaks: its severity words, its resource names, its JSON shape."""

from __future__ import annotations

import re

from pydantic import Field

from core.models import Severity
from core.rules.base import FieldPath, Section


class SourceSeverity(Section):
    """How one source says severity: which label carries it and what its words mean."""

    label: str = "severity"
    map: dict[str, Severity] = Field(default_factory=dict)
    default: Severity = Severity.WARNING


_PORT = re.compile(r":\d+$")


class ResourceRules(Section):
    """How resource names from different sources are made to meet: `WEB-1.corp.example:9100`
    from Prometheus and `web-1` from Zabbix are one host."""

    case_fold: bool = True
    strip_port: bool = True
    strip_domains: list[str] = Field(
        default_factory=list, description="Suffixes removed from host names, e.g. .corp.example"
    )
    aliases: dict[str, str] = Field(
        default_factory=dict, description="Names (after the steps above) to rename"
    )

    def normalize(self, raw: str) -> str:
        """The one name of a resource, whichever source named it."""
        name = raw.strip()
        if name.startswith("[") and "]" in name:  # [2001:db8::1]:9100
            name = name[1 : name.index("]")]
        elif self.strip_port and name.count(":") == 1:
            name = _PORT.sub("", name)
        if self.case_fold:
            name = name.casefold()
        for suffix in self.strip_domains:
            folded = suffix.casefold() if self.case_fold else suffix
            if name.endswith(folded) and len(name) > len(folded):
                name = name[: -len(folded)]
                break
        return self.aliases.get(name, name)


DEFAULT_SEVERITY_WORDS = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "disaster": Severity.CRITICAL,
    "emergency": Severity.CRITICAL,
    "high": Severity.MAJOR,
    "major": Severity.MAJOR,
    "error": Severity.MAJOR,
    "average": Severity.MINOR,
    "minor": Severity.MINOR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "low": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,
    "none": Severity.INFO,
}


class StatusRule(Section):
    path: FieldPath
    resolved: list[str] = Field(
        default_factory=lambda: ["resolved", "ok", "up", "recovered"],
        description="Values (compared as lower-case text) that mean resolved; others fire",
    )


class FieldMapping(Section):
    """How one sender's JSON becomes alerts: which field is the name, resource, severity..."""

    alerts: FieldPath = Field(
        default="", description="Path of a list of alerts in the body; empty: the body itself"
    )
    name: FieldPath
    resource: FieldPath = ""
    service: FieldPath = ""
    severity: FieldPath = ""
    summary: FieldPath = ""
    id: FieldPath = ""
    starts_at: FieldPath = ""
    url: FieldPath = ""
    status: StatusRule | None = None
    labels: dict[str, FieldPath] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(
        default_factory=dict, description="Values for fields the body lacks, e.g. service"
    )
