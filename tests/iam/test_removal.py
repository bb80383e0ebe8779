"""A construct removed from a stack whose other constructs stay.

CloudFormation first updates every resource that stays, the provider's shared policies among
them, and only in the clean-up runs the removed resource's Delete; then it deletes the removed
policies that resource depends on. So that Delete has the new template's policies, and those of
the old template's policies the resource depends on that the new template no longer has. Every
call it makes (and the dependent actions the permission table grants for them) must be allowed
by exactly that.
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
from iam_lifecycles import (
    COPY,
    DR,
    DR_KEY_ARN,
    ENV,
    RESTORE,
    SOURCE,
    Deployment,
    by_hand,
    cluster,
    statements,
)
from iam_reference import allowed, grants, resource_types
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
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


def _final(stack: cdk.Stack) -> CfnResource:
    key = cdk.aws_kms.Key(stack, "ClusterKey", enable_key_rotation=True)
    protected = cluster(stack, kms_key_id=key.key_arn)
    final = FinalSnapshot(stack, "Final", cluster=protected, copy_to=[CopyDestination(DR, kms_key_id=DR_KEY_ARN)])
    return final.resource


def _created_with_its_cluster(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    deployment.send("Create")


def _restored(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE)
    deployment.send("Create")
    docdb.snapshot_delay = 0.05  # the final snapshot is waited for


def _copied(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    by_hand(docdb, SOURCE)
    deployment.send("Create")


REMOVALS = [
    Removal(
        "a final snapshot, with its cluster (customer managed key, a copy to another region)",
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
        "a destroyed copy in another region",
        COPY,
        lambda stack: ElasticClusterSnapshotCopy(stack, "Stays", source_snapshot_arn=SOURCE),
        lambda stack: (
            ElasticClusterSnapshotCopy(
                stack,
                "Removed",
                source_snapshot_arn=SOURCE,
                destination_region=DR,
                removal_policy=RemovalPolicy.DESTROY,
            ).resource
        ),
        _copied,
    ),
]


def before_and_after(removal: Removal) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The template with the construct, the template without it, and its resource's logical id."""
    with_it = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    removal.stays(with_it)
    logical_id = with_it.resolve(removal.removed(with_it).logical_id)
    without = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    removal.stays(without)
    return Template.from_stack(with_it).to_json(), Template.from_stack(without).to_json(), logical_id


def left_for_the_delete(old: dict[str, Any], new: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    removed_after_it = {
        k
        for k in old["Resources"][logical_id].get("DependsOn", [])
        if k not in new["Resources"] and old["Resources"][k]["Type"] == "AWS::IAM::Policy"
    }
    return statements(new) + statements(old, removed_after_it)


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
    for call in docdb.calls:
        action = f"{SERVICE}:{call.operation}"
        if not resource_types(call.operation):
            assert allowed(left, action, "*"), action
            continue
        arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params["clusterArn"]
        assert allowed(left, action, arn), (action, arn)
    # AND so is every dependent action the table grants for those calls
    for operation in {call.operation for call in docdb.calls}:
        for action, decision in OPERATIONS[operation].decided().items():
            if decision.scope is not Scope.NOT_NEEDED:
                assert grants(left, action), f"{operation} needs {action}, which is gone"
