"""A backup plan's IAM against what its occurrences really call (the stand-in records every
call) and against the Service Authorization Reference: every call is allowed on the ARN it
names, with the conditions it meets (the tags of the cluster or snapshot at the time of the
call), on every resource type the reference requires; each dependent action is granted as the
permission table decides; nothing is granted that no occurrence called."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
import pytest
import time_machine
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import ElasticClusterBackupPlan, ElasticClusterBackupRule, ElasticClusterCopyAction
from docdb_elastic_snapshot.permissions import SERVICE
from docdb_snapshot_handler import contract, entrypoint
from iam_lifecycles import COPY_KEY_ARN
from iam_reference import allowed_with_tags, assert_call_granted, unjustified_actions
from iam_template import ENV, schedule_input, statements
from iam_template import cluster as orders_cluster
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, cluster_arn_for
from standins.lambda_context import FakeLambdaContext
from synth_support import recommended_app

OTHER_REGION = "us-west-2"
PLAN = "IamStack-Plan"
AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def plan_stack() -> tuple[dict[str, Any], cdk.Stack]:
    stack = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    cluster = orders_cluster(stack)
    plan = ElasticClusterBackupPlan(
        stack,
        "Plan",
        rules=[
            ElasticClusterBackupRule(
                rule_name="daily",
                schedule_expression=cdk.aws_events.Schedule.cron(hour="3", minute="0"),
                keep_last=1,
                copy_actions=[ElasticClusterCopyAction(kms_key_id=COPY_KEY_ARN, keep_last=1)],
            )
        ],
    )
    plan.add_selection("Orders", clusters=[cluster])
    plan.add_selection("Gold", tags={"backup": "gold"})
    return Template.from_stack(stack).to_json(), stack


@pytest.fixture
def played(docdb: DocDbElasticStandIn, quick_polls: None) -> tuple[dict[str, Any], list[tuple[Any, dict[str, str]]]]:
    """The plan's occurrences over three days (redelivered once), every call with the tags its
    resource had when it was made."""
    docdb.snapshot_delay = 0.0
    template, _ = plan_stack()
    docdb.add_cluster("orders")
    docdb.add_cluster("billing", tags={"backup": "gold"})
    docdb.add_cluster("untagged")
    calls: list[tuple[Any, dict[str, str]]] = []
    for day, times in ((0, 1), (1, 2), (2, 1)):
        scheduled = AT + timedelta(days=day)
        for _ in range(times):
            docdb.reset_calls()
            # the tags each resource carries now: what IAM would evaluate at each call
            before = {
                **{c.arn: dict(c.tags) for c in docdb.clusters.values()},
                **{s.arn: dict(s.tags) for s in docdb.snapshots.values()},
            }
            with time_machine.travel(scheduled + timedelta(minutes=1), tick=True):
                entrypoint.handler(schedule_input(template, scheduled), FakeLambdaContext())
            after = {s.arn: dict(s.tags) for s in docdb.snapshots.values()}
            for call in docdb.calls:
                arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params.get("clusterArn")
                calls.append((call, before.get(arn, after.get(arn, {})) if arn else {}))
    return template, calls


def test_every_call_of_the_plans_occurrences_is_granted_with_the_conditions_it_meets(played):
    template, calls = played
    granted = statements(template)
    called = {call.operation for call, _ in calls}
    assert {"CreateClusterSnapshot", "DeleteClusterSnapshot", "CopyClusterSnapshot", "ListTagsForResource"} <= called
    for call, tags in calls:
        arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params.get("clusterArn")
        # CreateClusterSnapshot and CopyClusterSnapshot also need the new snapshot's side
        makes = call.operation in ("CreateClusterSnapshot", "CopyClusterSnapshot")
        created = f"arn:aws:docdb-elastic:{call.region}:{ACCOUNT}:cluster-snapshot/new" if makes else None
        assert_call_granted(granted, call.operation, arn, tags, created=created)


def test_the_plan_can_neither_snapshot_an_unselected_cluster_nor_delete_what_it_did_not_make(played):
    template, _ = played
    granted = statements(template)
    untagged = cluster_arn_for("untagged")
    assert not allowed_with_tags(granted, f"{SERVICE}:CreateClusterSnapshot", untagged, {})
    assert not allowed_with_tags(granted, f"{SERVICE}:CreateClusterSnapshot", untagged, {"backup": "silver"})
    someone_elses = f"arn:aws:docdb-elastic:{REGION}:{ACCOUNT}:cluster-snapshot/by-hand"
    assert not allowed_with_tags(granted, f"{SERVICE}:DeleteClusterSnapshot", someone_elses, {})
    assert not allowed_with_tags(
        granted, f"{SERVICE}:DeleteClusterSnapshot", someone_elses, {contract.PLAN_TAG_KEY: "x"}
    )
    assert allowed_with_tags(granted, f"{SERVICE}:DeleteClusterSnapshot", someone_elses, {contract.PLAN_TAG_KEY: PLAN})
    # Copies stay in the stack's region: nothing is granted in another.
    elsewhere = someone_elses.replace(REGION, OTHER_REGION)
    assert not allowed_with_tags(granted, f"{SERVICE}:DeleteClusterSnapshot", elsewhere, {contract.PLAN_TAG_KEY: PLAN})


def test_the_dependent_actions_are_the_tables_and_nothing_is_granted_that_no_occurrence_called(played):
    template, calls = played
    granted = statements(template)
    called = {call.operation for call, _ in calls}
    assert unjustified_actions(granted, called) == set()
