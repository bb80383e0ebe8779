"""ElasticClusterBackupPlan at synth time: schedules whose input the handler accepts, IAM by tag
of constant size, validation, alarms, and the scanners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, TimeZone
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterCopyAction,
    InvalidPropsError,
)
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.kinds.backup_plan.properties import parse_occurrence
from docdb_snapshot_handler.parsing import Home
from synth_support import ENV, ORDERS, assert_nag_and_cfn_lint_clean, recommended_app

#: A second key of the stack's region, the one copies are made under.
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def the_issue_plan(stack: cdk.Stack, topic: sns.ITopic | None = None) -> ElasticClusterBackupPlan:
    """The plan of issue 17's example."""
    cluster = docdbelastic.CfnCluster(
        stack, "Cluster", cluster_name="orders", admin_user_name="admin", shard_capacity=2, shard_count=1,
        auth_type="SECRET_ARN", admin_user_password="arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
    )  # fmt: skip
    plan = ElasticClusterBackupPlan(
        stack,
        "Plan",
        alarm_topic=topic,
        rules=[
            ElasticClusterBackupRule(
                rule_name="daily",
                schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                start_window=Duration.hours(1),
                delete_after=Duration.days(35),
            ),
            ElasticClusterBackupRule(
                rule_name="hourly", schedule_expression=events.Schedule.rate(Duration.hours(1)), keep_last=24
            ),
            ElasticClusterBackupRule(
                rule_name="monthly",
                schedule_expression=events.Schedule.cron(day="1", hour="4", minute="0"),
                schedule_expression_timezone=TimeZone.EUROPE_LONDON,
                delete_after=Duration.days(365 * 7),
                copy_actions=[ElasticClusterCopyAction(kms_key_id=KEY, delete_after=Duration.days(365))],
            ),
        ],
    )
    plan.add_selection("Orders", clusters=[ORDERS, cluster])
    plan.add_selection("Gold", tags={"backup": "gold"})
    return plan


def synth(stack: cdk.Stack) -> dict[str, Any]:
    return Template.from_stack(stack).to_json()


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def plan_policy(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the plan's own policy (the one whose statements carry the plan tag): a
    managed policy, off the provider role's inline quota."""
    for policy in of_type(template, "AWS::IAM::ManagedPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(contract.PLAN_TAG_KEY in json.dumps(s.get("Condition", {})) for s in statements):
            return list(statements)
    raise AssertionError("no policy of the plan")


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_each_rule_is_a_schedule_whose_input_the_handler_accepts():
    # GIVEN the issue's plan
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    the_issue_plan(stack)
    template = synth(stack)
    schedules = {
        s["Properties"]["Description"]: s["Properties"] for s in of_type(template, "AWS::Scheduler::Schedule").values()
    }
    # THEN one schedule per rule, off-window, with a retry policy bounded by the start window
    assert len(schedules) == 3
    daily = next(p for d, p in schedules.items() if d.endswith("rule daily"))
    assert daily["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert daily["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert daily["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert daily["Target"]["RetryPolicy"]["MaximumEventAgeInSeconds"] == 3600
    monthly = next(p for d, p in schedules.items() if d.endswith("rule monthly"))
    assert monthly["ScheduleExpressionTimezone"] == "Europe/London"
    # AND each input, once EventBridge fills in the scheduled time, parses as the rule says
    for properties in schedules.values():
        text = stack.resolve(properties["Target"]["Input"])
        rendered = json.loads(json.dumps(text)) if isinstance(text, str) else text
        assert isinstance(rendered, dict) and "Fn::Join" in rendered  # the CfnCluster's ARN is a token
    resolved = {
        rule: json.loads(
            "".join(
                part if isinstance(part, str) else ORDERS.replace("0f1e2d3c", "11111111")
                for part in stack.resolve(props["Target"]["Input"])["Fn::Join"][1]
            ).replace("<aws.scheduler.scheduled-time>", "2026-12-01T04:00:00Z")
        )
        for rule, props in schedules.items()
    }
    monthly_input = next(v for k, v in resolved.items() if k.endswith("rule monthly"))
    occurrence = parse_occurrence(monthly_input[contract.BACKUP_EVENT_KEY], Home("aws", "us-east-1", "123456789012"))
    assert occurrence.plan == "OrdersStack-Plan" and occurrence.rule == "monthly"
    assert occurrence.delete_after_seconds == 365 * 7 * 86400 and occurrence.interval_seconds == 31 * 86400
    assert [(c.region, c.kms_key_id, c.delete_after_seconds) for c in occurrence.copies] == [
        ("us-east-1", KEY, 365 * 86400)
    ]
    assert occurrence.clusters[0] == ORDERS and len(occurrence.clusters) == 2
    assert occurrence.tag_selections == ({"backup": "gold"},)
    hourly = parse_occurrence(
        next(v for k, v in resolved.items() if k.endswith("rule hourly"))[contract.BACKUP_EVENT_KEY]
    )
    assert hourly.keep_last == 24 and hourly.delete_after_seconds is None and hourly.interval_seconds == 3600


def test_the_schedules_invoke_the_stacks_one_function_through_a_role_that_may_do_nothing_else():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    the_issue_plan(stack)
    template = synth(stack)
    functions = of_type(template, "AWS::Lambda::Function")
    assert len(functions) == 1
    (function_id,) = functions
    roles = {k: v for k, v in of_type(template, "AWS::IAM::Role").items()
             if "scheduler.amazonaws.com" in json.dumps(v["Properties"]["AssumeRolePolicyDocument"])}  # fmt: skip
    (role_id,) = roles
    trust = roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    role_policies = [
        p for p in of_type(template, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for p in role_policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert statements == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [function_id, "Arn"]}}
    ]
    for schedule in of_type(template, "AWS::Scheduler::Schedule").values():
        assert schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert schedule["Properties"]["Target"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_iam_snapshots_tagged_clusters_by_condition_and_deletes_only_what_carries_the_plans_tag():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    the_issue_plan(stack)
    statements = plan_policy(synth(stack))
    creates = [s for s in statements if "docdb-elastic:CreateClusterSnapshot" in actions_of(s)]
    conditioned = [s for s in creates if "Condition" in s]
    (by_tag,) = conditioned
    assert by_tag["Condition"] == {"StringEquals": {"aws:ResourceTag/backup": "gold"}}
    assert "cluster/*" in json.dumps(by_tag["Resource"]) and "cluster-snapshot" not in json.dumps(by_tag["Resource"])
    unconditioned = json.dumps([s["Resource"] for s in creates if "Condition" not in s])
    assert ORDERS in unconditioned and "cluster-snapshot/*" in unconditioned and "cluster/*" not in unconditioned
    deletes = [s for s in statements if "docdb-elastic:DeleteClusterSnapshot" in actions_of(s)]
    assert deletes and all(
        s["Condition"] == {"StringEquals": {f"aws:ResourceTag/{contract.PLAN_TAG_KEY}": "OrdersStack-Plan"}}
        for s in deletes
    )
    # AND nothing is granted in another region: copies stay in the stack's
    assert all("us-east-1" in json.dumps(s["Resource"]) for s in deletes)
    assert not any(region in json.dumps(statements) for region in ("us-west-2", "eu-west-1"))


def test_the_policy_does_not_grow_with_the_clusters_a_tag_selects():
    def policy_size(selections: int) -> int:
        stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
        plan = ElasticClusterBackupPlan(stack, "Plan", rules=[ElasticClusterBackupRule.daily()])
        for index in range(selections):
            plan.add_selection(f"Gold{index}", tags={"backup": "gold"})
        return len(json.dumps(plan_policy(synth(stack))))

    # one tag selection, or the same selection given many times, grants the same
    assert policy_size(1) == policy_size(5)


def test_presets_are_aws_backups_rules():
    assert ElasticClusterBackupRule.daily().delete_after.to_days() == 35
    assert ElasticClusterBackupRule.weekly().schedule_expression.expression_string == "cron(0 5 ? * SAT *)"
    assert ElasticClusterBackupRule.monthly1_year().delete_after.to_days() == 365
    seven = ElasticClusterBackupRule.monthly7_year(keep_last=100)
    assert seven.delete_after.to_days() == 365 * 7 and seven.keep_last == 100
    assert seven.schedule_expression.expression_string == "cron(0 5 1 * ? *)"


def test_every_broken_rule_is_reported_at_once_naming_its_field():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterBackupPlan(
            stack,
            "Plan",
            rules=[
                ElasticClusterBackupRule(
                    rule_name="Daily--",
                    schedule_expression=events.Schedule.rate(Duration.hours(1)),
                    start_window=Duration.seconds(30),
                    delete_after=Duration.hours(12),
                    keep_last=0,
                    copy_actions=[
                        ElasticClusterCopyAction(destination_region="us-west-2"),
                        ElasticClusterCopyAction(kms_key_id=KEY.replace("us-east-1", "eu-west-1")),
                    ],
                )
            ],
        )
    text = str(raised.value)
    for expected in (
        "rules[0].rule_name: a rule name must not contain two consecutive hyphens",
        "rules[0].start_window: must be between 1 minute and 24 hours",
        "rules[0].delete_after: must be at least 1 day",
        "rules[0].keep_last: must be between 1 and 1000",
        "rules[0].copy_actions: at most 1 destination (got 2)",
        "rules[0].copy_actions[0].destination_region: must be the stack's region us-east-1 (got us-west-2): "
        "AWS copies elastic cluster snapshots only within the same region and the same account",
        "rules[0].copy_actions[1].kms_key_id: the key must be in the stack's region us-east-1",
    ):
        assert expected in text, text


def test_a_rule_name_twice_and_bad_selections_are_refused():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    plan = ElasticClusterBackupPlan(stack, "Plan", rules=[ElasticClusterBackupRule.daily()])
    with pytest.raises(InvalidPropsError, match="'daily' is already a rule of this plan"):
        plan.add_rule(ElasticClusterBackupRule.daily())
    with pytest.raises(InvalidPropsError, match="give clusters or tags"):
        plan.add_selection("Nothing")
    with pytest.raises(InvalidPropsError, match="the cluster must be in the stack's region us-east-1"):
        plan.add_selection("Elsewhere", clusters=[ORDERS.replace("us-east-1", "eu-west-1")])
    with pytest.raises(InvalidPropsError, match="an empty map would select every cluster"):
        plan.add_selection("Everything", tags={})


def test_a_plan_without_a_selection_fails_synthesis():
    app = recommended_app()
    stack = cdk.Stack(app, "OrdersStack", env=ENV)
    ElasticClusterBackupPlan(stack, "Plan", rules=[ElasticClusterBackupRule.daily()])
    with pytest.raises(Exception, match="add_selection at least once"):
        app.synth()


def test_alarms_go_to_the_topic_per_rule_with_the_age_the_rule_allows():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    topic = sns.Topic(stack, "Topic", enforce_ssl=True)
    plan = the_issue_plan(stack, topic)
    template = synth(stack)
    alarms = list(of_type(template, "AWS::CloudWatch::Alarm").values())
    assert len(alarms) == 9 and len(plan.alarms) == 9
    ages = {a["Properties"]["Dimensions"][1]["Value"]: a["Properties"] for a in alarms
            if a["Properties"].get("MetricName") == contract.PlanMetric.NEWEST_RECOVERY_POINT_AGE_SECONDS}  # fmt: skip
    assert ages["daily"]["Threshold"] == 86400 + 3600 and ages["daily"]["TreatMissingData"] == "breaching"
    assert ages["hourly"]["Threshold"] == 7200 and ages["hourly"]["Period"] == 7200
    assert ages["monthly"]["TreatMissingData"] == "notBreaching"  # beyond CloudWatch's one-day window
    assert all(
        a["Properties"]["AlarmActions"] == [{"Ref": next(iter(of_type(template, "AWS::SNS::Topic")))}] for a in alarms
    )
    assert all(a["Properties"].get("Namespace") == "DocDbElasticSnapshot" for a in alarms)


def test_metric_methods_follow_the_l2_convention():
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    plan = the_issue_plan(stack)
    one = plan.metric_recovery_points_failed("daily")
    assert stack.resolve(one.to_metric_config().metric_stat.dimensions) == [  # type: ignore[union-attr]
        {"name": "Plan", "value": "OrdersStack-Plan"},
        {"name": "Rule", "value": "daily"},
    ]
    total = plan.metric_recovery_points_created()
    assert total.to_metric_config().math_expression.expression == "FILL(m0,0)+FILL(m1,0)+FILL(m2,0)"  # type: ignore[union-attr]


def test_a_users_app_with_a_plan_passes_cdk_nag_and_cfn_lint(tmp_path: Path):
    assert_nag_and_cfn_lint_clean(
        tmp_path, lambda stack: the_issue_plan(stack, sns.Topic(stack, "Topic", enforce_ssl=True)), ENV
    )
