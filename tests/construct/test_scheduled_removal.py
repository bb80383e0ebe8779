"""What removing a backup plan or a restore test (or their stack) deletes, and what it leaves
(docs/backup-plan.md and docs/restore-testing.md, "Removing ..."): their schedules, roles and
policies go with them; none of their resources is a custom resource, so CloudFormation's Delete
invokes no handler and no recovery point or cluster is touched; the provider's log group stays."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterRestoreTest,
    ElasticClusterSnapshot,
)
from docdb_snapshot_handler.contract import RESOURCE_TYPE
from standins.docdb_elastic import cluster_arn_for
from synth_support import ENV, recommended_app

ORDERS = cluster_arn_for("orders")
#: What CloudFormation deletes with the stack and nothing else: no Custom:: type among them.
SCHEDULE_AND_IAM = {
    "AWS::Scheduler::Schedule",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::CloudWatch::Alarm",
}


def stack_with(scheduled: bool) -> dict[str, Any]:
    """A stack with a snapshot of a cluster, and, if `scheduled`, a backup plan and a restore test."""
    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    ElasticClusterSnapshot(stack, "Release", cluster_arn=ORDERS)
    if scheduled:
        topic = sns.Topic(stack, "Alarms", enforce_ssl=True)
        plan = ElasticClusterBackupPlan(
            stack,
            "Plan",
            rules=[ElasticClusterBackupRule.daily(), ElasticClusterBackupRule.monthly7_year()],
            alarm_topic=topic,
        )
        plan.add_selection("Orders", clusters=[ORDERS])
        ElasticClusterRestoreTest(
            stack,
            "Drill",
            schedule_expression=events.Schedule.cron(day="15", hour="5", minute="0"),
            clusters=[ORDERS],
            subnet_ids=["subnet-0a1b2c3d4e5f60718"],
            vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
            alarm_topic=topic,
        )
    return Template.from_stack(stack).to_json()["Resources"]


def test_removing_a_plan_and_a_restore_test_deletes_their_schedules_and_iam_and_runs_no_handler():
    # GIVEN the same stack with and without a backup plan and a restore test
    without, with_them = stack_with(scheduled=False), stack_with(scheduled=True)
    users_topic = {"AWS::SNS::Topic", "AWS::SNS::TopicPolicy"}
    added = {k: v for k, v in with_them.items() if k not in without and v["Type"] not in users_topic}
    # THEN what they add (and what their removal deletes) is schedules, IAM and alarms only, of
    # which CloudFormation keeps nothing: no DeletionPolicy, no UpdateReplacePolicy
    assert {v["Type"] for v in added.values()} <= SCHEDULE_AND_IAM, {v["Type"] for v in added.values()}
    assert sum(v["Type"] == "AWS::Scheduler::Schedule" for v in added.values()) == 3
    assert [k for k, v in added.items() if "DeletionPolicy" in v or "UpdateReplacePolicy" in v] == []
    # AND none is a custom resource: a Delete invokes no handler, so no recovery point, copy or
    # restore-test cluster is deleted by the removal (they are not the stack's resources)
    assert not any(v["Type"].startswith("Custom::") for v in added.values())
    # AND the stack's other resources are the same ones (the shared provider stays for the snapshot)
    assert set(without) <= set(with_them)


def test_what_outlives_the_stack_the_provider_log_and_retained_snapshots():
    # GIVEN a stack with a snapshot, a backup plan and a restore test
    resources = stack_with(scheduled=True)
    # THEN the provider's log group is retained (what each occurrence made and deleted stays
    # readable), and the snapshot custom resource keeps its snapshot by default
    (log_group,) = [v for v in resources.values() if v["Type"] == "AWS::Logs::LogGroup"]
    assert log_group["DeletionPolicy"] == "Retain" and log_group["UpdateReplacePolicy"] == "Retain"
    (snapshot,) = [v for v in resources.values() if v["Type"] == RESOURCE_TYPE]
    assert snapshot["DeletionPolicy"] == "Retain"
