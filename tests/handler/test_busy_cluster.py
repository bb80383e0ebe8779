"""A cluster that is busy (another snapshot in progress, a change being applied) is waited for:
the service's ConflictException without a snapshot of this request's name is transient."""

from __future__ import annotations

import threading

import pytest

from docdb_snapshot_handler import dispatch
from docdb_snapshot_handler.api import RetryPolicy
from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from docdb_snapshot_handler.once import Failed
from docdb_snapshot_handler.request import Services
from standins.docdb_elastic import DocDbElasticStandIn
from standins.events import cfn_event
from standins.invoke import answer
from standins.lambda_context import FakeLambdaContext


@pytest.fixture
def cluster(docdb: DocDbElasticStandIn) -> str:
    docdb.snapshot_delay = 0.0
    return docdb.add_cluster("orders")


def test_a_snapshot_refused_while_another_is_in_progress_is_taken_once_that_one_is_done(cluster, docdb, receiver):
    # GIVEN a service that allows one snapshot in progress per cluster, and someone else's
    # snapshot of the cluster still CREATING for 3 s
    docdb.one_snapshot_in_progress = True
    theirs = docdb.add_snapshot(cluster, "nightly-by-hand", creating_for=3.0)
    # WHEN this resource is created
    response = answer(receiver, cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster}))
    # THEN it waited and took its own snapshot, leaving the other one alone
    assert response["Status"] == "SUCCESS", response["Reason"]
    ours = response["PhysicalResourceId"]
    assert ours != theirs and set(docdb.snapshots) == {theirs, ours}
    assert len(docdb.calls_to("CreateClusterSnapshot")) >= 2
    assert docdb.calls_to("DeleteClusterSnapshot") == []


class FakeTime:
    """A clock that moves only when the handler sleeps: a 30-minute wait runs in no time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_cluster_busy_until_the_timeout_fails_saying_what_it_was_doing(cluster, docdb, receiver):
    import boto3

    # GIVEN a cluster that stays UPDATING, and a resource that may wait 10 minutes
    docdb.clusters[cluster].status = "UPDATING"
    fake = FakeTime()
    services = Services(
        client_factory=lambda: boto3.client("docdb-elastic", config=_CLIENT_CONFIG),
        clock=fake.clock,
        wall=fake.clock,
        sleep=fake.sleep,
        retry_policy=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01),
    )
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "600"})
    # WHEN it is created, THEN it fails at its timeout, naming the cluster's status and the remedy
    with pytest.raises(Failed) as raised:
        dispatch.create_or_update(event, FakeLambdaContext(3600), services)
    reason = str(raised.value)
    assert "the cluster was UPDATING" in reason and "ConflictException" in reason, reason
    assert "raise the timeout" in reason  # 10 minutes: it could be longer
    # AND it waited with bounded backoff (never more than 30 s and a quarter), for about 600 s
    assert max(fake.sleeps) <= 37.5 and 590 <= sum(fake.sleeps) <= 600.001
    assert docdb.snapshots == {}


def test_a_stopped_cluster_is_not_waited_for_it_fails_at_once_saying_how_to_proceed(cluster, docdb, receiver):
    # GIVEN a cluster that only its owner can bring back (the service refuses snapshots of it)
    docdb.clusters[cluster].status = "STOPPED"
    # WHEN a snapshot resource is created
    response = answer(receiver, cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster}))
    # THEN it fails after one refusal, naming the status and the remedy
    assert response["Status"] == "FAILED"
    assert "STOPPED" in response["Reason"] and "start it" in response["Reason"], response["Reason"]
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1 and docdb.snapshots == {}


def test_an_exact_name_held_by_a_snapshot_of_another_cluster_fails_naming_it(cluster, docdb, receiver):
    # GIVEN another cluster's snapshot already holds the name (names are unique per account and region)
    other = docdb.add_cluster("billing")
    theirs = docdb.add_snapshot(other, "nightly", tags={"docdb-elastic-snapshot:request": "another-request"})
    # WHEN this resource asks for the same exact name
    event = cfn_event(
        "Create", receiver.new_url(), {"ClusterArn": cluster, "SnapshotNamePrefix": None, "SnapshotName": "nightly"}
    )
    response = answer(receiver, event)
    # THEN it fails at once, naming the holder, and changes nothing
    assert response["Status"] == "FAILED" and theirs in response["Reason"], response["Reason"]
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1 and list(docdb.snapshots) == [theirs]


def test_a_final_snapshot_of_an_updating_cluster_waits_for_it(docdb, receiver):
    # GIVEN a cluster still UPDATING when CloudFormation deletes the FinalSnapshot
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders", status="UPDATING")
    timer = threading.Timer(3.0, lambda: setattr(docdb.clusters[cluster], "status", "ACTIVE"))
    timer.start()
    props = {"Mode": "final", "ClusterArn": cluster, "SnapshotNamePrefix": "orders-final"}
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    # WHEN the final snapshot is taken
    response = answer(receiver, event)
    timer.join()
    # THEN it waited for the update to end and took the snapshot
    assert response["Status"] == "SUCCESS", response["Reason"]
    (snapshot,) = docdb.snapshots.values()
    assert snapshot.cluster_arn == cluster and len(docdb.calls_to("CreateClusterSnapshot")) >= 2
