"""At-least-once delivery and CloudFormation rollbacks, as sequences of real event shapes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from docdb_snapshot_handler.contract import REQUEST_TAG_KEY
from standins.docdb_elastic import DocDbElasticStandIn, Fault
from standins.events import cfn_event
from standins.invoke import answers
from standins.response_receiver import ResponseReceiver


@pytest.fixture
def cluster(docdb: DocDbElasticStandIn) -> str:
    docdb.snapshot_delay = 0.0
    return docdb.add_cluster("orders")


def deliver(receiver: ResponseReceiver, event: dict[str, Any], times: int = 1) -> list[dict[str, Any]]:
    """Invoke the handler with the same event `times` times; every answer sent for it."""
    return answers(receiver, event, times)


@pytest.mark.parametrize(
    ("naming", "create_calls"),
    [
        ({}, 3),  # the name is the request's own: each repeat meets a conflict and adopts
        ({"SnapshotNamePrefix": None, "SnapshotName": "orders-before-v2"}, 3),
    ],
    ids=["generated-name", "exact-name"],
)
@pytest.mark.usefixtures("taken_name")
def test_the_same_create_delivered_three_times_takes_one_snapshot_and_answers_alike(
    naming, create_calls, cluster, docdb, receiver
):
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, **naming})
    answers = deliver(receiver, event, times=3)
    assert len(answers) == 3 and answers[0] == answers[1] == answers[2]
    assert answers[0]["Status"] == "SUCCESS", answers[0]["Reason"]
    assert list(docdb.snapshots) == [answers[0]["PhysicalResourceId"]]
    assert len(docdb.calls_to("CreateClusterSnapshot")) == create_calls


@pytest.mark.usefixtures("taken_name")
def test_a_redelivered_update_adopts_its_own_snapshot_even_when_the_clock_moved(cluster, docdb, receiver):
    first = deliver(receiver, cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster}))[0]
    update = cfn_event(
        "Update",
        receiver.new_url(),
        {"ClusterArn": cluster, "Trigger": "2"},
        {"ClusterArn": cluster},
        physical_id=first["PhysicalResourceId"],
    )
    deliver(receiver, update)
    time.sleep(1.1)  # a later delivery generates a name with another timestamp
    answers = deliver(receiver, update)
    assert answers[0] == answers[1] and answers[0]["Status"] == "SUCCESS"
    assert len(docdb.snapshots) == 2


@pytest.mark.usefixtures("taken_name")
def test_an_exact_name_taken_by_someone_else_fails_and_is_not_adopted(cluster, docdb, receiver):
    theirs = docdb.add_snapshot(cluster, "orders-before-v2", tags={"owner": "someone-else"})
    event = cfn_event(
        "Create",
        receiver.new_url(),
        {"ClusterArn": cluster, "SnapshotNamePrefix": None, "SnapshotName": "orders-before-v2"},
    )
    (answer,) = deliver(receiver, event)
    assert answer["Status"] == "FAILED"
    assert "already exists" in answer["Reason"] and theirs in answer["Reason"]
    assert "not created by this request" in answer["Reason"] and "snapshot_name_prefix" in answer["Reason"]
    assert list(docdb.snapshots) == [theirs]


@pytest.mark.usefixtures("taken_name")
def test_a_lookalike_generated_name_of_another_request_is_never_adopted(cluster, docdb, receiver):
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "SnapshotNamePrefix": "orders"})
    # GIVEN a snapshot whose name looks like this request's, but tagged by another request
    from docdb_snapshot_handler.snapshots import generate_snapshot_name, request_token

    token = request_token(event["StackId"], event["LogicalResourceId"], event["RequestId"])
    lookalike = docdb.add_snapshot(cluster, generate_snapshot_name("orders", token), tags={REQUEST_TAG_KEY: "other"})
    (answer,) = deliver(receiver, event)
    assert answer["Status"] == "FAILED" and lookalike in answer["Reason"]
    assert list(docdb.snapshots) == [lookalike]


def test_redelivery_finds_its_snapshot_across_pages_of_the_listing(cluster, docdb, receiver):
    docdb.page_size_cap = 20
    for index in range(45):
        docdb.add_snapshot(cluster, f"manual-{index}")
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    answers = deliver(receiver, event, times=2)
    assert answers[0] == answers[1] and len(docdb.snapshots) == 46
    # The first delivery lists nothing; the second meets the conflict and pages until it finds it.
    assert len(docdb.calls_to("ListClusterSnapshots")) == 3


@pytest.mark.parametrize("removal", ["retain", "destroy"])
def test_a_failed_update_then_its_rollback_then_delete_lose_nothing_but_what_destroy_asks(
    removal, cluster, docdb, receiver
):
    old = {"ClusterArn": cluster, "RemovalPolicy": removal, "Trigger": "1"}
    new = {**old, "Trigger": "2"}
    created = deliver(receiver, cfn_event("Create", receiver.new_url(), old))[0]
    original = created["PhysicalResourceId"]

    # GIVEN an Update that fails (the service refuses)
    docdb.inject("CreateClusterSnapshot", Fault(402, "ServiceQuotaExceededException", "quota reached"))
    failed = deliver(receiver, cfn_event("Update", receiver.new_url(), new, old, physical_id=original))[0]
    assert failed["Status"] == "FAILED" and failed["PhysicalResourceId"] == original

    # WHEN CloudFormation rolls back: Update with the old properties, then the stack is deleted
    rollback = deliver(receiver, cfn_event("Update", receiver.new_url(), old, new, physical_id=original))[0]
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    deleted = deliver(
        receiver, cfn_event("Delete", receiver.new_url(), old, physical_id=rollback["PhysicalResourceId"])
    )[0]
    assert deleted["Status"] == "SUCCESS"

    # THEN nothing was deleted but, with DESTROY, the current snapshot at stack deletion
    remaining = set(docdb.snapshots)
    if removal == "retain":
        assert remaining == {original, rollback["PhysicalResourceId"]}
        assert docdb.calls_to("DeleteClusterSnapshot") == []
    else:
        assert remaining == {original}
        assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [
            rollback["PhysicalResourceId"]
        ]


def test_an_update_whose_stack_fails_later_keeps_both_snapshots(cluster, docdb, receiver):
    # GIVEN Create, then a successful Update (a new physical id: CloudFormation sees a replacement
    # and, with UpdateReplacePolicy Retain, never deletes the old one)
    old = {"ClusterArn": cluster, "Trigger": "1"}
    new = {**old, "Trigger": "2"}
    first = deliver(receiver, cfn_event("Create", receiver.new_url(), old))[0]["PhysicalResourceId"]
    second = deliver(receiver, cfn_event("Update", receiver.new_url(), new, old, physical_id=first))[0]
    # WHEN another resource fails and CloudFormation rolls our resource back to the old properties
    rolled = deliver(
        receiver, cfn_event("Update", receiver.new_url(), old, new, physical_id=second["PhysicalResourceId"])
    )[0]
    # THEN every snapshot taken along the way is still there
    assert rolled["Status"] == "SUCCESS"
    assert set(docdb.snapshots) == {first, second["PhysicalResourceId"], rolled["PhysicalResourceId"]}
    assert docdb.calls_to("DeleteClusterSnapshot") == []
