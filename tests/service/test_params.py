"""Strict parsing of integer query parameters (pure functions)."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams
from streamcheck.params import Bound, ParamError, parse_int_params

B = (Bound("events", 1, 500, 20), Bound("pad", 0, 10, 0))


def test_defaults_and_unknown_parameters() -> None:
    assert parse_int_params(QueryParams("nonce=abc&x=1"), B) == {"events": 20, "pad": 0}


@pytest.mark.parametrize("value", ["1", "500", "+7", " 42 ", "007"])
def test_accepts_plain_integers(value: str) -> None:
    assert parse_int_params(QueryParams({"events": value}), B)["events"] == int(value)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("events=0", "between 1 and 500, got 0"),
        ("events=501", "between 1 and 500, got 501"),
        ("events=1.0", "must be an integer"),
        ("events=1e2", "must be an integer"),
        ("events=0x10", "must be an integer"),
        ("events=", "must be an integer"),
        ("events=abc", "must be an integer"),
        ("events=99999999999999999999", "must be an integer"),
        ("events=1&events=2", "at most once"),
    ],
)
def test_refuses_and_names_the_parameter(query: str, needle: str) -> None:
    with pytest.raises(ParamError) as info:
        parse_int_params(QueryParams(query), B)
    assert info.value.parameter == "events"
    assert needle in info.value.message
    body = info.value.body()
    assert body["parameter"] == "events"
    assert body["detail"][0]["loc"] == ["query", "events"]


def test_plain_mapping_is_accepted() -> None:
    assert parse_int_params({"pad": "3"}, B) == {"events": 20, "pad": 3}
