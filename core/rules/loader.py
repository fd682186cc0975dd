"""Reading rules/*.yaml: every file holds one or more top-level sections, a section lives in
one file only, and every error names the file, the line and what to write instead.

Every problem is reported at once, not the first one only: a broken file does not hide the
mistakes of the others, and a section that fails its schema does not hide the mistakes of
the rest. Checks across sections run on what could be read, and are left out only where
they would rest on a section that could not be read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.rules.explain import DICT_KEY, Location, explain, where
from core.rules.schema import Rules


@dataclass(frozen=True, slots=True)
class RuleProblem:
    file: str
    line: int
    """1-based; 0 when the problem is not on a line (a missing folder, an unreadable file)."""
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.problem}"


class RulesError(Exception):
    """The rules cannot be used; `problems` says where each error is and how to fix it."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class LoadedRules:
    """Valid rules and where they came from: the files read and a digest of their text,
    which changes whenever any of them does (the rules' version)."""

    rules: Rules
    files: tuple[Path, ...]
    digest: str


@dataclass(frozen=True, slots=True)
class _Origin:
    file: str
    key: yaml.Node
    value: yaml.Node


@dataclass(slots=True)
class _Sections:
    """Top-level sections gathered from every file, with the YAML nodes each came from."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, _Origin] = field(default_factory=dict)
    broken_files: int = 0

    def line(self, loc: Location, folder: Path) -> tuple[str, int]:
        """File and 1-based line of the location `loc` (section first)."""
        origin = self.origins.get(str(loc[0])) if loc else None
        if origin is None:
            return str(folder), 0
        if len(loc) == 1:
            return origin.file, origin.key.start_mark.line + 1
        return origin.file, node_at(origin.value, loc[1:]).start_mark.line + 1


def node_at(node: yaml.Node, path: Location) -> yaml.Node:
    """The YAML node closest to `path`, so an error points at the nearest line: the key's
    line when the path ends on a mapping key, the mapping itself when the key is absent."""
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if step == DICT_KEY:
            return node
        if isinstance(node, yaml.MappingNode):
            pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
            # The last of a key written twice is the one YAML keeps, so the one validated.
            pair = next(((k, v) for k, v in reversed(pairs) if k.value == str(step)), None)
            if pair is None:
                return node
            key, value = pair
            if last or path[index + 1] == DICT_KEY:
                return key
            node = value
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return node
            node = node.value[step]
        else:
            return node
    return node


_YAML_HINTS = (
    ("found character '\\t'", "indent with spaces: YAML does not allow tabs"),
    ("mapping values are not allowed", "quote a value containing ': ', or check the indentation"),
    ("could not find expected ':'", "write 'key: value', and check this line's indentation"),
    ("expected ',' or ']'", "close the [ … ] list, or quote a value that contains [ or ]"),
    ("expected ',' or '}'", "close the { … } mapping, or quote a value that contains { or }"),
    ("found unexpected end of stream", "close the quote that was opened"),
    ("expected a single document", "keep one YAML document per file: remove the '---'"),
)  # fmt: skip


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    problem = str(error.problem or error)
    hint = next((h for text, h in _YAML_HINTS if text in problem), "check indentation and quotes")
    context = f" ({error.context} at line {error.context_mark.line + 1})" if (
        error.context and error.context_mark
    ) else ""  # fmt: skip
    return f"not valid YAML: {problem}{context}; {hint}"


def _duplicate_keys(root: yaml.Node, file: str) -> list[RuleProblem]:
    """Keys given twice in one mapping: YAML silently keeps the last, which hides a
    service or a rule written twice."""
    problems: list[RuleProblem] = []
    stack: list[tuple[yaml.Node, Location]] = [(root, ())]
    visited: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in visited:  # an alias shares its anchor's node
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and key.value in first:
                    problems.append(
                        RuleProblem(
                            file, line, where((*path, key.value)),
                            f"'{key.value}' is written twice in this mapping (first at line "
                            f"{first[key.value]}); YAML would keep only this one: merge the "
                            "two or rename one",
                        )
                    )  # fmt: skip
                elif isinstance(key, yaml.ScalarNode):
                    first[key.value] = line
                stack.append((value, (*path, str(key.value))))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    return problems


def _read_file(path: Path, text: str, into: _Sections) -> list[RuleProblem]:
    name = str(path)
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as e:
        into.broken_files += 1
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        return [RuleProblem(name, line, "yaml", _yaml_problem(e))]
    finally:
        loader.dispose()
    if data is None or root is None:
        return []
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        into.broken_files += 1
        return [RuleProblem(name, 1, "file", "must be a mapping of sections, e.g. 'services:' ...")]
    problems = _duplicate_keys(root, name)
    for key_node, value_node in root.value:
        key = str(key_node.value)
        if key in into.origins:
            problems.append(
                RuleProblem(
                    name, key_node.start_mark.line + 1, key,
                    f"section already in {into.origins[key].file} (line "
                    f"{into.origins[key].key.start_mark.line + 1}); keep it in one file",
                )
            )  # fmt: skip
            continue
        into.values[key] = data[key]
        into.origins[key] = _Origin(name, key_node, value_node)
    return problems


def _read_folder(folder: Path) -> tuple[_Sections, list[RuleProblem], tuple[Path, ...], str]:
    sections, problems = _Sections(), []
    files = tuple(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
    digest = hashlib.sha256()
    for path in files:
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            sections.broken_files += 1
            problems.append(RuleProblem(str(path), 0, "file", f"cannot read: {e}"))
            continue
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        problems += _read_file(path, text, sections)
    return sections, problems, files, digest.hexdigest()[:12]


def read_rules(folder: Path) -> LoadedRules:
    """Read and validate every *.yaml file of `folder`; raise RulesError naming every
    problem found, each with its file, line and what to write instead."""
    if not folder.is_dir():
        raise RulesError(
            [
                RuleProblem(
                    str(folder), 0, "rules_dir",
                    "folder not found; set rules_dir in the settings file to the folder of "
                    "the rules' *.yaml files",
                )
            ]
        )  # fmt: skip
    sections, problems, files, digest = _read_folder(folder)
    failed: set[str] = set()
    try:
        rules = Rules.model_validate(sections.values)
    except ValidationError as e:
        for error in e.errors():
            loc = tuple(error["loc"])
            failed.add(str(loc[0]) if loc else "")
            file, line = sections.line(loc, folder)
            problems.append(RuleProblem(file, line, where(loc), explain(Rules, error)))
        # The sections that are valid on their own still get their cross-checks.
        rules = Rules.model_validate({k: v for k, v in sections.values.items() if k not in failed})

    def readable(section: str) -> bool:
        # A section missing from the files read may be in a file that could not be read.
        return section not in failed and (section in sections.values or not sections.broken_files)

    for cross in rules.cross_check():
        if all(readable(s) for s in cross.reads):
            file, line = sections.line(cross.where, folder)
            problems.append(RuleProblem(file, line, where(cross.where), cross.problem))
    if problems:
        raise RulesError(problems)
    return LoadedRules(rules, files, digest)


def load_rules(folder: Path) -> Rules:
    """Read and validate every *.yaml file of `folder`; raise RulesError naming each problem."""
    return read_rules(folder).rules
