"""Secrets Manager values for auth headers, cached per container with a short TTL.

The value is never logged, printed or put into an exception message: errors name the secret's ARN
and the AWS error code only. boto3 is imported lazily (it is in the Lambda runtime, not in the
asset, and importing it costs ~150 ms of cold start a canary without secrets need not pay).
The endpoint follows boto3's own configuration (``AWS_ENDPOINT_URL_SECRETS_MANAGER`` in tests).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Final

DEFAULT_TTL_S: Final = 300.0


class SecretError(Exception):
    """The secret could not be read or does not hold what the config says; no value inside."""


class SecretCache:
    """Thread-safe ``arn -> SecretString`` cache; one fetch per ARN at a time."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        client_factory: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._client_factory = client_factory or _default_client
        self._clock = clock
        self._client: Any = None
        self._lock = threading.Lock()
        self._arn_locks: dict[str, threading.Lock] = {}
        self._values: dict[str, tuple[float, str]] = {}

    def _client_for_call(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def _arn_lock(self, arn: str) -> threading.Lock:
        with self._lock:
            return self._arn_locks.setdefault(arn, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def secret_string(self, arn: str) -> str:
        """The secret's current string value (cached for ``ttl_s``)."""
        with self._arn_lock(arn):
            cached = self._values.get(arn)
            now = self._clock()
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
            value = self._fetch(arn)
            self._values[arn] = (now, value)
            return value

    def _fetch(self, arn: str) -> str:
        try:
            response = self._client_for_call().get_secret_value(SecretId=arn)
        except Exception as exc:
            raise SecretError(f"cannot read secret {arn}: {_describe(exc)}") from None
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise SecretError(f"secret {arn} has no SecretString (binary secrets are not supported)")
        return value

    def header_value(self, arn: str, json_key: str | None) -> str:
        """The header value: the whole SecretString, or the string at ``json_key`` of its JSON."""
        value = self.secret_string(arn)
        if json_key is None:
            return value
        try:
            doc = json.loads(value)
        except json.JSONDecodeError:
            raise SecretError(f"secret {arn} is not JSON, but json_key {json_key!r} is configured") from None
        picked = doc.get(json_key) if isinstance(doc, dict) else None
        if not isinstance(picked, str):
            raise SecretError(f"secret {arn} has no string at json_key {json_key!r}")
        return picked


def _describe(exc: Exception) -> str:
    """An AWS error code or the exception type: never ``str(exc)`` of arbitrary exceptions."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def _default_client() -> Any:
    import boto3  # lazy on purpose (see module docstring)
    from botocore.config import Config

    return boto3.session.Session().client(
        "secretsmanager",
        config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
    )
