"""Answering CloudFormation: one bounded PUT to the presigned ResponseURL.

crhelper's sender retries forever, has no socket timeout and counts a 403 as success; this one
gives up after a few attempts within a time budget and logs the outcome without the URL.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
ATTEMPTS = 4
SOCKET_TIMEOUT_SECONDS = 10.0
_TRUNCATED = " [...] "


def fit_body(response: dict[str, Any]) -> bytes:
    """Serialise, shortening Reason (keeping its start, which names the error, and its end) so
    the body stays within CloudFormation's 4096 bytes."""
    body = json.dumps(response).encode()
    if len(body) <= MAX_BODY_BYTES:
        return body
    reason = str(response.get("Reason", ""))
    excess = len(body) - MAX_BODY_BYTES + len(_TRUNCATED) + 16
    if excess < len(reason):
        keep = len(reason) - excess
        head = reason[: keep * 2 // 3]
        tail = reason[len(reason) - (keep - len(head)) :]
        body = json.dumps({**response, "Reason": head + _TRUNCATED + tail}).encode()
    if len(body) > MAX_BODY_BYTES:
        # Data itself is too large: fail the resource rather than send a body CloudFormation drops.
        body = json.dumps(
            {
                **response,
                "Status": "FAILED",
                "Reason": "Response too large for CloudFormation (4096 bytes)",
                "Data": {},
            }
        ).encode()
    return body


def send(
    url: str,
    response: dict[str, Any],
    budget_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """PUT the response; True once CloudFormation's S3 endpoint accepted it (2xx)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        logger.error("ResponseURL is missing or not https; no response can be sent")
        return False
    body = fit_body(response)
    target = parts.path + ("?" + parts.query if parts.query else "")
    deadline = clock() + max(budget_seconds, 1.0)
    for attempt in range(1, ATTEMPTS + 1):
        timeout = max(0.5, min(SOCKET_TIMEOUT_SECONDS, deadline - clock()))
        try:
            connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
            )
            try:
                connection.request(
                    "PUT", target, body=body, headers={"Content-Type": "", "Content-Length": str(len(body))}
                )
                status = connection.getresponse().status
            finally:
                connection.close()
            if 200 <= status < 300:
                logger.info(
                    "response sent",
                    extra={"response_status": response.get("Status"), "http_status": status, "attempt": attempt},
                )
                return True
            problem = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as error:
            problem = type(error).__name__
        pause = min(2.0 ** (attempt - 1), deadline - clock())
        if attempt == ATTEMPTS or pause <= 0:
            break
        logger.warning("response not accepted, retrying", extra={"problem": problem, "attempt": attempt})
        sleep(pause)
    logger.error(
        "response could not be delivered to CloudFormation",
        extra={"problem": problem, "attempts": attempt, "response_status": response.get("Status")},
    )
    return False
