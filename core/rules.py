"""The operator's policy: typed schema and loader for rules/*.yaml.

Every file in the rules folder holds one or more top-level sections; a section lives in
one file only. Errors name the file, the line and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import ErrorDetails

from core.models import Priority, Severity

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_duration(value: object) -> object:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"'{value}' is not a duration; write for example 90s, 5m, 2h or 1d")
        return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
"""A duration written as 90s, 5m, 2h or 1d (or a number of seconds)."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorrelationRules(Section):
    window: Duration = Field(
        default=timedelta(minutes=5),
        description="An alert of a resolved incident's group that fires within this time "
        "after the resolution reopens that incident instead of opening a new one.",
    )


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


class PriorityRules(Section):
    by_severity: dict[Severity, Priority] = Field(
        default_factory=lambda: {
            Severity.CRITICAL: Priority.P1,
            Severity.MAJOR: Priority.P2,
            Severity.MINOR: Priority.P3,
            Severity.WARNING: Priority.P4,
            Severity.INFO: Priority.P5,
        }
    )

    def for_severity(self, severity: Severity) -> Priority:
        """The priority an incident of `severity` gets."""
        return self.by_severity.get(severity, Priority.P3)


_DEFAULT_SEVERITY_WORDS = {
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


_PATH = re.compile(r"^[^.\[\]]+(\[\d+\])*(\.[^.\[\]]+(\[\d+\])*)*$")


def _check_path(value: str) -> str:
    if value and not _PATH.match(value):
        raise ValueError(
            f"'{value}' is not a field path; write for example monitor.host or tags[0]"
        )
    return value


FieldPath = Annotated[str, AfterValidator(_check_path)]
"""Where a value sits in a JSON body: dotted keys and [index], e.g. monitor.tags[0]."""


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


class Rules(Section):
    """All rules sections, each with a sensible default."""

    correlation: CorrelationRules = CorrelationRules()
    severity: dict[str, SourceSeverity] = Field(default_factory=dict)
    priority: PriorityRules = PriorityRules()
    resources: ResourceRules = ResourceRules()
    mappings: dict[str, FieldMapping] = Field(
        default_factory=dict,
        description="Receivers defined by field mapping: POST /api/v1/alerts/<name>",
    )

    def severity_of(self, source: str, word: str | None) -> Severity:
        """Map a source's own severity word onto the one scale: the operator's mapping for
        that source first, then the common words, then the source's default."""
        mapping = self.severity.get(source, SourceSeverity())
        if word is None:
            return mapping.default
        key = word.strip().lower()
        if key in mapping.map:
            return mapping.map[key]
        return _DEFAULT_SEVERITY_WORDS.get(key, mapping.default)

    def severity_label(self, source: str) -> str:
        return self.severity.get(source, SourceSeverity()).label


@dataclass(frozen=True, slots=True)
class RuleProblem:
    file: str
    line: int
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.problem}"


class RulesError(Exception):
    """The rules cannot be used; `problems` says where each error is and how to fix it."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _node_at(node: yaml.Node, path: tuple[int | str, ...]) -> yaml.Node:
    """The deepest YAML node along `path`, so an error points at the closest line."""
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == str(step)), None)
            if found is None:
                found = next((k for k, _ in node.value if k.value == str(step)), None)
                return found if found is not None else node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return node
            node = node.value[step]
        else:
            return node
    return node


def _fix_hint(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "remove it or check its spelling"
    if kind == "enum":
        return f"write one of: {error['ctx']['expected']}"
    return ""


@dataclass(slots=True)
class _Sections:
    """Top-level sections gathered from every file, with the YAML node each came from."""

    values: dict[str, Any]
    nodes: dict[str, tuple[str, yaml.Node]]


def _read_file(path: Path, into: _Sections) -> list[RuleProblem]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        return [RuleProblem(name, line, "yaml", str(e.problem))]
    except (OSError, UnicodeDecodeError) as e:
        return [RuleProblem(name, 0, "file", f"cannot read: {e}")]
    if data is None or root is None:
        return []
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        return [RuleProblem(name, 1, "file", "must be a mapping of sections")]
    problems = []
    for key_node, value_node in root.value:
        key = key_node.value
        if key in into.values:
            first = into.nodes[key][0]
            line = key_node.start_mark.line + 1
            problems.append(
                RuleProblem(name, line, key, f"section already in {first}; keep it in one file")
            )
            continue
        into.values[key] = data[key]
        into.nodes[key] = (name, value_node)
    return problems


def _explain(error: ValidationError, sections: _Sections, folder: Path) -> list[RuleProblem]:
    problems = []
    for err in error.errors():
        loc = tuple(err["loc"])
        file, node = sections.nodes.get(str(loc[0]), (str(folder), None)) if loc else ("", None)
        line = _node_at(node, loc[1:]).start_mark.line + 1 if node is not None else 0
        hint = _fix_hint(err)
        message = err["msg"] + (f"; {hint}" if hint else "")
        problems.append(RuleProblem(file or str(folder), line, ".".join(map(str, loc)), message))
    return problems


def load_rules(folder: Path) -> Rules:
    """Read and validate every *.yaml file of `folder`; raise RulesError naming each problem."""
    if not folder.is_dir():
        raise RulesError([RuleProblem(str(folder), 0, "rules", "folder not found")])
    sections = _Sections({}, {})
    problems: list[RuleProblem] = []
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        problems += _read_file(path, sections)
    if problems:
        raise RulesError(problems)
    try:
        return Rules.model_validate(sections.values)
    except ValidationError as e:
        raise RulesError(_explain(e, sections, folder)) from e


class RulesRef:
    """The rules in force; swapped whole on reload so a reader never sees half of a change."""

    def __init__(self, rules: Rules) -> None:
        self.current = rules

    def replace(self, rules: Rules) -> None:
        self.current = rules
