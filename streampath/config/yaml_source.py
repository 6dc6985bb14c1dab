"""Parsing a config file's text as YAML: safe objects only, a repeated key is an error with its line.

Every failure becomes a :class:`~streampath.config.common.ConfigError` of one line
``<file>: line L, column C: YAML syntax error: <problem>``.
"""

from __future__ import annotations

from typing import Any

import yaml

from streampath.config.common import ConfigError

__all__ = ["parse_yaml"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, shown: str) -> Any:
    """The document in ``text``; ``shown`` is the file's name as the message shows it."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"{shown}: {where}YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown}: YAML syntax error: {error}") from None
