"""A loopback stand-in for the EventBridge Scheduler REST API: ListSchedules and GetSchedule only
(what the recovery report reads).

Requests are checked against botocore's scheduler model like the docdb-elastic stand-in checks
its own, and errors go out as AWS sends them (status, x-amzn-ErrorType, {"Message"}). Schedules
live in a region; a client sees those of the region its request was signed for. An operation
can be refused as IAM refuses it (AccessDeniedException), or given any injected fault.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session

from .docdb_elastic import ACCOUNT, REGION, Call, Fault
from .rest_json import LoopbackServer, ValidationFailed, rest_json_handler, routes, validate

MODEL = botocore.session.get_session().get_service_model("scheduler")
# The function our constructs' schedules invoke; the report never reads it, AWS requires it.
TARGET_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:OrdersStack-DocDbElasticSnapshotProvider"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/OrdersStack-SchedulerRole"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Schedule:
    name: str
    group: str
    region: str
    # Target.Input as the schedule stores it: a JSON text.
    input: str
    state: str = "ENABLED"
    created: datetime = CREATED
    expression: str = "cron(0 5 * * ? *)"

    @property
    def arn(self) -> str:
        return f"arn:aws:scheduler:{self.region}:{ACCOUNT}:schedule/{self.group}/{self.name}"

    def summary(self) -> dict[str, Any]:
        return {
            "Arn": self.arn,
            "CreationDate": self.created.timestamp(),
            "GroupName": self.group,
            "LastModificationDate": self.created.timestamp(),
            "Name": self.name,
            "State": self.state,
            "Target": {"Arn": TARGET_ARN},
        }

    def describe(self) -> dict[str, Any]:
        return {
            **{key: value for key, value in self.summary().items() if key != "Target"},
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": "UTC",
            "ActionAfterCompletion": "NONE",
            "Target": {
                "Arn": TARGET_ARN,
                "RoleArn": ROLE_ARN,
                "Input": self.input,
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 185},
            },
        }


class SchedulerStandIn:
    """State and behaviour; the HTTP layer below only routes to it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.schedules: dict[tuple[str, str, str], Schedule] = {}
            self.calls: list[Call] = []
            self.faults: dict[str, deque[Fault]] = {}
            # Operations the caller's IAM policy does not allow.
            self.denied: set[str] = set()
            self.page_size_cap = 100

    # --- test controls -------------------------------------------------------------------
    def add_schedule(
        self,
        name: str,
        target_input: dict[str, Any] | str,
        group: str = "default",
        region: str = REGION,
        created: datetime = CREATED,
        state: str = "ENABLED",
    ) -> Schedule:
        text = target_input if isinstance(target_input, str) else json.dumps(target_input)
        schedule = Schedule(name, group, region, text, state=state, created=created)
        with self.lock:
            self.schedules[(region, group, name)] = schedule
        return schedule

    def inject(self, operation: str, *faults: Fault) -> None:
        with self.lock:
            self.faults.setdefault(operation, deque()).extend(faults)

    def calls_to(self, operation: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.operation == operation]

    # --- operations ----------------------------------------------------------------------
    def handle(
        self, operation: str, params: dict[str, Any], region: str = REGION
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            self.calls.append(Call(operation, params, region))
            queue = self.faults.get(operation)
            fault = queue.popleft() if queue else None
        if fault is not None:
            return fault.status, {"Message": fault.message}, {"x-amzn-ErrorType": fault.code, **fault.headers}
        if operation in self.denied:
            return self._error(
                403,
                "AccessDeniedException",
                f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: scheduler:{operation} on "
                f"resource: arn:aws:scheduler:{region}:{ACCOUNT}:schedule/* because no identity-based policy "
                f"allows the scheduler:{operation} action",
            )
        try:
            validate(MODEL.operation_model(operation).input_shape, params, operation)
        except ValidationFailed as error:
            return self._error(400, "ValidationException", str(error))
        with self.lock:
            answer: tuple[int, dict[str, Any], dict[str, str]] = getattr(self, "_" + operation)(params, region)
        return answer

    @staticmethod
    def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        return status, {"Message": message}, {"x-amzn-ErrorType": code}

    def _ListSchedules(self, params: dict[str, Any], region: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        matching = [
            s.summary()
            for (where, group, name), s in sorted(self.schedules.items())
            if where == region
            and group == params.get("GroupName", group)
            and name.startswith(params.get("NamePrefix", ""))
            and s.state == params.get("State", s.state)
        ]
        start = int(params.get("NextToken", "0"))
        size = min(int(params.get("MaxResults", 100)), self.page_size_cap)
        body: dict[str, Any] = {"Schedules": matching[start : start + size]}
        if start + size < len(matching):
            body["NextToken"] = str(start + size)
        return 200, body, {}

    def _GetSchedule(self, params: dict[str, Any], region: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        group = params.get("GroupName", "default")
        schedule = self.schedules.get((region, group, params["Name"]))
        if schedule is None:
            return self._error(404, "ResourceNotFoundException", f"Schedule {params['Name']} does not exist.")
        return 200, schedule.describe(), {}


_ROUTES = routes(MODEL, ("ListSchedules", "GetSchedule"))


class SchedulerServer(LoopbackServer):
    """Serve a SchedulerStandIn on 127.0.0.1 in a background thread."""

    def __init__(self, service: SchedulerStandIn | None = None) -> None:
        self.service = service or SchedulerStandIn()
        super().__init__(rest_json_handler(self.service, MODEL, _ROUTES, "scheduler", error_key="Message"))
