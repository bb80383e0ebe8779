"""What each CloudFormation request type does, independent of crhelper and of boto3's set-up."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import contract
from .contract import Prop
from .properties import InvalidProperties, SnapshotProperties, parse_properties, removal_policy_of
from .snapshots import (
    attributes,
    create_snapshot,
    delete_snapshot,
    is_snapshot_arn,
    snapshot_name_for,
    wait_until_active,
)

logger = logging.getLogger(__name__)

# Kept back from the Lambda's remaining time for the answer to CloudFormation.
RESPONSE_RESERVE_SECONDS = 15.0

ClientFactory = Callable[[], Any]


def _check_cluster_is_local(props: SnapshotProperties, context: Any) -> None:
    """A snapshot is taken in the function's own account and region: say so before calling."""
    arn_parts = props.cluster_arn.split(":")
    function_parts = str(getattr(context, "invoked_function_arn", "")).split(":")
    errors = []
    region = os.environ.get("AWS_REGION", "")
    if region and arn_parts[3] != region:
        errors.append(
            f"{Prop.CLUSTER_ARN}: the cluster must be in the stack's region {region} "
            f"(got {arn_parts[3]})"
        )
    if len(function_parts) > 4 and function_parts[4] and arn_parts[4] != function_parts[4]:
        errors.append(
            f"{Prop.CLUSTER_ARN}: the cluster must be in the stack's account {function_parts[4]} "
            f"(got {arn_parts[4]})"
        )
    if errors:
        raise InvalidProperties(errors)


def create_or_update(
    event: dict[str, Any],
    context: Any,
    client_factory: ClientFactory,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> tuple[str, dict[str, str]]:
    """Take a new snapshot (an Update never reuses the old one); return (PhysicalResourceId, Data)."""
    props = parse_properties(event.get("ResourceProperties"))
    _check_cluster_is_local(props, context)
    name = snapshot_name_for(props, str(event["RequestId"]), now())
    remaining = context.get_remaining_time_in_millis() / 1000.0 - RESPONSE_RESERVE_SECONDS
    deadline = clock() + min(float(props.timeout_seconds), remaining)

    client = client_factory()
    snapshot = create_snapshot(client, props, name)
    if props.wait_for_completion:
        snapshot = wait_until_active(client, snapshot, deadline, clock=clock)
    return str(snapshot["snapshotArn"]), attributes(snapshot)


def delete(event: dict[str, Any], client_factory: ClientFactory) -> str:
    """Retain by default; DESTROY deletes. Return the PhysicalResourceId unchanged."""
    physical_id = str(event.get("PhysicalResourceId", ""))
    if not is_snapshot_arn(physical_id):
        # A Create that failed answered with a placeholder id: there is nothing to delete.
        logger.info("no snapshot behind this resource; nothing to delete")
        return physical_id
    if removal_policy_of(event.get("ResourceProperties")) != contract.RemovalPolicy.DESTROY:
        logger.info("snapshot retained", extra={"snapshot_arn": physical_id})
        return physical_id
    delete_snapshot(client_factory(), physical_id)
    return physical_id
