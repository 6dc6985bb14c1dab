"""Parsing a config file's text (YAML 1.2 core, see ``yaml_core``) into plain data: dicts, lists, scalars.

Besides what the dialect bounds (depth, size), turning nodes into data refuses what a config never needs
and PyYAML would let through or crash on: a repeated key (PyYAML keeps the last one silently), a key that is
not a string (a list or a mapping as a key is ``TypeError: unhashable type``), an integer too long to be a
setting (5000 digits is ``ValueError`` from ``int``, and even a long hexadecimal one cannot be printed), an
alias that contains itself, and aliases that expand to more than ``MAX_NODES`` values (an alias bomb).

Every failure becomes a :class:`~streampath.config.common.ConfigError` of one line: the file, the key when
there is one, the line and column, and the reason::

    config/x.yaml: nlb.listener.port: line 5, column 11: an integer of 5000 digits (at most 32)
    config/x.yaml: line 3, column 1: YAML syntax error: duplicate key 'name'
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from streampath.config.common import ConfigError
from streampath.config.display import dotted, one_line, shown
from streampath.config.yaml_core import (
    BOOL,
    BOOL_PATTERN,
    FLOAT,
    FLOAT_PATTERN,
    INT,
    INT_PATTERN,
    MAP,
    MAX_NODES,
    NULL,
    NULL_PATTERN,
    SEQ,
    STR,
    CoreLoader,
    NodeLimit,
    PathPart,
)

__all__ = ["MAX_INT_DIGITS", "parse_yaml"]

#: Longest integer literal; the largest setting (a 12-digit account id is a string) has 7 digits.
MAX_INT_DIGITS = 32

_CORE_TAGS = {STR: "!!str", INT: "!!int", FLOAT: "!!float", BOOL: "!!bool", NULL: "!!null"}


def parse_yaml(text: str, shown_file: str) -> Any:
    """The document in ``text`` as plain data; ``shown_file`` is the file's name as the message shows it."""
    loader: CoreLoader | None = None
    try:
        loader = CoreLoader(text)  # the reader refuses control characters here, before any parsing
        node = loader.get_single_node()
        return None if node is None else _Builder().build(node, [])
    except NodeLimit as error:
        raise ConfigError(_line(shown_file, error.reason, error.mark, error.path)) from None
    except yaml.reader.ReaderError as error:
        raise ConfigError(_line(shown_file, _reader_problem(error), _reader_mark(text, error), [])) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        parts = [part for part in (error.context, error.problem) if part]
        raise ConfigError(_line(shown_file, ": ".join(parts) or "invalid YAML", mark, [])) from None
    except yaml.YAMLError as error:
        raise ConfigError(_line(shown_file, str(error), None, [])) from None
    finally:
        if loader is not None:
            loader.dispose()


def _line(shown_file: str, reason: str, mark: Mark | None, path: list[PathPart]) -> str:
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    keys = dotted(_path_keys(path))
    if keys:
        return one_line(f"{shown_file}: {keys}: {where}{reason}")
    return one_line(f"{shown_file}: {where}YAML syntax error: {reason}")


def _path_keys(path: list[PathPart]) -> list[object]:
    keys: list[object] = []
    for part in path:
        if isinstance(part, ScalarNode):
            keys.append(part.value)
        elif isinstance(part, int):
            keys.append(part)
        else:  # a key that is itself a list or mapping, or the position of a key
            keys.append("[key]")
    return keys


def _reader_problem(error: yaml.reader.ReaderError) -> str:
    # Text input: PyYAML reports the code point as an int.
    character = chr(error.character) if isinstance(error.character, int) else str(error.character)
    return f"the character {character!r} is not allowed in YAML text"


def _reader_mark(text: str, error: yaml.reader.ReaderError) -> Mark:
    before = text[: error.position]
    line = before.count("\n")
    column = error.position - (before.rfind("\n") + 1)
    return Mark(error.name, error.position, line, column, None, 0)


class _Builder:
    """Nodes to data. An anchored node is built once and shared by its aliases, as PyYAML does, but every
    use counts toward ``MAX_NODES``: nine aliases to nine aliases to ... expand without bound."""

    def __init__(self) -> None:
        self.built: dict[int, tuple[Any, int]] = {}
        self.building: set[int] = set()
        self.expanded = 0

    def build(self, node: Node, path: list[PathPart]) -> Any:
        known = self.built.get(id(node))
        if known is not None:
            value, size = known
            self._count(size, node, path)
            return value
        if id(node) in self.building:
            raise NodeLimit("an alias refers to a list or mapping that contains it", node.start_mark, path)
        before = self.expanded
        self._count(1, node, path)
        self.building.add(id(node))
        try:
            value = self._value(node, path)
        finally:
            self.building.discard(id(node))
        self.built[id(node)] = (value, self.expanded - before)
        return value

    def _count(self, size: int, node: Node, path: list[PathPart]) -> None:
        self.expanded += size
        if self.expanded > MAX_NODES:
            raise NodeLimit(f"more than {MAX_NODES} values once aliases are expanded", node.start_mark, path)

    def _value(self, node: Node, path: list[PathPart]) -> Any:
        if isinstance(node, ScalarNode):
            return _scalar(node, path)
        if isinstance(node, SequenceNode) and node.tag == SEQ:
            return [self.build(item, [*path, index]) for index, item in enumerate(node.value)]
        if isinstance(node, MappingNode) and node.tag == MAP:
            return self._mapping(node, path)
        raise NodeLimit(_unsupported_tag(node.tag), node.start_mark, path)

    def _mapping(self, node: MappingNode, path: list[PathPart]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, [*path, None])
            if not isinstance(key, str):
                raise NodeLimit(f"a key must be a string, got {_kind(key)}", key_node.start_mark, path)
            if key in out:
                raise NodeLimit(f"duplicate key {shown(key)}", key_node.start_mark, path)
            out[key] = self.build(value_node, [*path, key_node])
        return out


def _kind(value: object) -> str:
    if isinstance(value, dict | list):
        return shown(value)
    return f"{shown(value)} (quote it if it is meant as a key)"


def _unsupported_tag(tag: str) -> str:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    allowed = ", ".join([*_CORE_TAGS.values(), "!!seq", "!!map"])
    return f"the tag {shown(short)} is not supported (only {allowed})"


def _scalar(node: ScalarNode, path: list[PathPart]) -> Any:
    value: str = node.value
    tag = node.tag
    if tag == STR:
        return value
    if tag == NULL and NULL_PATTERN.fullmatch(value):
        return None
    if tag == BOOL and BOOL_PATTERN.fullmatch(value):
        return value.lower() == "true"
    if tag == INT and INT_PATTERN.fullmatch(value):
        digits = value.lstrip("+-")
        if len(digits) > MAX_INT_DIGITS:
            raise NodeLimit(
                f"an integer of {len(digits)} digits (at most {MAX_INT_DIGITS})", node.start_mark, path
            )
        if digits.startswith(("0o", "0x")):
            return int(digits[2:], 8 if digits[1] == "o" else 16)
        return int(value, 10)
    if tag == FLOAT and FLOAT_PATTERN.fullmatch(value):
        lowered = value.lower()
        if lowered.endswith("inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered.endswith("nan"):
            return float("nan")
        return float(value)
    if tag in _CORE_TAGS:
        raise NodeLimit(f"{shown(value)} is not a valid {_CORE_TAGS[tag]}", node.start_mark, path)
    raise NodeLimit(_unsupported_tag(tag), node.start_mark, path)
