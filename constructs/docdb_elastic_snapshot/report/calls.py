"""The report's calls to AWS: read-only, paged, a few at a time, each refusal an ApiError that
names the IAM action refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

# What an IAM policy must allow for the report: it makes no other call.
REQUIRED_PERMISSIONS: Final = (
    "docdb-elastic:ListClusters",
    "docdb-elastic:ListClusterSnapshots",
    "docdb-elastic:ListTagsForResource",
    "scheduler:ListSchedules",
    "scheduler:GetSchedule",
)
# Standard retries leave AWS_MAX_ATTEMPTS to the user; a short connect timeout makes an endpoint
# that cannot be reached fail in seconds rather than a minute.
CONFIG: Final = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard"})
# Calls overlap on a few threads: an account with many schedules or clusters still reports in seconds.
_WORKERS: Final = 8
_T = TypeVar("_T")
_R = TypeVar("_R")


class ApiError(Exception):
    """A call AWS refused: the IAM action it was, and AWS's error code and message."""

    def __init__(self, action: str, code: str, message: str) -> None:
        super().__init__(f"{action}: {code}: {message}")
        self.action, self.code, self.message = action, code, message


def _action(client: Any, operation: str) -> str:
    return f"{client.meta.service_model.signing_name}:{operation}"


def _refused(client: Any, operation: str, error: ClientError) -> ApiError:
    details = error.response.get("Error", {})
    return ApiError(_action(client, operation), str(details.get("Code")), str(details.get("Message")))


def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    except ClientError as error:
        raise _refused(client, operation, error) from error
    return answer


def items(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    pages = client.get_paginator(xform_name(operation)).paginate(**params, PaginationConfig={"PageSize": 100})
    try:
        for page in pages:
            yield from page.get(key, [])
    except ClientError as error:
        raise _refused(client, operation, error) from error


def parallel(function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    with ThreadPoolExecutor(_WORKERS) as pool:
        return list(pool.map(function, items))
