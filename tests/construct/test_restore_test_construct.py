"""ElasticClusterRestoreTest at synth time: a schedule whose input the handler accepts, IAM that
deletes only the test's own clusters, validation, alarms, metrics, and cdk-nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import ElasticClusterRestoreTest, InvalidPropsError, RecoveryPointType
from docdb_elastic_snapshot.acknowledgements import acknowledge
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.kinds.restore_test.properties import parse_restore_test
from docdb_snapshot_handler.parsing import Home
from iam_template import cluster as orders_cluster
from iam_template import resolve
from standins.docdb_elastic import cluster_arn_for
from synth_support import ENV, ORDERS, assert_nag_and_cfn_lint_clean, recommended_app, validation_function

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
GROUPS = ["sg-0a1b2c3d4e5f60718"]


def the_issue_test(stack: cdk.Stack, topic: sns.ITopic | None = None, **overrides: Any) -> ElasticClusterRestoreTest:
    """The restore test of issue 18's example, with a validation function."""
    cluster = orders_cluster(stack)
    validate = validation_function(stack)
    props: dict[str, Any] = {
        "schedule_expression": events.Schedule.cron(day="15", hour="5", minute="0"),
        "clusters": [ORDERS, cluster],
        "tags": {"backup": "gold"},
        "subnet_ids": SUBNETS,
        "vpc_security_group_ids": GROUPS,
        "shard_capacity": 2,
        "shard_instance_count": 1,
        "validation_function": validate,
        "validation_window": Duration.minutes(30),
        "max_restore_time": Duration.hours(1),
        "alarm_topic": topic,
        **overrides,
    }
    return ElasticClusterRestoreTest(stack, "Drill", **props)


def synth(stack: cdk.Stack) -> dict[str, Any]:
    return Template.from_stack(stack).to_json()


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_the_schedule_sends_an_input_the_handler_accepts():
    # GIVEN the issue's restore test
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    drill = the_issue_test(stack)
    template = synth(stack)
    # THEN one schedule invokes the provider function on the 15th at 05:00 UTC
    (schedule,) = of_type(template, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 5 15 * ? *)" and props["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert props["Target"]["RetryPolicy"]["MaximumEventAgeInSeconds"] == contract.RESTORE_TEST_START_WINDOW_SECONDS
    # AND its input, once EventBridge fills in the time, is what the handler parses, unchanged
    text = resolve(template, props["Target"]["Input"]).replace(
        contract.SCHEDULED_TIME_PLACEHOLDER, "2026-12-15T05:00:00Z"
    )
    payload = json.loads(text)[contract.RESTORE_TEST_EVENT_KEY]
    occurrence = parse_restore_test(payload, Home("aws", "us-east-1", "123456789012"))
    assert occurrence.test == drill.restore_test_name == "OrdersStack-Drill"
    assert occurrence.clusters == (ORDERS, cluster_arn_for("orders"))
    assert occurrence.tag_selections == ({"backup": "gold"},)
    assert (occurrence.subnet_ids, occurrence.vpc_security_group_ids) == (tuple(SUBNETS), tuple(GROUPS))
    assert (occurrence.shard_capacity, occurrence.shard_instance_count) == (2, 1)
    assert occurrence.validation_window_seconds == 1800
    assert occurrence.recovery_point_types == ("MANUAL", "AUTOMATED")
    validate = stack.get_logical_id(stack.node.find_child("Validate").node.default_child)
    assert occurrence.validation_function is not None
    assert {"Fn::GetAtt": [validate, "Arn"]} in props["Target"]["Input"]["Fn::Join"][1]


def policy_of_the_test(template: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = [p for key, p in of_type(template, "AWS::IAM::ManagedPolicy").items() if key.startswith("Drill")]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_iam_deletes_only_the_tests_clusters_and_tags_recovery_points_with_its_record_only():
    # GIVEN the issue's restore test
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    drill = the_issue_test(stack)
    statements = policy_of_the_test(synth(stack))

    def with_action(action: str) -> list[dict[str, Any]]:
        return [s for s in statements if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]

    # THEN DeleteCluster is granted only under the test's tag
    (delete,) = with_action("docdb-elastic:DeleteCluster")
    assert delete["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/{contract.RESTORE_TEST_TAG_KEY}": drill.restore_test_name}
    }
    # AND TagResource (on recovery points) only for the record's one key
    (tag,) = with_action("docdb-elastic:TagResource")
    assert tag["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": [contract.restore_test_claim_key(drill.restore_test_name)]}
    }
    # AND the validation function may be invoked, and nothing else of Lambda but the continuation
    (invoke,) = with_action("lambda:InvokeFunction")
    validate = stack.node.find_child("Validate").node.default_child
    assert invoke["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(validate), "Arn"]}


def test_every_broken_rule_is_reported_at_once_naming_its_field():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterRestoreTest(
            stack,
            "Drill",
            schedule_expression=events.Schedule.rate(Duration.hours(6)),
            clusters=["arn:aws:docdb-elastic:eu-west-1:123456789012:cluster/elsewhere"],
            subnet_ids=["subnet-x"],
            vpc_security_group_ids=[],
            shard_capacity=3,
            shard_instance_count=17,
            kms_key_id="not a key",
            validation_window=Duration.hours(25),
            recovery_point_types=["WEEKLY"],
            max_restore_time=Duration.seconds(10),
            restore_test_name="9lives",
        )
    fields = {error.split(":")[0].split("[")[0] for error in raised.value.errors}
    assert fields == {
        "clusters",
        "restore_test_name",
        "schedule_expression",
        "subnet_ids",
        "vpc_security_group_ids",
        "shard_capacity",
        "shard_instance_count",
        "kms_key_id",
        "validation_window",
        "recovery_point_types",
        "max_restore_time",
    }
    # AND nothing was added to the stack
    assert stack.node.find_child("Drill").node.children == []


def test_a_test_without_clusters_or_tags_is_refused():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    with pytest.raises(InvalidPropsError, match="give clusters or tags"):
        ElasticClusterRestoreTest(
            stack,
            "Drill",
            schedule_expression=events.Schedule.cron(day="1", hour="5", minute="0"),
            subnet_ids=SUBNETS,
            vpc_security_group_ids=GROUPS,
        )


def test_alarms_and_metrics():
    # GIVEN the issue's test with an alarm topic
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    drill = the_issue_test(stack, sns.Topic(stack, "Topic", enforce_ssl=True))
    alarms = of_type(synth(stack), "AWS::CloudWatch::Alarm")
    # THEN a failed test alarms at once, and a restore slower than an hour does too
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}
    assert set(by_metric) == {contract.RestoreTestMetric.FAILED, contract.RestoreTestMetric.RESTORE_SECONDS}
    failed = by_metric[contract.RestoreTestMetric.FAILED]
    assert failed["Dimensions"] == [{"Name": "RestoreTest", "Value": "OrdersStack-Drill"}]
    assert failed["Threshold"] == 1 and failed["TreatMissingData"] == "notBreaching"
    slow = by_metric[contract.RestoreTestMetric.RESTORE_SECONDS]
    assert slow["Threshold"] == 3600 and slow["Statistic"] == "Maximum"
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())
    assert len(drill.alarms) == 2
    # AND the metric methods follow the L2 convention, per cluster or over the test
    per_cluster = drill.metric_recovery_point_age("orders")
    assert per_cluster.dimensions == {"Cluster": "orders"} and per_cluster.statistic == "Maximum"
    assert drill.metric_restore_tests_succeeded().dimensions == {"RestoreTest": "OrdersStack-Drill"}
    assert drill.metric_restore_tests_failed(period=Duration.days(1)).period.to_seconds() == 86400
    # AND a cluster named with capitals is measured by the name AWS stores, and publishes: lowercase
    named = docdbelastic.CfnCluster(
        stack,
        "OrdersMain",
        cluster_name="Orders-Main",
        admin_user_name="admin",
        auth_type="PLAIN_TEXT",
        shard_capacity=2,
        shard_count=1,
    )
    assert drill.metric_restore_tests_failed(named).dimensions == {"Cluster": "orders-main"}
    assert drill.metric_restore_tests_failed("Orders-Main").dimensions == {"Cluster": "orders-main"}


def test_only_manual_points_and_no_alarm_without_a_topic():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    the_issue_test(stack, recovery_point_types=[RecoveryPointType.MANUAL], validation_function=None)
    template = synth(stack)
    assert of_type(template, "AWS::CloudWatch::Alarm") == {}
    (schedule,) = of_type(template, "AWS::Scheduler::Schedule").values()
    text = resolve(template, schedule["Properties"]["Target"]["Input"])
    payload = json.loads(text)[contract.RESTORE_TEST_EVENT_KEY]
    assert payload["RecoveryPointTypes"] == ["MANUAL"] and "ValidationFunction" not in payload


def test_a_users_app_with_a_restore_test_passes_cdk_nag_and_cfn_lint(tmp_path: Path):
    def build(stack: cdk.Stack) -> None:
        the_issue_test(stack, sns.Topic(stack, "Topic", enforce_ssl=True))
        # The example's validation function is the user's, not the library's.
        validate = stack.node.find_child("Validate")
        managed = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        for scope, rule in (
            (validate.node.find_child("ServiceRole"), f"AwsSolutions-IAM4[{managed}]"),
            (validate, "AwsSolutions-L1"),
        ):
            for resource in scope.node.find_all():
                acknowledge(resource, rule, "the example's validation function is the user's, not the library's")

    assert_nag_and_cfn_lint_clean(tmp_path, build, ENV)


def test_subnets_and_security_groups_of_the_stack_are_checked_at_deploy_time():
    # GIVEN subnets and a security group that are tokens (a VPC of the stack), and one bad literal
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    vpc = cdk.aws_ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    group = cdk.aws_ec2.SecurityGroup(stack, "Group", vpc=vpc)
    subnets = vpc.select_subnets(subnet_type=cdk.aws_ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
    schedule = events.Schedule.cron(day="15", hour="5", minute="0")
    # WHEN the test is made with the tokens, THEN it is accepted
    ElasticClusterRestoreTest(
        stack, "Drill", schedule_expression=schedule, clusters=[ORDERS], subnet_ids=subnets,
        vpc_security_group_ids=[group.security_group_id],
    )  # fmt: skip
    # AND a literal among them is still checked now
    with pytest.raises(InvalidPropsError, match="subnet_ids: 'subnet-x' is not a subnet ID"):
        ElasticClusterRestoreTest(
            stack, "Drill2", schedule_expression=schedule, clusters=[ORDERS], subnet_ids=[*subnets, "subnet-x"],
            vpc_security_group_ids=[group.security_group_id],
        )  # fmt: skip


def test_two_tests_never_share_a_name_the_clusters_they_may_delete():
    # GIVEN two tests whose default names would be the same once cut to 30 characters
    stack = cdk.Stack(recommended_app(), "OrdersProductionStack", env=ENV)
    props: dict[str, Any] = {
        "schedule_expression": events.Schedule.cron(day="15", hour="5", minute="0"),
        "clusters": [ORDERS],
        "subnet_ids": SUBNETS,
        "vpc_security_group_ids": GROUPS,
    }
    monthly = ElasticClusterRestoreTest(stack, "RestoreTestMonthly", **props)
    weekly = ElasticClusterRestoreTest(stack, "RestoreTestWeekly", **props)
    # THEN each has its own valid name
    assert monthly.restore_test_name != weekly.restore_test_name
    for name in (monthly.restore_test_name, weekly.restore_test_name):
        assert contract.restore_test_name_errors("name", name) == [] and len(name) <= 30
    # AND a name given twice in one app is refused, naming the first test
    with pytest.raises(InvalidPropsError, match="is already the name of OrdersProductionStack/RestoreTestMonthly"):
        ElasticClusterRestoreTest(stack, "Again", restore_test_name=monthly.restore_test_name, **props)
