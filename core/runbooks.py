"""Runbooks: Markdown files whose front matter says which incidents they apply to.

    ---
    title: Host down
    owner: sistemas
    applies_to: {names: [HostDown, InstanceDown]}
    ---
    # Host down
    1. Check whether the host answers ping ...

The first numbered list is the runbook's first steps, copied into tickets so an agent can
start without opening anything else. Errors name the file, the line and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.matchers import AlertMatch
from core.models import Alert
from core.rules import RuleProblem, Rules, RulesError

_FRONT = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)
_STEP = re.compile(r"^\s{0,3}\d+[.)]\s+(.+)$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class FrontMatter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="Support group that keeps it up to date")
    applies_to: AlertMatch


@dataclass(frozen=True, slots=True)
class Runbook:
    name: str
    """The file name without .md; its address is /runbooks/<name>."""
    title: str
    owner: str
    applies_to: AlertMatch
    body: str
    first_steps: tuple[str, ...]


class Runbooks:
    """Every runbook of a folder, in file-name order; the first that applies wins."""

    def __init__(self, runbooks: list[Runbook]) -> None:
        self._runbooks = runbooks
        self._by_name = {r.name: r for r in runbooks}

    def __len__(self) -> int:
        return len(self._runbooks)

    def __iter__(self) -> Iterator[Runbook]:
        return iter(self._runbooks)

    def get(self, name: str) -> Runbook | None:
        return self._by_name.get(name)

    def for_alert(self, alert: Alert, service: str) -> Runbook | None:
        """The runbook for an incident opened by `alert` (whose service is `service`)."""
        return next((r for r in self._runbooks if r.applies_to.matches(alert, service)), None)


def _steps(body: str) -> tuple[str, ...]:
    """The first numbered list of the body."""
    steps: list[str] = []
    for line in body.splitlines():
        found = _STEP.match(line)
        if found:
            steps.append(found[1].strip())
        elif steps and line.strip():
            break
    return tuple(steps)


def _read(path: Path, rules: Rules) -> tuple[Runbook | None, list[RuleProblem]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [RuleProblem(name, 0, "file", f"cannot read: {e}")]
    if not _NAME.match(path.stem):
        fix = "use lower-case letters, digits and dashes, e.g. host-down.md"
        return None, [RuleProblem(name, 0, "file name", fix)]
    front = _FRONT.match(text)
    if front is None:
        fix = "start the file with front matter: ---, title, owner, applies_to, ---"
        return None, [RuleProblem(name, 1, "front matter", fix)]
    try:
        data = yaml.safe_load(front[1])
        matter = FrontMatter.model_validate(data)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 2 if e.problem_mark else 1
        return None, [RuleProblem(name, line, "front matter", str(e.problem))]
    except ValidationError as e:
        return None, [
            RuleProblem(name, _line_of(front[1], err["loc"]), ".".join(map(str, err["loc"])),
                        err["msg"])
            for err in e.errors()
        ]  # fmt: skip
    problems = [
        RuleProblem(
            name, _line_of(front[1], ("applies_to", "services")), "applies_to.services",
            f"unknown service '{s}'; write one of: {', '.join(sorted(rules.services))}",
        )
        for s in matter.applies_to.services
        if not any(ch in s for ch in "*?[") and s not in rules.services
    ]  # fmt: skip
    if matter.applies_to == AlertMatch():
        fix = "applies_to matches every incident; name services, names or labels"
        problems.append(RuleProblem(name, _line_of(front[1], ("applies_to",)), "applies_to", fix))
    body = text[front.end() :]
    runbook = Runbook(path.stem, matter.title, matter.owner, matter.applies_to, body, _steps(body))
    return runbook, problems


def _line_of(front: str, loc: tuple[int | str, ...]) -> int:
    """The line (in the file, after the opening ---) where the first key of `loc` sits."""
    key = str(loc[0]) if loc else ""
    for number, line in enumerate(front.splitlines(), start=2):
        if line.lstrip().startswith(f"{key}:"):
            return number
    return 1


def load_runbooks(folder: Path, rules: Rules) -> Runbooks:
    """Every *.md of `folder` except README.md; RulesError naming each problem."""
    if not folder.is_dir():
        return Runbooks([])
    found: list[Runbook] = []
    problems: list[RuleProblem] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        runbook, trouble = _read(path, rules)
        problems += trouble
        if runbook is not None:
            found.append(runbook)
    if problems:
        raise RulesError(problems)
    return Runbooks(found)
