"""What each CloudFormation request type does, per mode, independent of crhelper and of boto3's
set-up.

- snapshot: Create and Update take a new snapshot of ClusterArn; Delete keeps it unless DESTROY.
- before-change: the cluster depends on this resource, so its Create/Update runs before the
  cluster changes: it snapshots the cluster (found by name, as it is now) if it exists.
- final: this resource depends on the cluster, so its Delete runs before the cluster's: it
  snapshots the cluster and waits (and copies it to each CopyTo region, waiting for each). An
  Update that moves to a new cluster (a replacement) snapshots the old one, which
  CloudFormation deletes in its clean-up.
"""

from __future__ import annotations

import logging
from typing import Any

from ... import contract
from ...clusters import PASSING_STATUSES, Clusters
from ...contract import Mode
from ...once import Failed, Paused
from ...parsing import removal_policy_of
from ...request import Frame, Result, Services, home_of, invocation_deadline
from ...snapshots import ACTIVE, Snapshots, attributes, generate_snapshot_name, is_snapshot_arn, owner_token
from .errors import FinalCopyFailed
from .properties import parse_properties, previous_cluster_arn, previous_cluster_name, same_meaning

logger = logging.getLogger(__name__)


class _Request(Frame):
    """One CloudFormation request of a snapshot resource: its parsed properties and the means to
    act on them."""

    def __init__(self, event: dict[str, Any], context: Any, services: Services) -> None:
        self.props = parse_properties(event.get("ResourceProperties"), home_of(context))
        super().__init__(event, context, services, self.props.timeout_seconds)
        api = services.api(self.api_deadline)
        self.snapshots = Snapshots(api)
        self.clusters = Clusters(api)
        self.owner = owner_token(str(event["StackId"]), self.props.owner) if self.props.owner else None

    def snapshot_of(self, cluster_arn: str, wait: bool, answer_with: str | None = None) -> dict[str, Any]:
        props = self.props
        name = props.snapshot_name or generate_snapshot_name(props.snapshot_name_prefix or "", self.token)
        try:
            snapshot = self.snapshots.take(
                cluster_arn,
                name,
                props.tags,
                self.token,
                self.budget,
                self.owner,
                busy_reason=lambda: self.clusters.busy_reason(cluster_arn),
            )
        except Paused as paused:
            raise self.continue_with(paused, clusterArn=cluster_arn, answerWith=answer_with) from None
        return self.wait(snapshot, cluster_arn, answer_with) if wait else snapshot

    def wait(self, snapshot: dict[str, Any], cluster_arn: str, answer_with: str | None) -> dict[str, Any]:
        requested, elapsed = self.since("requestedAt")
        try:
            snapshot, _ = self.snapshots.wait_until_active(snapshot, self.budget, elapsed)
        except Paused as paused:
            raise self.continue_with(
                paused,
                snapshotArn=snapshot["snapshotArn"],
                clusterArn=cluster_arn,
                answerWith=answer_with,
                requestedAt=requested,
            ) from None
        self._apply_retention(cluster_arn, snapshot["snapshotArn"])
        if self.props.copy_to:
            from .final_copies import copy_final_snapshot  # loaded only by requests that copy

            copy_final_snapshot(self, snapshot, cluster_arn, answer_with, requested)
        return snapshot

    def _apply_retention(self, cluster_arn: str, newest_arn: str) -> None:
        props = self.props
        if props.retain_last is None or self.owner is None or props.snapshot_name_prefix is None:
            return
        self.snapshots.apply_retention(
            cluster_arn, props.snapshot_name_prefix, self.owner, props.retain_last, newest_arn
        )

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


def create_or_update(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Return (PhysicalResourceId, Data)."""
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
    Snapshots(services.api(invocation_deadline(context, services.clock))).delete(physical_id)
    return physical_id
