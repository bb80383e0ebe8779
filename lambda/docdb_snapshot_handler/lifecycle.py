"""What each CloudFormation request type does, per mode, independent of crhelper and of boto3's
set-up.

- snapshot: Create and Update take a new snapshot of ClusterArn; Delete keeps it unless DESTROY.
- before-change: the cluster depends on this resource, so its Create/Update runs before the
  cluster changes: it snapshots the cluster (found by name, as it is now) if it exists.
- final: this resource depends on the cluster, so its Delete runs before the cluster's: it
  snapshots the cluster and waits (and copies it to each CopyTo region, waiting for each). An
  Update that moves to a new cluster (a replacement) snapshots the old one, which
  CloudFormation deletes in its clean-up.

Copy resources (ResourceType contract.COPY_RESOURCE_TYPE) are handled by the copies module.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import contract
from .api import DEFAULT_RETRY_POLICY, Api, RetryPolicy
from .clusters import PASSING_STATUSES, Clusters
from .contract import Mode
from .once import Budget, Failed, Paused, request_token
from .properties import (
    Home,
    parse_properties,
    previous_cluster_arn,
    previous_cluster_name,
    removal_policy_of,
    same_meaning,
)
from .snapshots import ACTIVE, Snapshots, attributes, is_snapshot_arn, owner_token

logger = logging.getLogger(__name__)

_LONGEST_WAIT_SECONDS = contract.CLOUDFORMATION_MAX_WAIT_SECONDS - contract.ANSWER_MARGIN_SECONDS
# Kept back from the Lambda's remaining time for the answer to CloudFormation.
RESPONSE_RESERVE_SECONDS = 15.0

ClientFactory = Callable[[], Any]
Result = tuple[str, dict[str, str]]


@dataclass(frozen=True)
class Services:
    """What a request needs from outside: the docdb-elastic client (made on first use), the
    clocks, and the retry policy. Tests pass their own; the entry point uses the defaults.
    `regional_client_factory` makes (or reuses) a client of a given region, for copies; only
    requests that copy call it."""

    client_factory: ClientFactory
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY
    regional_client_factory: Callable[[str], Any] | None = None

    def client_in(self, region: str) -> Any:
        if self.regional_client_factory is None:
            raise RuntimeError("no regional_client_factory: this request needs a client of region " + region)
        return self.regional_client_factory(region)

    def api_in(self, region: str, deadline: float) -> Api:
        """A retrying client of `region`, for calls until `deadline`."""
        return Api(self.client_in(region), deadline, self.retry_policy, clock=self.clock)


def home_of(context: Any) -> Home:
    """The function's own partition, region and account, from its ARN and environment."""
    function = str(getattr(context, "invoked_function_arn", "")).split(":")
    if len(function) < 5:
        return Home(region=os.environ.get("AWS_REGION", ""))
    return Home(partition=function[1], region=os.environ.get("AWS_REGION", ""), account=function[4])


def _deadline(context: Any, clock: Callable[[], float]) -> float:
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
    pause_at = _deadline(context, clock)
    budget = Budget(
        deadline, pause_at, clock=clock, sleep=services.sleep, at_ceiling=wait_limit >= _LONGEST_WAIT_SECONDS
    )
    return started, budget, min(deadline, pause_at)


class FinalCopyFailed(Failed):
    """The final snapshot is ACTIVE but a copy of it failed; the message says how to proceed."""


class Continue(Exception):
    """The wait goes on in a new invocation; `state` is what that invocation needs."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(state.get("snapshotArn"))
        self.state = state


class _Request:
    """One CloudFormation request: its parsed properties and the means to act on them. Its work
    may span several invocations: the first one's start time travels in the continuation."""

    def __init__(self, event: dict[str, Any], context: Any, services: Services) -> None:
        self.event = event
        self.props = parse_properties(event.get("ResourceProperties"), home_of(context))
        self.continuation: dict[str, Any] = dict(event.get(contract.CONTINUATION_KEY) or {})
        self.started, self.budget, self.api_deadline = request_budget(
            event, context, services, self.props.timeout_seconds
        )
        self.services = services
        self.wall = services.wall
        api = Api(services.client_factory(), self.api_deadline, services.retry_policy, clock=services.clock)
        self.snapshots = Snapshots(api)
        self.clusters = Clusters(api)
        self.token = request_token(str(event["StackId"]), str(event["LogicalResourceId"]), str(event["RequestId"]))
        self.owner = owner_token(str(event["StackId"]), self.props.owner) if self.props.owner else None

    def _continue(self, paused: Paused, **state: Any) -> Continue:
        return Continue(
            {
                **state,
                "startedAt": self.started,
                "polls": int(self.continuation.get("polls", 0)) + paused.polls,
                "invocation": int(self.continuation.get("invocation", 1)) + 1,
            }
        )

    def snapshot_of(self, cluster_arn: str, wait: bool, answer_with: str | None = None) -> dict[str, Any]:
        props = replace(self.props, cluster_arn=cluster_arn)
        try:
            snapshot = self.snapshots.take(
                props, self.token, self.budget, self.owner, busy_reason=lambda: self.clusters.busy_reason(cluster_arn)
            )
        except Paused as paused:
            raise self._continue(paused, clusterArn=cluster_arn, answerWith=answer_with) from None
        return self.wait(snapshot, cluster_arn, answer_with) if wait else snapshot

    def wait(self, snapshot: dict[str, Any], cluster_arn: str, answer_with: str | None) -> dict[str, Any]:
        requested = float(self.continuation.get("requestedAt", self.wall()))
        try:
            snapshot, _ = self.snapshots.wait_until_active(snapshot, self.budget, lambda: self.wall() - requested)
        except Paused as paused:
            raise self._continue(
                paused,
                snapshotArn=snapshot["snapshotArn"],
                clusterArn=cluster_arn,
                answerWith=answer_with,
                requestedAt=requested,
            ) from None
        self._apply_retention(cluster_arn, snapshot["snapshotArn"])
        if self.props.copy_to:
            from . import copies  # loaded only by requests that copy

            copies.copy_final_snapshot(self, snapshot, cluster_arn, answer_with, requested)
        return snapshot

    def _apply_retention(self, cluster_arn: str, newest_arn: str) -> None:
        props = self.props
        if props.retain_last is None or self.owner is None or props.snapshot_name_prefix is None:
            return
        try:
            self.snapshots.prune(cluster_arn, props.snapshot_name_prefix, self.owner, props.retain_last, newest_arn)
        except Failed as error:
            # The new snapshot is safe; a failed clean-up must not roll the stack back.
            logger.error("retention could not be applied", extra={"reason": str(error)})

    def skipped(self, reason: str) -> Result:
        logger.info("no snapshot taken", extra={"skipped_reason": reason})
        physical_id = self.event.get("PhysicalResourceId") or contract.NO_SNAPSHOT_PHYSICAL_ID_PREFIX + self.token[:24]
        return str(physical_id), attributes({}, skipped_reason=reason)

    def unchanged(self) -> Result | None:
        """An Update whose properties mean what the old ones meant (a template written by another
        version of the construct, defaults spelled out or left out): answer as before, take no
        snapshot."""
        if self.event["RequestType"] != "Update" or not same_meaning(
            self.event.get("OldResourceProperties"), self.props
        ):
            return None
        physical_id = str(self.event.get("PhysicalResourceId", ""))
        logger.info("properties unchanged in meaning; no new snapshot", extra={"physical_resource_id": physical_id})
        if not is_snapshot_arn(physical_id):
            return physical_id, attributes({}, skipped_reason=_UNCHANGED_NOTE)
        snapshot = self.snapshots.find_by_arn(physical_id)
        if snapshot is None:
            # Deleted by hand since: the resource still names it; nothing to take again.
            return physical_id, attributes({"snapshotArn": physical_id}, skipped_reason=_GONE_NOTE)
        return physical_id, attributes(snapshot)


_UNCHANGED_NOTE = "The properties did not change in meaning, so no snapshot was taken"
_GONE_NOTE = "The snapshot this resource took no longer exists"


def _is_copy(event: dict[str, Any]) -> bool:
    return event.get("ResourceType") == contract.COPY_RESOURCE_TYPE


def _restore_resource(event: dict[str, Any]) -> bool:
    """A restored cluster (ElasticClusterFromSnapshot) rather than a snapshot: routed by type."""
    return event.get("ResourceType") == contract.RESTORE_RESOURCE_TYPE


def create_or_update(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Return (PhysicalResourceId, Data)."""
    if _is_copy(event):
        from . import copies

        return copies.create_or_update(event, context, services)
    if _restore_resource(event):
        from . import restore  # restore builds on this module

        return restore.create_or_update(event, context, services)
    request = _Request(event, context, services)
    unchanged = request.unchanged()
    if unchanged is not None:
        return unchanged
    mode = request.props.mode
    if mode == Mode.BEFORE_CHANGE:
        return _before_change(request)
    if mode == Mode.FINAL:
        return _final_on_update(request)
    snapshot = request.snapshot_of(request.props.cluster_arn, request.props.wait_for_completion)
    return str(snapshot["snapshotArn"]), attributes(snapshot)


def _before_change(request: _Request) -> Result:
    props = request.props
    assert props.cluster_name is not None
    # On Update the cluster still has its old definition, possibly its old name.
    name = (
        previous_cluster_name(request.event.get("OldResourceProperties"), props.cluster_name)
        if request.event["RequestType"] == "Update"
        else props.cluster_name
    )
    cluster = request.clusters.find(name)
    if cluster is None:
        return request.skipped(f"Cluster {name} does not exist yet: there is nothing to protect")
    status = cluster.get("status")
    if status != ACTIVE and status not in PASSING_STATUSES:
        message = f"Cluster {name} ({cluster['clusterArn']}) is {status}, so no snapshot can be taken before the change"
        if props.on_cluster_not_active == contract.ClusterNotActive.SKIP:
            return request.skipped(message)
        raise Failed(
            f"{message}. To fix: deploy again once it is ACTIVE (start it if it is STOPPED), or set "
            "on_cluster_not_active=ClusterNotActive.SKIP to change it without a snapshot"
        )
    snapshot = request.snapshot_of(cluster["clusterArn"], props.wait_for_completion)
    return str(snapshot["snapshotArn"]), attributes(snapshot)


def _final_on_update(request: _Request) -> Result:
    event = request.event
    old_arn = previous_cluster_arn(event.get("OldResourceProperties"))
    if event["RequestType"] == "Update" and old_arn and old_arn != request.props.cluster_arn:
        snapshot = _final_snapshot(request, old_arn, answer_with=str(event["PhysicalResourceId"]))
        if snapshot is not None:
            return str(event["PhysicalResourceId"]), attributes(snapshot)
    physical_id = event.get("PhysicalResourceId") or contract.FINAL_PHYSICAL_ID_PREFIX + request.token[:24]
    return str(physical_id), attributes(
        {}, skipped_reason="A final snapshot is taken when the cluster is deleted or replaced"
    )


def _final_snapshot(request: _Request, cluster_arn: str, answer_with: str) -> dict[str, Any] | None:
    """Snapshot a cluster about to be deleted, and wait: its data must be safe first."""
    cluster = request.clusters.get(cluster_arn)
    if cluster is None:
        logger.info("cluster already gone; no final snapshot to take", extra={"cluster_arn": cluster_arn})
        return None
    status = cluster.get("status")
    if status != ACTIVE and status not in PASSING_STATUSES:
        raise Failed(
            f"Cluster {cluster_arn} is {status}, so no final snapshot can be taken. To fix: make it ACTIVE "
            "(start it if it is STOPPED)"
        )
    return request.snapshot_of(cluster_arn, wait=True, answer_with=answer_with)


def resume(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Go on with what an earlier invocation of this request started: waiting for its snapshot,
    or (when the service was busy and no snapshot exists yet) the request from the start, which
    is safe to repeat because its names are the request's own."""
    if _is_copy(event):
        from . import copies

        return copies.resume(event, context, services)
    if _restore_resource(event):
        from . import restore

        return restore.resume(event, context, services)
    request = _Request(event, context, services)
    state = request.continuation
    if "snapshotArn" not in state:
        if event["RequestType"] == "Delete":
            return delete(event, context, services), {}
        return create_or_update(event, context, services)
    logger.info(
        "waiting continues", extra={"snapshot_arn": state.get("snapshotArn"), "invocation": state.get("invocation")}
    )
    snapshot = request.wait(
        request.snapshots.get(str(state["snapshotArn"])), str(state["clusterArn"]), state.get("answerWith")
    )
    return str(state.get("answerWith") or snapshot["snapshotArn"]), attributes(snapshot)


def delete(event: dict[str, Any], context: Any, services: Services) -> str:
    """Snapshot modes retain by default and delete with DESTROY; final mode takes the final
    snapshot. Return the PhysicalResourceId unchanged."""
    if _is_copy(event):
        from . import copies

        return copies.delete(event, context, services)
    if _restore_resource(event):
        from . import restore

        return restore.delete(event, context, services)
    physical_id = str(event.get("PhysicalResourceId", ""))
    properties = event.get("ResourceProperties")
    mode = properties.get(contract.Prop.MODE) if isinstance(properties, dict) else None
    if mode == Mode.FINAL and physical_id.startswith(contract.FINAL_PHYSICAL_ID_PREFIX):
        request = _Request(event, context, services)
        try:
            _final_snapshot(request, request.props.cluster_arn, answer_with=physical_id)
        except FinalCopyFailed:
            raise  # its Reason already says how to proceed
        except Failed as error:
            raise Failed(
                f"The final snapshot failed, so the cluster was not deleted: {error}. To proceed: fix "
                "the cause and delete again; or, to delete the cluster without a final snapshot, "
                f"delete the stack with --retain-resources {event.get('LogicalResourceId')}.{contract.CLEANUP_NOTE}"
            ) from error
        return physical_id
    if not is_snapshot_arn(physical_id):
        # A Create that failed, or a protection that took no snapshot: nothing to delete.
        logger.info("no snapshot behind this resource; nothing to delete")
        return physical_id
    if removal_policy_of(properties) != contract.RemovalPolicy.DESTROY:
        logger.info("snapshot retained", extra={"snapshot_arn": physical_id})
        return physical_id
    api = Api(
        services.client_factory(), _deadline(context, services.clock), services.retry_policy, clock=services.clock
    )
    Snapshots(api).delete(physical_id)
    return physical_id
