"""Every construct through its whole lifecycle against the stand-in, with the handler in this
process and events made from the synthesized template as CloudFormation would send them
(iam_deployment.py), checked against the template's IAM statements with their intrinsics resolved
the way CloudFormation would in the stand-in's account and region (iam_template.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    CopyDestination,
    ElasticClusterFromSnapshot,
    ElasticClusterSnapshot,
    ElasticClusterSnapshotCopy,
    FinalSnapshot,
    SnapshotBeforeChange,
)
from docdb_snapshot_handler.contract import ClusterRemovalPolicy, CopyProp, Prop, RestoreProp
from iam_deployment import COPY, RESTORE, Deployment
from iam_template import ENV, cluster, key_arn
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, cluster_arn_for
from synth_support import recommended_app

#: Snapshots someone took by hand, named by the templates (literal or parameter default).
SOURCE = f"arn:aws:docdb-elastic:{REGION}:{ACCOUNT}:cluster-snapshot/{uuid.uuid5(uuid.NAMESPACE_DNS, 'source').hex}"
NEWER_SOURCE = SOURCE.replace(SOURCE.rsplit("/", 1)[1], uuid.uuid5(uuid.NAMESPACE_DNS, "newer").hex)
#: A second customer managed key of the stack's region, the one copies are made under.
COPY_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
COPY_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{COPY_KEY_ID}"


@dataclass(frozen=True)
class Lifecycle:
    """A stack with one construct, and what CloudFormation and the world do to it."""

    name: str
    build: Callable[[cdk.Stack], None]
    mode: str
    play: Callable[[Deployment, DocDbElasticStandIn], None]
    #: The key the cluster snapshots need: "*" (any key: not given, or a before-change or final
    #: snapshot), "none" (no cluster snapshot: a copy), or "key" (the stack's key, given as
    #: kms_key), through docdb-elastic of the stack's region.
    kms: str = "*"
    #: The keys copies need besides: (key ARN or "*", the region of the docdb-elastic they are
    #: used through): the source's key is unknown at synth, so any key ("*", which covers a
    #: given key too), in the stack's region, the only one elastic snapshots are copied in.
    copy_kms: tuple[tuple[str, str], ...] = ()

    def kms_grants(self) -> set[tuple[str, str]]:
        """Exactly the (resource, kms:ViaService region) pairs every KMS action must be granted on."""
        cluster = {"*": {("*", REGION)}, "none": set(), "key": {(key_arn("ClusterKey"), REGION)}}[self.kms]
        return cluster | set(self.copy_kms)


def _snapshot(**props: Any) -> Callable[[cdk.Stack], None]:
    return lambda stack: ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=cluster_arn_for("orders"), **props)


def _create_redeliver_update_delete(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    first = deployment.send("Create")
    deployment.send("Create", again=first)  # Lambda's retry of the same event
    deployment.send("Update", {Prop.TRIGGER: "2"})
    busy_cluster(docdb)
    deployment.send("Update", {Prop.TRIGGER: "3"})
    deployment.send("Delete")


def stopped(docdb: DocDbElasticStandIn, arn: str) -> None:
    """Someone stopped the cluster: AWS deletes it only once started again."""
    docdb.clusters[arn].status, docdb.clusters[arn].pending = "STOPPED", None


def delete_stopped(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    """Someone stopped the restored cluster, then CloudFormation's Delete: the handler starts it
    (AWS deletes no STOPPED cluster) and deletes it, so StartCluster is among the calls the
    lifecycle's checks hold against the template's statements."""
    arn = deployment.physical_id
    assert arn is not None and arn in docdb.clusters, arn
    stopped(docdb, arn)
    before = len(docdb.calls)
    deployment.send("Delete")
    started = [c.params["clusterArn"] for c in docdb.calls[before:] if c.operation == "StartCluster"]
    assert started == [arn], started
    assert arn not in docdb.clusters, arn


def busy_cluster(docdb: DocDbElasticStandIn, arn: str | None = None) -> None:
    """Someone else's snapshot of the cluster ("orders" unless `arn`) in progress, which the
    service lets run alone: the next snapshot is waited out (and the cluster's status read, for
    the log and the Reason)."""
    docdb.one_snapshot_in_progress = True
    docdb.add_snapshot(arn or cluster_arn_for("orders"), f"by-hand-{uuid.uuid4().hex[:8]}", creating_for=1.0)


def _create_when_busy_redeliver_delete(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    busy_cluster(docdb)
    deployment.send("Create", again=deployment.send("Create"))
    deployment.send("Delete")


def _before_change(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    deployment.send("Create")  # the cluster does not exist yet
    docdb.add_cluster("orders")
    busy_cluster(docdb)
    change = deployment.send("Update", {Prop.TRIGGER: "digest-2"})
    deployment.send("Update", again=change)
    deployment.send("Update", {Prop.TRIGGER: "digest-3"})  # retain_last=1 prunes
    deployment.send("Delete")


def _final(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    deployment.send("Create")
    docdb.add_cluster("orders-v2")  # a replacement: the Update snapshots the old cluster
    replaced = deployment.send("Update", {Prop.CLUSTER_ARN: cluster_arn_for("orders-v2")})
    deployment.send("Update", again=replaced)
    deployment.send("Delete")


def _with_key(stack: cdk.Stack) -> kms.Key:
    return kms.Key(stack, "ClusterKey", enable_key_rotation=True)


def by_hand(docdb: DocDbElasticStandIn, arn: str, creating_for: float = 0.0) -> str:
    """A snapshot someone took of the cluster "orders", at an ARN a template names."""
    cluster_arn = docdb.add_cluster("orders")
    return docdb.add_snapshot(cluster_arn, f"by-hand-{uuid.uuid4().hex[:8]}", creating_for=creating_for, arn=arn)


def _copy_retained(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE, creating_for=1.0)  # still being taken: the copy waits for it
    first = deployment.send("Create")
    deployment.send("Create", again=first)
    deployment.send("Update", {Prop.TAGS: {"team": "data"}})  # same source: the copy is kept
    deployment.send("Delete")


def _copy_destroyed(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE, creating_for=1.0)
    first = deployment.send("Create")
    deployment.send("Create", again=first)
    by_hand(docdb, NEWER_SOURCE)
    newer = deployment.send("Update", {CopyProp.SOURCE_SNAPSHOT_ARN: NEWER_SOURCE})  # retain_last=1 prunes
    deployment.send("Update", again=newer)
    deployment.send("Delete")  # DESTROY: the copy is deleted


def _restore_changed_in_place(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE)
    first = deployment.send("Create")
    deployment.send("Create", again=first)  # finds its cluster by name and request tag
    # Tags and backups change in place: a snapshot first (unless turned off), waited for until
    # ACTIVE, then the update.
    docdb.snapshot_delay = 0.05
    changed = {RestoreProp.TAGS: {"owner": "data"}, RestoreProp.BACKUP_RETENTION_PERIOD: "7"}
    deployment.send("Update", again=deployment.send("Update", changed))
    if deployment.applied and deployment.applied.get(RestoreProp.REMOVAL_POLICY) == ClusterRemovalPolicy.RETAIN:
        return  # CloudFormation sends no Delete for a retained resource
    busy_cluster(docdb, deployment.physical_id)  # the final snapshot waits its turn
    delete_stopped(deployment, docdb)  # started, snapshotted, deleted


def _restore_replaced(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE)  # the newest snapshot of "orders"
    deployment.send("Create")
    docdb.snapshot_delay = 0.05
    deployment.send("Update", {RestoreProp.TAGS: {"owner": "data"}, RestoreProp.BACKUP_RETENTION_PERIOD: "7"})
    old = deployment.physical_id, deployment.applied
    deployment.send("Update", again=deployment.send("Update", {RestoreProp.TRIGGER: "drill-2"}))  # a new cluster
    deployment.delete_replaced(*old)
    delete_stopped(deployment, docdb)  # DESTROY: started, deleted


def _restore_destroyed_after_snapshot(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    """Created by an earlier template with the default SNAPSHOT, then replaced by this one
    (DESTROY, no pre-update snapshots): CloudFormation deletes the old cluster with its old
    properties, so a DESTROY stack still takes that final snapshot."""
    by_hand(docdb, SOURCE)
    now = dict(deployment.properties)
    deployment.properties = {
        k: v for k, v in now.items() if k not in (RestoreProp.REMOVAL_POLICY, RestoreProp.SNAPSHOT_BEFORE_UPDATE)
    }
    deployment.send("Create", again=deployment.send("Create"))
    deployment.send("Update", {RestoreProp.TAGS: {"owner": "data"}, RestoreProp.BACKUP_RETENTION_PERIOD: "7"})
    old = deployment.physical_id, deployment.applied
    docdb.snapshot_delay = 0.05
    deployment.send("Update", {**now, RestoreProp.TRIGGER: "drill-2"})
    busy_cluster(docdb, old[0])  # the final snapshot of the old cluster waits its turn
    deployment.delete_replaced(*old)
    assert any(s.cluster_arn == old[0] and "-final-" in s.name for s in docdb.snapshots.values())
    delete_stopped(deployment, docdb)  # DESTROY: started, deleted


def _restore(**props: Any) -> Callable[[cdk.Stack], None]:
    return lambda stack: ElasticClusterFromSnapshot(stack, "Restored", tags={"team": "data"}, **props)


def _restore_of_a_parameter(**props: Any) -> Callable[[cdk.Stack], None]:
    """The snapshot as a token (deployed with the parameter's default): its own policy."""

    def build(stack: cdk.Stack) -> None:
        source = cdk.CfnParameter(stack, "SnapshotArn", default=SOURCE).value_as_string
        _restore(snapshot_arn=source, **props)(stack)

    return build


def _copy(**props: Any) -> Callable[[cdk.Stack], None]:
    return lambda stack: ElasticClusterSnapshotCopy(stack, "Copy", **props)


def _copy_of_a_parameter(**props: Any) -> Callable[[cdk.Stack], None]:
    """The source as a token (deployed with the parameter's default): granted in the stack's region."""

    def build(stack: cdk.Stack) -> None:
        source = cdk.CfnParameter(stack, "SourceSnapshotArn", default=SOURCE).value_as_string
        ElasticClusterSnapshotCopy(stack, "Copy", source_snapshot_arn=source, **props)

    return build


LIFECYCLES = [
    Lifecycle("snapshot, retained", _snapshot(), "snapshot", _create_redeliver_update_delete),
    Lifecycle(
        "snapshot, exact name, destroyed",
        _snapshot(snapshot_name="orders-once", removal_policy=RemovalPolicy.DESTROY),
        "snapshot",
        _create_when_busy_redeliver_delete,
    ),
    Lifecycle("snapshot, retain_last", _snapshot(retain_last=1), "snapshot", _create_redeliver_update_delete),
    Lifecycle(
        "snapshot, no wait",
        _snapshot(wait_for_completion=False),
        "snapshot",
        _create_when_busy_redeliver_delete,
    ),
    Lifecycle(
        "snapshot, customer managed key",
        lambda stack: _snapshot(kms_key=_with_key(stack))(stack),
        "snapshot",
        _create_redeliver_update_delete,
        kms="key",
    ),
    # Before-change and final snapshots are of the cluster as it was, whose key the template may
    # no longer name (a key change replaces the cluster): any key, even when the cluster's is known.
    Lifecycle(
        "before change, customer managed key",
        lambda stack: SnapshotBeforeChange(
            stack, "BeforeChange", cluster=cluster(stack, kms_key_id=_with_key(stack).key_arn), retain_last=1
        ),
        "before-change",
        _before_change,
    ),
    Lifecycle(
        "final, customer managed key",
        lambda stack: FinalSnapshot(stack, "Final", cluster=cluster(stack, kms_key_id=_with_key(stack).key_id)),
        "final",
        _final,
    ),
    Lifecycle(
        "final, AWS owned key, a manual copy under the same key",
        lambda stack: FinalSnapshot(stack, "Final", cluster=cluster(stack), copy_to=[CopyDestination()]),
        "final",
        _final,
    ),
    Lifecycle(
        "final, customer managed key, copied under another key given by id",
        lambda stack: FinalSnapshot(
            stack,
            "Final",
            cluster=cluster(stack, kms_key_id=_with_key(stack).key_arn),
            copy_to=[CopyDestination(kms_key_id=COPY_KEY_ID)],
        ),
        "final",
        _final,
    ),
    # A copy's source key is unknown at synth time: any key, through docdb-elastic of the
    # stack's region; the given key besides.
    Lifecycle(
        "copy under another key, retained",
        _copy(source_snapshot_arn=SOURCE, kms_key_id=COPY_KEY_ARN),
        COPY,
        _copy_retained,
        kms="none",
        copy_kms=(("*", REGION),),
    ),
    Lifecycle(
        "copy of a source parameter, retain_last, destroyed",
        _copy_of_a_parameter(retain_last=1, removal_policy=RemovalPolicy.DESTROY),
        COPY,
        _copy_destroyed,
        kms="none",
        copy_kms=(("*", REGION),),
    ),
    # The snapshot's key and the new cluster's are unknown at synth time: any key, through
    # docdb-elastic of the stack's region.
    Lifecycle(
        "restore from a snapshot, changed in place, final snapshot",
        _restore(snapshot_arn=SOURCE),
        RESTORE,
        _restore_changed_in_place,
    ),
    Lifecycle(
        "restore the newest snapshot of a cluster, replaced, destroyed",
        _restore(source_cluster_arn=cluster_arn_for("orders"), removal_policy=RemovalPolicy.DESTROY),
        RESTORE,
        _restore_replaced,
    ),
    Lifecycle(
        "restore, destroyed without pre-update snapshots, replacing one made with a final snapshot",
        _restore(snapshot_arn=SOURCE, removal_policy=RemovalPolicy.DESTROY, snapshot_before_update=False),
        RESTORE,
        _restore_destroyed_after_snapshot,
    ),
    Lifecycle(
        "restore from a snapshot parameter, retained, no snapshot before update",
        _restore_of_a_parameter(removal_policy=RemovalPolicy.RETAIN, snapshot_before_update=False),
        RESTORE,
        _restore_changed_in_place,
    ),
]


def synth(lifecycle: Lifecycle) -> dict[str, Any]:
    stack = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    lifecycle.build(stack)
    return Template.from_stack(stack).to_json()
