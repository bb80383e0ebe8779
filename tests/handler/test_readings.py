"""The library under each reading of AWS's documentation (docs/aws-limits.md, "Readings of AWS"):
the documented ones as the stand-in plays them by default (cluster names stored lowercase, no
deletion of a STOPPED cluster), and each undocumented one under every answer (the error for a
taken name, tagging automated snapshots, several members in one UpdateCluster)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import ClusterAttr, ClusterRemovalPolicy, RestoreProp
from docdb_snapshot_handler.once import UNTAGGED_RECHECKS
from standins.docdb_elastic import DocDbElasticStandIn, Fault
from standins.events import cfn_event, restore_event, restore_test_event, scheduled_event
from standins.invoke import answer, answers
from standins.response_receiver import ResponseReceiver

AT = datetime(2026, 12, 15, 5, 0, tzinfo=UTC)
TEST = "OrdersStack-Drill"
CLAIM = contract.restore_test_claim_key(TEST)


@pytest.fixture(autouse=True)
def quick(docdb: DocDbElasticStandIn, quick_polls: None) -> None:
    docdb.snapshot_delay = 0.0
    docdb.restore_delay = docdb.update_delay = docdb.delete_delay = docdb.start_delay = 0.05


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def before_change(name: str) -> dict[str, Any]:
    return {
        "Mode": "before-change",
        "ClusterArn": None,
        "ClusterName": name,
        "SnapshotNamePrefix": "orders-before",
        "Owner": "Demo/BeforeChange",
        "Trigger": "digest-2",
    }


# --- cluster names are stored lowercase; snapshot names are not case sensitive ----------------


@pytest.mark.parametrize("lowercase", [True, False], ids=["stored-lowercase", "stored-as-written"])
def test_a_cluster_named_with_capitals_gets_its_snapshot_before_the_change(lowercase, docdb, receiver):
    # GIVEN a CfnCluster named Orders-Main, which AWS stores "as a lowercase string" (and, should
    # it not, as written)
    docdb.readings.lowercase_cluster_names = lowercase
    cluster = docdb.add_cluster("Orders-Main")
    # WHEN CloudFormation updates the protection before changing the cluster
    props = before_change("Orders-Main")
    event = cfn_event("Update", receiver.new_url(), props, {**props, "Trigger": "digest-1"}, "orders-before-x")
    response = answer(receiver, event)
    # THEN the cluster was found and snapshotted before the change
    assert response["Status"] == "SUCCESS", response["Reason"]
    (snapshot,) = [s for s in docdb.snapshots.values() if s.cluster_arn == cluster]
    assert response["PhysicalResourceId"] == snapshot.arn and snapshot.status() == "ACTIVE"


@pytest.mark.usefixtures("taken_name")
def test_an_exact_snapshot_name_taken_in_other_case_is_refused_naming_it(docdb, receiver):
    # GIVEN someone's snapshot named orders-once, and a resource asking for Orders-Once (snapshot
    # names are "not case sensitive")
    cluster = docdb.add_cluster("orders")
    theirs = docdb.add_snapshot(cluster, "orders-once")
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "SnapshotNamePrefix": None})
    event["ResourceProperties"]["SnapshotName"] = "Orders-Once"
    # WHEN it is created
    response = answer(receiver, event)
    # THEN it fails at once, naming that snapshot, which is not adopted
    assert response["Status"] == "FAILED"
    assert theirs in response["Reason"] and "not created by this request" in response["Reason"]
    # (after the few rechecks of a name found untagged: its tags may not be readable yet)
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1 + UNTAGGED_RECHECKS


@pytest.mark.usefixtures("snapshot_names")
def test_retain_last_prunes_its_own_snapshots_named_with_capitals_whichever_case_aws_stores(docdb, receiver):
    # GIVEN a snapshot resource keeping one, its prefix with capitals (the stack's name)
    cluster = docdb.add_cluster("orders")
    props = {
        "ClusterArn": cluster,
        "SnapshotNamePrefix": "OrdersStack-Release",
        "Owner": "OrdersStack/Release",
        "RetainLast": "1",
    }
    first = answer(receiver, cfn_event("Create", receiver.new_url(), props))["PhysicalResourceId"]
    # WHEN an update takes the next one
    event = cfn_event("Update", receiver.new_url(), {**props, "Trigger": "2"}, props, first)
    second = answer(receiver, event)
    # THEN the first was pruned, whether AWS lists its name as written or lowercase
    assert second["Status"] == "SUCCESS", second["Reason"]
    assert list(docdb.snapshots) == [second["PhysicalResourceId"]]


@pytest.mark.usefixtures("snapshot_names")
def test_a_rule_named_with_capitals_recognises_and_keeps_its_points_whichever_case_aws_stores(docdb, deliver):
    # GIVEN a rule named Daily keeping two points, its two earlier points, and one copy of each kept
    cluster = docdb.add_cluster("orders")
    plan, rule = "OrdersStack-Plan", "Daily"
    tags = {contract.PLAN_TAG_KEY: plan, contract.RULE_TAG_KEY: rule}
    days = [AT - timedelta(days=d) for d in (2, 1)]
    older = [docdb.add_snapshot(cluster, contract.recovery_point_name(plan, rule, d, cluster), tags) for d in days]
    members = {"Rule": rule, "Clusters": [cluster], "TagSelections": None, "DeleteAfterSeconds": None, "KeepLast": 2}
    # WHEN today's occurrence runs, and is delivered again
    documents = [d for _ in range(2) for d in deliver(scheduled_event(iso(AT), **members))]
    # THEN today's point was made once and the oldest deleted once: the names were recognised
    failed = sum(int(d.get(contract.PlanMetric.RECOVERY_POINTS_FAILED, 0)) for d in documents)
    created = sum(int(d.get(contract.PlanMetric.RECOVERY_POINTS_CREATED, 0)) for d in documents)
    assert (failed, created) == (0, 1)
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [older[0]]
    assert older[1] in docdb.snapshots and len(docdb.snapshots) == 2


# --- adopt by looking, not by error code -----------------------------------------------------


def test_a_refusal_with_nothing_of_that_name_stands_with_its_own_reason(docdb, receiver):
    # GIVEN a create refused with a ValidationException that is not about the name
    cluster = docdb.add_cluster("orders")
    docdb.inject("CreateClusterSnapshot", Fault(400, "ValidationException", "tags: too many tags"))
    # WHEN the snapshot is created
    response = answer(receiver, cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster}))
    # THEN the name was looked up, nothing of it exists, and the refusal is the answer, at once
    assert response["Status"] == "FAILED"
    assert "ValidationException: tags: too many tags" in response["Reason"]
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1 and docdb.calls_to("ListClusterSnapshots")
    assert docdb.snapshots == {}


@pytest.mark.usefixtures("taken_name")
def test_a_snapshot_create_delivered_twice_makes_one_and_answers_success_twice(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    first, second = answers(receiver, event, 2)
    assert first["Status"] == second["Status"] == "SUCCESS", (first["Reason"], second["Reason"])
    assert list(docdb.snapshots) == [first["PhysicalResourceId"]] == [second["PhysicalResourceId"]]


# --- STOPPED clusters are started before the library deletes them ----------------------------


@pytest.fixture
def restored(docdb: DocDbElasticStandIn, receiver: ResponseReceiver) -> tuple[dict[str, Any], str]:
    """A cluster restored by an ElasticClusterFromSnapshot resource."""
    source = docdb.add_snapshot(docdb.add_cluster("orders"), "orders-nightly")
    props = {RestoreProp.SNAPSHOT_ARN: source, RestoreProp.CLUSTER_NAME_PREFIX: "RestoreStack-Restored"}
    response = answer(receiver, restore_event("Create", receiver.new_url(), props))
    assert response["Status"] == "SUCCESS", response["Reason"]
    return props, str(response["PhysicalResourceId"])


def stop(docdb: DocDbElasticStandIn, arn: str, status: str = "STOPPED") -> None:
    """The cluster STOPPED, or on its way: STOPPING (then STOPPED) or STARTING (then ACTIVE)."""
    then = {"STOPPED": None, "STOPPING": "STOPPED", "STARTING": "ACTIVE"}[status]
    docdb.clusters[arn].status = status
    docdb.clusters[arn].pending = None if then is None else (time.monotonic() + 0.1, then)


@pytest.mark.parametrize("status", ["STOPPED", "STOPPING", "STARTING"])
@pytest.mark.parametrize("policy", [ClusterRemovalPolicy.DESTROY, ClusterRemovalPolicy.SNAPSHOT])
def test_a_stopped_restored_cluster_is_started_then_deleted(policy, status, docdb, receiver, restored):
    # GIVEN a restored cluster someone stopped, is stopping or is starting (AWS deletes no stopped
    # cluster, and starts no stopping one)
    props, arn = restored
    stop(docdb, arn, status)
    docdb.reset_calls()
    # WHEN the stack deletes it
    props = {**props, RestoreProp.REMOVAL_POLICY: policy}
    response = answer(receiver, restore_event("Delete", receiver.new_url(), props, physical_id=arn))
    # THEN it was started, waited for, (snapshotted, for SNAPSHOT,) and deleted
    assert response["Status"] == "SUCCESS", response["Reason"]
    writes = [
        c.operation for c in docdb.calls if c.operation in ("StartCluster", "CreateClusterSnapshot", "DeleteCluster")
    ]
    started = [] if status == "STARTING" else ["StartCluster"]
    assert writes == started + (
        ["DeleteCluster"] if policy == ClusterRemovalPolicy.DESTROY else ["CreateClusterSnapshot", "DeleteCluster"]
    )
    assert arn not in docdb.clusters
    if policy == ClusterRemovalPolicy.SNAPSHOT:
        (final,) = [s for s in docdb.snapshots.values() if s.cluster_arn == arn]
        assert "-final-" in final.name and final.status() == "ACTIVE"


def test_a_restored_cluster_started_by_someone_while_it_was_stopping_is_deleted_without_a_start(
    docdb, receiver, restored
):
    # GIVEN a restored cluster that is STOPPING, and that someone starts again before it is STOPPED
    props, arn = restored
    docdb.clusters[arn].status, docdb.clusters[arn].pending = "STOPPING", (time.monotonic() + 0.1, "ACTIVE")
    docdb.reset_calls()
    # WHEN the stack deletes it (DESTROY)
    props = {**props, RestoreProp.REMOVAL_POLICY: ClusterRemovalPolicy.DESTROY}
    response = answer(receiver, restore_event("Delete", receiver.new_url(), props, physical_id=arn))
    # THEN the wait for STOPPED ended when it was running again: deleted, with no StartCluster
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert docdb.calls_to("StartCluster") == [] and len(docdb.calls_to("DeleteCluster")) == 1
    assert arn not in docdb.clusters


def test_a_before_change_snapshot_of_a_stopped_cluster_still_fails_at_once_saying_so(docdb, receiver):
    docdb.add_cluster("orders", status="STOPPED")
    props = before_change("orders")
    event = cfn_event("Update", receiver.new_url(), props, {**props, "Trigger": "digest-1"}, "orders-before-x")
    response = answer(receiver, event)
    assert response["Status"] == "FAILED" and "STOPPED" in response["Reason"] and "start it" in response["Reason"]
    assert docdb.calls_to("StartCluster") == [] and docdb.calls_to("CreateClusterSnapshot") == []


@pytest.mark.parametrize("status", ["STOPPED", "STOPPING"])
def test_a_restore_tests_stopped_left_over_cluster_is_started_and_swept(status, docdb, deliver):
    # GIVEN a temporary cluster of an earlier occurrence, past its expiry, that someone stopped (or
    # is stopping)
    source = docdb.add_cluster("orders", tags={"backup": "gold"})
    docdb.add_snapshot(source, "orders-manual")
    earlier = AT - timedelta(days=31)
    left = docdb.add_cluster(
        contract.temporary_cluster_name(TEST, earlier, source),
        status="STOPPED",
        tags={
            contract.RESTORE_TEST_TAG_KEY: TEST,
            contract.RESTORE_TEST_EXPIRES_TAG_KEY: iso(earlier + timedelta(hours=6)),
        },
    )
    stop(docdb, left, status)
    # WHEN the next occurrence runs
    deliver(restore_test_event(iso(AT)))
    # THEN the left-over was started, and deleted once ACTIVE; this occurrence's test ran as well
    assert [c.params["clusterArn"] for c in docdb.calls_to("StartCluster")] == [left]
    assert left not in docdb.clusters or docdb.clusters[left].status == "DELETING"
    assert len(docdb.calls_to("RestoreClusterFromSnapshot")) == 1


# --- several in-place changes, one member per UpdateCluster call ------------------------------


@pytest.mark.usefixtures("update_fields")
def test_an_update_of_capacity_and_maintenance_window_applies_one_member_per_call(docdb, receiver, restored):
    props, arn = restored
    docdb.reset_calls()
    changed = {
        **props,
        RestoreProp.SHARD_CAPACITY: "8",
        RestoreProp.PREFERRED_MAINTENANCE_WINDOW: "mon:01:00-mon:02:00",
    }
    response = answer(
        receiver, restore_event("Update", receiver.new_url(), changed, old_properties=props, physical_id=arn)
    )
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"][ClusterAttr.STATUS] == "ACTIVE"
    members = [sorted(set(c.params) - {"clusterArn", "clientToken"}) for c in docdb.calls_to("UpdateCluster")]
    assert members == [["preferredMaintenanceWindow"], ["shardCapacity"]]
    settings = docdb.clusters[arn].settings
    assert settings["shardCapacity"] == 8 and settings["preferredMaintenanceWindow"] == "mon:01:00-mon:02:00"


def test_a_failure_part_way_names_what_was_applied_and_what_was_not(docdb, receiver, restored):
    props, arn = restored
    # GIVEN the second UpdateCluster refused (the first passes, a moment late)
    docdb.inject("UpdateCluster", Fault.slow(0.01), Fault(400, "ValidationException", "shardCapacity: not allowed"))
    changed = {
        **props,
        RestoreProp.SHARD_CAPACITY: "8",
        RestoreProp.PREFERRED_MAINTENANCE_WINDOW: "mon:01:00-mon:02:00",
    }
    response = answer(
        receiver, restore_event("Update", receiver.new_url(), changed, old_properties=props, physical_id=arn)
    )
    assert response["Status"] == "FAILED"
    reason = response["Reason"]
    assert "preferredMaintenanceWindow (applied)" in reason and "shardCapacity (not applied)" in reason
    assert docdb.clusters[arn].settings["preferredMaintenanceWindow"] == "mon:01:00-mon:02:00"


# --- automated snapshots that refuse tags ---------------------------------------------------------


def test_a_restore_test_of_an_untaggable_automated_point_delivered_twice_restores_once_recorded_on_the_cluster(
    docdb, deliver
):
    # GIVEN automated snapshots that refuse tags, and a cluster whose newest point is automated
    docdb.readings.automated_snapshots_taggable = False
    source = docdb.add_cluster("orders", tags={"backup": "gold"})
    point = docdb.add_snapshot(source, "rds:orders-automated", snapshot_type="AUTOMATED")
    # WHEN the occurrence is delivered, then again
    first = deliver(restore_test_event(iso(AT)))
    second = deliver(restore_test_event(iso(AT), attempt=2), at=AT + timedelta(minutes=20))
    # THEN one restore, counted once as succeeded
    assert len(docdb.calls_to("RestoreClusterFromSnapshot")) == 1
    succeeded = contract.RestoreTestMetric.SUCCEEDED
    assert sum(float(d.get(succeeded, 0)) for d in first) == 1
    assert sum(float(d.get(succeeded, 0)) for d in second) == 0
    # AND the record is on the source cluster, naming the point (the point has none)
    assert CLAIM not in docdb.snapshots[point].tags
    record = docdb.clusters[source].tags[CLAIM].split(" ")
    assert record[:2] == [f"{AT:%Y-%m-%dT%H:%MZ}", "succeeded"] and point.endswith("/" + record[-1])
