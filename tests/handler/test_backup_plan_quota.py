"""A backup rule's occurrence at the manual snapshot quota (the stand-in enforcing one): room is
made only from the rule's own points that its retention deletes after this occurrence anyway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from docdb_snapshot_handler import contract
from standins.docdb_elastic import REGION, DocDbElasticStandIn
from standins.events import cfn_event, scheduled_event
from standins.invoke import answer, answers

PLAN, RULE = "OrdersStack-Plan", "daily"
AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
DAY = 86400


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rule_point(docdb: DocDbElasticStandIn, cluster: str, scheduled: datetime, region: str | None = None) -> str:
    name = contract.recovery_point_name(PLAN, RULE, scheduled, cluster, region)
    tags = {contract.PLAN_TAG_KEY: PLAN, contract.RULE_TAG_KEY: RULE}
    return docdb.add_snapshot(cluster, name, tags=tags)


def metric(documents: list[dict], name: str) -> float:
    return sum(float(document.get(name, 0)) for document in documents)


def test_points_that_keep_last_would_keep_are_not_deleted_for_the_quota(docdb, deliver, caplog):
    # GIVEN keep_last=3 and only two points of the rule, the rest of the quota of five somebody else's
    docdb.manual_snapshot_quota = 5
    cluster = docdb.add_cluster("orders")
    mine = {rule_point(docdb, cluster, AT - timedelta(days=d)) for d in (2, 1)}
    theirs = {docdb.add_snapshot(cluster, f"by-hand-{i}") for i in range(3)}
    # WHEN the next occurrence runs
    event = scheduled_event(iso(AT), Clusters=[cluster], TagSelections=None, DeleteAfterSeconds=None, KeepLast=3)
    documents = deliver(event)
    # THEN nothing was deleted (both points stay after this occurrence), and the cluster failed on the quota
    assert docdb.calls_to("DeleteClusterSnapshot") == []
    assert set(docdb.snapshots) == mine | theirs
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 1
    (reason,) = [r.reason for r in caplog.records if getattr(r, "outcome", "") == "failed"]
    assert "quota of manual elastic cluster snapshots" in reason and "keep_last" in reason


@pytest.mark.usefixtures("snapshot_deleting")
def test_a_cluster_without_a_due_point_gets_room_from_another_clusters_point_due_anyway(docdb, deliver):
    # GIVEN keep_last=3, a newly selected cluster with no point yet, another with four (one more
    # than the rule keeps, whatever this occurrence brings), and the quota of four full
    docdb.manual_snapshot_quota = 4
    new, old = docdb.add_cluster("orders"), docdb.add_cluster("payments")
    points = [rule_point(docdb, old, AT - timedelta(days=d)) for d in (4, 3, 2, 1)]
    # WHEN the occurrence runs for both
    event = scheduled_event(iso(AT), Clusters=[new, old], TagSelections=None, DeleteAfterSeconds=None, KeepLast=3)
    documents = deliver(event)
    # THEN both have today's point: room came from the older cluster's two oldest, which keep_last
    # deletes after this occurrence anyway (one at a time, each gone before the next request)
    deleted = [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")]
    assert sorted(deleted) == sorted(points[:2])
    names = {s.name for s in docdb.snapshots.values()}
    assert {contract.recovery_point_name(PLAN, RULE, AT, arn) for arn in (new, old)} <= names
    assert set(points[2:]) <= set(docdb.snapshots)
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 2
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0


def test_room_comes_first_from_points_due_whatever_happens_then_from_the_one_due_once_made(docdb, deliver):
    # GIVEN keep_last=3: the selected cluster's three points (its oldest goes only once today's is
    # made) and a cluster taken out of the selection with four (its oldest goes whatever happens);
    # the quota full
    docdb.manual_snapshot_quota = 7
    selected, dropped = docdb.add_cluster("orders"), docdb.add_cluster("payments")
    mine = [rule_point(docdb, selected, AT - timedelta(days=d)) for d in (3, 2, 1)]
    theirs = [rule_point(docdb, dropped, AT - timedelta(days=d)) for d in (4, 3, 2, 1)]
    # WHEN the occurrence runs for the selected cluster
    event = scheduled_event(iso(AT), Clusters=[selected], TagSelections=None, DeleteAfterSeconds=None, KeepLast=3)
    documents = deliver(event)
    # THEN room came from the dropped cluster's oldest (lost to no outcome of this occurrence);
    # the selected cluster's oldest went afterwards, by retention, once today's point was made
    deleted = [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")]
    assert deleted == [theirs[0], mine[0]]
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 1


def test_a_cluster_whose_point_fails_keeps_keep_last_of_its_older_points(docdb, deliver):
    # GIVEN keep_last=3 and three points of a cluster that someone has since stopped
    cluster = docdb.add_cluster("orders", status="STOPPED")
    points = {rule_point(docdb, cluster, AT - timedelta(days=d)) for d in (3, 2, 1)}
    # WHEN the occurrence runs, and cannot make today's point
    event = scheduled_event(iso(AT), Clusters=[cluster], TagSelections=None, DeleteAfterSeconds=None, KeepLast=3)
    documents = deliver(event)
    # THEN the cluster failed, and its three points are all kept: retention counts only points made
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 1
    assert docdb.calls_to("DeleteClusterSnapshot") == [] and set(docdb.snapshots) == points


def test_a_point_past_delete_after_makes_room_and_a_point_within_it_does_not(docdb, deliver):
    # GIVEN delete_after of 2 days: one point 3 days old (expired at this occurrence), one 1 day old
    docdb.manual_snapshot_quota = 5
    cluster = docdb.add_cluster("orders")
    expired = rule_point(docdb, cluster, AT - timedelta(days=3))
    kept = rule_point(docdb, cluster, AT - timedelta(days=1))
    theirs = {docdb.add_snapshot(cluster, f"by-hand-{i}") for i in range(3)}
    # WHEN the occurrence runs at the quota
    event = scheduled_event(iso(AT), Clusters=[cluster], TagSelections=None, DeleteAfterSeconds=2 * DAY)
    documents = deliver(event)
    # THEN the expired point was deleted first and the occurrence made its own; the rest is untouched
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [expired]
    assert {kept, *theirs} <= set(docdb.snapshots) and len(docdb.snapshots) == 5
    assert contract.recovery_point_name(PLAN, RULE, AT, cluster) in {s.name for s in docdb.snapshots.values()}
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 1
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0


def test_a_copy_at_the_quota_makes_room_from_the_copy_actions_own_copies(docdb, deliver):
    # GIVEN a copy action keeping one copy, yesterday's point and its copy, and the quota of four
    # reached once today's point is made
    docdb.manual_snapshot_quota = 4
    cluster = docdb.add_cluster("orders")
    yesterday = AT - timedelta(days=1)
    point = rule_point(docdb, cluster, yesterday)
    old_copy = rule_point(docdb, cluster, yesterday, REGION)
    theirs = docdb.add_snapshot(cluster, "by-hand")
    # WHEN today's occurrence runs (its point fills the quota, then its copy meets it)
    event = scheduled_event(
        iso(AT), Clusters=[cluster], TagSelections=None, DeleteAfterSeconds=None, Copies=[{"KeepLast": 1}]
    )
    documents = deliver(event)
    # THEN yesterday's copy made room for today's; yesterday's point and the other snapshot remain
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [old_copy]
    names = {s.name for s in docdb.snapshots.values()}
    assert contract.recovery_point_name(PLAN, RULE, AT, cluster, REGION) in names
    assert {point, theirs} <= set(docdb.snapshots)
    assert metric(documents, contract.PlanMetric.COPIES_CREATED) == 1
    assert metric(documents, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0


def test_a_snapshot_resource_at_the_quota_fails_with_the_same_words(docdb, receiver):
    # GIVEN a region at its quota of one manual snapshot
    docdb.manual_snapshot_quota = 1
    cluster = docdb.add_cluster("orders")
    docdb.add_snapshot(cluster, "by-hand")
    # WHEN CloudFormation creates an ElasticClusterSnapshot
    response = answer(receiver, cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster}))
    # THEN it fails, naming the quota and what to do in the wording every construct uses
    assert response["Status"] == "FAILED"
    assert "ServiceQuotaExceededException" in response["Reason"] and ".." not in response["Reason"]
    assert contract.snapshot_quota_advice("retain_last, where the construct offers it") in response["Reason"]


@pytest.mark.usefixtures("quota_order", "taken_name")
def test_a_redelivery_at_the_quota_adopts_the_first_deliverys_point_and_deletes_nothing(docdb, deliver):
    # GIVEN an occurrence whose point filled the quota, and no point of the rule due for deletion
    docdb.manual_snapshot_quota = 3
    cluster = docdb.add_cluster("orders")
    kept = [rule_point(docdb, cluster, AT - timedelta(days=d)) for d in (2, 1)]
    event = scheduled_event(iso(AT), Clusters=[cluster], TagSelections=None, DeleteAfterSeconds=None, KeepLast=3)
    first = deliver(event)
    # WHEN EventBridge delivers it again (whether AWS answers the quota's error or the taken name's)
    second = deliver(event)
    # THEN the second adopted the first's point: nothing deleted, nothing failed, one point made
    assert docdb.calls_to("DeleteClusterSnapshot") == [] and set(kept) <= set(docdb.snapshots)
    assert len(docdb.snapshots) == 3
    assert metric(first + second, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 1
    assert metric(first + second, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0


@pytest.mark.usefixtures("quota_order", "taken_name")
def test_a_snapshot_resource_delivered_twice_at_the_quota_answers_success_twice(docdb, receiver):
    # GIVEN a region one snapshot short of its quota
    docdb.manual_snapshot_quota = 2
    cluster = docdb.add_cluster("orders")
    docdb.add_snapshot(cluster, "by-hand")
    # WHEN CloudFormation's Create is delivered twice
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    first, second = answers(receiver, event, 2)
    # THEN both succeed with the one snapshot the first made
    assert first["Status"] == second["Status"] == "SUCCESS", (first["Reason"], second["Reason"])
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"] and len(docdb.snapshots) == 2
