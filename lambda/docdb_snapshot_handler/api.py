"""Calls to the docdb-elastic API that absorb transient faults within a deadline.

botocore's own retries are switched off (see entrypoint): they ignore Retry-After and know
nothing of the Lambda's remaining time. Here 429, 5xx and connection errors are retried with
capped exponential backoff and full jitter, honouring Retry-After, until the deadline; any
other error is final at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_CODES = frozenset({"ThrottlingException", "InternalServerException", "ServiceUnavailable"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_delay: float = 0.25
    max_delay: float = 8.0


DEFAULT_RETRY_POLICY = RetryPolicy()


class ApiError(Exception):
    """A call that failed for good: its operation, error code, message and attempts made."""

    def __init__(self, operation: str, code: str, message: str, attempts: int, http_status: int = 0) -> None:
        self.operation = operation
        self.code = code
        self.message = message[:300]
        self.attempts = attempts
        self.http_status = http_status
        super().__init__(f"{operation}: {code}: {self.message}")

    def failure(self, subject: str) -> str:
        """The start of every Reason for this refusal: the operation, its subject, the attempts
        made, and AWS's code and message (to which each kind appends its advice)."""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.operation} failed for {subject}{tries}: {self.code}: {self.message.rstrip('.')}"


def _retry_after(error: ClientError) -> float | None:
    headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = headers.get("retry-after", error.response.get("retryAfterSeconds"))
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


class Api:
    """Retrying wrapper of a docdb-elastic client: ``api.call("GetClusterSnapshot", snapshotArn=...)``."""

    def __init__(
        self,
        client: Any,
        deadline: float,
        policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.client = client
        self.deadline = deadline
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.client, xform_name(operation))
        attempt = 0
        while True:
            attempt += 1
            try:
                result: dict[str, Any] = method(**params)
                return result
            except ClientError as error:
                status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                code = str(error.response.get("Error", {}).get("Code", "Unknown"))
                message = str(error.response.get("Error", {}).get("Message", ""))
                transient = status in TRANSIENT_STATUSES or code in TRANSIENT_CODES
                failure = ApiError(operation, code, message, attempt, status)
                wait = _retry_after(error) if transient else None
            except (BotocoreConnectionError, HTTPClientError) as error:
                transient = True
                failure = ApiError(operation, type(error).__name__, str(error), attempt)
                wait = None
            if not transient:
                raise failure
            if wait is None:
                ceiling = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
                wait = self.jitter(0.0, ceiling)
            remaining = self.deadline - self.clock()
            if attempt >= self.policy.max_attempts or wait >= remaining:
                raise failure
            logger.warning(
                "transient API error, retrying",
                extra={
                    "operation": operation,
                    "error": failure.code,
                    "attempt": attempt,
                    "wait_seconds": round(wait, 3),
                },
            )
            self.sleep(wait)
