"""The lifecycle of a cluster restored from a snapshot (ElasticClusterFromSnapshot).

- Create: resolve the snapshot (given, or the newest ACTIVE one of a source cluster), restore once
  per request (once.create_once: the name is request-derived, the cluster tagged with the request),
  wait until ACTIVE, apply what the restore call cannot set (backup and maintenance windows), wait.
- Update: a change to what the cluster was restored as (snapshot, source, name, KMS key, trigger)
  restores a new cluster, and CloudFormation deletes the old one per the removal policy; anything
  else changes the cluster in place, after a snapshot of it (snapshot_before_update).
- Delete: SNAPSHOT takes a final snapshot and waits for it, then deletes the cluster and waits
  until it is gone; DESTROY deletes without a snapshot; RETAIN makes no call.

Every step is safe to repeat: a redelivered or continued request finds what an earlier delivery
did (by name and request tag, or by the cluster's state) and goes on from there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from ... import contract
from ...clusters import GONE, RestoredClusters
from ...contract import ClusterAttr, ClusterRemovalPolicy
from ...once import Failed, Paused
from ...parsing import InvalidProperties, iso_timestamp
from ...request import Frame, Result, Services, home_of
from ...snapshots import Snapshots, generate_snapshot_name
from .properties import RestoreProperties, cluster_removal_policy_of, parse_restore_properties

logger = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
# A cluster in one of these is started (and waited for) before it is snapshotted or deleted.
STOP_STATUSES = frozenset({"STOPPING", "STOPPED", "STARTING"})
# A cluster in one of these is on its way to ACTIVE: an update waits for it rather than failing.
TRANSITIONAL_STATUSES = frozenset(
    {"CREATING", "UPDATING", "MODIFYING", "MERGING", "SPLITTING", "COPYING", "STARTING", "MAINTENANCE"}
)


# UpdateCluster members, one per call, in this order. Whether AWS takes several in one request is
# not documented (one public provider's code says it refuses more than one), and one at a time
# works under either answer. What changes no capacity or network comes first, capacity last.
UPDATE_ORDER = (
    "backupRetentionPeriod",
    "preferredBackupWindow",
    "preferredMaintenanceWindow",
    "subnetIds",
    "vpcSecurityGroupIds",
    "shardInstanceCount",
    "shardCapacity",
)


def in_update_order(changes: Mapping[str, Any]) -> list[str]:
    known = [member for member in UPDATE_ORDER if member in changes]
    return known + sorted(member for member in changes if member not in UPDATE_ORDER)


class RestoreFailed(Failed):
    """A Create failed after its cluster existed: the answer names the cluster (with the
    failed-restore prefix) so the rollback's Delete removes it."""

    def __init__(self, message: str, physical_id: str) -> None:
        super().__init__(message)
        self.physical_id = physical_id


def _snapshot_prefix(cluster_name: str, kind: str) -> str:
    base = cluster_name[: contract.SNAPSHOT_NAME_PREFIX_MAX_LENGTH - len(kind) - 1].rstrip("-")
    return f"{base}-{kind}"


def _differs(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return sorted(current or []) != sorted(wanted)
    return bool(current != wanted)


def is_cluster_arn(value: str) -> bool:
    return not contract.cluster_arn_errors("", value)


class _Restore(Frame):
    """One CloudFormation request of a restore resource; its work may span invocations."""

    def __init__(self, event: dict[str, Any], context: Any, services: Services, lenient: bool = False) -> None:
        try:
            self.props = parse_restore_properties(event.get("ResourceProperties"), home_of(context))
        except InvalidProperties:
            if not lenient:
                raise
            # A Delete must not fail because a property no longer passes validation.
            self.props = RestoreProperties(removal_policy=cluster_removal_policy_of(event.get("ResourceProperties")))
        super().__init__(event, context, services, self.props.timeout_seconds)
        # What an earlier invocation of this request did: its phase and what it made.
        self.state = self.continuation
        api = services.api(self.api_deadline)
        self.clusters = RestoredClusters(api)
        self.snapshots = Snapshots(api)
        self.physical_id = str(event.get("PhysicalResourceId") or "")

    def _wait(
        self,
        cluster: dict[str, Any],
        phase: str,
        target: str = ACTIVE,
        ends: frozenset[str] = frozenset(),
        **state: Any,
    ) -> dict[str, Any]:
        """Wait for the cluster's status (`target`, or one of `ends`); hand over to a new
        invocation with `state` if need be."""
        since = float(self.state["waitingSince"]) if self.state.get("phase") == phase else self.wall()
        try:
            cluster, _ = self.clusters.wait_until(cluster, self.budget, lambda: self.wall() - since, target, ends=ends)
        except Paused as paused:
            raise self.continue_with(
                paused, phase=phase, clusterArn=cluster["clusterArn"], waitingSince=since, **state
            ) from None
        return cluster

    def _take_snapshot(self, cluster: dict[str, Any], kind: str, phase: str, **state: Any) -> dict[str, Any]:
        """A snapshot of the cluster, once per request, waited for until ACTIVE."""
        arn, name = str(cluster["clusterArn"]), str(cluster.get("clusterName", "cluster"))
        snapshot_name = generate_snapshot_name(_snapshot_prefix(name, kind), self.token)
        try:
            if self.state.get("phase") == phase and self.state.get("snapshotArn"):
                snapshot = self.snapshots.get(str(self.state["snapshotArn"]))
            else:
                snapshot = self.snapshots.take(
                    arn,
                    snapshot_name,
                    self.props.tags,
                    self.token,
                    self.budget,
                    busy_reason=lambda: self.clusters.busy_reason(arn),
                )
        except Paused as paused:
            raise self.continue_with(paused, phase=phase, clusterArn=arn, **state) from None
        since = float(self.state["waitingSince"]) if self.state.get("phase") == phase else self.wall()
        try:
            snapshot, _ = self.snapshots.wait_until_active(snapshot, self.budget, lambda: self.wall() - since)
        except Paused as paused:
            raise self.continue_with(
                paused, phase=phase, clusterArn=arn, snapshotArn=snapshot["snapshotArn"], waitingSince=since, **state
            ) from None
        logger.info("snapshot of the cluster is ACTIVE", extra={"kind": kind, "snapshot_arn": snapshot["snapshotArn"]})
        return snapshot

    # --- answers --------------------------------------------------------------------------
    def _data(self, cluster: Mapping[str, Any], snapshot_arn: str, restore_seconds: str) -> dict[str, str]:
        return {
            ClusterAttr.CLUSTER_ARN: str(cluster.get("clusterArn", "")),
            ClusterAttr.CLUSTER_ENDPOINT: str(cluster.get("clusterEndpoint", "")),
            ClusterAttr.CLUSTER_NAME: str(cluster.get("clusterName", "")),
            ClusterAttr.STATUS: str(cluster.get("status", "")),
            ClusterAttr.SNAPSHOT_ARN: snapshot_arn,
            ClusterAttr.RESTORE_SECONDS: restore_seconds,
        }

    # --- Create, and Update that needs a new cluster ----------------------------------------
    def _snapshot_to_restore(self) -> str:
        props = self.props
        if props.snapshot_arn:
            return props.snapshot_arn
        source = str(props.source_cluster_arn)
        newest = self.clusters.newest_snapshot(source)
        if newest is None:
            raise Failed(
                f"Cluster {source} has no ACTIVE snapshot (manual or automated) to restore from, so no "
                "cluster was restored. To fix: take a snapshot of it (or wait for its automated backup), "
                "then deploy again; or give snapshot_arn"
            )
        logger.info("newest ACTIVE snapshot chosen", extra={"snapshot_arn": newest["snapshotArn"]})
        return str(newest["snapshotArn"])

    def _restore_request(self, snapshot_arn: str) -> dict[str, Any]:
        props = self.props
        request: dict[str, Any] = {
            "clusterName": props.name_for(self.token),
            "snapshotArn": snapshot_arn,
            "tags": {
                **props.tags,
                contract.REQUEST_TAG_KEY: self.token,
                contract.SOURCE_TAG_KEY: snapshot_arn,
                contract.IDENTITY_TAG_KEY: props.identity(),
            },
        }
        optional = {
            "shardCapacity": props.shard_capacity,
            "shardInstanceCount": props.shard_instance_count,
            "subnetIds": list(props.subnet_ids) if props.subnet_ids is not None else None,
            "vpcSecurityGroupIds": (
                list(props.vpc_security_group_ids) if props.vpc_security_group_ids is not None else None
            ),
            "kmsKeyId": props.kms_key_id,
        }
        request.update({key: value for key, value in optional.items() if value is not None})
        return request

    def restore_new(self, replacing: bool = False) -> Result:
        """Restore (or find what an earlier delivery restored), wait, configure; answer."""
        mode = {"replacing": True} if replacing else {}
        phase = self.state.get("phase")
        if phase in ("restoring", "configuring"):
            found = self.clusters.get(str(self.state["clusterArn"]))
            if found is None:
                raise Failed(f"Cluster {self.state['clusterArn']} disappeared while it was being restored")
            cluster, snapshot_arn = found, str(self.state["snapshotArn"])
            requested = float(self.state["requestedAt"])
        else:
            snapshot_arn = self._snapshot_to_restore()
            request = self._restore_request(snapshot_arn)
            requested = self.wall()
            remedy = (
                "choose another cluster_name, or leave it out so that a unique name is generated"
                if self.props.cluster_name
                else "delete that cluster, or give cluster_name"
            )
            try:
                cluster, restored_now = self.clusters.restore(request, self.token, self.budget, remedy)
            except Paused as paused:
                raise self.continue_with(paused, **mode) from None
            if not restored_now:
                # An earlier delivery of this request restored it: its snapshot and start hold.
                requested = iso_timestamp(cluster.get("createTime")) or requested
                snapshot_arn = self.clusters.tags(str(cluster["clusterArn"])).get(contract.SOURCE_TAG_KEY, snapshot_arn)
        arn = str(cluster["clusterArn"])
        progress: dict[str, Any] = {"snapshotArn": snapshot_arn, "requestedAt": requested, **mode}
        try:
            if phase != "configuring":
                cluster = self._wait(cluster, "restoring", **progress)
                seconds = max(0, round(self.wall() - requested))
                logger.info("restored cluster is ACTIVE", extra={"cluster_arn": arn, "restore_seconds": seconds})
            else:
                seconds = int(self.state["restoreSeconds"])
            cluster = self._configure(cluster, phase="configuring", restoreSeconds=seconds, **progress)
        except Failed as error:
            raise self._restore_failed(arn, str(cluster.get("clusterName", "")), error, replacing) from error
        return arn, self._data(cluster, snapshot_arn, str(seconds))

    def _configure(self, cluster: dict[str, Any], phase: str, **state: Any) -> dict[str, Any]:
        """What RestoreClusterFromSnapshot cannot set (backup retention and windows)."""
        changes = {k: v for k, v in self.props.backup_settings().items() if _differs(cluster.get(k), v)}
        return self._apply(cluster, changes, phase, "configure", **state)

    def _apply(
        self, cluster: dict[str, Any], changes: Mapping[str, Any], phase: str, kind: str, **state: Any
    ) -> dict[str, Any]:
        """UpdateCluster one member at a time (UPDATE_ORDER), each waited for until ACTIVE. A
        continued request finds what is applied by comparing the cluster with the properties."""
        arn = str(cluster["clusterArn"])
        members = in_update_order(changes)
        for index, member in enumerate(members):
            try:
                updated = self.clusters.update(arn, {member: changes[member]}, f"{self.token[:32]}-{kind}-{member}")
                cluster = self._wait(updated, phase, **state)
            except Failed as error:
                applied = ", ".join(members[:index]) or "none"
                raise Failed(
                    f"{error} Applied one at a time, in this order: {applied} (applied); "
                    f"{', '.join(members[index:])} (not applied)."
                ) from error
        return cluster

    def _restore_failed(self, arn: str, name: str, error: Failed, replacing: bool) -> Failed:
        retained = self.props.removal_policy == ClusterRemovalPolicy.RETAIN
        if not replacing:
            what = (
                f"The cluster {name} ({arn}) is kept (removal_policy RETAIN): delete it by hand if it is not wanted"
                if retained
                else f"The rollback deletes the half-restored cluster {name} ({arn}) without a snapshot"
            )
            return RestoreFailed(f"{error} {what}.", contract.FAILED_RESTORE_PHYSICAL_ID_PREFIX + arn)
        if retained:
            return Failed(f"{error} The new cluster {name} ({arn}) is kept (removal_policy RETAIN).")
        try:
            self.clusters.delete(arn)
            outcome = f"The new, half-restored cluster {name} ({arn}) is being deleted; the old one is unchanged."
        except Failed as cleanup:
            outcome = f"The new cluster {name} ({arn}) could not be deleted ({cleanup}): delete it by hand."
        return Failed(f"{error} {outcome}")

    # --- Update ---------------------------------------------------------------------------
    def update(self) -> Result:
        phase = self.state.get("phase")
        if self.state.get("replacing"):
            return self.restore_new(replacing=True)
        if phase is None and self._needs_new_cluster():
            return self.restore_new(replacing=True)
        return self._update_in_place()

    def _needs_new_cluster(self) -> bool:
        try:
            old: RestoreProperties | None = parse_restore_properties(self.event.get("OldResourceProperties"))
        except InvalidProperties:
            old = None
        if old is not None and old.identity() == self.props.identity():
            return False
        if is_cluster_arn(self.physical_id):
            current = self.clusters.get(self.physical_id)
            if current is not None and (
                self.clusters.tags(self.physical_id).get(contract.IDENTITY_TAG_KEY) == self.props.identity()
            ):
                # The cluster already is what the properties ask for (a rollback to it).
                logger.info("the current cluster matches the properties; no new cluster needed")
                return False
        name = self.props.cluster_name
        if name and old is not None and old.cluster_name and old.cluster_name.lower() == name.lower():
            raise Failed(
                f"{contract.RestoreProp.CLUSTER_NAME}: this change needs a new cluster (the snapshot, source "
                f"cluster, KMS key or trigger changed), but cluster names are unique and {name} is taken by "
                "the current cluster, so nothing was changed. To fix: change cluster_name, or leave it out "
                "to use a generated name"
            )
        return True

    def _update_in_place(self) -> Result:
        arn = self.physical_id
        cluster = self.clusters.get(arn) if is_cluster_arn(arn) else None
        if cluster is None:
            raise Failed(
                f"Cluster {arn} no longer exists, so it cannot be updated. To fix: change trigger to "
                "restore a new cluster"
            )
        source = self.clusters.tags(arn).get(contract.SOURCE_TAG_KEY, self.props.snapshot_arn or "")
        phase = self.state.get("phase")
        if phase == "before-update":
            self._take_snapshot(cluster, "pre-update", "before-update")
            cluster = self.clusters.get(arn) or cluster
        if cluster.get("status") in TRANSITIONAL_STATUSES:
            cluster = self._wait(cluster, "settling")
        changes = {k: v for k, v in self.props.settings().items() if _differs(cluster.get(k), v)}
        if changes:
            if cluster.get("status") != ACTIVE:
                raise Failed(
                    f"Cluster {cluster.get('clusterName')} ({arn}) is {cluster.get('status')}, so it cannot be "
                    "changed. To fix: deploy again once it is ACTIVE (start it if it is STOPPED)"
                )
            if self.props.snapshot_before_update and phase != "before-update":
                self._take_snapshot(cluster, "pre-update", "before-update")
            cluster = self._apply(cluster, changes, "settling", "update")
        self._apply_tags(arn)
        return arn, self._data(cluster, source, "")

    def _apply_tags(self, arn: str) -> None:
        try:
            old_tags = parse_restore_properties(self.event.get("OldResourceProperties")).tags
        except InvalidProperties:
            old_tags = {}
        current = self.clusters.tags(arn)
        wanted = self.props.tags
        self.clusters.tag(arn, {k: v for k, v in wanted.items() if current.get(k) != v})
        self.clusters.untag(arn, sorted(k for k in old_tags if k not in wanted and k in current))

    # --- Delete ---------------------------------------------------------------------------
    def delete(self) -> str:
        physical = self.physical_id
        policy = self.props.removal_policy
        failed_restore = physical.startswith(contract.FAILED_RESTORE_PHYSICAL_ID_PREFIX)
        arn = physical.removeprefix(contract.FAILED_RESTORE_PHYSICAL_ID_PREFIX)
        if not is_cluster_arn(arn):
            logger.info("no cluster behind this resource; nothing to delete")
            return physical
        if policy == ClusterRemovalPolicy.RETAIN:
            logger.info("cluster retained", extra={"cluster_arn": arn})
            return physical
        cluster = self.clusters.get(arn)
        if cluster is None:
            logger.info("cluster already gone", extra={"cluster_arn": arn})
            return physical
        phase = self.state.get("phase")
        if cluster.get("status") in STOP_STATUSES or phase in ("stopping", "starting"):
            # AWS deletes (and snapshots) no stopped cluster: it is started first (one that is
            # stopping, once STOPPED), then the final snapshot that is due is taken and it is deleted.
            cluster = self._started(cluster)
        status = cluster.get("status")
        protect = (
            policy == ClusterRemovalPolicy.SNAPSHOT
            and not failed_restore
            and phase != "deleting"
            and status not in ("CREATING", "DELETING")
        )
        if protect:
            try:
                if status != ACTIVE and status not in TRANSITIONAL_STATUSES:
                    name = cluster.get("clusterName")
                    raise Failed(f"Cluster {name} ({arn}) is {status}, so no final snapshot can be taken")
                self._take_snapshot(cluster, "final", "final-snapshot")
            except Failed as error:
                raise Failed(
                    f"The final snapshot failed, so the cluster was not deleted: {error}. To proceed: fix the cause "
                    "and delete again; or, to delete the cluster without a final snapshot, set "
                    "removal_policy=DESTROY and deploy, then delete; or delete the stack with --retain-resources "
                    f"{self.event.get('LogicalResourceId')} to keep the cluster.{contract.CLEANUP_NOTE}"
                ) from error
        elif status == "CREATING" and policy == ClusterRemovalPolicy.SNAPSHOT:
            logger.info("cluster never reached ACTIVE: deleted without a final snapshot", extra={"cluster_arn": arn})
        if status != "DELETING":
            try:
                self.clusters.delete(arn)
            except Failed:
                if status != "CREATING":
                    raise
                # Not deletable while it is being created: wait for it to settle first.
                with contextlib.suppress(Failed):  # a status that will not become ACTIVE can be deleted
                    self._wait(cluster, "settling")
                self.clusters.delete(arn)
        self._wait({**cluster, "status": "DELETING"}, "deleting", target=GONE)
        logger.info("cluster deleted", extra={"cluster_arn": arn})
        return physical

    def _started(self, cluster: dict[str, Any]) -> dict[str, Any]:
        """The cluster, started if it is STOPPED (waited for until STOPPED first if it is stopping:
        AWS starts no cluster that is STOPPING) and waited for until ACTIVE (continuing in a new
        invocation if need be)."""
        if cluster.get("status") == "STOPPING" or self.state.get("phase") == "stopping":
            # Started by someone meanwhile: on to ACTIVE.
            cluster = self._wait(cluster, "stopping", target="STOPPED", ends=frozenset({"STARTING", ACTIVE}))
        if cluster.get("status") == "STOPPED":
            self.clusters.start(str(cluster["clusterArn"]))
            cluster = {**cluster, "status": "STARTING"}
        return self._wait(cluster, "starting")


def create_or_update(event: dict[str, Any], context: Any, services: Services) -> Result:
    run = _Restore(event, context, services)
    if event["RequestType"] == "Create":
        return run.restore_new()
    return run.update()


def delete(event: dict[str, Any], context: Any, services: Services) -> str:
    return _Restore(event, context, services, lenient=True).delete()


def resume(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Every step finds what an earlier invocation did, so resuming is running the request again
    with the continuation's state."""
    if event["RequestType"] == "Delete":
        return delete(event, context, services), {}
    return create_or_update(event, context, services)
