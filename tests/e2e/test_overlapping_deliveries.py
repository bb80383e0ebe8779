"""Lambda delivers an asynchronous event at least once, and a retry may start while the first
attempt still runs. Each delivery here runs the bundled handler in a process of its own (an
execution environment of its own) against the stand-in, whose answers are computed on arrival
and delivered late, so the deliveries overlap deterministically."""

from __future__ import annotations

import pytest

from docdb_snapshot_handler.contract import REQUEST_TAG_KEY, Prop
from standins.docdb_elastic import DocDbElasticStandIn


def slow_service(docdb: DocDbElasticStandIn) -> None:
    """Every answer takes a while to arrive, and the snapshot a few seconds to be ACTIVE: a second
    delivery always finds the first one mid-call."""
    docdb.snapshot_delay = 3.0
    docdb.latency = {"CreateClusterSnapshot": 1.0, "ListClusterSnapshots": 0.6, "ListTagsForResource": 0.4}


def assert_one_snapshot_and_identical_answers(docdb: DocDbElasticStandIn, answers: list[dict], deliveries: int):
    assert len(answers) == deliveries
    assert all(answer["Status"] == "SUCCESS" for answer in answers), [a["Reason"] for a in answers]
    assert all(answer == answers[0] for answer in answers), answers
    assert list(docdb.snapshots) == [answers[0]["PhysicalResourceId"]]


@pytest.mark.parametrize("offset", [0.0, 0.5, 1.1, 2.5])
def test_two_overlapping_deliveries_of_one_create_take_one_snapshot(offset, sample_stack, docdb):
    handler, logical_id, properties = sample_stack
    cluster = docdb.add_cluster("orders")
    assert properties[Prop.CLUSTER_ARN] == cluster
    slow_service(docdb)
    # GIVEN one Create, WHEN it is delivered twice, the second `offset` seconds after the first
    event = handler.event("Create", logical_id, properties)
    answers = handler.deliver_overlapping(event, [0.0, offset])
    # THEN one snapshot exists, and both answers name it alike
    assert_one_snapshot_and_identical_answers(docdb, answers, 2)
    # AND both deliveries asked the service for the same name: the second was refused
    creates = docdb.calls_to("CreateClusterSnapshot")
    assert len(creates) == 2 and creates[0].params["snapshotName"] == creates[1].params["snapshotName"]


def test_three_overlapping_deliveries_of_one_update_take_one_snapshot(sample_stack, docdb):
    handler, logical_id, properties = sample_stack
    docdb.add_cluster("orders")
    created = handler.send("Create", logical_id, properties)
    docdb.reset_calls()
    slow_service(docdb)
    changed = {**properties, Prop.TRIGGER: "release-2"}
    event = handler.event("Update", logical_id, changed, old=properties, physical_id=created["PhysicalResourceId"])
    answers = handler.deliver_overlapping(event, [0.0, 0.5, 1.1])
    assert len(answers) == 3 and all(a == answers[0] for a in answers), answers
    assert answers[0]["Status"] == "SUCCESS", answers[0]["Reason"]
    assert set(docdb.snapshots) == {created["PhysicalResourceId"], answers[0]["PhysicalResourceId"]}


def test_an_overlapping_delivery_never_adopts_a_snapshot_another_request_tagged(sample_stack, docdb):
    handler, logical_id, properties = sample_stack
    cluster = docdb.add_cluster("orders")
    slow_service(docdb)
    event = handler.event("Create", logical_id, properties)
    # GIVEN someone else's snapshot already holds the name this request derives
    from docdb_snapshot_handler.once import request_token
    from docdb_snapshot_handler.snapshots import generate_snapshot_name

    token = request_token(event["StackId"], logical_id, event["RequestId"])
    theirs = docdb.add_snapshot(
        cluster, generate_snapshot_name(properties[Prop.SNAPSHOT_NAME_PREFIX], token), tags={REQUEST_TAG_KEY: "other"}
    )
    # WHEN two deliveries overlap, THEN both fail naming it, and nothing else exists
    answers = handler.deliver_overlapping(event, [0.0, 0.5])
    assert [a["Status"] for a in answers] == ["FAILED", "FAILED"]
    assert all(theirs in a["Reason"] for a in answers)
    assert list(docdb.snapshots) == [theirs]


def test_two_snapshot_resources_of_one_busy_cluster_at_once_both_succeed(sample_stack, docdb):
    handler, logical_id, properties = sample_stack
    docdb.add_cluster("orders")
    # GIVEN a service that refuses a second snapshot while one of the cluster is in progress
    docdb.one_snapshot_in_progress = True
    docdb.snapshot_delay = 3.0
    # WHEN two resources of the stack snapshot the cluster at the same time
    release = {
        **properties,
        Prop.SNAPSHOT_NAME_PREFIX: "orders-release",
        Prop.RETAIN_LAST: "3",
        Prop.OWNER: "S/Release",
    }
    events = [handler.event("Create", logical_id, properties), handler.event("Create", "Release", release)]
    processes = [handler.start(event) for event in events]
    for process in processes:
        handler.finish(process)
    answers = [handler.receiver.responses_for(event["ResponseURL"]) for event in events]
    # THEN the later one waited for the first: each took its own snapshot
    assert [len(a) for a in answers] == [1, 1]
    assert all(a[0]["Status"] == "SUCCESS" for a in answers), [a[0]["Reason"] for a in answers]
    assert set(docdb.snapshots) == {answers[0][0]["PhysicalResourceId"], answers[1][0]["PhysicalResourceId"]}
    assert len(docdb.calls_to("CreateClusterSnapshot")) >= 3
