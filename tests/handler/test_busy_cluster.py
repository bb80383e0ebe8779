"""A cluster that is busy (another snapshot in progress, a change being applied) is waited for:
the service's ConflictException without a snapshot of this request's name is transient."""

from __future__ import annotations

import pytest

from docdb_snapshot_handler import lifecycle
from docdb_snapshot_handler.api import RetryPolicy
from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from docdb_snapshot_handler.once import Failed
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
    services = lifecycle.Services(
        client_factory=lambda: boto3.client("docdb-elastic", config=_CLIENT_CONFIG),
        clock=fake.clock,
        wall=fake.clock,
        sleep=fake.sleep,
        retry_policy=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01),
    )
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "600"})
    # WHEN it is created, THEN it fails at its timeout, naming the cluster's status and the remedy
    with pytest.raises(Failed) as raised:
        lifecycle.create_or_update(event, FakeLambdaContext(3600), services)
    reason = str(raised.value)
    assert "UPDATING" in reason and "ConflictException" in reason and "raise the timeout" in reason, reason
    # AND it waited with bounded backoff (never more than 30 s and a quarter), for about 600 s
    assert max(fake.sleeps) <= 37.5 and 590 <= sum(fake.sleeps) <= 600.001
    assert docdb.snapshots == {}
