"""Turning pydantic's validation errors into ``<dotted.key[0].path>: <reason>`` lines, one per problem.

Validators raise plain ``ValueError`` with a human reason, or :class:`~streampath.config.common.FieldProblem`
for a cross-field rule about one key (its ``subpath`` is appended to the location, so the line names the key
to change rather than its section). A misspelt key gets the closest allowed name from the model that holds it.
Values and keys are echoed through ``display`` (quoted, bounded, credentials masked).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from streampath.config.common import FieldProblem
from streampath.config.display import dotted, shown

__all__ = ["format_errors"]


def format_errors(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per distinct problem of ``error``, raised while validating ``root``."""
    lines: list[str] = []
    items = error.errors(include_url=False)
    for item in items:
        loc = list(item["loc"])
        if item["type"] == "too_short" and any(
            other is not item and len(other["loc"]) > len(loc) and list(other["loc"][: len(loc)]) == loc
            for other in items
        ):
            continue  # "at least 1 item" only because the items themselves were refused: say that instead
        reason = _reason(item, loc, root)
        line = f"{dotted(loc) or '(top level)'}: {reason}"
        if line not in lines:
            lines.append(line)
    return lines


def _reason(item: Any, loc: list[Any], root: type[BaseModel]) -> str:
    kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        if isinstance(cause, FieldProblem):
            loc.extend(_split_subpath(cause.subpath))
            return cause.reason
        return str(cause) if cause is not None else str(item["msg"])
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(loc, root)
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {shown(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be an integer, got {shown(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {shown(value)}"
    if kind == "string_type":
        hint = " (quote it in YAML)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
        return f"must be a string{hint}, got {shown(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return f"must be a mapping of keys, got {shown(value)}"
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return f"must be a list, got {shown(value)}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    return str(item["msg"])


def _split_subpath(subpath: str) -> list[Any]:
    parts: list[Any] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", subpath):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


def _suggestion(loc: list[Any], root: type[BaseModel]) -> str:
    """``(did you mean 'listener'?)`` for a misspelt key, from the fields of the model that holds it."""
    model = _model_at(loc[:-1], root)
    if model is None or not isinstance(loc[-1], str):
        return ""
    fields = list(model.model_fields)
    close = difflib.get_close_matches(loc[-1], fields, n=1, cutoff=0.75)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(fields)})"


def _model_at(loc: list[Any], root: type[BaseModel]) -> type[BaseModel] | None:
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif isinstance(part, int) and typing.get_origin(current) in (tuple, list):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
