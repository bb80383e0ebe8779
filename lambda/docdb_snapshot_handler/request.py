"""The request frame every kind works on: what a request needs from outside (Services), its
time (the deadline, the Budget, the continuation across invocations) and its answer (Result).

A kind's request class builds on Frame; nothing here knows a kind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import contract
from .api import DEFAULT_RETRY_POLICY, Api, RetryPolicy
from .once import Budget, Paused, request_token
from .parsing import Home

ClientFactory = Callable[[], Any]
# (PhysicalResourceId, Data)
Result = tuple[str, dict[str, str]]

_LONGEST_WAIT_SECONDS = contract.CLOUDFORMATION_MAX_WAIT_SECONDS - contract.ANSWER_MARGIN_SECONDS
# Kept back from the Lambda's remaining time for the answer to CloudFormation.
RESPONSE_RESERVE_SECONDS = 15.0


@dataclass(frozen=True)
class Services:
    """What a request needs from outside: the docdb-elastic client (made on first use), the
    clocks, and the retry policy. Tests pass their own; the entry point uses the defaults. One
    region, the function's: elastic cluster snapshots are copied only within their region."""

    client_factory: ClientFactory
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY
    # Invokes a Lambda function synchronously: (function ARN, payload, seconds to wait for its
    # answer) -> None when it succeeded, else why not. Only restore tests with a validation
    # function call it.
    invoke: Callable[[str, dict[str, Any], float], str | None] | None = None

    def api(self, deadline: float) -> Api:
        """A retrying client of the function's region, for calls until `deadline`."""
        return Api(self.client_factory(), deadline, self.retry_policy, clock=self.clock)


class Continue(Exception):
    """The wait goes on in a new invocation; `state` is what that invocation needs."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(state.get("snapshotArn"))
        self.state = state


def home_of(context: Any) -> Home:
    """The function's own partition, region and account, from its ARN and environment."""
    function = str(getattr(context, "invoked_function_arn", "")).split(":")
    if len(function) < 5:
        return Home(region=os.environ.get("AWS_REGION", ""))
    return Home(partition=function[1], region=os.environ.get("AWS_REGION", ""), account=function[4])


def invocation_deadline(context: Any, clock: Callable[[], float]) -> float:
    """This invocation's end, less the time kept for answering CloudFormation."""
    return clock() + float(context.get_remaining_time_in_millis()) / 1000.0 - RESPONSE_RESERVE_SECONDS


def request_budget(
    event: dict[str, Any], context: Any, services: Services, timeout_seconds: int
) -> tuple[float, Budget, float]:
    """When the request's work began (the first invocation's start, from the continuation), its
    Budget, and the deadline for one API call's retries (the earlier of the wait's deadline and
    this invocation's hand-over point)."""
    clock, wall = services.clock, services.wall
    continuation = event.get(contract.CONTINUATION_KEY) or {}
    started = float(continuation.get("startedAt", wall()))
    wait_limit = min(float(timeout_seconds), _LONGEST_WAIT_SECONDS)
    deadline = clock() + (started + wait_limit - wall())
    pause_at = invocation_deadline(context, clock)
    budget = Budget(
        deadline, pause_at, clock=clock, sleep=services.sleep, at_ceiling=wait_limit >= _LONGEST_WAIT_SECONDS
    )
    return started, budget, min(deadline, pause_at)


class Frame:
    """One CloudFormation request of any kind, once its properties are parsed: its time, its
    token, and the hand-over to the next invocation. Its work may span several invocations: the
    first one's start time and the polls made so far travel in the continuation."""

    def __init__(self, event: dict[str, Any], context: Any, services: Services, timeout_seconds: int) -> None:
        self.event = event
        self.services = services
        self.wall = services.wall
        self.continuation: dict[str, Any] = dict(event.get(contract.CONTINUATION_KEY) or {})
        self.started, self.budget, self.api_deadline = request_budget(event, context, services, timeout_seconds)
        self.token = request_token(str(event["StackId"]), str(event["LogicalResourceId"]), str(event["RequestId"]))

    def continue_with(self, paused: Paused, **state: Any) -> Continue:
        """Hand the request to a new invocation, with `state` and the frame's own counters."""
        return Continue(
            {
                **state,
                "startedAt": self.started,
                "polls": int(self.continuation.get("polls", 0)) + paused.polls,
                "invocation": int(self.continuation.get("invocation", 1)) + 1,
            }
        )

    def since(self, key: str) -> tuple[float, Callable[[], float]]:
        """When the step named `key` began (this invocation, or an earlier one of the request),
        and the time elapsed since."""
        at = float(self.continuation.get(key, self.wall()))
        return at, lambda: self.wall() - at
