"""A restore test's IAM against what its occurrences really call (the stand-ins record every call)
and against the Service Authorization Reference: every call is allowed on the ARN it names with
the conditions it meets (the resource's tags at the time of the call, the tag keys a TagResource
sets), on every resource type the reference requires; each dependent action is granted as the
permission table decides; nothing is granted that no occurrence called; and the test can delete
no cluster it did not make."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aws_cdk as cdk
import pytest
import time_machine
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import ElasticClusterRestoreTest
from docdb_elastic_snapshot.permissions import SERVICE
from docdb_snapshot_handler import contract, entrypoint
from iam_reference import allowed_with_tags, assert_call_granted, unjustified_actions
from iam_template import ENV, schedule_input, statements
from iam_template import cluster as orders_cluster
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, cluster_arn_for
from standins.lambda_context import FakeLambdaContext
from synth_support import recommended_app, validation_function

TEST = "IamStack-Drill"
AT = datetime(2026, 12, 15, 5, 0, tzinfo=UTC)


def drill_stack() -> dict[str, Any]:
    stack = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    cluster = orders_cluster(stack)
    validate = validation_function(stack)
    ElasticClusterRestoreTest(
        stack,
        "Drill",
        schedule_expression=events.Schedule.cron(day="15", hour="5", minute="0"),
        clusters=[cluster],
        tags={"backup": "gold"},
        subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
        validation_function=validate,
    )
    return Template.from_stack(stack).to_json()


@pytest.fixture
def played(
    docdb: DocDbElasticStandIn, quick_polls: None, lambda_service: Any
) -> tuple[dict[str, Any], list[tuple[Any, dict[str, str]]]]:
    """Three monthly occurrences (the second redelivered; the first one's run dies and the next
    sweeps its cluster), every call with the tags its resource had when it was made."""
    template = drill_stack()
    lambda_service.functions[FakeLambdaContext.invoked_function_arn] = lambda event: {"ok": True}
    docdb.restore_delay = 0.2
    docdb.delete_delay = 60.0  # deleted clusters stay listed (DELETING) with their tags
    for name, tags in (("orders", {}), ("billing", {"backup": "gold"}), ("untagged", {})):
        arn = docdb.add_cluster(name, tags=tags)
        docdb.add_snapshot(arn, f"{name}-manual")
        docdb.add_snapshot(arn, f"rds:{name}-automated", snapshot_type="AUTOMATED")
    calls: list[tuple[Any, dict[str, str]]] = []
    for month, deliveries in ((0, 1), (1, 2), (2, 1)):
        scheduled = AT + timedelta(days=31 * month)
        for _ in range(deliveries):
            docdb.reset_calls()
            before = {
                **{c.arn: dict(c.tags) for c in docdb.clusters.values()},
                **{s.arn: dict(s.tags) for s in docdb.snapshots.values()},
            }
            # The first run hands over at once (16 s, 15 kept for the answer) and cannot: it dies.
            budget = 16.0 if month == 0 else 900.0
            lambda_service.refuse_with = (500, "ServiceException") if month == 0 else None
            with time_machine.travel(scheduled + timedelta(minutes=1), tick=True):
                died = False
                try:
                    entrypoint.handler(schedule_input(template, scheduled), FakeLambdaContext(budget))
                except Exception:
                    died = True
                assert died == (month == 0)
            after = {c.arn: dict(c.tags) for c in docdb.clusters.values()}
            for call in docdb.calls:
                arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params.get("clusterArn")
                if call.operation == "RestoreClusterFromSnapshot":
                    arn = call.params["snapshotArn"]
                # a cluster restored during the delivery: tagged in its restore request
                calls.append((call, before.get(arn, after.get(arn, {})) if arn else {}))
            if month == 0:
                time.sleep(0.3)  # the abandoned restore becomes ACTIVE before the next month
                # someone stops one of them: the sweep starts it, and deletes it once ACTIVE
                abandoned = next(c for c in docdb.clusters.values() if c.name.startswith(TEST.lower()))
                abandoned.status, abandoned.pending = "STOPPED", None
    return template, calls


def test_every_call_of_the_tests_occurrences_is_granted_with_the_conditions_it_meets(played):
    template, calls = played
    granted = statements(template)
    called = {call.operation for call, _ in calls}
    assert {"RestoreClusterFromSnapshot", "DeleteCluster", "TagResource", "ListTagsForResource", "GetCluster"} <= called
    for call, tags in calls:
        arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params.get("clusterArn")
        keys = tuple(call.params.get("tags", {})) if call.operation == "TagResource" else ()
        # RestoreClusterFromSnapshot also needs the new cluster's side (tagged in the request)
        makes = call.operation == "RestoreClusterFromSnapshot"
        created = f"arn:aws:docdb-elastic:{REGION}:{ACCOUNT}:cluster/new" if makes else None
        assert_call_granted(granted, call.operation, arn, tags, keys, created)


def test_the_test_can_delete_no_cluster_it_did_not_make_nor_tag_anything_else(played):
    template, calls = played
    granted = statements(template)
    # THEN its temporary clusters were deleted (two swept, then two a month), each carrying its tag
    deleted = {call.params["clusterArn"]: tags for call, tags in calls if call.operation == "DeleteCluster"}
    deletions = list(deleted.values())
    assert len(deletions) == 6 and all(tags.get(contract.RESTORE_TEST_TAG_KEY) == TEST for tags in deletions)
    swept = [tags for tags in deletions if tags[contract.RESTORE_TEST_EXPIRES_TAG_KEY].startswith("2026-12-15")]
    assert len(swept) == 2  # the first month's, which its dead run left behind
    # AND the one stopped meanwhile was started first, under the same condition
    started = [tags for call, tags in calls if call.operation == "StartCluster"]
    assert len(started) == 1 and started[0].get(contract.RESTORE_TEST_TAG_KEY) == TEST
    # AND it may not delete any other cluster, nor set any other tag on a recovery point
    delete = f"{SERVICE}:DeleteCluster"
    for arn in (cluster_arn_for("orders"), cluster_arn_for("untagged")):
        assert not allowed_with_tags(granted, delete, arn, {})
        assert not allowed_with_tags(granted, delete, arn, {contract.RESTORE_TEST_TAG_KEY: "Other-Drill"})
    point = f"arn:aws:docdb-elastic:{REGION}:{ACCOUNT}:cluster-snapshot/someone"
    tag = f"{SERVICE}:TagResource"
    assert allowed_with_tags(granted, tag, point, {}, (contract.restore_test_claim_key(TEST),))
    assert not allowed_with_tags(granted, tag, point, {}, ("backup",))
    assert not allowed_with_tags(granted, tag, point, {}, (contract.restore_test_claim_key("Other-Drill"),))
    # AND the record's fallback on a source cluster (a recovery point that refuses tags): that key only
    source = cluster_arn_for("orders")
    assert allowed_with_tags(granted, tag, source, {}, (contract.restore_test_claim_key(TEST),))
    assert not allowed_with_tags(granted, tag, source, {}, ("backup",))


def test_the_dependent_actions_are_the_tables_and_nothing_is_granted_that_no_occurrence_called(played):
    template, calls = played
    granted = statements(template)
    called = {call.operation for call, _ in calls}
    assert unjustified_actions(granted, called) == set()
