"""Where things are in a YAML file: problems reported as ``FILE:LINE:COL: where: what``.

:func:`read_yaml` loads a file into data plus its node tree (``yaml.compose``), reporting syntax
errors and duplicate keys with their lines; :func:`mark_of` maps a validation error's location
(``("rooms", 0, "transport")``) onto the line of that key in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ConfigIssue", "dotted", "mark_of", "read_yaml"]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: where (file, 1-based line and column, dotted location) and what."""

    file: str
    line: int
    column: int
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "location": self.location,
            "message": self.message,
        }


def dotted(loc: Sequence[str | int]) -> str:
    """``("rooms", 0, "transport")`` as ``rooms[0].transport``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def mark_of(root: yaml.Node | None, loc: Sequence[str | int]) -> tuple[int, int]:
    """1-based ``(line, column)`` of the deepest YAML node on the path ``loc``: the key itself
    when it is in the file, else its nearest parent (a missing field points at its section)."""
    if root is None:
        return 1, 1
    node: yaml.Node = root
    mark = node.start_mark
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    mark, node = key.start_mark, value
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1


def _duplicate_keys(node: yaml.Node | None, path: tuple[str | int, ...] = ()) -> list[
    tuple[yaml.Node, tuple[str | int, ...]]
]:
    found: list[tuple[yaml.Node, tuple[str | int, ...]]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append((key, (*path, name)))
            seen.add(name)
            found += _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, (*path, index))
    return found


def read_yaml(path: Path | None) -> tuple[str, yaml.Node | None, dict[str, Any], list[ConfigIssue]]:
    """The file's name, YAML node tree, data and syntax-level issues."""
    if path is None:
        return "<defaults>", None, {}, []
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return name, None, {}, [ConfigIssue(name, 1, 1, "", f"cannot read: {exc.strerror}")]
    except UnicodeDecodeError:
        return name, None, {}, [ConfigIssue(name, 1, 1, "", "not UTF-8 text")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return name, None, {}, [ConfigIssue(name, line, col, "", f"YAML syntax: {problem}")]
    except yaml.YAMLError as exc:
        return name, None, {}, [ConfigIssue(name, 1, 1, "", f"YAML syntax: {exc}")]
    if data is None:
        return name, root, {}, []
    if not isinstance(data, dict):
        return name, root, {}, [
            ConfigIssue(name, 1, 1, "", "the file must be a mapping of sections (rooms:, ...)")
        ]
    issues = [
        ConfigIssue(
            name,
            key.start_mark.line + 1,
            key.start_mark.column + 1,
            dotted(loc),
            "key appears twice (the last one would win)",
        )
        for key, loc in _duplicate_keys(root)
    ]
    return name, root, data, issues
