"""YAML loading that remembers where every value came from.

The one YAML loader of the project: scenario files and manifest files both go through
``load_documents`` so that any error can name the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Located", "SourceError", "format_path", "load_documents", "load_text"]

Path_ = tuple[str | int, ...]


class SourceError(Exception):
    """A problem in an input file, reported as ``file:line: field: message``."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 field_path: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field_path = field_path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        what = f"{self.field_path}: " if self.field_path else ""
        return f"{where}: {what}{self.message}"


@dataclass(slots=True)
class Located:
    """A parsed YAML document with the line of every key and list item."""

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    first_line: int = 1

    def line_of(self, path: Path_) -> int:
        """The line of the deepest known prefix of ``path`` (1-based)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return self.first_line

    def error(self, path: Path_, message: str) -> SourceError:
        """A ``SourceError`` pointing at ``path`` inside this document."""
        return SourceError(message, self.file, self.line_of(path), format_path(path) or None)


def format_path(path: Path_) -> str:
    """``('cluster', 'nodePools', 0, 'count')`` -> ``cluster.nodePools[0].count``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _record_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _record_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def _syntax_error(exc: yaml.YAMLError, file: str) -> SourceError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    line = mark.line + 1 if mark is not None else None
    return SourceError(f"YAML syntax error: {problem}", file, line)


def load_text(text: str, file: str) -> list[Located]:
    """Every document of a YAML text, with line numbers; raises ``SourceError``."""
    docs: list[Located] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                data = loader.construct_document(node)
                lines: dict[Path_, int] = {}
                _record_lines(node, (), lines)
                docs.append(Located(data, file, lines, node.start_mark.line + 1))
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None
    return docs


def load_documents(path: Path, shown_as: str | None = None) -> list[Located]:
    """Every document of a YAML file; a missing or unreadable file is a ``SourceError``."""
    name = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError("file not found", name) from None
    except IsADirectoryError:
        raise SourceError("is a directory, expected a YAML file", name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read file: {exc}", name) from None
    return load_text(text, name)
