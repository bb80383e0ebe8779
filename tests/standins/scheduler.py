"""A loopback stand-in for the EventBridge Scheduler REST API: ListSchedules and GetSchedule only
(what the recovery report reads).

Requests are checked against botocore's scheduler model like the docdb-elastic stand-in checks
its own, and errors go out as AWS sends them (status, x-amzn-ErrorType, {"Message"}). Schedules
live in a region; a client sees those of the region its request was signed for. An operation
can be refused as IAM refuses it (AccessDeniedException), or given any injected fault.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session

from .docdb_elastic import ACCOUNT, REGION, Call, Fault, ValidationFailed, _validate

MODEL = botocore.session.get_session().get_service_model("scheduler")
# The function our constructs' schedules invoke; the report never reads it, AWS requires it.
TARGET_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:OrdersStack-DocDbElasticSnapshotProvider"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/OrdersStack-SchedulerRole"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)

# Credential=AKID/20260101/us-west-2/scheduler/aws4_request
_SIGNING_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/scheduler/aws4_request")


def signing_region(authorization: str) -> str:
    match = _SIGNING_SCOPE.search(authorization or "")
    return match.group(1) if match else REGION


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
            _validate(MODEL.operation_model(operation).input_shape, params, operation)
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


def _route(name: str) -> tuple[str, re.Pattern[str], str]:
    http = MODEL.operation_model(name).http
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(http["requestUri"]))
    return http["method"], re.compile(f"^{pattern}$"), name


_ROUTES = [_route(name) for name in ("ListSchedules", "GetSchedule")]


def _typed_query(operation: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """Query-string members by their model names and types (MaxResults is an integer)."""
    params: dict[str, Any] = {}
    for member, shape in MODEL.operation_model(operation).input_shape.members.items():
        wire = shape.serialization.get("name", member)
        if shape.serialization.get("location") == "querystring" and wire in query:
            value = query[wire][0]
            params[member] = int(value) if shape.type_name == "integer" else value
    return params


def _make_handler(service: SchedulerStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle on, the client's delayed ACK
        # holds every answer back ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            for verb, pattern, operation in _ROUTES:
                match = pattern.match(parts.path)
                if verb == method and match:
                    params: dict[str, Any] = {k: unquote(v) for k, v in match.groupdict().items()}
                    params.update(_typed_query(operation, parse_qs(parts.query)))
                    region = signing_region(self.headers.get("Authorization", ""))
                    status, body, headers = service.handle(operation, params, region)
                    break
            else:
                status, body, headers = (
                    404,
                    {"Message": f"no route {method} {parts.path}"},
                    {"x-amzn-ErrorType": "ResourceNotFoundException"},
                )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


class SchedulerServer:
    """Serve a SchedulerStandIn on 127.0.0.1 in a background thread."""

    def __init__(self, service: SchedulerStandIn | None = None) -> None:
        self.service = service or SchedulerStandIn()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self.service))
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SchedulerServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
