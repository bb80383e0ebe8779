"""Lambda delivers an asynchronous event at least once, and a retry may start while the first
attempt still runs. Each delivery here runs the bundled handler in a process of its own (an
execution environment of its own) against the stand-in, whose answers are computed on arrival
and delivered late, so the deliveries overlap deterministically."""

from __future__ import annotations

from pathlib import Path

import pytest

from docdb_snapshot_handler.contract import COPY_RESOURCE_TYPE, REQUEST_TAG_KEY, CopyAttr, CopyProp, Prop
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn
from standins.response_receiver import ResponseReceiver
from synth_support import templates


def slow_service(docdb: DocDbElasticStandIn) -> None:
    """Every answer takes a while to arrive, and the snapshot a few seconds to be ACTIVE: a second
    delivery always finds the first one mid-call. Six seconds leave room for a fresh process's
    start on a loaded machine (the latest delivery starts 2.5 s after the first)."""
    docdb.snapshot_delay = 6.0
    docdb.latency = {"CreateClusterSnapshot": 2.0, "ListClusterSnapshots": 0.6, "ListTagsForResource": 0.4}


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
    # AND they really overlapped: the second asked before the first one's snapshot was ACTIVE
    # (and, started together, before the first create's answer had even arrived)
    (snapshot,) = docdb.snapshots.values()
    assert creates[1].at < snapshot.created + docdb.snapshot_delay
    if offset == 0.0:
        assert creates[1].at < creates[0].answered_at


@pytest.mark.usefixtures("taken_name")
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
    docdb.snapshot_delay = 6.0
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


@pytest.mark.parametrize("offset", [0.0, 0.7])
@pytest.mark.usefixtures("taken_name")
def test_overlapping_deliveries_of_a_copy_under_another_key_make_one_copy(
    offset, standin_synth: Path, receiver: ResponseReceiver, aws_env, docdb
):
    # GIVEN the demo stack's copy of its before-change snapshots under its second key, whose
    # source is ACTIVE
    template = templates(standin_synth)["DocDbElasticProtectedClusterDemo.template.json"]
    logical_id, resource = next((k, r) for k, r in template["Resources"].items() if r["Type"] == COPY_RESOURCE_TYPE)
    (source_id, _) = resource["Properties"][CopyProp.SOURCE_SNAPSHOT_ARN]["Fn::GetAtt"]
    source = docdb.add_snapshot(docdb.add_cluster("orders-demo"), "orders-demo-before")
    (key_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"
    attributes = {(source_id, "SnapshotArn"): source, (key_id, "Arn"): key_arn}
    properties = as_cloudformation_sends(resource["Properties"], attributes)
    handler = BundledHandler(standin_synth, template, receiver, aws_env)
    docdb.copy_delay = 3.0
    docdb.latency = {"CopyClusterSnapshot": 1.0, "ListClusterSnapshots": 0.6, "ListTagsForResource": 0.4}
    # WHEN its Create is delivered twice, overlapping
    event = handler.event("Create", logical_id, properties, resource_type=COPY_RESOURCE_TYPE)
    answers = handler.deliver_overlapping(event, [0.0, offset])
    # THEN one copy exists, under the key, and both answers name it alike
    assert len(answers) == 2 and answers[0] == answers[1], answers
    assert answers[0]["Status"] == "SUCCESS", answers[0]["Reason"]
    copies = [arn for arn, s in docdb.snapshots.items() if s.copied_from == source and s.kms_key_id == key_arn]
    assert copies == [answers[0]["PhysicalResourceId"]]
    assert answers[0]["Data"][CopyAttr.SOURCE_SNAPSHOT_ARN] == source
    creates = docdb.calls_to("CopyClusterSnapshot")
    assert len(creates) == 2 and creates[0].params["targetSnapshotName"] == creates[1].params["targetSnapshotName"]
