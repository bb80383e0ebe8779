"""A construct removed from a stack whose other constructs stay (or the last one, the provider
with it; or one an update added and its rollback removes: the same, templates swapped).

CloudFormation first updates every resource that stays, the provider's shared policies among
them, and only in the clean-up runs the removed resource's Delete; then it deletes the removed
resources in reverse dependency order, so the policies the resource depends on go after it.
Every call that Delete makes, and the dependent actions the permission table grants for them,
must be allowed by the policies the resource depends on, as they are then: the new template's
content where a policy stays, the old one's where it goes. That is stricter than CloudFormation
(which also leaves the shared policies of what stays): a grant that happens to be there because
of the construct that stays must not hide one that would be missing in another stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import CfnResource, RemovalPolicy
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    CopyDestination,
    ElasticClusterFromSnapshot,
    ElasticClusterSnapshot,
    ElasticClusterSnapshotCopy,
    FinalSnapshot,
)
from docdb_elastic_snapshot.permissions import OPERATIONS, SERVICE, Scope
from iam_deployment import COPY, RESTORE, Deployment
from iam_lifecycles import COPY_KEY_ARN, SOURCE, by_hand, stopped
from iam_reference import VIA_SERVICE, allowed, grants, resource_types
from iam_template import ENV, cluster, statements
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for, region_of
from synth_support import recommended_app

OTHER_CLUSTER = cluster_arn_for("other")


@dataclass(frozen=True)
class Removal:
    name: str
    mode: str
    #: What stays in the stack.
    stays: Callable[[cdk.Stack], object]
    #: The construct that is removed (with its cluster, where it has one); returns its resource.
    removed: Callable[[cdk.Stack], CfnResource]
    #: Its life before the removal.
    before: Callable[[Deployment, DocDbElasticStandIn], None]
    #: Operations its Delete must call (besides any others), each then checked like the rest.
    calls: frozenset[str] = frozenset()


def _final(stack: cdk.Stack) -> CfnResource:
    key = cdk.aws_kms.Key(stack, "ClusterKey", enable_key_rotation=True)
    protected = cluster(stack, kms_key_id=key.key_arn)
    final = FinalSnapshot(stack, "Final", cluster=protected, copy_to=[CopyDestination(kms_key_id=COPY_KEY_ARN)])
    return final.resource


def _destroyed_copy(stack: cdk.Stack, kms_key_id: str) -> CfnResource:
    copy = ElasticClusterSnapshotCopy(
        stack, "Removed", source_snapshot_arn=SOURCE, kms_key_id=kms_key_id, removal_policy=RemovalPolicy.DESTROY
    )
    return copy.resource


def _created_with_its_cluster(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    deployment.send("Create")


def _restored(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE)
    deployment.send("Create")
    docdb.snapshot_delay = 0.05  # the final snapshot is waited for


def _restored_then_stopped(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    """Restored, then stopped by someone: its Delete starts it (AWS deletes no STOPPED cluster)."""
    by_hand(docdb, SOURCE)
    deployment.send("Create")
    stopped(docdb, str(deployment.physical_id))


def _copied(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE)
    deployment.send("Create")


REMOVALS = [
    Removal(
        "a final snapshot, with its cluster (customer managed key, a copy under another key)",
        "final",
        lambda stack: ElasticClusterSnapshot(stack, "Stays", cluster_arn=OTHER_CLUSTER),
        _final,
        _created_with_its_cluster,
    ),
    Removal(
        "a restored cluster with a final snapshot",
        RESTORE,
        lambda stack: ElasticClusterFromSnapshot(
            stack, "Stays", snapshot_arn=SOURCE, removal_policy=RemovalPolicy.RETAIN, snapshot_before_update=False
        ),
        lambda stack: ElasticClusterFromSnapshot(stack, "Removed", snapshot_arn=SOURCE).resource,
        _restored,
    ),
    Removal(
        "a destroyed restored cluster, stopped (started, then deleted)",
        RESTORE,
        lambda stack: ElasticClusterFromSnapshot(
            stack, "Stays", snapshot_arn=SOURCE, removal_policy=RemovalPolicy.RETAIN, snapshot_before_update=False
        ),
        lambda stack: (
            ElasticClusterFromSnapshot(
                stack, "Removed", snapshot_arn=SOURCE, removal_policy=RemovalPolicy.DESTROY
            ).resource
        ),
        _restored_then_stopped,
        calls=frozenset({"StartCluster", "DeleteCluster"}),
    ),
    Removal(
        "a destroyed snapshot",
        "snapshot",
        lambda stack: ElasticClusterSnapshot(stack, "Stays", cluster_arn=OTHER_CLUSTER),
        lambda stack: (
            ElasticClusterSnapshot(
                stack, "Removed", cluster_arn=cluster_arn_for("orders"), removal_policy=RemovalPolicy.DESTROY
            ).resource
        ),
        _created_with_its_cluster,
    ),
    Removal(
        "a destroyed copy under another key",
        COPY,
        lambda stack: ElasticClusterSnapshotCopy(stack, "Stays", source_snapshot_arn=SOURCE),
        lambda stack: _destroyed_copy(stack, COPY_KEY_ARN),
        _copied,
    ),
    Removal(
        "a destroyed copy under a key given as a parameter",
        COPY,
        lambda stack: ElasticClusterSnapshotCopy(stack, "Stays", source_snapshot_arn=SOURCE),
        lambda stack: _destroyed_copy(stack, cdk.CfnParameter(stack, "CopyKey", default=COPY_KEY_ARN).value_as_string),
        _copied,
    ),
    Removal(
        "the last construct: a final snapshot, the provider with it",
        "final",
        lambda stack: None,
        _final,
        _created_with_its_cluster,
    ),
]


def before_and_after(removal: Removal) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The template with the construct, the template without it, and its resource's logical id."""
    with_it = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    removal.stays(with_it)
    logical_id = with_it.resolve(removal.removed(with_it).logical_id)
    without = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    removal.stays(without)
    new = Template.from_stack(without).to_json() if without.node.children else {}
    return Template.from_stack(with_it).to_json(), new, logical_id


def left_for_the_delete(old: dict[str, Any], new: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    """The statements of the policies the resource depends on, as they are when its Delete runs."""
    depends_on = set(old["Resources"][logical_id].get("DependsOn", []))
    staying = depends_on & set(new.get("Resources", {}))
    return (statements(new, staying) if staying else []) + statements(old, depends_on - staying)


def kms_regions(call: Any) -> set[str]:
    """The regions whose docdb-elastic uses a customer managed key for the call: the call's own,
    and a copy's source's (the same: copies stay in their region)."""
    if call.operation == "CopyClusterSnapshot":
        return {call.region, region_of(call.params["snapshotArn"])}
    return {call.region}


@pytest.fixture(autouse=True)
def quick(docdb: DocDbElasticStandIn, quick_polls: None) -> None:
    docdb.snapshot_delay = 0.0


@pytest.mark.parametrize("removal", REMOVALS, ids=lambda r: r.name)
def test_the_delete_of_a_removed_construct_is_allowed_by_what_is_left(removal, docdb, receiver):
    # GIVEN a stack with the construct and another one that stays, through the construct's life
    old, new, logical_id = before_and_after(removal)
    deployment = Deployment(old, receiver, removal.mode, docdb, logical_id)
    removal.before(deployment, docdb)
    # WHEN the construct is removed: the policies that stay are updated, then its Delete runs
    docdb.reset_calls()
    deployment.send("Delete")
    left = left_for_the_delete(old, new, logical_id)
    # THEN that Delete called AWS, and every call is allowed by what is left
    assert docdb.calls, "the Delete made no call"
    assert removal.calls <= {call.operation for call in docdb.calls}, removal.calls
    for call in docdb.calls:
        action = f"{SERVICE}:{call.operation}"
        if not resource_types(call.operation):
            assert allowed(left, action, "*"), action
            continue
        arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params["clusterArn"]
        assert allowed(left, action, arn), (action, arn)
    # AND so is every dependent action the table grants for those calls (KMS through docdb-elastic
    # of each region where a key is used)
    for call in docdb.calls:
        for action, decision in OPERATIONS[call.operation].decided().items():
            if decision.scope is Scope.NOT_NEEDED:
                continue
            assert grants(left, action), f"{call.operation} needs {action}, which is gone"
            if decision.scope in (Scope.CLUSTER_KEY, Scope.CLUSTER_KEY_GRANT):
                via = {
                    match.group(1)
                    for s in grants(left, action)
                    if (match := VIA_SERVICE.fullmatch(s["Condition"]["StringEquals"]["kms:ViaService"]))
                }
                assert kms_regions(call) <= via, (call.operation, action, via)
