"""What each CloudFormation request type does, independent of crhelper and of boto3's set-up."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import contract
from .api import Api, RetryPolicy
from .properties import Home, parse_properties, removal_policy_of
from .snapshots import Snapshots, attributes, is_snapshot_arn, request_token

logger = logging.getLogger(__name__)

# Kept back from the Lambda's remaining time for the answer to CloudFormation.
RESPONSE_RESERVE_SECONDS = 15.0

ClientFactory = Callable[[], Any]


def home_of(context: Any) -> Home:
    """The function's own partition, region and account, from its ARN and environment."""
    function = str(getattr(context, "invoked_function_arn", "")).split(":")
    if len(function) < 5:
        return Home(region=os.environ.get("AWS_REGION", ""))
    return Home(partition=function[1], region=os.environ.get("AWS_REGION", ""), account=function[4])


def _deadline(context: Any, clock: Callable[[], float], limit_seconds: float | None = None) -> float:
    remaining = context.get_remaining_time_in_millis() / 1000.0 - RESPONSE_RESERVE_SECONDS
    return clock() + (remaining if limit_seconds is None else min(limit_seconds, remaining))


def create_or_update(
    event: dict[str, Any],
    context: Any,
    client_factory: ClientFactory,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    retry_policy: RetryPolicy = RetryPolicy(),
) -> tuple[str, dict[str, str]]:
    """Take a new snapshot (an Update never reuses the old one); return (PhysicalResourceId, Data)."""
    props = parse_properties(event.get("ResourceProperties"), home_of(context))
    deadline = _deadline(context, clock, float(props.timeout_seconds))
    snapshots = Snapshots(Api(client_factory(), deadline, retry_policy, clock=clock))
    token = request_token(str(event["StackId"]), str(event["LogicalResourceId"]), str(event["RequestId"]))

    snapshot = snapshots.take(props, token, now())
    if props.wait_for_completion:
        snapshot = snapshots.wait_until_active(snapshot, deadline, clock=clock)
    return str(snapshot["snapshotArn"]), attributes(snapshot)


def delete(
    event: dict[str, Any],
    context: Any,
    client_factory: ClientFactory,
    clock: Callable[[], float] = time.monotonic,
    retry_policy: RetryPolicy = RetryPolicy(),
) -> str:
    """Retain by default; DESTROY deletes. Return the PhysicalResourceId unchanged."""
    physical_id = str(event.get("PhysicalResourceId", ""))
    if not is_snapshot_arn(physical_id):
        # A Create that failed answered with a placeholder id: there is nothing to delete.
        logger.info("no snapshot behind this resource; nothing to delete")
        return physical_id
    if removal_policy_of(event.get("ResourceProperties")) != contract.RemovalPolicy.DESTROY:
        logger.info("snapshot retained", extra={"snapshot_arn": physical_id})
        return physical_id
    Snapshots(Api(client_factory(), _deadline(context, clock), retry_policy, clock=clock)).delete(physical_id)
    return physical_id
