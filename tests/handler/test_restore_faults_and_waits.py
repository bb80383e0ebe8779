"""ElasticClusterFromSnapshot under faults and long waits: 429/500 bursts on every call it makes,
waits that span several invocations, and a timeout that answers FAILED before CloudFormation's."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from docdb_snapshot_handler import entrypoint
from docdb_snapshot_handler.api import RetryPolicy
from docdb_snapshot_handler.contract import (
    CONTINUATION_KEY,
    FAILED_RESTORE_PHYSICAL_ID_PREFIX,
    ClusterAttr,
    RestoreProp,
)
from docdb_snapshot_handler.request import RESPONSE_RESERVE_SECONDS
from standins.docdb_elastic import DocDbElasticStandIn, Fault
from standins.events import restore_event
from standins.invoke import answer
from standins.lambda_context import FakeLambdaContext
from standins.lambda_service import LambdaStandIn

REPO = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)
# Every operation the restore lifecycle below calls.
OPERATIONS = (
    "ListClusterSnapshots",
    "RestoreClusterFromSnapshot",
    "GetCluster",
    "UpdateCluster",
    "ListTagsForResource",
    "CreateClusterSnapshot",
    "GetClusterSnapshot",
    "TagResource",
    "DeleteCluster",
)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    services = dataclasses.replace(
        entrypoint._SERVICES, sleep=lambda seconds: time.sleep(min(seconds, 0.02)), retry_policy=FAST
    )
    monkeypatch.setattr(entrypoint, "_SERVICES", services)


def lifecycle(docdb: DocDbElasticStandIn, receiver) -> list[str]:
    """Create from the newest snapshot with backup settings, update in place (snapshot first,
    new capacity and tags), delete with a final snapshot; the statuses CloudFormation got."""
    source = docdb.add_cluster("orders")
    docdb.add_snapshot(source, "orders-nightly")
    props = {RestoreProp.SOURCE_CLUSTER_ARN: source, RestoreProp.BACKUP_RETENTION_PERIOD: "7"}
    created = answer(receiver, restore_event("Create", receiver.new_url(), props))
    arn = created["PhysicalResourceId"]
    changed = {**props, RestoreProp.SHARD_CAPACITY: "8", RestoreProp.TAGS: {"team": "data"}}
    updated = answer(receiver, restore_event("Update", receiver.new_url(), changed, props, physical_id=arn))
    deleted = answer(receiver, restore_event("Delete", receiver.new_url(), changed, physical_id=arn))
    return [r["Status"] + ":" + r["Reason"] for r in (created, updated, deleted)]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("fault", ["429", "500"])
def test_a_burst_of_transient_faults_on_any_call_changes_nothing(operation, fault, quick, docdb, receiver):
    # GIVEN the next four calls of one operation are throttled or fail with 500
    docdb.snapshot_delay, docdb.restore_delay, docdb.update_delay = 0.05, 0.05, 0.05
    make = Fault.throttle if fault == "429" else Fault.internal
    docdb.inject(operation, *(make() for _ in range(4)))
    # WHEN the whole lifecycle runs
    statuses = lifecycle(docdb, receiver)
    # THEN every step succeeded, exactly as without faults: one restore, one final snapshot
    assert statuses == ["SUCCESS:"] * 3, statuses
    assert len(docdb.calls_to(operation)) >= 5
    assert len([c for c in docdb.calls_to("RestoreClusterFromSnapshot") if c.params]) >= 1
    assert [c.name for c in docdb.clusters.values()] == ["orders"]  # the restored one was deleted
    assert len([s for s in docdb.snapshots.values() if "final" in s.name]) == 1


def chain_answers(receiver, url: str, service: LambdaStandIn, within: float = 100) -> list[dict]:
    end = time.monotonic() + within
    while time.monotonic() < end and not (service.idle.is_set() and receiver.responses_for(url)):
        time.sleep(0.2)
    assert service.idle.wait(timeout=max(0.0, end - time.monotonic()))
    return receiver.responses_for(url)


def test_a_restore_slower_than_an_invocation_is_awaited_across_invocations(docdb, receiver, lambda_service):
    # GIVEN a restore that takes 11 s, and invocations that may wait 1 to 1.5 s each: short
    # enough that the first continuation ends before the restore however slowly it starts
    source = docdb.add_cluster("orders")
    snapshot = docdb.add_snapshot(source, "orders-nightly")
    docdb.restore_delay = 11
    lambda_service.budget_seconds = RESPONSE_RESERVE_SECONDS + 1.5
    event = restore_event("Create", receiver.new_url(), {RestoreProp.SNAPSHOT_ARN: snapshot})
    # WHEN CloudFormation's Create is handled
    started = time.monotonic()
    entrypoint.handler(event, FakeLambdaContext(RESPONSE_RESERVE_SECONDS + 1.0))
    # THEN later invocations waited on, one cluster was restored, and one SUCCESS came back
    (response,) = chain_answers(receiver, event["ResponseURL"], lambda_service)
    elapsed = time.monotonic() - started
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert len(lambda_service.invocations) >= 2
    assert all(i.event[CONTINUATION_KEY]["phase"] == "restoring" for i in lambda_service.invocations)
    assert len(docdb.calls_to("RestoreClusterFromSnapshot")) == 1
    # AND the reported duration is the restore's, measured from the first invocation's start
    assert 11 <= int(response["Data"][ClusterAttr.RESTORE_SECONDS]) <= elapsed + 1


def test_a_restore_that_outlasts_the_timeout_fails_before_cloudformation_and_names_the_cluster(
    docdb, receiver, lambda_service
):
    source = docdb.add_cluster("orders")
    snapshot = docdb.add_snapshot(source, "orders-nightly")
    docdb.restore_delay = 600
    props = {RestoreProp.SNAPSHOT_ARN: snapshot, RestoreProp.TIMEOUT_SECONDS: "30"}
    event = restore_event("Create", receiver.new_url(), props)
    started = time.monotonic()
    entrypoint.handler(event, FakeLambdaContext(20.0))
    (response,) = chain_answers(receiver, event["ResponseURL"], lambda_service)
    assert response["Status"] == "FAILED" and "still CREATING" in response["Reason"]
    # answered before CloudFormation would give up (ServiceTimeout is the timeout plus a minute)
    assert time.monotonic() - started < 30 + 60
    # AND the answer names the half-restored cluster, so the rollback's Delete removes it
    assert response["PhysicalResourceId"].startswith(FAILED_RESTORE_PHYSICAL_ID_PREFIX)
    assert response["PhysicalResourceId"].removeprefix(FAILED_RESTORE_PHYSICAL_ID_PREFIX) in docdb.clusters
