"""The YAML dialect of config files: the YAML 1.2 core schema, read into a bounded tree of nodes.

PyYAML implements YAML 1.1, whose implicit types surprise people who write config by hand: ``port: 1:20``
is the sexagesimal integer 80, ``enabled: on`` / ``yes`` / ``no`` are booleans, ``010`` is octal 8,
``1_000`` is 1000 and ``2024-01-02`` is a date. Config files here are read with the **YAML 1.2 core
schema** instead (what YAML 1.2 parsers, and most people, expect). The only implicit types are:

- null: ``~``, ``null``, ``Null``, ``NULL`` and the empty value;
- booleans: ``true``, ``True``, ``TRUE``, ``false``, ``False``, ``FALSE``;
- integers: ``[-+]?[0-9]+`` (decimal, also with leading zeros: ``010`` is 10), ``0o[0-7]+``,
  ``0x[0-9a-fA-F]+``;
- floats: ``[-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?``, ``[-+]?.inf``, ``.nan`` (each spelling in
  lower, title or upper case).

Everything else is a string: ``1:20``, ``on``, ``yes``, ``1_000``, ``2024-01-02``, ``0b101``; the schema's
validation then says ``must be an integer, got '1:20'`` instead of silently using 80. Explicit tags are
limited to the core ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!seq``, ``!!map``),
and there are no merge keys (``<<`` is an ordinary key, refused as unknown). A ``%YAML 1.1`` directive
does not switch back: one file, one reading.

This module only scans, parses and composes (no Python object is ever constructed from a tag): the
composer refuses a document nested deeper than :data:`MAX_DEPTH` (PyYAML composes recursively, so 5000
levels end in ``RecursionError``) or holding more than :data:`MAX_NODES` nodes; ``yaml_source`` turns the
nodes into plain data.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from yaml.composer import Composer
from yaml.error import Mark
from yaml.events import CollectionStartEvent
from yaml.nodes import Node
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

__all__ = [
    "BOOL",
    "FLOAT",
    "INT",
    "MAP",
    "MAX_DEPTH",
    "MAX_NODES",
    "NULL",
    "SEQ",
    "STR",
    "CoreLoader",
    "NodeLimit",
    "PathPart",
]

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

#: Deepest nesting of lists and mappings; a config nests about 5 levels (canary.paths[0].auth_secret.arn).
MAX_DEPTH = 32
#: Most nodes (scalars, lists, mappings) in one document, aliases expanded; a config has about 300.
MAX_NODES = 10_000

NULL_PATTERN = re.compile(r"~|null|Null|NULL|")
BOOL_PATTERN = re.compile(r"true|True|TRUE|false|False|FALSE")
INT_PATTERN = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
FLOAT_PATTERN = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)

#: One step of the way to a node: a mapping's key node, a list index, or None for a key itself.
PathPart = Node | int | None


class NodeLimit(Exception):
    """The document breaks a bound of this dialect at ``mark``, under the keys of ``path``."""

    def __init__(self, reason: str, mark: Mark | None, path: list[PathPart]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mark = mark
        self.path = path


class CoreResolver(BaseResolver):
    """Implicit tags of the YAML 1.2 core schema (PyYAML's ``Resolver`` has the YAML 1.1 ones)."""

    # Own table (not BaseResolver's, shared by every PyYAML loader): filled below, first match wins.
    yaml_implicit_resolvers: dict[Any, Any] = {}


# Integers before floats: "10" matches both patterns, and is an integer.
for _tag, _pattern, _first in (
    (NULL, NULL_PATTERN, ["~", "n", "N", ""]),
    (BOOL, BOOL_PATTERN, list("tTfF")),
    (INT, INT_PATTERN, list("-+0123456789")),
    (FLOAT, FLOAT_PATTERN, list("-+.0123456789")),
):
    CoreResolver.add_implicit_resolver(_tag, re.compile(rf"^(?:{_pattern.pattern})$"), _first)


class CoreLoader(Reader, Scanner, Parser, Composer, CoreResolver):
    """Text to one node tree (``get_single_node``), YAML 1.2 core tags, bounded depth and size.

    It has no constructor on purpose: nodes never become Python objects here, so no tag can instantiate one.
    """

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        CoreResolver.__init__(self)
        self.path: list[PathPart] = []
        self.nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self._refuse(f"more than {MAX_NODES} values in one file", index)
        if len(self.path) >= MAX_DEPTH and self.check_event(CollectionStartEvent):
            self._refuse(f"nested deeper than {MAX_DEPTH} levels", index)
        self.path.append(index)
        try:
            node = super().compose_node(parent, index)
        finally:
            self.path.pop()
        return node

    def _refuse(self, reason: str, index: PathPart) -> NoReturn:
        where = [*self.path, index][1:]  # without the document's root
        self.check_event()  # makes the next event current: its mark is where the refused node starts
        event = self.current_event
        raise NodeLimit(reason, event.start_mark if event is not None else None, where)
