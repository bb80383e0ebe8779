"""Which kind handles a request: a CloudFormation request is routed by its ResourceType, a
scheduled event by the key of its input.

The kinds are loaded on first use, so a function that only ever snapshots never imports the
restore or copy code (cold start). A ResourceType the handler does not know is the snapshot
kind's: templates written by 0.1.0 name no other.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from . import contract
from .request import Result, Services

_KIND_MODULES = {
    contract.RESOURCE_TYPE: "snapshot",
    contract.COPY_RESOURCE_TYPE: "copy",
    contract.RESTORE_RESOURCE_TYPE: "restore",
}


def kind_of(event: dict[str, Any]) -> ModuleType:
    name = _KIND_MODULES.get(str(event.get("ResourceType")), "snapshot")
    return importlib.import_module(f"{__package__}.kinds.{name}")


def create_or_update(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Return (PhysicalResourceId, Data)."""
    result: Result = kind_of(event).create_or_update(event, context, services)
    return result


def resume(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Go on with what an earlier invocation of this request started (its continuation)."""
    result: Result = kind_of(event).resume(event, context, services)
    return result


def delete(event: dict[str, Any], context: Any, services: Services) -> str:
    """Return the PhysicalResourceId unchanged."""
    return str(kind_of(event).delete(event, context, services))


_SCHEDULED_KINDS = {contract.BACKUP_EVENT_KEY: "backup_plan", contract.RESTORE_TEST_EVENT_KEY: "restore_test"}


def scheduled_kind(event: Any) -> str | None:
    """The input key of a scheduled event (None: a CloudFormation request or anything else)."""
    if not isinstance(event, dict) or "RequestType" in event:
        return None
    return next((key for key in _SCHEDULED_KINDS if key in event), None)


def _scheduled_module(event: dict[str, Any]) -> tuple[ModuleType, dict[str, Any]]:
    """The scheduled event's kind, and its input (empty when it is not an object)."""
    key = scheduled_kind(event)
    if key is None:
        raise ValueError("not a scheduled event")
    payload = event.get(key)
    kind = importlib.import_module(f"{__package__}.kinds.{_SCHEDULED_KINDS[key]}")
    return kind, payload if isinstance(payload, dict) else {}


def scheduled_log_fields(event: dict[str, Any]) -> dict[str, str]:
    """What every log line of a scheduled occurrence carries: whose occurrence, and when."""
    kind, payload = _scheduled_module(event)
    scheduled_time = str(payload.get(contract.ScheduledInput.SCHEDULED_TIME, ""))
    fields: dict[str, str] = kind.log_fields(payload)
    return {**fields, "scheduled_time": scheduled_time}


def count_invalid(event: dict[str, Any]) -> None:
    """An input that cannot be parsed still counts as a failure, in the kind's metrics."""
    kind, payload = _scheduled_module(event)
    kind.count_invalid(payload)


def run_scheduled(event: dict[str, Any], context: Any, services: Services) -> dict[str, Any]:
    """Run (or continue) a scheduled occurrence; return its summary."""
    kind, _ = _scheduled_module(event)
    summary: dict[str, Any] = kind.run(event, context, services)
    return summary
