"""Before-change, final and retention behaviour of the handler, with events as CloudFormation
sends them, against the loopback stand-in."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from docdb_snapshot_handler.contract import OWNER_TAG_KEY, Attr
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
from standins.events import cfn_event
from standins.invoke import answer
from standins.response_receiver import ResponseReceiver

BEFORE = {
    "Mode": "before-change",
    "ClusterArn": None,
    "ClusterName": "orders",
    "SnapshotNamePrefix": "orders-before",
    "Owner": "Demo/BeforeChange",
    "Trigger": "digest-1",
}


def final_props(cluster_arn: str) -> dict[str, Any]:
    return {"Mode": "final", "ClusterArn": cluster_arn, "SnapshotNamePrefix": "orders-final", "Owner": "Demo/Final"}


@pytest.fixture(autouse=True)
def quick_snapshots(docdb: DocDbElasticStandIn) -> None:
    docdb.snapshot_delay = 0.0


def send(
    receiver: ResponseReceiver,
    request_type: str,
    props: dict[str, Any],
    old: dict[str, Any] | None = None,
    physical_id: str | None = None,
) -> dict[str, Any]:
    event = cfn_event(request_type, receiver.new_url(), props, old, physical_id)
    if old is not None:
        event["OldResourceProperties"] = {
            k: v for k, v in {**event["ResourceProperties"], **old}.items() if v is not None
        }
    return answer(receiver, event)


def snapshots_of(docdb: DocDbElasticStandIn, cluster_arn: str) -> list[str]:
    return sorted(s.name for s in docdb.snapshots.values() if s.cluster_arn == cluster_arn)


# --- SnapshotBeforeChange --------------------------------------------------------------------


def test_first_deploy_succeeds_without_a_snapshot_and_says_why(docdb, receiver):
    answer = send(receiver, "Create", BEFORE)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"][Attr.SNAPSHOT_ARN] == "" and "does not exist yet" in answer["Data"][Attr.SKIPPED_REASON]
    assert answer["PhysicalResourceId"].startswith("no-snapshot-")
    assert docdb.snapshots == {} and docdb.calls_to("CreateClusterSnapshot") == []


def test_a_change_snapshots_the_cluster_as_it_is_before_the_change(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    created = send(receiver, "Create", BEFORE)
    assert created["Data"][Attr.STATUS] == "ACTIVE"  # added to a stack whose cluster exists
    changed = send(
        receiver, "Update", {**BEFORE, "Trigger": "digest-2"}, old=BEFORE, physical_id=created["PhysicalResourceId"]
    )
    assert changed["Status"] == "SUCCESS" and changed["Data"][Attr.CLUSTER_ARN] == cluster
    assert changed["PhysicalResourceId"] != created["PhysicalResourceId"]
    assert len(snapshots_of(docdb, cluster)) == 2


def test_a_rename_snapshots_the_old_cluster_from_the_old_properties(docdb, receiver):
    old_cluster = docdb.add_cluster("orders")
    renamed = {**BEFORE, "ClusterName": "orders-v2", "Trigger": "digest-2"}
    answer = send(receiver, "Update", renamed, old=BEFORE, physical_id="no-snapshot-x")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"][Attr.CLUSTER_ARN] == old_cluster
    assert cluster_arn_for("orders-v2") not in {s.cluster_arn for s in docdb.snapshots.values()}


@pytest.mark.parametrize("status", ["STOPPED", "INACCESSIBLE_ENCRYPTION_CREDS"])
def test_a_cluster_that_is_not_active_fails_the_change_by_default(status, docdb, receiver):
    cluster = docdb.add_cluster("orders", status=status)
    answer = send(receiver, "Update", {**BEFORE, "Trigger": "digest-2"}, old=BEFORE, physical_id="no-snapshot-x")
    assert answer["Status"] == "FAILED"
    assert "orders" in answer["Reason"] and cluster in answer["Reason"] and status in answer["Reason"]
    assert "ClusterNotActive.SKIP" in answer["Reason"] and docdb.snapshots == {}


def test_a_cluster_that_is_updating_is_waited_for_then_snapshotted(docdb, receiver):
    # GIVEN a cluster still UPDATING (from some earlier change) for 3 s
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders", status="UPDATING")
    timer = threading.Timer(3.0, lambda: setattr(docdb.clusters[cluster], "status", "ACTIVE"))
    timer.start()
    # WHEN the next change comes
    props = {**BEFORE, "Trigger": "digest-2", "TimeoutSeconds": "60"}
    answer = send(receiver, "Update", props, old=BEFORE, physical_id="no-snapshot-x")
    timer.join()
    # THEN the snapshot before it was taken once the cluster was ACTIVE again
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    (snapshot,) = docdb.snapshots.values()
    assert snapshot.cluster_arn == cluster == answer["Data"][Attr.CLUSTER_ARN]


def test_a_cluster_that_is_not_active_is_skipped_when_asked(docdb, receiver):
    docdb.add_cluster("orders", status="STOPPED")
    props = {**BEFORE, "OnClusterNotActive": "skip"}
    answer = send(receiver, "Update", {**props, "Trigger": "digest-2"}, old=props, physical_id="no-snapshot-x")
    assert answer["Status"] == "SUCCESS" and "STOPPED" in answer["Data"][Attr.SKIPPED_REASON]
    assert docdb.snapshots == {}


def test_the_cluster_is_found_across_pages_of_list_clusters(docdb, receiver):
    docdb.page_size_cap = 20
    for index in range(45):
        docdb.add_cluster(f"other-{index}")
    cluster = docdb.add_cluster("orders")
    answer = send(receiver, "Create", BEFORE)
    assert answer["Data"][Attr.CLUSTER_ARN] == cluster and len(docdb.calls_to("ListClusters")) == 3


# --- Retention -------------------------------------------------------------------------------


def test_retention_prunes_only_this_constructs_snapshots_across_pages(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    docdb.page_size_cap = 20
    # GIVEN other people's snapshots: manual ones, another construct's (same prefix, other owner),
    # an automated one, and a lookalike name without any owner tag
    others = [docdb.add_snapshot(cluster, f"manual-{i}") for i in range(25)]
    others.append(docdb.add_snapshot(cluster, "orders-before-20250101000000-abcdef", tags={OWNER_TAG_KEY: "other"}))
    others.append(docdb.add_snapshot(cluster, "orders-before-20250101000001-abcdef"))
    others.append(docdb.add_snapshot(cluster, "rds:orders-2026", snapshot_type="AUTOMATED"))
    props = {**BEFORE, "RetainLast": "2"}
    # WHEN four changes each take a snapshot
    ours = []
    for change in range(4):
        answer = send(
            receiver,
            "Update",
            {**props, "Trigger": f"d{change + 1}"},
            old={**props, "Trigger": f"d{change}"},
            physical_id="no-snapshot-x",
        )
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        ours.append(answer["PhysicalResourceId"])
    # THEN only the newest two of ours remain, and every other snapshot is untouched
    assert set(docdb.snapshots) == set(others) | set(ours[-2:])
    deleted = {c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")}
    assert deleted == set(ours[:2])


def test_retention_on_elastic_cluster_snapshot_keeps_the_last_n(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    props = {"ClusterArn": cluster, "SnapshotNamePrefix": "release", "Owner": "Demo/Release", "RetainLast": "1"}
    first = send(receiver, "Create", props)["PhysicalResourceId"]
    second = send(receiver, "Update", {**props, "Trigger": "2"}, old=props, physical_id=first)["PhysicalResourceId"]
    assert list(docdb.snapshots) == [second]


# --- FinalSnapshot ---------------------------------------------------------------------------


def test_final_snapshot_create_and_in_place_update_take_no_snapshot(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    created = send(receiver, "Create", final_props(cluster))
    assert created["Status"] == "SUCCESS" and created["PhysicalResourceId"].startswith("final-snapshot-")
    updated = send(
        receiver,
        "Update",
        {**final_props(cluster), "Tags": {"team": "data"}},
        old=final_props(cluster),
        physical_id=created["PhysicalResourceId"],
    )
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"] and docdb.snapshots == {}


def test_final_snapshot_on_delete_waits_until_active(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 1.0
    physical_id = send(receiver, "Create", final_props(cluster))["PhysicalResourceId"]
    answer = send(receiver, "Delete", final_props(cluster), physical_id=physical_id)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    (snapshot,) = docdb.snapshots.values()
    assert snapshot.cluster_arn == cluster and snapshot.status() == "ACTIVE"
    assert len(docdb.calls_to("GetClusterSnapshot")) >= 1


def test_a_replaced_cluster_gets_its_final_snapshot_before_clean_up(docdb, receiver):
    old_cluster = docdb.add_cluster("orders")
    physical_id = send(receiver, "Create", final_props(old_cluster))["PhysicalResourceId"]
    new_cluster = docdb.add_cluster("orders-v2")
    answer = send(receiver, "Update", final_props(new_cluster), old=final_props(old_cluster), physical_id=physical_id)
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == physical_id
    assert answer["Data"][Attr.CLUSTER_ARN] == old_cluster
    assert [s.cluster_arn for s in docdb.snapshots.values()] == [old_cluster]


def test_a_failed_final_snapshot_fails_the_delete_and_says_how_to_proceed(docdb, receiver):
    cluster = docdb.add_cluster("orders", status="STOPPED")
    physical_id = "final-snapshot-0123456789abcdef01234567"
    answer = send(receiver, "Delete", final_props(cluster), physical_id=physical_id)
    assert answer["Status"] == "FAILED"
    assert "the cluster was not deleted" in answer["Reason"] and "STOPPED" in answer["Reason"]
    assert "--retain-resources" in answer["Reason"]


def test_final_snapshot_of_a_cluster_already_gone_succeeds(docdb, receiver):
    answer = send(receiver, "Delete", final_props(cluster_arn_for("gone")), physical_id="final-snapshot-0123")
    assert answer["Status"] == "SUCCESS" and docdb.snapshots == {}


def test_delete_of_a_final_snapshot_whose_create_failed_makes_no_call(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    answer = send(receiver, "Delete", final_props(cluster), physical_id="ProtectedStack_Final_ABCD1234")
    assert answer["Status"] == "SUCCESS" and docdb.calls == []
