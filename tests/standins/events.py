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
