"""Scheduled occurrences of a backup rule, delivered as EventBridge Scheduler delivers them (at
least once: twice, overlapping, late) to the function's entry point, against the stand-in."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from docdb_snapshot_handler import contract, entrypoint
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, Fault
from standins.events import scheduled_event
from standins.invoke import at_once
from standins.lambda_context import FakeLambdaContext

PLAN = "OrdersStack-Plan"
AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
COPY_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_snapshots(docdb: DocDbElasticStandIn, copies: bool = False) -> dict[str, Any]:
    """The plan's recovery points (or their copies)."""
    return {
        arn: s
        for arn, s in docdb.snapshots_in(REGION).items()
        if s.tags.get(contract.PLAN_TAG_KEY) == PLAN and bool(s.copied_from) == copies
    }


def metric(documents: list[dict[str, Any]], name: str) -> float:
    return sum(float(document.get(name, 0)) for document in documents)


def test_an_occurrence_snapshots_the_explicit_and_the_tagged_clusters_once_each(docdb, deliver):
    # GIVEN a cluster named by ARN, two tagged gold, one tagged silver and one without tags
    named = docdb.add_cluster("named")
    gold = [docdb.add_cluster("gold-a", tags={"backup": "gold"}), docdb.add_cluster("gold-b", tags={"backup": "gold"})]
    silver = docdb.add_cluster("silver", tags={"backup": "silver"})
    docdb.add_cluster("untagged")
    # WHEN the daily rule's 03:00 occurrence is delivered
    documents = deliver(scheduled_event(iso(AT), Clusters=[named], TagSelections=[{"backup": "gold"}]))
    # THEN the three selected clusters have one recovery point each, named and tagged by the occurrence
    made = plan_snapshots(docdb)
    assert sorted(s.cluster_arn for s in made.values()) == sorted([named, *gold])
    for snapshot in made.values():
        assert snapshot.name == contract.recovery_point_name(PLAN, "daily", AT, snapshot.cluster_arn)
        assert snapshot.tags[contract.RULE_TAG_KEY] == "daily"
        assert snapshot.tags[contract.REQUEST_TAG_KEY] == contract.occurrence_token(
            PLAN, "daily", AT, snapshot.cluster_arn
        )
    assert silver not in {s.cluster_arn for s in made.values()}
    # AND one EMF object says so, with the plan and rule as dimensions
    (document,) = documents
    assert document["Plan"] == PLAN and document["Rule"] == "daily"
    assert document[contract.PlanMetric.RECOVERY_POINTS_CREATED] == 3
    assert document[contract.PlanMetric.RECOVERY_POINTS_FAILED] == 0
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DocDbElasticSnapshot"


@pytest.mark.usefixtures("taken_name")
def test_a_redelivered_occurrence_makes_nothing_new(docdb, deliver):
    # GIVEN an occurrence that was handled
    clusters = [docdb.add_cluster(f"gold-{i}", tags={"backup": "gold"}) for i in range(3)]
    event = scheduled_event(iso(AT))
    deliver(event)
    first = set(plan_snapshots(docdb))
    # WHEN EventBridge delivers it again (a retry, a new execution id), a few minutes later
    again = scheduled_event(iso(AT), attempt=2)
    documents = deliver(again, at=AT + timedelta(minutes=5))
    # THEN no snapshot was added: each cluster keeps its one recovery point of this occurrence
    assert set(plan_snapshots(docdb)) == first and len(first) == len(clusters)
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 0
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0


@pytest.mark.usefixtures("taken_name")
def test_two_overlapping_deliveries_of_one_occurrence_make_one_snapshot_per_cluster(docdb, quick_polls):
    # GIVEN clusters, and CreateClusterSnapshot answers held back so that two deliveries overlap
    for i in range(4):
        docdb.add_cluster(f"gold-{i}", tags={"backup": "gold"})
    docdb.latency["CreateClusterSnapshot"] = 0.3
    event = scheduled_event(iso(AT))
    # WHEN both deliveries run at once, a minute after the scheduled time
    with time_machine.travel(AT + timedelta(minutes=1), tick=True):
        errors = at_once(event)
    # THEN both succeeded and each cluster has exactly one recovery point
    assert errors == []
    made = plan_snapshots(docdb)
    assert len(made) == 4 and len({s.cluster_arn for s in made.values()}) == 4
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 8  # every create raced; the service refused 4


def test_a_late_occurrence_takes_nothing_and_is_reported_missed(docdb, deliver):
    # GIVEN a selected cluster
    docdb.add_cluster("gold", tags={"backup": "gold"})
    # WHEN the 03:00 occurrence arrives after its one-hour start window
    documents = deliver(scheduled_event(iso(AT)), at=AT + timedelta(hours=1, minutes=1))
    # THEN nothing was asked of the service and the occurrence counts as missed
    assert docdb.calls == []
    assert metric(documents, contract.PlanMetric.OCCURRENCES_MISSED) == 1


def test_a_stopped_cluster_is_reported_by_name_and_holds_up_none_of_the_others(docdb, deliver, caplog):
    # GIVEN a stopped cluster among running ones, and one named by ARN that no longer exists
    stopped = docdb.add_cluster("stopped", status="STOPPED", tags={"backup": "gold"})
    running = [docdb.add_cluster(f"gold-{i}", tags={"backup": "gold"}) for i in range(2)]
    gone = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/00000000-0000-0000-0000-000000000000"
    # WHEN an occurrence is delivered
    documents = deliver(scheduled_event(iso(AT), Clusters=[gone]))
    # THEN the running clusters have their recovery point, the other two are failures named in the log
    assert sorted(s.cluster_arn for s in plan_snapshots(docdb).values()) == sorted(running)
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 2
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 2
    failed = {r.cluster_arn: r.reason for r in caplog.records if getattr(r, "outcome", "") == "failed"}
    assert set(failed) == {stopped, gone}
    assert "STOPPED" in failed[stopped] and "does not exist" in failed[gone]


def test_throttling_and_server_errors_are_absorbed(docdb, deliver):
    # GIVEN an API that throttles (with Retry-After) and fails now and then
    clusters = [docdb.add_cluster(f"gold-{i}", tags={"backup": "gold"}) for i in range(3)]
    docdb.inject("ListClusters", Fault.throttle(retry_after=0), Fault.internal())
    docdb.inject("ListTagsForResource", Fault.throttle(), Fault.throttle())
    docdb.inject("CreateClusterSnapshot", Fault.internal(), Fault.throttle(retry_after=0), Fault.internal())
    docdb.inject("ListClusterSnapshots", Fault.throttle())
    # WHEN an occurrence is delivered
    documents = deliver(scheduled_event(iso(AT)))
    # THEN every cluster has its recovery point and nothing failed
    assert sorted(s.cluster_arn for s in plan_snapshots(docdb).values()) == sorted(clusters)
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0


def test_a_busy_cluster_is_tried_again_after_the_others(docdb, deliver):
    # GIVEN a cluster whose own snapshot is in progress (the service refuses a second meanwhile)
    busy = docdb.add_cluster("busy", tags={"backup": "gold"})
    other = docdb.add_cluster("other", tags={"backup": "gold"})
    docdb.one_snapshot_in_progress = True
    docdb.add_snapshot(busy, "by-hand", creating_for=1.5)
    # WHEN an occurrence is delivered
    documents = deliver(scheduled_event(iso(AT)))
    # THEN both clusters got their recovery point: the busy one once its snapshot was done
    assert sorted(s.cluster_arn for s in plan_snapshots(docdb).values()) == sorted([busy, other])
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0
    refused = [c for c in docdb.calls_to("CreateClusterSnapshot") if c.params["clusterArn"] == busy]
    assert len(refused) >= 2


@pytest.mark.usefixtures("taken_name")
def test_a_snapshot_of_the_occurrences_name_made_by_someone_else_is_not_adopted(docdb, deliver, caplog):
    # GIVEN someone else's snapshot that holds the name this occurrence would give its recovery point
    cluster = docdb.add_cluster("gold", tags={"backup": "gold"})
    squatter = docdb.add_snapshot(cluster, contract.recovery_point_name(PLAN, "daily", AT, cluster))
    # WHEN the occurrence is delivered
    documents = deliver(scheduled_event(iso(AT)))
    # THEN it is a failure that names the snapshot, and the snapshot is untouched
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 1
    (record,) = [r for r in caplog.records if getattr(r, "outcome", "") == "failed"]
    assert squatter in record.reason and "not created by this request" in record.reason
    assert squatter in docdb.snapshots and docdb.snapshots[squatter].tags == {}


def test_an_invalid_input_does_nothing_and_names_every_broken_member(docdb, deliver, caplog):
    # GIVEN a schedule input broken in several ways
    docdb.add_cluster("gold", tags={"backup": "gold"})
    event = scheduled_event(iso(AT), Rule="Daily--backups", KeepLast=0, StartWindowSeconds="soon")
    # WHEN it is delivered
    documents = deliver(event)
    # THEN no API call was made, the log names each member, and the failure is counted
    assert docdb.calls == []
    (record,) = [r for r in caplog.records if r.getMessage().startswith("invalid scheduled input")]
    assert {error.split(":")[0] for error in record.errors} >= {"Rule", "KeepLast", "StartWindowSeconds"}
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 1


def test_a_copy_to_another_region_does_nothing_and_says_copies_stay_in_their_region(docdb, deliver, caplog):
    # GIVEN the input of a plan synthesized without a region (environment-agnostic) that asks
    # for a copy in another region than the function's
    docdb.add_cluster("gold", tags={"backup": "gold"})
    event = scheduled_event(iso(AT), Copies=[{"Region": "us-west-2"}])
    # WHEN it is delivered
    documents = deliver(event)
    # THEN no API call was made (no recovery point without its copy), and the log says why
    assert docdb.calls == []
    (record,) = [r for r in caplog.records if r.getMessage().startswith("invalid scheduled input")]
    (error,) = record.errors
    assert error.startswith(f"Copies[0].Region: must be the stack's region {REGION}") and "same region" in error
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 1


def test_an_expired_point_without_the_plans_tag_is_refused_by_iam_and_kept(docdb, deliver, caplog):
    # GIVEN a snapshot whose name is this rule's a year ago but which does not carry the plan's
    # tag, and the role's aws:ResourceTag condition on DeleteClusterSnapshot (emulated as IAM does)
    cluster = docdb.add_cluster("gold", tags={"backup": "gold"})
    year_ago = AT - timedelta(days=365)
    forged = docdb.add_snapshot(cluster, contract.recovery_point_name(PLAN, "daily", year_ago, cluster))
    docdb.delete_requires_tag = (contract.PLAN_TAG_KEY, PLAN)
    # WHEN an occurrence applies the 35-day retention
    deliver(scheduled_event(iso(AT)))
    # THEN the delete was refused, the snapshot is still there, and the refusal is logged
    assert forged in docdb.snapshots
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [forged]
    assert any(getattr(r, "snapshot_arn", "") == forged and r.levelname == "ERROR" for r in caplog.records)


def test_copies_under_another_key_are_made_once_the_point_is_active_and_kept_apart(docdb, deliver):
    # GIVEN a rule that copies under another key and keeps 2 copies, and snapshots that take a moment
    cluster = docdb.add_cluster("gold", tags={"backup": "gold"})
    docdb.snapshot_delay = 0.5
    copies = [{"KmsKeyId": COPY_KEY, "KeepLast": 2}]
    # WHEN four daily occurrences are delivered, the last one twice
    for day in range(4):
        deliver(scheduled_event(iso(AT + timedelta(days=day)), Copies=copies))
    documents = deliver(
        scheduled_event(iso(AT + timedelta(days=3)), Copies=copies), at=AT + timedelta(days=3, hours=0.5)
    )
    # THEN the two newest copies are kept, each of that day's recovery point, under the key,
    # tagged by the plan; the rule's own points are retained by their own rule
    made = plan_snapshots(docdb, copies=True)
    expected = {contract.recovery_point_name(PLAN, "daily", AT + timedelta(days=d), cluster, REGION) for d in (2, 3)}
    assert {s.name for s in made.values()} == expected
    assert all(s.copied_from in docdb.snapshots and s.tags[contract.RULE_TAG_KEY] == "daily" for s in made.values())
    assert all(s.kms_key_id == COPY_KEY for s in made.values())
    assert len(plan_snapshots(docdb)) == 4
    # AND the redelivery made no copy
    assert metric(documents, contract.PlanMetric.COPIES_CREATED) == 0
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 4


def test_at_most_four_calls_per_cluster_for_a_rule_without_copies(docdb, deliver):
    # GIVEN 60 tagged clusters, each with a full set of the rule's points (keep_last 3), so each
    # occurrence both creates and deletes one per cluster; points are ACTIVE at once (only ACTIVE
    # points are deleted, and four quick deliveries can take less than the stand-in's usual 0.3 s)
    docdb.snapshot_delay = 0.0
    clusters = [docdb.add_cluster(f"gold-{i:03d}", tags={"backup": "gold"}) for i in range(60)]
    for day in range(3):
        deliver(scheduled_event(iso(AT + timedelta(days=day)), KeepLast=3, DeleteAfterSeconds=None))
    docdb.reset_calls()
    # WHEN the next occurrence runs
    documents = deliver(scheduled_event(iso(AT + timedelta(days=3)), KeepLast=3, DeleteAfterSeconds=None))
    # THEN every cluster got its point and lost its oldest, within 4 API calls per cluster
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 60
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_DELETED) == 60
    assert len(docdb.calls) / len(clusters) <= 4, {c.operation for c in docdb.calls}


def test_copies_wait_for_a_slow_recovery_point_across_invocations(docdb, lambda_service):
    # GIVEN a rule that copies its points, a snapshot that takes 12 s, and invocations that may
    # wait 5 s each; the occurrence scheduled a minute ago (continued invocations run in fresh
    # processes, on the real clock)
    cluster = docdb.add_cluster("gold", tags={"backup": "gold"})
    docdb.snapshot_delay = 12
    scheduled = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    event = scheduled_event(iso(scheduled), Copies=[{"KmsKeyId": COPY_KEY}])
    # WHEN the occurrence is delivered
    entrypoint.handler(event, FakeLambdaContext(lambda_service.budget_seconds))
    # THEN later invocations went on waiting, and made the copy once the point was ACTIVE
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (lambda_service.idle.is_set() and plan_snapshots(docdb, copies=True)):
        time.sleep(0.2)
    assert lambda_service.idle.wait(timeout=max(0.0, deadline - time.monotonic()))
    (copy,) = plan_snapshots(docdb, copies=True).values()
    assert copy.name == contract.recovery_point_name(PLAN, "daily", scheduled, cluster, REGION)
    assert len(lambda_service.invocations) >= 2
    assert all(invocation.returncode == 0 for invocation in lambda_service.invocations)
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1 and len(docdb.calls_to("CopyClusterSnapshot")) == 1
