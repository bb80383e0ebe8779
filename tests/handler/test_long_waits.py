"""Waits longer than one Lambda invocation: the handler hands its wait to a new invocation of
itself (through a loopback Lambda stand-in that runs each one in a fresh process with a small
time budget) until the snapshot is ACTIVE or the wait's own deadline passes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from docdb_snapshot_handler import entrypoint
from docdb_snapshot_handler.contract import CONTINUATION_KEY, Attr
from docdb_snapshot_handler.request import RESPONSE_RESERVE_SECONDS
from standins.docdb_elastic import DocDbElasticStandIn
from standins.events import cfn_event
from standins.lambda_context import FakeLambdaContext
from standins.lambda_service import LambdaStandIn
from standins.response_receiver import SECRET_QUERY, ResponseReceiver

REPO = Path(__file__).resolve().parents[2]
# 15 s of each invocation are kept for the answer: 20 s leave 5 s of waiting per invocation.
BUDGET = 20.0
# Windows short enough that a wait of 12 s needs several invocations however slowly each new
# process starts: the first waits 1 s, each later one 1.5 s; even 8 s of start-up between them
# leaves the first continuation ending before the snapshot does.
SHORT_FIRST = RESPONSE_RESERVE_SECONDS + 1.0
SHORT_EACH = RESPONSE_RESERVE_SECONDS + 1.5


def answers(
    receiver: ResponseReceiver, url: str, lambda_service: LambdaStandIn, within: float = 90
) -> list[dict[str, Any]]:
    """Wait for the invocation chain to finish, then return every answer CloudFormation got."""
    end = time.monotonic() + within
    while time.monotonic() < end and not (lambda_service.idle.is_set() and receiver.responses_for(url)):
        time.sleep(0.2)
    assert lambda_service.idle.wait(timeout=max(0.0, end - time.monotonic()))
    return receiver.responses_for(url)


def test_a_snapshot_slower_than_an_invocation_is_awaited_across_invocations(
    docdb: DocDbElasticStandIn, receiver, lambda_service
):
    # GIVEN a snapshot that takes 12 s, and invocations that may wait 1 to 1.5 s each
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 12
    lambda_service.budget_seconds = SHORT_EACH
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "3600"})
    # WHEN CloudFormation's Create is handled
    entrypoint.handler(event, FakeLambdaContext(SHORT_FIRST))
    # THEN the first invocation did not answer, later ones waited on, and one SUCCESS came back
    (answer,) = answers(receiver, event["ResponseURL"], lambda_service)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"][Attr.STATUS] == "ACTIVE" and list(docdb.snapshots) == [answer["PhysicalResourceId"]]
    assert len(lambda_service.invocations) >= 2
    assert all(
        i.invocation_type == "Event" and i.function == FakeLambdaContext.invoked_function_arn
        for i in lambda_service.invocations
    )
    assert [i.event[CONTINUATION_KEY]["invocation"] for i in lambda_service.invocations] == list(
        range(2, len(lambda_service.invocations) + 2)
    )
    # AND nothing but Invoke was asked of Lambda: no rule, schedule or permission to clean up
    assert lambda_service.other_requests == []
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1
    # AND no invocation logged the presigned URL
    assert all(i.returncode == 0 for i in lambda_service.invocations)
    assert not any(SECRET_QUERY in i.stderr for i in lambda_service.invocations)
    assert all(json.loads(line) for i in lambda_service.invocations for line in i.stderr.splitlines())


def test_the_wait_ends_with_failed_at_its_deadline_across_invocations(
    docdb: DocDbElasticStandIn, receiver, lambda_service
):
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 600
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "30"})
    started = time.monotonic()
    entrypoint.handler(event, FakeLambdaContext(BUDGET))
    (answer,) = answers(receiver, event["ResponseURL"], lambda_service)
    assert answer["Status"] == "FAILED" and "still CREATING when the wait ended" in answer["Reason"]
    assert len(lambda_service.invocations) >= 2
    # answered before CloudFormation would give up (ServiceTimeout is the timeout plus a minute)
    assert time.monotonic() - started < 30 + 60


def test_a_final_snapshot_on_delete_is_awaited_across_invocations(docdb: DocDbElasticStandIn, receiver, lambda_service):
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 8
    props = {"Mode": "final", "ClusterArn": cluster, "SnapshotNamePrefix": "orders-final", "Owner": "S/Final"}
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    entrypoint.handler(event, FakeLambdaContext(BUDGET))
    (answer,) = answers(receiver, event["ResponseURL"], lambda_service)
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "final-snapshot-0123456789abcdef"
    (snapshot,) = docdb.snapshots.values()
    assert snapshot.status() == "ACTIVE" and len(lambda_service.invocations) >= 1


def test_when_the_wait_cannot_continue_the_resource_fails_at_once(docdb: DocDbElasticStandIn, receiver, lambda_service):
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 60
    lambda_service.refuse_with = (403, "AccessDeniedException")
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "3600"})
    entrypoint.handler(event, FakeLambdaContext(BUDGET))
    (answer,) = receiver.responses_for(event["ResponseURL"])
    assert answer["Status"] == "FAILED"
    assert "could not continue in a new invocation" in answer["Reason"] and "AccessDenied" in answer["Reason"]


def test_a_continuation_past_the_deadline_fails_with_the_snapshot_named(docdb: DocDbElasticStandIn, receiver):
    # GIVEN a continuation whose wait began 29 of its 30 seconds ago
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 600
    arn = docdb.add_snapshot(cluster, "orders-20260101000000-abcdef")
    docdb.snapshots[arn].delay, docdb.snapshots[arn].created = 600, time.monotonic()
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "30"})
    event[CONTINUATION_KEY] = {
        "snapshotArn": arn,
        "clusterArn": cluster,
        "answerWith": None,
        "startedAt": time.time() - 29,
        "requestedAt": time.time() - 29,
        "invocation": 3,
    }
    # WHEN that invocation runs, THEN it fails within its last second, naming the snapshot
    entrypoint.handler(event, FakeLambdaContext(900))
    (answer,) = receiver.responses_for(event["ResponseURL"])
    assert answer["Status"] == "FAILED" and arn in answer["Reason"] and "still CREATING" in answer["Reason"]


def test_a_cluster_busy_longer_than_an_invocation_is_waited_for_across_invocations(
    docdb: DocDbElasticStandIn, receiver, lambda_service
):
    # GIVEN a service allowing one snapshot in progress, someone else's taking 9 s, and
    # invocations that may wait 5 s each
    cluster = docdb.add_cluster("orders")
    docdb.snapshot_delay = 0
    docdb.one_snapshot_in_progress = True
    theirs = docdb.add_snapshot(cluster, "by-hand", creating_for=9)
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "TimeoutSeconds": "3600"})
    # WHEN CloudFormation's Create is handled
    entrypoint.handler(event, FakeLambdaContext(BUDGET))
    # THEN the wait for the busy cluster went on in a new invocation, and one snapshot was taken
    (answer,) = answers(receiver, event["ResponseURL"], lambda_service)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert len(lambda_service.invocations) >= 1
    assert "snapshotArn" not in lambda_service.invocations[0].event[CONTINUATION_KEY]
    assert set(docdb.snapshots) == {theirs, answer["PhysicalResourceId"]}


def test_a_copy_slower_than_an_invocation_is_awaited_across_invocations(
    docdb: DocDbElasticStandIn, receiver, lambda_service
):
    # GIVEN a source still CREATING for 3 s, a copy that takes 9 s, and invocations
    # that may wait 5 s each
    from docdb_snapshot_handler.contract import COPY_RESOURCE_TYPE

    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release", creating_for=3)
    docdb.copy_delay = 9
    event = cfn_event("Create", receiver.new_url())
    event["ResourceType"] = COPY_RESOURCE_TYPE
    event["ResourceProperties"] = {
        "SourceSnapshotArn": source,
        "SnapshotNamePrefix": "orders-copy",
        "Owner": "Stack/Copy",
    }
    # WHEN CloudFormation's Create is handled
    entrypoint.handler(event, FakeLambdaContext(BUDGET))
    # THEN later invocations waited on, one copy was asked for, and one SUCCESS came back
    (answer,) = answers(receiver, event["ResponseURL"], lambda_service)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"][Attr.STATUS] == "ACTIVE" and len(lambda_service.invocations) >= 1
    assert [arn for arn, s in docdb.snapshots.items() if s.copied_from == source] == [answer["PhysicalResourceId"]]
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 1
    assert lambda_service.invocations[-1].event[CONTINUATION_KEY]["copyArn"] == answer["PhysicalResourceId"]
