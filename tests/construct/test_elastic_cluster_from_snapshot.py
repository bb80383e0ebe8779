"""ElasticClusterFromSnapshot at synth time: properties, validation of literals, IAM per option,
DeletionPolicy per removal policy, connections, and no dependency cycle with the other constructs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from docdb_elastic_snapshot import (
    ElasticClusterFromSnapshot,
    ElasticClusterSnapshot,
    FinalSnapshot,
    InvalidPropsError,
    SnapshotBeforeChange,
)
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import RESTORE_RESOURCE_TYPE, ClusterAttr, RestoreProp
from docdb_snapshot_handler.kinds.restore.properties import parse_restore_properties
from standins.bundled_handler import as_cloudformation_sends
from synth_support import ENV, recommended_app

SNAPSHOT = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster-snapshot/0123abcd"
SOURCE = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/orders"


def new_stack(name: str = "RestoreStack") -> cdk.Stack:
    return cdk.Stack(recommended_app(), name, env=ENV)


def restore_resource(stack: cdk.Stack) -> dict[str, Any]:
    (resource,) = Template.from_stack(stack).find_resources(RESTORE_RESOURCE_TYPE).values()
    return resource


def statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    template = Template.from_stack(stack)
    policies = [
        *template.find_resources("AWS::IAM::Policy").values(),
        *template.find_resources("AWS::IAM::ManagedPolicy").values(),
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def allowed(stack: cdk.Stack, action: str) -> list[dict[str, Any]]:
    return [s for s in statements(stack) if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]


def test_defaults_make_a_lean_resource_that_the_handler_reads_back_as_the_defaults():
    # GIVEN a restore with nothing but the snapshot
    stack = new_stack()
    ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT)
    resource = restore_resource(stack)
    # THEN only the snapshot and the generated name's prefix are in the template
    properties = {k: v for k, v in resource["Properties"].items() if k not in ("ServiceToken", "ServiceTimeout")}
    assert properties == {RestoreProp.SNAPSHOT_ARN: SNAPSHOT, RestoreProp.CLUSTER_NAME_PREFIX: "restorestack-restored"}
    # AND the handler reads them as the documented defaults
    parsed = parse_restore_properties(properties)
    assert parsed.removal_policy == contract.ClusterRemovalPolicy.SNAPSHOT and parsed.snapshot_before_update
    assert parsed.timeout_seconds == 3600
    # AND CloudFormation must send Delete (the handler takes the final snapshot)
    assert resource["DeletionPolicy"] == "Delete" and resource["UpdateReplacePolicy"] == "Delete"


@pytest.mark.parametrize(
    ("policy", "deletion", "value"),
    [
        (RemovalPolicy.SNAPSHOT, "Delete", None),
        (RemovalPolicy.DESTROY, "Delete", "destroy"),
        (RemovalPolicy.RETAIN, "Retain", "retain"),
    ],
)
def test_deletion_policy_per_removal_policy(policy, deletion, value):
    stack = new_stack()
    ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT, removal_policy=policy)
    resource = restore_resource(stack)
    assert resource["DeletionPolicy"] == deletion and resource["UpdateReplacePolicy"] == deletion
    assert resource["Properties"].get(RestoreProp.REMOVAL_POLICY) == value


def test_every_prop_reaches_the_handler_under_its_contract_name():
    stack = new_stack()
    ElasticClusterFromSnapshot(
        stack,
        "Restored",
        source_cluster_arn=SOURCE,
        cluster_name="orders-restored",
        subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
        shard_capacity=4,
        shard_instance_count=2,
        kms_key_id="alias/orders",
        tags={"team": "data"},
        backup_retention_period=7,
        preferred_backup_window="02:00-02:30",
        preferred_maintenance_window="sun:03:00-sun:03:30",
        snapshot_before_update=False,
        trigger="drill-1",
        timeout=Duration.minutes(30),
    )
    properties = restore_resource(stack)["Properties"]
    parsed = parse_restore_properties(as_cloudformation_sends(properties))
    assert parsed.source_cluster_arn == SOURCE and parsed.cluster_name == "orders-restored"
    assert parsed.shard_capacity == 4 and parsed.shard_instance_count == 2 and parsed.kms_key_id == "alias/orders"
    assert parsed.backup_retention_period == 7 and parsed.preferred_maintenance_window == "sun:03:00-sun:03:30"
    assert parsed.snapshot_before_update is False and parsed.trigger == "drill-1" and parsed.timeout_seconds == 1800
    assert RestoreProp.CLUSTER_NAME_PREFIX not in properties
    assert properties["ServiceTimeout"] == "1860"


def test_attributes_are_getatt_tokens_of_the_contract_keys():
    stack = new_stack()
    restored = ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT)
    logical_id = stack.resolve(restored.resource.logical_id)
    for value, key in (
        (restored.cluster_arn, ClusterAttr.CLUSTER_ARN),
        (restored.cluster_endpoint, ClusterAttr.CLUSTER_ENDPOINT),
        (restored.cluster_name, ClusterAttr.CLUSTER_NAME),
        (restored.cluster_status, ClusterAttr.STATUS),
        (restored.snapshot_arn, ClusterAttr.SNAPSHOT_ARN),
        (restored.restore_seconds, ClusterAttr.RESTORE_SECONDS),
    ):
        assert stack.resolve(value) == {"Fn::GetAtt": [logical_id, key]}


def test_a_vpc_gives_subnets_a_security_group_and_connections_on_27017():
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    restored = ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT, vpc=vpc)
    app_group = ec2.SecurityGroup(stack, "App", vpc=vpc)
    restored.connections.allow_default_port_from(app_group)
    properties = restore_resource(stack)["Properties"]
    assert len(properties[RestoreProp.SUBNET_IDS]) == 2 and len(properties[RestoreProp.VPC_SECURITY_GROUP_IDS]) == 1
    ingress = Template.from_stack(stack).find_resources("AWS::EC2::SecurityGroupIngress")
    assert [r["Properties"]["FromPort"] for r in ingress.values()] == [27017]


def test_connections_without_security_groups_says_what_is_missing():
    stack = new_stack()
    restored = ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT)
    with pytest.raises(ValueError, match="security_groups"):
        restored.connections  # noqa: B018


BAD = {
    "neither source": ({}, "snapshot_arn or source_cluster_arn"),
    "both sources": ({"snapshot_arn": SNAPSHOT, "source_cluster_arn": SOURCE}, "both were given"),
    "snapshot arn": ({"snapshot_arn": SOURCE}, "snapshot_arn"),
    "source elsewhere": ({"source_cluster_arn": SOURCE.replace("us-east-1", "eu-west-1")}, "region"),
    "cluster name": ({"cluster_name": "Orders--1"}, "cluster_name"),
    "subnets and vpc": ({"subnet_ids": ["subnet-0a1b2c3d"], "vpc_subnets": ec2.SubnetSelection()}, "vpc_subnets"),
    "bad subnet": ({"subnet_ids": ["subnet-xyz"]}, "subnet_ids"),
    "shard capacity": ({"shard_capacity": 6}, "shard_capacity"),
    "instances": ({"shard_instance_count": 0}, "shard_instance_count"),
    "retention": ({"backup_retention_period": 40}, "backup_retention_period"),
    "backup window": ({"preferred_backup_window": "2am"}, "preferred_backup_window"),
    "maintenance window": ({"preferred_maintenance_window": "sun:03:00-sun:03:10"}, "preferred_maintenance_window"),
    "kms": ({"kms_key_id": "not a key"}, "kms_key_id"),
    "tags": ({"tags": {f"k{i}": "v" for i in range(48)}}, "at most 47"),
    "timeout": ({"timeout": Duration.hours(2)}, "timeout"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_literal_that_breaks_a_rule_fails_at_synth_naming_the_prop(case):
    props, named = BAD[case]
    if "snapshot_arn" not in props and "source_cluster_arn" not in props and case != "neither source":
        props = {"snapshot_arn": SNAPSHOT, **props}
    with pytest.raises(InvalidPropsError, match=named):
        ElasticClusterFromSnapshot(new_stack(), "Restored", **props)


def test_all_broken_rules_are_reported_at_once():
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterFromSnapshot(
            new_stack(), "Restored", shard_capacity=3, cluster_name="-x", backup_retention_period=0
        )
    assert len(raised.value.errors) >= 4


def test_tokens_are_left_to_the_handler():
    stack = new_stack()
    arn = cdk.CfnParameter(stack, "Snapshot").value_as_string
    ElasticClusterFromSnapshot(
        stack, "Restored", snapshot_arn=arn, cluster_name=cdk.CfnParameter(stack, "Name").value_as_string
    )
    assert restore_resource(stack)["Properties"][RestoreProp.SNAPSHOT_ARN] == {"Ref": "Snapshot"}


def resources_of(stack: cdk.Stack, action: str) -> set[str]:
    """Every resource `action` is allowed on, however CDK groups the statements."""
    found: set[str] = set()
    for statement in allowed(stack, action):
        listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        found |= {r if isinstance(r, str) else json.dumps(r, sort_keys=True) for r in listed}
    return found


def test_iam_a_given_snapshot_is_granted_by_its_arn_and_a_source_by_the_accounts_snapshots():
    given = new_stack()
    ElasticClusterFromSnapshot(given, "Restored", snapshot_arn=SNAPSHOT)
    restore = "docdb-elastic:RestoreClusterFromSnapshot"
    any_cluster = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/*"
    assert resources_of(given, restore) == {SNAPSHOT, any_cluster}
    newest = new_stack()
    ElasticClusterFromSnapshot(newest, "Restored", source_cluster_arn=SOURCE)
    assert resources_of(newest, restore) == {
        "arn:aws:docdb-elastic:us-east-1:123456789012:cluster-snapshot/*",
        any_cluster,
    }


def test_iam_dependent_actions_are_scoped_like_the_managed_policy():
    stack = new_stack()
    ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT)
    # (each in the shared policy and again in the deletion policy, which outlives the resource)
    ec2_grants = allowed(stack, "ec2:CreateVpcEndpoint")
    assert ec2_grants
    for ec2_grant in ec2_grants:
        assert ec2_grant["Condition"] == {"StringEquals": {"aws:CalledViaFirst": "docdb-elastic.amazonaws.com"}}
    for action in ("kms:Decrypt", "kms:CreateGrant"):
        assert allowed(stack, action)
        for kms in allowed(stack, action):
            (via,) = [values["kms:ViaService"] for values in kms["Condition"].values() if "kms:ViaService" in values]
            assert "docdb-elastic.us-east-1." in json.dumps(via)
    assert allowed(stack, "iam:CreateServiceLinkedRole")
    for slr in allowed(stack, "iam:CreateServiceLinkedRole"):
        assert slr["Condition"] == {"StringLike": {"iam:AWSServiceName": "docdb-elastic.amazonaws.com"}}
        assert slr["Resource"].endswith(
            ":role/aws-service-role/docdb-elastic.amazonaws.com/AWSServiceRoleForDocDB-Elastic"
        )
    assert resources_of(stack, "docdb-elastic:DeleteCluster") == {
        "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/*"
    }


def test_iam_nothing_for_restores_in_a_stack_without_one():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Snap", cluster_arn=SOURCE)
    for action in (
        "docdb-elastic:RestoreClusterFromSnapshot",
        "docdb-elastic:DeleteCluster",
        "docdb-elastic:UpdateCluster",
        "docdb-elastic:CreateCluster",
        "secretsmanager:GetSecretValue",
    ):
        assert allowed(stack, action) == []


def test_the_function_does_not_depend_on_the_grant_of_a_snapshot_of_the_stack():
    # GIVEN a restore of a snapshot the stack takes (its ARN is a token)
    stack = new_stack()
    snap = ElasticClusterSnapshot(stack, "Snap", cluster_arn=SOURCE)
    restored = ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=snap.snapshot_arn)
    template = Template.from_stack(stack).to_json()
    (function_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    (restore_policy,) = [k for k in template["Resources"] if "RestorePolicy" in k]
    assert restore_policy not in template["Resources"][function_id].get("DependsOn", [])
    assert restore_policy in template["Resources"][stack.resolve(restored.resource.logical_id)]["DependsOn"]


def test_combined_with_every_other_construct_the_stack_synthesizes_without_a_cycle_and_nag_clean():
    # GIVEN one stack with a cluster, all protections, a snapshot, and a restore of that snapshot
    app = recommended_app()
    stack = cdk.Stack(app, "Everything", env=ENV)
    cluster = docdbelastic.CfnCluster(
        stack,
        "Cluster",
        cluster_name="orders",
        admin_user_name="admin",
        auth_type="SECRET_ARN",
        shard_capacity=2,
        shard_count=1,
    )
    SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster, retain_last=3)
    FinalSnapshot(stack, "Final", cluster=cluster)
    snap = ElasticClusterSnapshot(stack, "Snap", cluster_arn=cluster.attr_cluster_arn)
    ElasticClusterFromSnapshot(stack, "FromSnap", snapshot_arn=snap.snapshot_arn)
    ElasticClusterFromSnapshot(
        stack, "FromNewest", source_cluster_arn=cluster.attr_cluster_arn, removal_policy=RemovalPolicy.DESTROY
    )
    # WHEN the user's app adds AwsSolutions checks and acknowledges nothing
    pack = AwsSolutionsChecks(app)
    cdk.Validations.of(app).add_plugins(pack)
    # THEN it synthesizes (CloudFormation order exists) and nothing is reported
    assembly = app.synth()
    template = assembly.get_stack_by_name("Everything").template
    assert len([r for r in template["Resources"].values() if r["Type"] == RESTORE_RESOURCE_TYPE]) == 2
    report = pack.validate_scope(app)
    assert report.success, [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
    _assert_acyclic(template)


def _assert_acyclic(template: dict[str, Any]) -> None:
    resources = template["Resources"]

    def refs(value: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(value, dict):
            if "Ref" in value and value["Ref"] in resources:
                found.add(value["Ref"])
            if "Fn::GetAtt" in value:
                found.add(value["Fn::GetAtt"][0])
            for item in value.values():
                found |= refs(item)
        elif isinstance(value, list):
            for item in value:
                found |= refs(item)
        return found

    edges = {k: refs(r.get("Properties", {})) | set(r.get("DependsOn", [])) for k, r in resources.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in edges.get(node, ()):
            assert state.get(target) != 1, f"cycle: {[*path, node, target]}"
            if target not in state:
                visit(target, [*path, node])
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node, [])
