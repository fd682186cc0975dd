"""Reading rules/*.yaml: every file holds one or more top-level sections, a section lives in
one file only, and every error names the file, the line and what to write instead."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from core.rules.schema import Location, Rules


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
        rules = Rules.model_validate(sections.values)
    except ValidationError as e:
        raise RulesError(_explain(e, sections, folder)) from e
    cross = [_locate(loc, message, sections, folder) for loc, message in rules.cross_check()]
    if cross:
        raise RulesError(cross)
    return rules


def _locate(loc: Location, message: str, sections: _Sections, folder: Path) -> RuleProblem:
    file, node = sections.nodes.get(str(loc[0]), (str(folder), None))
    line = _node_at(node, loc[1:]).start_mark.line + 1 if node is not None else 0
    return RuleProblem(file, line, ".".join(map(str, loc)), message)
