"""Copies (ElasticClusterSnapshotCopy and FinalSnapshot's CopyTo), handled as CloudFormation sends
them, against the region-aware loopback stand-in: the destination's client is the one that
copies, exactly one copy per request, bounded waits, retention of the construct's own copies,
explained failures."""

from __future__ import annotations

import copy as copying
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from docdb_snapshot_handler import dispatch
from docdb_snapshot_handler.api import RetryPolicy
from docdb_snapshot_handler.contract import (
    CONTINUATION_KEY,
    COPY_RESOURCE_TYPE,
    OWNER_TAG_KEY,
    REQUEST_TAG_KEY,
    Attr,
    CopyAttr,
)
from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from docdb_snapshot_handler.once import Failed, request_token
from docdb_snapshot_handler.request import Services
from docdb_snapshot_handler.snapshots import generate_snapshot_name, owner_token
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, Fault
from standins.events import cfn_event
from standins.invoke import answer, answers
from standins.lambda_context import FakeLambdaContext

DR = "us-west-2"
KEY_DR = f"arn:aws:kms:{DR}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OWNER = "Stack/DrCopy"
PREFIX = "orders-dr"
FAST = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)


def copy_event(
    request_type: str,
    url: str,
    props: dict[str, Any],
    old: dict[str, Any] | None = None,
    physical_id: str | None = None,
) -> dict[str, Any]:
    """A copy resource's request; SnapshotNamePrefix and Owner as the construct sets them."""
    event = cfn_event(request_type, url, physical_id=physical_id)
    event["ResourceType"] = COPY_RESOURCE_TYPE
    base = {"ServiceToken": event["ServiceToken"], "SnapshotNamePrefix": PREFIX, "Owner": OWNER}
    event["ResourceProperties"] = {k: v for k, v in {**base, **props}.items() if v is not None}
    if old is not None:
        event["OldResourceProperties"] = {k: v for k, v in {**base, **old}.items() if v is not None}
    return event


@pytest.fixture
def source(docdb: DocDbElasticStandIn) -> str:
    """An ACTIVE snapshot of a cluster of us-east-1, taken by someone."""
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    return docdb.add_snapshot(cluster, "orders-before-change", tags={"team": "data"})


def the_copies(docdb: DocDbElasticStandIn, region: str) -> dict[str, Any]:
    return {arn: s for arn, s in docdb.snapshots_in(region).items() if s.copied_from}


def client_in(region: str) -> Any:
    return boto3.client("docdb-elastic", region_name=region, config=_CLIENT_CONFIG)


def services(policy: RetryPolicy = FAST) -> Services:
    return Services(client_factory=lambda: client_in(REGION), regional_client_factory=client_in, retry_policy=policy)


# --- making a copy -----------------------------------------------------------------------------


def test_a_same_region_copy_is_made_by_default_and_answered_with_its_attributes(source, docdb, receiver):
    # GIVEN a copy resource with no destination region (the function's own)
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source})
    # WHEN CloudFormation creates it
    response = answer(receiver, event)
    # THEN one copy of the source exists in the same region, and the answer describes it
    assert response["Status"] == "SUCCESS", response["Reason"]
    (arn, made), *_ = the_copies(docdb, REGION).items()
    assert len(the_copies(docdb, REGION)) == 1 and made.copied_from == source and made.status() == "ACTIVE"
    assert response["PhysicalResourceId"] == arn
    data = response["Data"]
    assert data[Attr.SNAPSHOT_ARN] == arn and data[Attr.STATUS] == "ACTIVE" and data[Attr.SKIPPED_REASON] == ""
    assert data[CopyAttr.SOURCE_SNAPSHOT_ARN] == source and data[CopyAttr.REGION] == REGION
    # AND it carries this request's tag and the construct's owner tag, and not the source's tags
    token = request_token(event["StackId"], event["LogicalResourceId"], event["RequestId"])
    assert made.name == generate_snapshot_name(PREFIX, token)
    assert made.tags == {REQUEST_TAG_KEY: token, OWNER_TAG_KEY: owner_token(event["StackId"], OWNER)}


def test_a_cross_region_copy_is_made_by_a_client_of_the_destination_region(source, docdb, receiver):
    response = answer(
        receiver,
        copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR}),
    )
    assert response["Status"] == "SUCCESS", response["Reason"]
    # THEN the copy lives in us-west-2, and nothing new in the source region
    (arn,) = the_copies(docdb, DR)
    assert response["PhysicalResourceId"] == arn and arn.split(":")[3] == DR
    assert the_copies(docdb, REGION) == {} and response["Data"][CopyAttr.REGION] == DR
    # AND CopyClusterSnapshot was signed for the destination; the source was read in its own region
    assert [c.region for c in docdb.calls_to("CopyClusterSnapshot")] == [DR]
    reads = docdb.calls_to("GetClusterSnapshot")
    assert {c.region for c in reads if c.params["snapshotArn"] == source} == {REGION}
    assert {c.region for c in reads if c.params["snapshotArn"] == arn} <= {DR}


def test_copy_tags_copies_the_sources_tags_but_never_its_request_and_owner_tags(docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    theirs = {"team": "data", "cost": "1", REQUEST_TAG_KEY: "another-request", OWNER_TAG_KEY: "another-owner"}
    source = docdb.add_snapshot(cluster, "orders-release", tags=theirs)
    response = answer(
        receiver,
        copy_event(
            "Create",
            receiver.new_url(),
            {"SourceSnapshotArn": source, "DestinationRegion": DR, "CopyTags": "true", "Tags": {"cost": "2"}},
        ),
    )
    assert response["Status"] == "SUCCESS", response["Reason"]
    (made,) = the_copies(docdb, DR).values()
    assert made.tags["team"] == "data" and made.tags["cost"] == "2"
    assert made.tags[REQUEST_TAG_KEY] != "another-request" and made.tags[OWNER_TAG_KEY] != "another-owner"


def test_the_same_request_delivered_three_times_makes_one_copy_and_three_identical_answers(source, docdb, receiver):
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR})
    sent = answers(receiver, event, times=3)
    assert len(sent) == 3 and all(a == sent[0] for a in sent) and sent[0]["Status"] == "SUCCESS"
    assert list(the_copies(docdb, DR)) == [sent[0]["PhysicalResourceId"]]
    # AND the later deliveries were refused by name and adopted the first one's copy
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 3


def test_a_source_still_creating_is_waited_for_before_it_is_copied(docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release", creating_for=2.5)
    response = answer(
        receiver, copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR})
    )
    assert response["Status"] == "SUCCESS", response["Reason"]
    # THEN CopyClusterSnapshot was asked once, when the source was ACTIVE
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 1
    assert len([c for c in docdb.calls_to("GetClusterSnapshot") if c.params["snapshotArn"] == source]) >= 2


def test_a_source_not_active_by_the_deadline_fails_naming_it_and_copies_nothing(docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release", creating_for=600)
    # GIVEN a continuation whose wait began 29 of its 30 seconds ago
    event = copy_event(
        "Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR, "TimeoutSeconds": "30"}
    )
    event[CONTINUATION_KEY] = {"startedAt": time.time() - 29, "invocation": 2}
    response = answer(receiver, event)
    assert response["Status"] == "FAILED"
    assert source in response["Reason"] and "still CREATING" in response["Reason"]
    assert docdb.calls_to("CopyClusterSnapshot") == []


def test_an_empty_source_makes_no_copy_and_says_why(docdb, receiver):
    response = answer(receiver, copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": ""}))
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"][Attr.SNAPSHOT_ARN] == "" and "empty" in response["Data"][Attr.SKIPPED_REASON]
    assert docdb.calls == []


def test_every_broken_rule_is_reported_at_once_before_any_api_call(source, docdb, receiver):
    props = {
        "SourceSnapshotArn": "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/not-a-snapshot",
        "DestinationRegion": "US West 2",
        "KmsKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "SnapshotNamePrefix": "9-bad",
        "Tags": {"aws:reserved": "x"},
        "RetainLast": "0",
    }
    response = answer(receiver, copy_event("Create", receiver.new_url(), props))
    assert response["Status"] == "FAILED"
    for prop in ("SourceSnapshotArn", "DestinationRegion", "KmsKeyId", "SnapshotNamePrefix", "Tags", "RetainLast"):
        assert prop + ":" in response["Reason"], (prop, response["Reason"])
    assert docdb.calls == []


def test_a_key_of_another_region_than_the_destination_fails_naming_both(source, docdb, receiver):
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    props = {"SourceSnapshotArn": source, "DestinationRegion": DR, "KmsKeyId": key}
    response = answer(receiver, copy_event("Create", receiver.new_url(), props))
    assert response["Status"] == "FAILED" and "KmsKeyId:" in response["Reason"]
    assert DR in response["Reason"] and REGION in response["Reason"] and docdb.calls == []


# --- failures the service reports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        ("missing-source", ["does not exist in us-east-1", "source_snapshot_arn"]),
        ("unusable-key", [KEY_DR, DR, "is disabled", "key policy"]),
        ("encrypted-without-key", ["needs kms_key_id", DR]),
        ("quota", ["ServiceQuotaExceededException", f"snapshots in {DR}"]),
        ("region-not-enabled", [f"{DR} may not be enabled", "UnrecognizedClientException"]),
        ("name-taken", ["already exists", "not created by this request", "snapshot_name_prefix"]),
    ],
)
def test_service_refusals_fail_with_a_reason_that_says_what_to_do(arrange, expected, docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release")
    props: dict[str, Any] = {"SourceSnapshotArn": source, "DestinationRegion": DR}
    event = copy_event("Create", receiver.new_url(), props)
    if arrange == "missing-source":
        props["SourceSnapshotArn"] = source.replace(source[-6:], "ffffff")
    elif arrange == "unusable-key":
        props["KmsKeyId"] = KEY_DR
        docdb.kms_key_errors[KEY_DR] = (400, "ValidationException", f"KMS key {KEY_DR} is disabled")
    elif arrange == "encrypted-without-key":
        encrypted = docdb.add_snapshot(cluster, "orders-encrypted", kms_key_id=KEY_DR.replace(DR, REGION))
        props["SourceSnapshotArn"] = encrypted
    elif arrange == "quota":
        docdb.inject("CopyClusterSnapshot", Fault(402, "ServiceQuotaExceededException", "quota"))
    elif arrange == "region-not-enabled":
        docdb.disabled_regions.add(DR)
    elif arrange == "name-taken":
        token = request_token(event["StackId"], event["LogicalResourceId"], event["RequestId"])
        docdb.add_snapshot(cluster, generate_snapshot_name(PREFIX, token), tags={REQUEST_TAG_KEY: "other"}, region=DR)
    event["ResourceProperties"].update(props)
    response = answer(receiver, event)
    assert response["Status"] == "FAILED"
    for text in expected:
        assert text in response["Reason"], (text, response["Reason"])
    assert the_copies(docdb, DR) == {}


@pytest.mark.parametrize(
    "operation", ["GetClusterSnapshot", "CopyClusterSnapshot", "ListClusterSnapshots", "ListTagsForResource"]
)
@pytest.mark.parametrize("fault", [Fault.throttle, Fault.internal])
def test_bursts_of_transient_faults_on_any_call_still_give_one_copy(operation, fault, source, docdb, receiver):
    # GIVEN retention (so every call of the path is made), and four faults in a row on one call
    docdb.add_snapshot(docdb.snapshots[source].cluster_arn, "by-hand", region=DR)
    docdb.inject(operation, *(fault() for _ in range(4)))
    event = copy_event(
        "Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR, "RetainLast": "1"}
    )
    arn, data = dispatch.create_or_update(event, FakeLambdaContext(), services())
    assert data[Attr.STATUS] == "ACTIVE" and list(the_copies(docdb, DR)) == [arn]
    assert len(docdb.calls_to(operation)) >= 5


def test_a_fault_burst_on_delete_with_destroy_is_absorbed(source, docdb, receiver):
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR})
    arn, _ = dispatch.create_or_update(event, FakeLambdaContext(), services())
    docdb.inject("DeleteClusterSnapshot", Fault.throttle(), Fault.internal(), Fault.throttle())
    delete = copy_event(
        "Delete", receiver.new_url(), {"SourceSnapshotArn": source, "RemovalPolicy": "destroy"}, physical_id=arn
    )
    assert dispatch.delete(delete, FakeLambdaContext(), services()) == arn
    assert the_copies(docdb, DR) == {}


def test_a_permanent_error_is_not_retried(source, docdb, receiver):
    docdb.inject("CopyClusterSnapshot", Fault(403, "AccessDeniedException", "not authorized"))
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR})
    with pytest.raises(Failed) as raised:
        dispatch.create_or_update(event, FakeLambdaContext(), services())
    assert "AccessDeniedException" in str(raised.value) and "literal ARN" in str(raised.value)
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 1


# --- retention, updates, deletion ----------------------------------------------------------------


def test_retention_prunes_only_this_constructs_own_copies_in_the_destination(source, docdb, receiver):
    cluster = docdb.snapshots[source].cluster_arn
    event = copy_event(
        "Create", receiver.new_url(), {"SourceSnapshotArn": source, "DestinationRegion": DR, "RetainLast": "2"}
    )
    mine = {OWNER_TAG_KEY: owner_token(event["StackId"], OWNER)}
    # GIVEN in us-west-2: two older copies of ours, a manual snapshot, another construct's copies
    # with the same prefix, and one of ours in the source region
    ours = [docdb.add_snapshot(cluster, f"{PREFIX}-{i:021x}", tags=mine, region=DR) for i in (1, 2)]
    manual = docdb.add_snapshot(cluster, "by-hand", region=DR)
    other = docdb.add_snapshot(cluster, f"{PREFIX}-{3:021x}", tags={OWNER_TAG_KEY: "another"}, region=DR)
    untagged = docdb.add_snapshot(cluster, f"{PREFIX}-{4:021x}", region=DR)
    home = docdb.add_snapshot(cluster, f"{PREFIX}-{5:021x}", tags=mine)
    # WHEN a new copy is made
    response = answer(receiver, event)
    assert response["Status"] == "SUCCESS", response["Reason"]
    # THEN only our oldest copy in the destination was deleted
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [ours[0]]
    assert {ours[1], manual, other, untagged, home, response["PhysicalResourceId"], source} == set(docdb.snapshots)


@pytest.mark.parametrize(("policy", "kept"), [("retain", True), ("destroy", False), (None, True)])
def test_delete_keeps_the_copy_unless_destroy_which_deletes_it_in_its_region(policy, kept, source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "DestinationRegion": DR, "RemovalPolicy": policy}
    created = answer(receiver, copy_event("Create", receiver.new_url(), props))
    arn = created["PhysicalResourceId"]
    deleted = answer(receiver, copy_event("Delete", receiver.new_url(), props, physical_id=arn))
    assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == arn
    assert (arn in docdb.snapshots) is kept
    assert [c.region for c in docdb.calls_to("DeleteClusterSnapshot")] == ([] if kept else [DR])
    # AND a second Delete (the copy already gone) is success too
    again = answer(receiver, copy_event("Delete", receiver.new_url(), props, physical_id=arn))
    assert again["Status"] == "SUCCESS"


def test_delete_after_a_failed_create_makes_no_call(docdb, receiver):
    response = answer(
        receiver,
        copy_event("Delete", receiver.new_url(), {"RemovalPolicy": "destroy"}, physical_id="DrCopy1234"),
    )
    assert response["Status"] == "SUCCESS" and docdb.calls == []


def test_an_update_with_a_new_source_makes_a_new_copy_and_keeps_the_old_one(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "DestinationRegion": DR}
    first = answer(receiver, copy_event("Create", receiver.new_url(), props))["PhysicalResourceId"]
    newer = docdb.add_snapshot(docdb.snapshots[source].cluster_arn, "orders-before-change-2")
    changed = {**props, "SourceSnapshotArn": newer}
    second = answer(receiver, copy_event("Update", receiver.new_url(), changed, old=props, physical_id=first))
    assert second["Status"] == "SUCCESS" and second["PhysicalResourceId"] != first
    assert set(the_copies(docdb, DR)) == {first, second["PhysicalResourceId"]}
    assert docdb.snapshots[second["PhysicalResourceId"]].copied_from == newer


def test_an_update_of_tags_or_retention_only_keeps_the_current_copy(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "DestinationRegion": DR}
    first = answer(receiver, copy_event("Create", receiver.new_url(), props))["PhysicalResourceId"]
    changed = {**props, "Tags": {"team": "data"}, "RetainLast": "3", "TimeoutSeconds": "900"}
    update = answer(receiver, copy_event("Update", receiver.new_url(), changed, old=props, physical_id=first))
    assert update["Status"] == "SUCCESS" and update["PhysicalResourceId"] == first
    assert update["Data"][Attr.SNAPSHOT_ARN] == first and len(docdb.calls_to("CopyClusterSnapshot")) == 1


def test_an_update_to_an_empty_source_keeps_the_old_copy_and_says_why(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "DestinationRegion": DR}
    first = answer(receiver, copy_event("Create", receiver.new_url(), props))["PhysicalResourceId"]
    empty = {**props, "SourceSnapshotArn": ""}
    update = answer(receiver, copy_event("Update", receiver.new_url(), empty, old=props, physical_id=first))
    assert update["Status"] == "SUCCESS" and update["PhysicalResourceId"] == first
    assert update["Data"][Attr.SKIPPED_REASON] and first in docdb.snapshots


# --- FinalSnapshot with CopyTo ------------------------------------------------------------------


def final_props(cluster_arn: str, copy_to: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Mode": "final",
        "ClusterArn": cluster_arn,
        "SnapshotNamePrefix": "orders-final",
        "Owner": "Demo/Final",
        "Tags": {"protection": "final"},
        "CopyTo": copy_to,
    }


def test_a_final_snapshot_is_copied_to_every_destination_before_the_delete_succeeds(docdb, receiver):
    docdb.snapshot_delay = 0.3
    docdb.copy_delay = 0.6
    cluster = docdb.add_cluster("orders")
    props = final_props(cluster, [{"Region": DR}, {"Region": "eu-west-1"}])
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    response = answer(receiver, event)
    # THEN the final snapshot and one copy in each destination were ACTIVE when SUCCESS was sent
    assert response["Status"] == "SUCCESS", response["Reason"]
    (final,) = docdb.snapshots_in(REGION).values()
    assert final.status() == "ACTIVE" and final.tags["protection"] == "final"
    for region in (DR, "eu-west-1"):
        (made,) = docdb.snapshots_in(region).values()
        assert made.copied_from == final.arn and made.status() == "ACTIVE" and made.tags["protection"] == "final"
    # AND each copy was polled until ACTIVE before the next step (the answer came after them)
    polled = {c.params["snapshotArn"] for c in docdb.calls_to("GetClusterSnapshot")}
    assert all(arn in polled for region in (DR, "eu-west-1") for arn in docdb.snapshots_in(region))


def test_a_final_snapshot_delivered_twice_gives_one_copy_per_destination(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    props = final_props(cluster, [{"Region": DR}])
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    sent = answers(receiver, event, times=2)
    assert [a["Status"] for a in sent] == ["SUCCESS", "SUCCESS"]
    assert len(docdb.snapshots_in(REGION)) == 1 and len(docdb.snapshots_in(DR)) == 1


def test_a_failed_copy_of_the_final_snapshot_keeps_the_cluster_and_says_how_to_proceed(docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    docdb.disabled_regions.add("ap-east-1")
    props = final_props(cluster, [{"Region": DR}, {"Region": "ap-east-1"}])
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    response = answer(receiver, event)
    # THEN the Delete failed (so CloudFormation keeps the cluster), naming the final snapshot,
    # the region, the cause and the ways out
    assert response["Status"] == "FAILED"
    (final,) = docdb.snapshots_in(REGION)
    reason = response["Reason"]
    assert final in reason and "ap-east-1" in reason and "may not be enabled" in reason
    assert "cluster was not deleted" in reason and f"--retain-resources {event['LogicalResourceId']}" in reason
    assert reason.count("The final snapshot") == 1
    assert cluster in docdb.clusters and len(docdb.snapshots_in(DR)) == 1


def test_copy_to_is_validated_before_any_call(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    docdb.reset_calls()
    copy_to = [{"Region": "mars-1"}, {"Region": DR, "KmsKeyId": "alias/dr"}, {"Region": DR}]
    event = cfn_event("Create", receiver.new_url(), final_props(cluster, copy_to))
    response = answer(receiver, event)
    assert response["Status"] == "FAILED"
    for text in ("CopyTo[0].Region", "CopyTo[1].KmsKeyId", "each region at most once"):
        assert text in response["Reason"], (text, response["Reason"])
    assert docdb.calls == []


# --- start-up cost -------------------------------------------------------------------------------


def test_a_plain_snapshot_create_neither_loads_the_copies_module_nor_makes_a_regional_client(
    aws_env, docdb, receiver, repo_root: Path
):
    # GIVEN a fresh interpreter, as a Lambda cold start
    cluster = docdb.add_cluster("orders")
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    script = (
        "import json, sys; from docdb_snapshot_handler import entrypoint; "
        "from standins.lambda_context import FakeLambdaContext; "
        "entrypoint.handler(json.loads(sys.argv[1]), FakeLambdaContext()); "
        "print(json.dumps([any(m in sys.modules for m in ('docdb_snapshot_handler.copying', "
        "'docdb_snapshot_handler.kinds.copy')), len(entrypoint._regional_clients)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(event)],
        env={**aws_env, "PYTHONPATH": f"{repo_root / 'lambda'}:{repo_root / 'tests'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # WHEN it handles a plain snapshot Create, THEN it succeeded without either
    assert receiver.responses_for(event["ResponseURL"])[0]["Status"] == "SUCCESS"
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False, 0]


def test_copy_events_are_routed_by_resource_type_only(source, docdb, receiver):
    # A copy's properties sent as a snapshot resource are refused as unknown properties
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source})
    as_snapshot = copying.deepcopy(event)
    as_snapshot["ResourceType"] = "Custom::DocDbElasticClusterSnapshot"
    as_snapshot["RequestId"] = str(uuid.uuid4())
    response = answer(receiver, as_snapshot)
    assert response["Status"] == "FAILED" and "unknown properties 'SourceSnapshotArn'" in response["Reason"]
    assert docdb.calls_to("CopyClusterSnapshot") == []
