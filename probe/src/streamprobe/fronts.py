"""Which managed front doors a response passed through, told by the headers they add to every response.

- API Gateway (REST) adds ``x-amz-apigw-id`` (and ``x-amzn-RequestId``) to its responses.
- CloudFront adds ``x-amz-cf-id`` and names itself in ``Via`` (``1.1 <id>.cloudfront.net (CloudFront)``).
  An edge-optimized API Gateway endpoint is served through CloudFront, so its answers carry both.

The result reports them as ``"via"`` (outermost first, as the client met them); the doctor uses them to
name a buffering or idle-cutting hop, and its fixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, get_args

Front = Literal["cloudfront", "apigateway"]
FRONTS: Final[tuple[Front, ...]] = get_args(Front)


def fronts_in(headers: Mapping[str, str]) -> list[Front]:
    """The fronts whose marks are in ``headers`` (a case-insensitive mapping, like httpx's), in
    :data:`FRONTS` order: CloudFront before the API Gateway behind it."""
    found: list[Front] = []
    if "x-amz-cf-id" in headers or "cloudfront" in headers.get("via", "").lower():
        found.append("cloudfront")
    if "x-amz-apigw-id" in headers:
        found.append("apigateway")
    return found
