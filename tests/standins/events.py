"""CloudFormation events built from the JSON fixtures, with a fresh RequestId and ResponseURL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"


def cfn_event(
    request_type: str,
    response_url: str,
    properties: dict[str, Any] | None = None,
    old_properties: dict[str, Any] | None = None,
    physical_id: str | None = None,
) -> dict[str, Any]:
    """properties/old_properties are merged over the fixture's; a None value removes a key."""
    event: dict[str, Any] = json.loads((_FIXTURES / f"{request_type.lower()}.json").read_text())
    event["RequestId"] = str(uuid.uuid4())
    event["ResponseURL"] = response_url
    for key, overrides in (("ResourceProperties", properties), ("OldResourceProperties", old_properties)):
        if overrides and key in event:
            merged = {**event[key], **overrides}
            event[key] = {k: v for k, v in merged.items() if v is not None}
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


RESTORE_STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/RestoreStack/7c9e6679-7425-40de-944b-e07fc1f90ae7"
)


def restore_event(
    request_type: str,
    response_url: str,
    properties: dict[str, Any],
    old_properties: dict[str, Any] | None = None,
    physical_id: str | None = None,
    logical_id: str = "RestoredCluster0A1B2C3D",
) -> dict[str, Any]:
    """A CloudFormation event for an ElasticClusterFromSnapshot resource."""
    from docdb_snapshot_handler.contract import RESTORE_RESOURCE_TYPE

    token = "arn:aws:lambda:us-east-1:123456789012:function:RestoreStack-DocDbElasticSnapshotProvider"
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": token,
        "ResponseURL": response_url,
        "StackId": RESTORE_STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": RESTORE_RESOURCE_TYPE,
        "ResourceProperties": {"ServiceToken": token, **properties},
    }
    if old_properties is not None:
        event["OldResourceProperties"] = {"ServiceToken": token, **old_properties}
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


def scheduled_event(
    scheduled_time: str, attempt: int = 1, fixture: str = "scheduled_backup.json", **members: Any
) -> dict[str, Any]:
    """What EventBridge Scheduler delivers to a backup rule's function: the schedule's input (the
    fixture, with `members` merged over it; a None value removes one), its <aws.scheduler.*>
    context attributes filled in."""
    template: dict[str, Any] = json.loads((_FIXTURES / fixture).read_text())
    (key,) = template
    merged = {**template[key], **members}
    template[key] = {k: v for k, v in merged.items() if v is not None}
    attributes = {
        "<aws.scheduler.scheduled-time>": scheduled_time,
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": str(attempt),
        "<aws.scheduler.schedule-arn>": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/OrdersStack-daily",
    }
    text = json.dumps(template)
    for placeholder, value in attributes.items():
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


def restore_test_event(scheduled_time: str, attempt: int = 1, **members: Any) -> dict[str, Any]:
    """What EventBridge Scheduler delivers for a restore test's occurrence (as scheduled_event)."""
    return scheduled_event(scheduled_time, attempt, fixture="scheduled_restore_test.json", **members)
