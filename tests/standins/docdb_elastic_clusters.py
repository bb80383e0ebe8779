"""The stand-in's cluster operations: restore, update, start, delete, tag.

Mixed into DocDbElasticStandIn, whose state and helpers (_here, _error, _not_found, the delays)
they use; each runs under its lock.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .docdb_elastic_state import ACCOUNT, Cluster

Answer = tuple[int, dict[str, Any], dict[str, str]]

# The members of UpdateCluster that change the cluster (the others identify the request).
_UPDATE_IDENTIFIERS = ("clusterArn", "clientToken")


class ClusterOperations:
    """The cluster half of DocDbElasticStandIn."""

    clusters: dict[str, Cluster]
    # Seconds a started cluster spends STARTING before it is ACTIVE.
    start_delay: float = 0.0

    def _cluster_here(self, arn: str) -> Cluster | None:
        """The cluster of this ARN, if it is in the request's region."""
        return self.clusters.get(arn) if self._here(arn) else None

    # --- restored clusters ---------------------------------------------------------------
    def _RestoreClusterFromSnapshot(self, params: dict[str, Any]) -> Answer:
        snapshot = self._snapshot_here(params["snapshotArn"])
        if snapshot is None:
            return self._not_found(params["snapshotArn"], "cluster-snapshot")
        if snapshot.status() != "ACTIVE":
            return self._error(409, "ConflictException", f"Snapshot is {snapshot.status()}", resourceId=snapshot.arn)
        name = params["clusterName"].lower() if self.readings.lowercase_cluster_names else params["clusterName"]
        if any(c.name.lower() == name.lower() and self._here(c.arn) for c in self.clusters.values()):
            return self.readings.taken_name("Cluster name already exists", name, "cluster")
        arn = f"arn:aws:docdb-elastic:{self.request_region}:{ACCOUNT}:cluster/{uuid.uuid4()}"
        members = ("shardCapacity", "shardInstanceCount", "subnetIds", "vpcSecurityGroupIds", "kmsKeyId")
        settings = {key: params[key] for key in members if key in params}
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        cluster = Cluster(arn, name, tags=dict(params.get("tags", {})), settings=settings, create_time=created)
        # The answer says CREATING; a call made `restore_delay` seconds later sees the outcome.
        cluster.ready_at = time.monotonic() + self.restore_delay
        cluster.status, cluster.pending = "CREATING", (cluster.ready_at, self.restore_final_status)
        self.clusters[arn] = cluster
        return 200, {"cluster": cluster.describe()}, {}

    def _UpdateCluster(self, params: dict[str, Any]) -> Answer:
        cluster = self._cluster_here(params["clusterArn"])
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        if cluster.status != "ACTIVE":
            return self._error(409, "ConflictException", f"Cluster is {cluster.status}", resourceId=cluster.arn)
        changes = {k: v for k, v in params.items() if k not in _UPDATE_IDENTIFIERS}
        if self.readings.one_field_per_update and len(changes) > 1:
            # What one public provider's code says AWS answers (the field names are AWS's own).
            return self._error(
                400,
                "ValidationException",
                f"Only one field can be updated per request; got {', '.join(sorted(changes))}",
                reason="other",
            )
        cluster.settings.update(changes)
        cluster.status, cluster.pending = "UPDATING", (time.monotonic() + self.update_delay, "ACTIVE")
        return 200, {"cluster": cluster.describe()}, {}

    def _DeleteCluster(self, params: dict[str, Any]) -> Answer:
        cluster = self._cluster_here(params["clusterArn"])
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        required = self.cluster_delete_requires_tag
        if required is not None and cluster.tags.get(required[0]) != required[1]:
            return self._error(
                403,
                "AccessDeniedException",
                f"User is not authorized to perform: docdb-elastic:DeleteCluster on resource: {cluster.arn} "
                "because no identity-based policy allows the docdb-elastic:DeleteCluster action",
            )
        busy = ("CREATING", "UPDATING", "DELETING", "STARTING", "STOPPING")
        if cluster.status in busy or (cluster.status == "STOPPED" and self.readings.no_deletion_while_stopped):
            return self._error(409, "ConflictException", f"Cluster is {cluster.status}", resourceId=cluster.arn)
        cluster.status, cluster.pending = "DELETING", (time.monotonic() + self.delete_delay, "GONE")
        return 200, {"cluster": cluster.describe()}, {}

    def _StartCluster(self, params: dict[str, Any]) -> Answer:
        """StartCluster: a STOPPED cluster is STARTING for `start_delay` seconds, then ACTIVE."""
        cluster = self._cluster_here(params["clusterArn"])
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        if cluster.status != "STOPPED":
            return self._error(409, "ConflictException", f"Cluster is {cluster.status}", resourceId=cluster.arn)
        cluster.status, cluster.pending = "STARTING", (time.monotonic() + self.start_delay, "ACTIVE")
        return 200, {"cluster": cluster.describe()}, {}

    def _TagResource(self, params: dict[str, Any]) -> Answer:
        target = self.clusters.get(params["resourceArn"]) or self._snapshot_here(params["resourceArn"])
        if target is None:
            return self._not_found(params["resourceArn"], "cluster")
        automated = getattr(target, "snapshot_type", "") == "AUTOMATED"
        if automated and not self.readings.automated_snapshots_taggable:
            return self._error(400, "ValidationException", "Automated snapshots cannot be tagged", reason="other")
        target.tags.update(params["tags"])
        return 200, {}, {}

    def _UntagResource(self, params: dict[str, Any]) -> Answer:
        target = self.clusters.get(params["resourceArn"]) or self._snapshot_here(params["resourceArn"])
        if target is None:
            return self._not_found(params["resourceArn"], "cluster")
        for key in params["tagKeys"]:
            target.tags.pop(key, None)
        return 200, {}, {}
