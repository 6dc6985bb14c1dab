"""Strict integer query parameters with bounds, and the 422 body that names the parameter."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


@dataclass(frozen=True)
class Bound:
    """One integer query parameter: its name, inclusive bounds and default."""

    name: str
    low: int
    high: int
    default: int
    description: str = ""


@dataclass(frozen=True)
class Choice:
    """One query parameter that takes one of a few words: its name, the words and the default."""

    name: str
    values: tuple[str, ...]
    default: str
    description: str = ""


class ParamError(ValueError):
    """A query parameter is missing its form or out of bounds; rendered as a 422 naming it."""

    def __init__(self, parameter: str, message: str, value: str | None = None) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message
        self.value = value

    def body(self) -> dict[str, Any]:
        """The 422 JSON body: FastAPI's ``detail`` shape plus a top-level ``parameter``."""
        return {
            "parameter": self.parameter,
            "message": f"{self.parameter}: {self.message}",
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["query", self.parameter],
                    "msg": self.message,
                    "input": self.value,
                }
            ],
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=422)


def parse_int_params(query: QueryParams | Mapping[str, str], bounds: Iterable[Bound]) -> dict[str, int]:
    """Parse the named integer parameters strictly; other parameters are ignored.

    A value must be a plain decimal integer (``"1.0"``, ``"1e3"``, ``""`` and ``"0x10"`` are refused),
    given at most once, and inside its bounds.
    """
    values: dict[str, int] = {}
    for bound in bounds:
        given: Sequence[str]
        if isinstance(query, QueryParams):
            given = query.getlist(bound.name)
        else:
            given = [query[bound.name]] if bound.name in query else []
        if not given:
            values[bound.name] = bound.default
            continue
        if len(given) > 1:
            raise ParamError(bound.name, "must be given at most once", ",".join(given))
        raw = given[0]
        if not _INTEGER.fullmatch(raw.strip()):
            raise ParamError(bound.name, f"must be an integer, got {raw!r}", raw)
        value = int(raw)
        if not bound.low <= value <= bound.high:
            raise ParamError(bound.name, f"must be between {bound.low} and {bound.high}, got {value}", raw)
        values[bound.name] = value
    return values


def openapi_parameters(bounds: Iterable[Bound]) -> list[dict[str, Any]]:
    """OpenAPI descriptions of the parameters (the route parses them itself, for exact 422s)."""
    return [
        {
            "name": b.name,
            "in": "query",
            "required": False,
            "description": b.description,
            "schema": {"type": "integer", "minimum": b.low, "maximum": b.high, "default": b.default},
        }
        for b in bounds
    ]


def parse_choice(query: QueryParams, choice: Choice) -> str:
    """The word given for ``choice`` (at most once, one of its values), or its default."""
    given = query.getlist(choice.name)
    if not given:
        return choice.default
    if len(given) > 1:
        raise ParamError(choice.name, "must be given at most once", ",".join(given))
    if given[0] not in choice.values:
        words = ", ".join(choice.values)
        raise ParamError(choice.name, f"must be one of {words}, got {given[0]!r}", given[0])
    return given[0]


def openapi_choice(choice: Choice) -> dict[str, Any]:
    """The OpenAPI description of a :class:`Choice` parameter."""
    return {
        "name": choice.name,
        "in": "query",
        "required": False,
        "description": choice.description,
        "schema": {"type": "string", "enum": list(choice.values), "default": choice.default},
    }
