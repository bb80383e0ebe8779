"""SnapshotBeforeChange and FinalSnapshot at synth time: ordering, no cycle, digest, IAM."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    ClusterNotActive,
    ElasticClusterSnapshot,
    FinalSnapshot,
    InvalidPropsError,
    SnapshotBeforeChange,
)
from docdb_snapshot_handler.contract import RESOURCE_TYPE, Prop
from synth_support import ENV, recommended_app


def cluster_stack(shard_count: int = 1, name: str = "orders") -> tuple[cdk.Stack, docdbelastic.CfnCluster]:
    stack = cdk.Stack(recommended_app(), "ProtectedStack", env=ENV)
    cluster = docdbelastic.CfnCluster(
        stack,
        "Cluster",
        cluster_name=name,
        admin_user_name="admin",
        auth_type="PLAIN_TEXT",
        admin_user_password="{{resolve:secretsmanager:pw}}",
        shard_capacity=2,
        shard_count=shard_count,
    )
    return stack, cluster


def resource_by_mode(template: dict[str, Any], mode: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r)
        for k, r in template["Resources"].items()
        if r["Type"] == RESOURCE_TYPE and r["Properties"].get(Prop.MODE, "snapshot") == mode
    ]
    return found


def logical_id_of(stack: cdk.Stack, construct: Any) -> str:
    return stack.resolve(construct.logical_id if hasattr(construct, "logical_id") else construct.resource.logical_id)


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Every resource's dependencies: DependsOn, Ref and Fn::GetAtt."""
    resources = template["Resources"]

    def refs(value: Any) -> set[str]:
        if isinstance(value, dict):
            found = set()
            for key, item in value.items():
                if key == "Ref" and item in resources:
                    found.add(item)
                elif key == "Fn::GetAtt" and item[0] in resources:
                    found.add(item[0])
                else:
                    found |= refs(item)
            return found
        if isinstance(value, list):
            return set().union(*map(refs, value)) if value else set()
        return set()

    graph = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        graph[logical_id] = set([depends_on] if isinstance(depends_on, str) else depends_on) | refs(
            resource.get("Properties", {})
        )
    return graph


def has_cycle(graph: dict[str, set[str]]) -> bool:
    visiting, done = set(), set()

    def visit(node: str) -> bool:
        if node in done:
            return False
        if node in visiting:
            return True
        visiting.add(node)
        cyclic = any(visit(child) for child in graph.get(node, ()))
        visiting.discard(node)
        done.add(node)
        return cyclic

    return any(visit(node) for node in graph)


def all_protections(stack: cdk.Stack, cluster: docdbelastic.CfnCluster) -> dict[str, Any]:
    before = SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster, retain_last=5)
    final = FinalSnapshot(stack, "Final", cluster=cluster)
    release = ElasticClusterSnapshot(stack, "Release", cluster_arn=cluster.attr_cluster_arn, retain_last=3)
    return {"before": before, "final": final, "release": release}


def test_the_cluster_waits_for_the_snapshot_before_change_and_the_final_snapshot_waits_for_the_cluster():
    # GIVEN a cluster with all three protections
    stack, cluster = cluster_stack()
    protections = all_protections(stack, cluster)
    template = Template.from_stack(stack).to_json()
    graph = dependencies(template)
    cluster_id = stack.resolve(cluster.logical_id)
    before_id = stack.resolve(protections["before"].resource.logical_id)
    final_id = stack.resolve(protections["final"].resource.logical_id)
    # THEN CloudFormation creates (and updates) the before-change snapshot first, then the
    # cluster; and deletes the final snapshot first, then the cluster
    assert before_id in graph[cluster_id]
    assert cluster_id in graph[final_id]
    # AND the graph has no cycle, whichever protections are combined
    assert not has_cycle(graph)


def test_snapshot_before_change_finds_the_cluster_by_name_not_by_its_arn():
    stack, cluster = cluster_stack()
    SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster)
    _, resource = resource_by_mode(Template.from_stack(stack).to_json(), "before-change")
    assert resource["Properties"][Prop.CLUSTER_NAME] == "orders"
    assert Prop.CLUSTER_ARN not in resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain"
    # FAIL is the handler's default, so the template leaves it out
    assert Prop.ON_CLUSTER_NOT_ACTIVE not in resource["Properties"]


def digest(stack: cdk.Stack) -> str:
    _, resource = resource_by_mode(Template.from_stack(stack).to_json(), "before-change")
    return resource["Properties"][Prop.TRIGGER]


def test_the_trigger_is_stable_across_synths_and_changes_with_the_cluster_definition():
    def synth(**changes: Any) -> str:
        stack, cluster = cluster_stack(**{k: v for k, v in changes.items() if k in ("shard_count", "name")})
        SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster)
        if "tag" in changes:
            cdk.Tags.of(cluster).add("team", changes["tag"])
        if "unrelated" in changes:
            cdk.CfnOutput(stack, "Unrelated", value="x")
        return digest(stack)

    baseline = synth()
    assert len(baseline) == 64 and synth() == baseline
    assert synth(unrelated=True) == baseline
    assert synth(shard_count=2) != baseline
    assert synth(name="orders-v2") != baseline
    assert synth(tag="data") != baseline  # applied by an aspect, after the construct was made


def test_final_snapshot_is_deleted_by_cloudformation_so_its_delete_can_take_the_snapshot():
    stack, cluster = cluster_stack()
    FinalSnapshot(stack, "Final", cluster=cluster)
    _, resource = resource_by_mode(Template.from_stack(stack).to_json(), "final")
    assert resource["DeletionPolicy"] == "Delete" and resource["UpdateReplacePolicy"] == "Retain"
    # the snapshot itself is always kept: the handler's default removal policy, left out
    assert Prop.REMOVAL_POLICY not in resource["Properties"]
    # its Delete may hand a long wait over to a new invocation: the grant must outlive it
    invoke_policy = next(
        k
        for k, r in Template.from_stack(stack).find_resources("AWS::IAM::Policy").items()
        if "lambda:InvokeFunction" in json.dumps(r)
    )
    assert invoke_policy in resource["DependsOn"]
    assert resource["Properties"][Prop.CLUSTER_ARN] == {"Fn::GetAtt": [stack.resolve(cluster.logical_id), "ClusterArn"]}


def statements_by_policy(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        k: r["Properties"]["PolicyDocument"]["Statement"]
        for k, r in template["Resources"].items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    }


def test_grants_naming_the_cluster_stay_out_of_the_policy_the_function_depends_on():
    stack, cluster = cluster_stack()
    all_protections(stack, cluster)
    template = Template.from_stack(stack).to_json()
    (function_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    cluster_id = stack.resolve(cluster.logical_id)
    graph = dependencies(template)
    policies = statements_by_policy(template)
    # Policy, ClusterPolicy, InvokeSelfPolicy, and the deletion policies of the final snapshot and of retention
    assert len(policies) == 5
    naming_the_cluster = {p for p in policies if cluster_id in graph[p]}
    assert naming_the_cluster and not naming_the_cluster & graph[function_id]
    assert any(p in graph[function_id] for p in policies)
    text = json.dumps(template)
    assert '"docdb-elastic:ListClusters"' in text and '"docdb-elastic:GetCluster"' in text
    assert "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/*" in text


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda s, c: SnapshotBeforeChange(s, "X", cluster=c, retain_last=0),
            "retain_last: must be between 1 and 1000 (got 0)",
        ),
        (
            lambda s, c: SnapshotBeforeChange(s, "X", cluster=c, snapshot_name_prefix="bad--prefix"),
            "snapshot_name_prefix:",
        ),
        (
            lambda s, c: SnapshotBeforeChange(s, "X", cluster=c, on_cluster_not_active="skip"),
            "on_cluster_not_active: must be",
        ),
        (lambda s, c: FinalSnapshot(s, "X", cluster=c, tags={"aws:x": "y"}), "tags: tag key 'aws:x'"),
        (
            lambda s, c: ElasticClusterSnapshot(
                s, "X", cluster_arn=c.attr_cluster_arn, snapshot_name="once", retain_last=2
            ),
            "retain_last: needs generated names",
        ),
    ],
)
def test_invalid_protection_props_are_rejected_naming_the_prop(build, expected):
    stack, cluster = cluster_stack()
    with pytest.raises(InvalidPropsError) as raised:
        build(stack, cluster)
    assert expected in str(raised.value)


def test_a_cluster_without_a_name_cannot_be_found_before_it_changes():
    stack, cluster = cluster_stack(name="")
    with pytest.raises(InvalidPropsError, match="cluster: the CfnCluster must have a cluster_name"):
        SnapshotBeforeChange(stack, "X", cluster=cluster)


def test_skip_is_passed_to_the_handler():
    stack, cluster = cluster_stack()
    SnapshotBeforeChange(stack, "X", cluster=cluster, on_cluster_not_active=ClusterNotActive.SKIP)
    _, resource = resource_by_mode(Template.from_stack(stack).to_json(), "before-change")
    assert resource["Properties"][Prop.ON_CLUSTER_NOT_ACTIVE] == "skip"


def test_the_cycle_check_itself_sees_a_cycle():
    assert has_cycle({"A": {"B"}, "B": {"C"}, "C": {"A"}}) and not has_cycle({"A": {"B"}, "B": set()})
