"""Data protection CloudFormation lacks for elastic clusters: a snapshot before every change to
a cluster, and a final snapshot before it is deleted or replaced."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import CfnResource, Duration, IResolvable, IResolveContext, RemovalPolicy, Stack, Token
from aws_cdk import aws_docdbelastic as docdbelastic

from constructs import Construct
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import Prop

from .copy import CopyDestination
from .resource import DEFAULT_TIMEOUT, SnapshotResource
from .snapshot_quota import Kept, SnapshotQuotaBudget
from .validation import common_errors, copy_destinations_errors, known_region, reject_invalid


class ClusterNotActive(enum.Enum):
    """What SnapshotBeforeChange does when the cluster is not ACTIVE (stopped, updating...)."""

    #: Fail the deployment, naming the cluster and its status: nothing changes unprotected.
    FAIL = contract.ClusterNotActive.FAIL
    #: Let the change go ahead without a snapshot; skipped_reason says why.
    SKIP = contract.ClusterNotActive.SKIP


@jsii.implements(IResolvable)
class ClusterDefinitionDigest:
    """A digest of a CfnCluster's resolved properties, computed at synth time, after aspects
    such as Tags have run: stable while the definition is unchanged, new when it changes.
    (Raw property overrides are not seen.)"""

    def __init__(self, cluster: docdbelastic.CfnCluster) -> None:
        self._cluster = cluster

    @property
    def creation_stack(self) -> list[str]:
        return []

    @property
    def type_hint(self) -> None:
        return None

    def resolve(self, _context: IResolveContext) -> str:
        definition: Any = Stack.of(self._cluster).resolve(self._cluster._cfn_properties)
        return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()

    def to_string(self) -> str:
        return Token.as_string(self)


def depend_on(resource: CfnResource, target: CfnResource) -> None:
    """``add_resource_dependency`` (aws-cdk-lib 2.271+), or its older name."""
    add = getattr(resource, "add_resource_dependency", None) or resource.add_dependency
    add(target)


def _cluster_name_errors(cluster: docdbelastic.CfnCluster) -> list[str]:
    if not cluster.cluster_name:
        return ["cluster: the CfnCluster must have a cluster_name, by which it is found at deploy time"]
    return []


class SnapshotBeforeChange(SnapshotResource):
    """Snapshots a cluster before each change CloudFormation makes to it.

    The cluster depends on this resource, so on a stack update CloudFormation snapshots the
    cluster as it is, then changes it. The cluster is found at deploy time by name (its ARN
    would be a dependency cycle). A new snapshot is taken exactly when the cluster's definition
    changes (its trigger is a digest of the cluster's properties). On the first deploy the
    cluster does not exist yet: no snapshot, and ``skipped_reason`` says so. A rename or a
    replacement snapshots the old cluster, from the old properties. Snapshots are always
    retained when this construct is removed.

    :param cluster: the CfnCluster to protect; it must have a ``cluster_name``.
    :param retain_last: keep only the newest N snapshots this construct took. Default: keep all.
    :param tags: tags of each snapshot, at most 48. Default: none.
    :param snapshot_name_prefix: prefix of snapshot names, at most 41 characters. Default: the
        stack name and construct id, sanitised.
    :param on_cluster_not_active: FAIL (default) fails the deployment when the cluster is not
        ACTIVE; SKIP lets the change proceed without a snapshot.
    :param timeout: longest wait for the snapshot to be ACTIVE, 30 seconds to 60 minutes.
        Default: 60 minutes.

    KMS: the snapshot is of the cluster as it is *before* the change, whose key may be one the
    template no longer names (a key change replaces the cluster), so the grant is any key, only
    through docdb-elastic in this region (as AWS's AmazonDocDBElasticFullAccess).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: docdbelastic.CfnCluster,
        retain_last: int | None = None,
        tags: Mapping[str, str] | None = None,
        snapshot_name_prefix: str | None = None,
        on_cluster_not_active: ClusterNotActive = ClusterNotActive.FAIL,
        timeout: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or DEFAULT_TIMEOUT
        errors = _cluster_name_errors(cluster) + common_errors(
            snapshot_name_prefix=snapshot_name_prefix, tags=tags, timeout=timeout, retain_last=retain_last
        )
        if not isinstance(on_cluster_not_active, ClusterNotActive):
            errors.append("on_cluster_not_active: must be ClusterNotActive.FAIL or ClusterNotActive.SKIP")
        reject_invalid(self, errors)

        self._create(
            {
                Prop.MODE: contract.Mode.BEFORE_CHANGE,
                Prop.CLUSTER_NAME: cluster.cluster_name,
                Prop.SNAPSHOT_NAME_PREFIX: snapshot_name_prefix or self._default_prefix,
                Prop.TRIGGER: ClusterDefinitionDigest(cluster).to_string(),
                Prop.ON_CLUSTER_NOT_ACTIVE: (
                    None if on_cluster_not_active == ClusterNotActive.FAIL else on_cluster_not_active.value
                ),
            },
            timeout=timeout,
            tags=tags,
            retain_last=retain_last,
        )
        self._provider.allow_snapshots_of_clusters_found_by_name()
        depend_on(cluster, self.resource)
        SnapshotQuotaBudget.of(self).keeps_retained(cluster, self, retain_last, self.snapshot_arn)


class FinalSnapshot(SnapshotResource):
    """Snapshots a cluster before CloudFormation deletes or replaces it, and waits until the
    snapshot is ACTIVE, so the cluster is only deleted once its data is safe.

    This resource depends on the cluster, so CloudFormation deletes it first: its Delete takes
    the snapshot. When the cluster is replaced, the Update that follows snapshots the old
    cluster before CloudFormation's clean-up deletes it. Create and other updates take no
    snapshot. If the final snapshot fails, the deletion fails and the cluster is kept; the
    Reason says how to proceed. Final snapshots are never deleted by this construct.
    Removing the construct from the app also takes a final snapshot.

    :param cluster: the CfnCluster to protect.
    :param tags: tags of the final snapshot, at most 48. Default: none.
    :param snapshot_name_prefix: prefix of snapshot names, at most 41 characters. Default: the
        stack name and construct id, sanitised.
    :param timeout: longest wait for the snapshot to be ACTIVE (and its copies), 30 seconds to
        60 minutes. Default: 60 minutes.
    :param copy_to: after the final snapshot is ACTIVE, copy it in this region (at most one
        CopyDestination, typically under a second KMS key, so that the final snapshot outlives
        the cluster's key) and wait until the copy is ACTIVE before the cluster may be deleted. A
        failed copy fails the deletion and keeps the cluster. AWS copies elastic cluster
        snapshots only within their region and account: another region is refused. Default: no
        copy.

    IAM: everything the final snapshot needs is in the provider's FinalSnapshotPolicy, and the
    copy's grants in a FinalCopyPolicy per key; the resource depends on them, so they outlive it
    when the construct is removed. KMS: any key, only through docdb-elastic in this region, as
    the snapshot is of the cluster as it was, whose key a changed template no longer names.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: docdbelastic.CfnCluster,
        tags: Mapping[str, str] | None = None,
        snapshot_name_prefix: str | None = None,
        timeout: Duration | None = None,
        copy_to: Sequence[CopyDestination] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or DEFAULT_TIMEOUT
        destinations = list(copy_to or [])
        errors = common_errors(snapshot_name_prefix=snapshot_name_prefix, tags=tags, timeout=timeout, retain_last=None)
        if not all(isinstance(d, CopyDestination) for d in destinations):
            errors.append("copy_to: must be a list of CopyDestination")
            destinations = []
        errors.extend(
            copy_destinations_errors(
                "copy_to", [(d.region, d.kms_key_id) for d in destinations], known_region(Stack.of(self))
            )
        )
        reject_invalid(self, errors)

        properties: dict[str, object] = {
            Prop.MODE: contract.Mode.FINAL,
            Prop.CLUSTER_ARN: cluster.attr_cluster_arn,
            Prop.SNAPSHOT_NAME_PREFIX: snapshot_name_prefix or self._default_prefix,
        }
        if destinations:
            # A region given is written, so that the handler can refuse it where the stack's region
            # is unknown at synth time.
            properties[Prop.COPY_TO] = [
                {
                    **({contract.CopyDestinationKey.REGION: d.region} if d.region else {}),
                    **({contract.CopyDestinationKey.KMS_KEY_ID: d.kms_key_id} if d.kms_key_id else {}),
                }
                for d in destinations
            ]
        resource = self._create(
            properties,
            timeout=timeout,
            tags=tags,
            retain_last=None,
            # CloudFormation must send Delete: that is when the final snapshot is taken. The
            # snapshot itself is never deleted (the handler's RemovalPolicy is retain).
            deletion_policy=RemovalPolicy.DESTROY,
        )
        # Not allow_snapshots_of(cluster ARN): on a replacement the old cluster is snapshotted
        # after its ARN has left the policies (see SnapshotProvider.allow_final_snapshots).
        self._provider.allow_final_snapshots(resource)
        if destinations:
            self._provider.allow_final_copies(resource)
        # Once the cluster is deleted (one more set with every replacement).
        SnapshotQuotaBudget.of(self).keeps(
            cluster,
            Kept(self.node.path, 1 + len(destinations), "the final snapshot and its copies", grows=True),
        )
