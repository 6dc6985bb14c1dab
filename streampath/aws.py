"""boto3 clients for one environment, and the translation of AWS errors into one-line refusals.

The region always comes from the environment's config: its ``region``, or one of ``canary.regions`` for a
canary's stack, metrics and alarms there (:meth:`Aws.in_region`). Endpoints are boto3's own: the standard
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables point every client at another endpoint
(the tests use a local moto server that way); nothing here knows about tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)

from streampath.errors import Refusal

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_lambda import LambdaClient

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "or run `aws sso login` / `aws configure`"
)
_AUTH_ERROR_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
}
# A canary run can take the Lambda's whole timeout: wait for it, and never retry an Invoke
# (a retry after a read timeout would run the canary a second time).
_INVOKE_CONFIG = Config(read_timeout=900, connect_timeout=10, retries={"total_max_attempts": 1})
_DEFAULT_CONFIG = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard"})


@dataclass
class Aws:
    """One boto3 session bound to the environment's region."""

    region: str
    profile: str | None = None
    _session: boto3.session.Session | None = field(default=None, init=False, repr=False)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            with aws_errors("AWS session"):
                self._session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    def in_region(self, region: str) -> Aws:
        """The same profile in another Region (its own session: sessions are not shared across threads)."""
        return Aws(region=region, profile=self.profile)

    def cloudformation(self) -> CloudFormationClient:
        return self.session.client("cloudformation", config=_DEFAULT_CONFIG)

    def cloudwatch(self) -> CloudWatchClient:
        return self.session.client("cloudwatch", config=_DEFAULT_CONFIG)

    def lambda_(self) -> LambdaClient:
        return self.session.client("lambda", config=_INVOKE_CONFIG)

    def check_account(self, expected: str | None, env_name: str) -> str:
        """The credentials' account; refuses when the config names another one."""
        with aws_errors("STS GetCallerIdentity"):
            account: str = self.session.client("sts", config=_DEFAULT_CONFIG).get_caller_identity()["Account"]
        if expected and str(expected) != account:
            raise Refusal(
                f"the AWS credentials are for account {account}, but config {env_name} is for account "
                f"{expected}: switch AWS_PROFILE"
            )
        return account


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn botocore's exceptions into one-line refusals naming the call (never echoing credentials)."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise Refusal(NO_CREDENTIALS) from None
    except ProfileNotFound as exc:
        raise Refusal(f"AWS profile not found: {exc.kwargs.get('profile')}") from None
    except TokenRetrievalError:
        raise Refusal("AWS SSO token expired or missing: run `aws sso login`") from None
    except EndpointConnectionError as exc:
        raise Refusal(f"{what}: cannot reach {exc.kwargs.get('endpoint_url')}") from None
    except ClientError as exc:
        error: dict[str, Any] = dict(exc.response.get("Error", {}))
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        if code in _AUTH_ERROR_CODES:
            raise Refusal(f"AWS rejected the credentials ({code}): {message}") from None
        raise Refusal(f"{what} failed: {code}: {message}") from None
    except BotoCoreError as exc:
        raise Refusal(f"{what} failed: {exc}") from None
