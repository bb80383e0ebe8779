"""ElasticClusterSnapshot at synth time: resources, IAM, the singleton provider, validation."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import ElasticClusterSnapshot, InvalidPropsError
from docdb_snapshot_handler.contract import RESOURCE_TYPE, Attr, Prop, snapshot_name_prefix_errors
from synth_support import ENV, recommended_app

CLUSTER = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/orders"
OTHER_CLUSTER = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/payments"


def new_stack(env: cdk.Environment | None = ENV, name: str = "SnapshotStack") -> cdk.Stack:
    """A stack in an app with the sample app's feature flags (cdk.json), as users get them."""
    return cdk.Stack(recommended_app(), name, env=env)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, resources
    return next(iter(resources.values()))


def statements(template: Template) -> list[dict[str, Any]]:
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(template: Template) -> dict[str, set[str]]:
    """Each allowed action and the union of its resources (statements may be merged by CDK)."""
    result: dict[str, set[str]] = {}
    for statement in statements(template):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            result.setdefault(action, set()).update(
                r if isinstance(r, str) else json.dumps(r, sort_keys=True) for r in resources
            )
    return result


SNAPSHOTS = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster-snapshot/*"


def test_a_snapshot_is_a_custom_resource_with_string_safe_properties_and_retained_by_default():
    # GIVEN a stack with one snapshot and its defaults
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER, tags={"team": "data"}, trigger="1")
    # WHEN it is synthesized
    resource = only(Template.from_stack(stack), RESOURCE_TYPE)
    # THEN the resource carries what it was given and nothing the handler defaults (mode,
    # waiting, the hour-long timeout, retain), and CloudFormation keeps the snapshot on delete
    # and on replacement
    assert resource["Properties"] == {
        "ServiceToken": resource["Properties"]["ServiceToken"],
        Prop.CLUSTER_ARN: CLUSTER,
        Prop.SNAPSHOT_NAME_PREFIX: "SnapshotStack-Orders",
        Prop.TAGS: {"team": "data"},
        Prop.TRIGGER: "1",
    }
    assert "Fn::GetAtt" in resource["Properties"]["ServiceToken"]
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"


def test_destroy_deletes_on_stack_delete_but_keeps_snapshots_replaced_by_updates():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER, removal_policy=RemovalPolicy.DESTROY)
    resource = only(Template.from_stack(stack), RESOURCE_TYPE)
    assert resource["Properties"][Prop.REMOVAL_POLICY] == "destroy"
    assert resource["DeletionPolicy"] == "Delete" and resource["UpdateReplacePolicy"] == "Retain"


def test_three_snapshots_share_one_function_role_policy_and_log_group():
    # GIVEN three snapshots of two clusters in one stack
    stack = new_stack()
    ElasticClusterSnapshot(stack, "A", cluster_arn=CLUSTER)
    ElasticClusterSnapshot(stack, "B", cluster_arn=CLUSTER, snapshot_name="orders-once")
    ElasticClusterSnapshot(stack, "C", cluster_arn=OTHER_CLUSTER)
    template = Template.from_stack(stack)
    # THEN there is one provider, and all three resources use it
    for resource_type in ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup"):
        template.resource_count_is(resource_type, 1)
    # the provider's policy (which names clusters known at synth time) and the one naming the
    # function
    template.resource_count_is("AWS::IAM::Policy", 2)
    template.resource_count_is(RESOURCE_TYPE, 3)
    function_id = next(iter(template.find_resources("AWS::Lambda::Function")))
    tokens = {str(r["Properties"]["ServiceToken"]) for r in template.find_resources(RESOURCE_TYPE).values()}
    assert tokens == {str({"Fn::GetAtt": [function_id, "Arn"]})}
    # AND CreateClusterSnapshot names each cluster once
    assert actions_of(template)["docdb-elastic:CreateClusterSnapshot"] == {CLUSTER, OTHER_CLUSTER, SNAPSHOTS}


def test_the_function_runs_the_newest_python_on_arm64_with_an_explicit_log_group():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER)
    template = Template.from_stack(stack)
    function = only(template, "AWS::Lambda::Function")["Properties"]
    newest = max(
        int(m.group(1)) for name in dir(cdk.aws_lambda.Runtime) if (m := re.fullmatch(r"PYTHON_3_(\d+)", name))
    )
    assert function["Runtime"] == f"python3.{newest}"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "docdb_snapshot_handler.entrypoint.handler"
    assert function["Timeout"] == 900
    log_group_id = next(iter(template.find_resources("AWS::Logs::LogGroup")))
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    assert only(template, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 365


def test_least_privilege_without_destroy():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER)
    template = Template.from_stack(stack)
    actions = actions_of(template)
    # (The dependent actions of CreateClusterSnapshot, KMS and EC2 through docdb-elastic, are
    # checked against the Service Authorization Reference in tests/iam.)
    assert {a for a in actions if a.split(":")[0] in ("logs", "docdb-elastic", "lambda")} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "docdb-elastic:CreateClusterSnapshot",
        "docdb-elastic:GetCluster",  # its status, for the Reason when it stays busy
        "docdb-elastic:GetClusterSnapshot",
        "docdb-elastic:ListTagsForResource",
        "docdb-elastic:ListClusterSnapshots",
        "lambda:InvokeFunction",  # itself only: see test_the_function_may_invoke_itself...
    }
    for statement in statements(template):
        if not str(statement["Action"]).startswith(
            ("['logs:", "logs:", "docdb-elastic:", "['docdb-elastic:", "lambda:")
        ):
            assert statement.get("Condition"), statement  # nothing outside docdb-elastic unconditioned
    for action in ("GetClusterSnapshot", "ListTagsForResource"):
        assert actions[f"docdb-elastic:{action}"] == {SNAPSHOTS}, action
    assert actions["docdb-elastic:ListClusterSnapshots"] == {"*"}
    assert actions["docdb-elastic:CreateClusterSnapshot"] == {CLUSTER, SNAPSHOTS}
    assert actions["docdb-elastic:GetCluster"] == {CLUSTER}
    log_group_id = next(iter(template.find_resources("AWS::Logs::LogGroup")))
    assert actions["logs:PutLogEvents"] == {json.dumps({"Fn::GetAtt": [log_group_id, "Arn"]})}
    role = only(template, "AWS::IAM::Role")["Properties"]
    assert "ManagedPolicyArns" not in role


def test_deletion_is_granted_only_when_some_snapshot_uses_destroy():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER, removal_policy=RemovalPolicy.DESTROY)
    actions = actions_of(Template.from_stack(stack))
    assert actions["docdb-elastic:DeleteClusterSnapshot"] == {SNAPSHOTS}


@pytest.mark.parametrize(
    ("timeout", "service_timeout"),
    [(Duration.minutes(5), "360"), (Duration.minutes(59), "3600"), (Duration.minutes(60), None)],
)
def test_service_timeout_follows_the_wait_timeout_with_a_minute_to_spare_up_to_an_hour(timeout, service_timeout):
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER, timeout=timeout)
    properties = only(Template.from_stack(stack), RESOURCE_TYPE)["Properties"]
    # The default (an hour, CloudFormation's own ceiling and default) is left out of the template.
    default = timeout.to_seconds() == 3600
    assert properties.get(Prop.TIMEOUT_SECONDS) == (None if default else timeout.to_seconds())
    assert properties.get("ServiceTimeout") == service_timeout


def test_the_function_may_invoke_itself_and_nothing_else_to_continue_long_waits():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER)
    template = Template.from_stack(stack)
    function_id = next(iter(template.find_resources("AWS::Lambda::Function")))
    invoke = [s for s in statements(template) if "lambda:" in json.dumps(s["Action"])]
    assert invoke == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [function_id, "Arn"]}}
    ]
    # A snapshot waits only on Create and Update, long after the policy exists: no DependsOn
    # (the FinalSnapshot, whose Delete waits, depends on it: see the protection tests).
    (resource,) = template.find_resources(RESOURCE_TYPE).values()
    assert "DependsOn" not in resource


def test_attributes_are_fn_getatt_of_the_response_data():
    stack = new_stack()
    snapshot = ElasticClusterSnapshot(stack, "Orders", cluster_arn=CLUSTER)
    resource_id = next(iter(Template.from_stack(stack).find_resources(RESOURCE_TYPE)))
    readers = {
        Attr.SNAPSHOT_ARN: snapshot.snapshot_arn,
        Attr.SNAPSHOT_NAME: snapshot.snapshot_name,
        Attr.STATUS: snapshot.snapshot_status,
        Attr.SNAPSHOT_CREATION_TIME: snapshot.snapshot_creation_time,
        Attr.CLUSTER_ARN: snapshot.cluster_arn,
        Attr.KMS_KEY_ID: snapshot.kms_key_id,
        Attr.SNAPSHOT_TYPE: snapshot.snapshot_type,
    }
    for attribute, token in readers.items():
        assert stack.resolve(token) == {"Fn::GetAtt": [resource_id, attribute]}


def test_tokens_are_left_for_the_handler_to_check_at_deploy_time():
    stack = new_stack(env=None)
    arn = cdk.CfnParameter(stack, "ClusterArn").value_as_string
    name = cdk.CfnParameter(stack, "Name").value_as_string
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=arn, snapshot_name=name)
    properties = only(Template.from_stack(stack), RESOURCE_TYPE)["Properties"]
    assert properties[Prop.CLUSTER_ARN] == {"Ref": "ClusterArn"}
    assert properties[Prop.SNAPSHOT_NAME] == {"Ref": "Name"}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {"cluster_arn": "arn:aws:rds:us-east-1:123456789012:cluster:x"},
            "cluster_arn: must be a DocumentDB elastic cluster ARN",
        ),
        (
            {"cluster_arn": CLUSTER.replace("us-east-1", "eu-west-1")},
            "cluster_arn: the cluster must be in the stack's region us-east-1",
        ),
        (
            {"cluster_arn": CLUSTER.replace("123456789012", "210987654321")},
            "cluster_arn: the cluster must be in the stack's account",
        ),
        ({"snapshot_name": "a" * 64}, "snapshot_name: a snapshot name must be at most 63 characters (got 64)"),
        ({"snapshot_name": "1st"}, "snapshot_name: a snapshot name must start with a letter"),
        (
            {"snapshot_name": "snap_shot"},
            "snapshot_name: a snapshot name may contain only ASCII letters, digits and hyphens",
        ),
        ({"snapshot_name": "snap--shot"}, "snapshot_name: a snapshot name must not contain two consecutive hyphens"),
        ({"snapshot_name": "snapshot-"}, "snapshot_name: a snapshot name must not end with a hyphen"),
        (
            {"snapshot_name_prefix": "p" * 42},
            "snapshot_name_prefix: a snapshot name prefix (it leaves room for the generated suffix) must be at most 41 characters",
        ),
        (
            {"snapshot_name_prefix": "orders-"},
            "snapshot_name_prefix: a snapshot name prefix must not end with a hyphen",
        ),
        (
            {"snapshot_name": "a", "snapshot_name_prefix": "b"},
            "snapshot_name and snapshot_name_prefix: give one or the other, not both",
        ),
        ({"tags": {f"k{i}": "v" for i in range(49)}}, "tags: at most 48 tags are allowed (got 49;"),
        (
            {"tags": {"docdb-elastic-snapshot:request": "x"}},
            "tags: tag key 'docdb-elastic-snapshot:request' must not start with",
        ),
        ({"tags": {"aws:team": "x"}}, "tags: tag key 'aws:team' must not start with 'aws:'"),
        ({"tags": {"team name": "x"}}, "tags: tag key 'team name' must match"),
        ({"tags": {"k" * 129: "x"}}, "must be 1 to 128 characters (got 129)"),
        ({"tags": {"team": "v" * 257}}, "tags: the value of tag 'team' must be at most 256 characters (got 257)"),
        ({"timeout": Duration.minutes(61)}, "timeout: must be between 30 seconds and 60 minutes (got 3660 seconds)"),
        ({"timeout": Duration.seconds(10)}, "timeout: must be between 30 seconds and 60 minutes (got 10 seconds)"),
        ({"timeout": Duration.millis(60500)}, "timeout: must be a whole number of seconds"),
        (
            {"removal_policy": RemovalPolicy.SNAPSHOT},
            "removal_policy: must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY",
        ),
    ],
)
def test_each_invalid_prop_is_rejected_at_synth_time_naming_the_prop_and_rule(props, expected):
    stack = new_stack()
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterSnapshot(stack, "Orders", **{"cluster_arn": CLUSTER, **props})
    assert expected in str(raised.value)


def test_every_broken_rule_is_reported_at_once_and_nothing_is_created():
    stack = new_stack()
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterSnapshot(
            stack,
            "Orders",
            cluster_arn="not-an-arn",
            snapshot_name="9--",
            tags={"aws:x": "y"},
            timeout=Duration.hours(2),
        )
    assert {e.split(":")[0] for e in raised.value.errors} == {"cluster_arn", "snapshot_name", "tags", "timeout"}
    assert "SnapshotStack/Orders" in str(raised.value)
    assert [c for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)] == []


def test_the_default_prefix_is_a_valid_prefix_even_for_awkward_ids():
    stack = new_stack(name="Very-Long-Stack-Name-That-Keeps-Going-On-And-On-And-On")
    ElasticClusterSnapshot(stack, "--Snap__shot--", cluster_arn=CLUSTER)
    prefix = only(Template.from_stack(stack), RESOURCE_TYPE)["Properties"][Prop.SNAPSHOT_NAME_PREFIX]
    assert snapshot_name_prefix_errors("prefix", prefix) == [], prefix


@pytest.mark.parametrize("construct_id", ["9lives", "--Snap__shot--", "a.b.c", "Ünïcode"])
def test_the_default_prefix_starts_with_a_letter_whatever_the_construct_id(construct_id):
    from docdb_elastic_snapshot.resource import default_name_prefix

    prefix = default_name_prefix(cdk.Token.as_string(cdk.Aws.STACK_NAME), construct_id)
    assert snapshot_name_prefix_errors("prefix", prefix) == [], prefix


def test_each_policy_grants_each_action_on_each_resource_once_in_merged_statements():
    # GIVEN snapshots of two clusters and a destroyed one
    stack = new_stack()
    ElasticClusterSnapshot(stack, "A", cluster_arn=CLUSTER)
    ElasticClusterSnapshot(stack, "B", cluster_arn=OTHER_CLUSTER, removal_policy=RemovalPolicy.DESTROY)
    ElasticClusterSnapshot(stack, "C", cluster_arn=OTHER_CLUSTER)
    # WHEN synthesized
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    # THEN no action is granted twice on one resource in one policy: one statement per set of
    # actions granted together (and conditions) lists all its resources
    for policy in policies:
        seen: list[tuple[str, str]] = []
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            seen.extend((a, json.dumps(r, sort_keys=True)) for a in actions for r in resources)
        assert len(seen) == len(set(seen)), seen
    # AND the one statement naming the clusters lists both, once each, for the snapshot and the
    # cluster's status together
    (cluster_statement,) = [
        s
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if CLUSTER in json.dumps(s["Resource"])
    ]
    assert sorted(cluster_statement["Resource"]) == sorted([CLUSTER, OTHER_CLUSTER])
    assert sorted(cluster_statement["Action"]) == ["docdb-elastic:CreateClusterSnapshot", "docdb-elastic:GetCluster"]
