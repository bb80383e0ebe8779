"""Taking, waiting for and deleting elastic cluster snapshots.

Every function takes the docdb-elastic client as an argument, so the same code runs against AWS
and against the loopback stand-in in the tests.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from . import contract
from .contract import Attr
from .properties import SnapshotProperties

logger = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
# Statuses after which a snapshot will never become ACTIVE without someone's intervention.
FAILED_STATUSES = frozenset(
    {
        "DELETING",
        "STOPPING",
        "STOPPED",
        "VPC_ENDPOINT_LIMIT_EXCEEDED",
        "IP_ADDRESS_LIMIT_EXCEEDED",
        "INVALID_SECURITY_GROUP_ID",
        "INVALID_SUBNET_ID",
        "INACCESSIBLE_ENCRYPTION_CREDS",
        "INACCESSIBLE_SECRET_ARN",
        "INACCESSIBLE_VPC_ENDPOINT",
        "INCOMPATIBLE_NETWORK",
    }
)


class SnapshotFailed(RuntimeError):
    """The snapshot cannot be taken or did not become ACTIVE; the message is the Reason."""


def generate_snapshot_name(prefix: str, request_id: str, now: datetime) -> str:
    """PREFIX-YYYYMMDDhhmmss-xxxxxx: sorts by time, unique per CloudFormation request."""
    digest = hashlib.sha256(request_id.encode()).hexdigest()[:6]
    return f"{prefix}-{now.astimezone(timezone.utc):%Y%m%d%H%M%S}-{digest}"


def snapshot_name_for(props: SnapshotProperties, request_id: str, now: datetime) -> str:
    if props.snapshot_name is not None:
        return props.snapshot_name
    assert props.snapshot_name_prefix is not None  # parse_properties requires one of the two
    return generate_snapshot_name(props.snapshot_name_prefix, request_id, now)


def attributes(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """The response Data: every attribute present, as strings, so Fn::GetAtt always resolves."""
    return {
        Attr.SNAPSHOT_ARN: str(snapshot.get("snapshotArn", "")),
        Attr.SNAPSHOT_NAME: str(snapshot.get("snapshotName", "")),
        Attr.STATUS: str(snapshot.get("status", "")),
        Attr.SNAPSHOT_CREATION_TIME: str(snapshot.get("snapshotCreationTime", "")),
        Attr.CLUSTER_ARN: str(snapshot.get("clusterArn", "")),
        Attr.KMS_KEY_ID: str(snapshot.get("kmsKeyId", "")),
        Attr.SNAPSHOT_TYPE: str(snapshot.get("snapshotType", "")),
    }


def poll_delays(first: float = 1.0, factor: float = 1.5, cap: float = 10.0) -> Iterator[float]:
    """Short delays first, so a quick snapshot is noticed quickly; capped for long ones."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, cap)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))[:300]


def create_snapshot(
    client: Any, props: SnapshotProperties, snapshot_name: str
) -> dict[str, Any]:
    request: dict[str, Any] = {"clusterArn": props.cluster_arn, "snapshotName": snapshot_name}
    if props.tags:
        request["tags"] = dict(props.tags)
    try:
        response = client.create_cluster_snapshot(**request)
    except ClientError as error:
        raise SnapshotFailed(
            f"CreateClusterSnapshot {snapshot_name} of {props.cluster_arn} failed: "
            f"{_error_code(error)}: {_error_message(error)}"
        ) from error
    snapshot: dict[str, Any] = response["snapshot"]
    logger.info(
        "snapshot requested",
        extra={"snapshot_arn": snapshot.get("snapshotArn"), "status": snapshot.get("status")},
    )
    return snapshot


def wait_until_active(
    client: Any,
    snapshot: dict[str, Any],
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    delays: Iterator[float] | None = None,
) -> dict[str, Any]:
    """Poll GetClusterSnapshot until ACTIVE; fail on a status that cannot become ACTIVE or at the
    deadline (a clock() value)."""
    delays = delays or poll_delays()
    arn = snapshot["snapshotArn"]
    polls = 0
    while True:
        status = snapshot.get("status")
        if status == ACTIVE:
            logger.info("snapshot active", extra={"snapshot_arn": arn, "polls": polls})
            return snapshot
        if status in FAILED_STATUSES:
            raise SnapshotFailed(
                f"Snapshot {arn} is {status} and will not become ACTIVE; see the cluster's "
                "status and events in the DocumentDB console"
            )
        remaining = deadline - clock()
        if remaining <= 0:
            raise SnapshotFailed(
                f"Snapshot {arn} was still {status} when the wait ended; it may still complete. "
                "Raise the timeout prop, or set wait_for_completion=False"
            )
        sleep(min(next(delays), remaining))
        polls += 1
        try:
            snapshot = client.get_cluster_snapshot(snapshotArn=arn)["snapshot"]
        except ClientError as error:
            raise SnapshotFailed(
                f"GetClusterSnapshot {arn} failed: {_error_code(error)}: {_error_message(error)}"
            ) from error


def delete_snapshot(client: Any, snapshot_arn: str) -> None:
    """Delete; a snapshot that is already gone is success."""
    try:
        client.delete_cluster_snapshot(snapshotArn=snapshot_arn)
    except ClientError as error:
        if _error_code(error) == "ResourceNotFoundException":
            logger.info("snapshot already gone", extra={"snapshot_arn": snapshot_arn})
            return
        raise SnapshotFailed(
            f"DeleteClusterSnapshot {snapshot_arn} failed: {_error_code(error)}: "
            f"{_error_message(error)}"
        ) from error
    logger.info("snapshot deleted", extra={"snapshot_arn": snapshot_arn})


def is_snapshot_arn(value: str | None) -> bool:
    return bool(value) and re.match(contract.SNAPSHOT_ARN_PATTERN, value or "") is not None
