"""Copies (ElasticClusterSnapshotCopy and FinalSnapshot's CopyTo), handled as CloudFormation sends
them, against the region-aware loopback stand-in: copies in the source's region only (as AWS
documents), another region refused before any call, exactly one copy per request, bounded waits,
retention of the construct's own copies, explained failures."""

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

OTHER_REGION = "us-west-2"
#: A second customer managed key of the stack's region, the one copies are made under.
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OWNER = "Stack/KeyCopy"
PREFIX = "orders-copy"
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
    return Services(client_factory=lambda: client_in(REGION), retry_policy=policy)


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


def test_a_copy_under_another_key_is_made_in_the_sources_region(source, docdb, receiver):
    # GIVEN a copy resource with a key of the stack's region, and the stack's region named
    props = {"SourceSnapshotArn": source, "KmsKeyId": KEY, "DestinationRegion": REGION}
    # WHEN CloudFormation creates it
    response = answer(receiver, copy_event("Create", receiver.new_url(), props))
    # THEN the copy is under that key, in the source's region, made by that region's client
    assert response["Status"] == "SUCCESS", response["Reason"]
    (arn, made), *_ = the_copies(docdb, REGION).items()
    assert response["PhysicalResourceId"] == arn and made.kms_key_id == KEY and made.copied_from == source
    assert response["Data"][CopyAttr.REGION] == REGION
    assert [(c.region, c.params.get("kmsKeyId")) for c in docdb.calls_to("CopyClusterSnapshot")] == [(REGION, KEY)]
    assert {c.region for c in docdb.calls} == {REGION}


def test_an_automated_snapshot_gets_a_manual_copy_that_outlives_it(docdb, receiver):
    # GIVEN an automated snapshot of a cluster (deleted with its cluster, and after 1-35 days)
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    automated = docdb.add_snapshot(cluster, "rds:orders-2026-12-01", snapshot_type="AUTOMATED")
    # WHEN it is copied
    response = answer(receiver, copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": automated}))
    # THEN the copy is a manual snapshot, which stays when the cluster and the automated one go
    assert response["Status"] == "SUCCESS", response["Reason"]
    made = docdb.snapshots[response["PhysicalResourceId"]]
    assert made.copied_from == automated and made.describe()["snapshotType"] == "MANUAL"
    del docdb.clusters[cluster], docdb.snapshots[automated]
    assert docdb.snapshots[response["PhysicalResourceId"]].status() == "ACTIVE"


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"DestinationRegion": OTHER_REGION}, "DestinationRegion"),
        ({"SourceSnapshotArn": f"arn:aws:docdb-elastic:{OTHER_REGION}:{ACCOUNT}:cluster-snapshot/abc"}, "region"),
        ({"SourceSnapshotArn": f"arn:aws:docdb-elastic:{REGION}:210987654321:cluster-snapshot/abc"}, "account"),
    ],
    ids=["destination region", "source of another region", "source of another account"],
)
def test_another_region_or_account_is_refused_before_any_call_with_the_rule(props, field, source, docdb, receiver):
    # GIVEN a stack whose region was unknown at synth time (environment-agnostic), so only the
    # function, in us-east-1, can tell that the copy asks for another region or account
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, **props})
    docdb.reset_calls()
    # WHEN CloudFormation creates it
    response = answer(receiver, event)
    # THEN it fails naming the property and the rule, and made no call at all
    assert response["Status"] == "FAILED"
    reason = response["Reason"]
    assert field in reason and "only within the same region and the same account" in reason, reason
    assert "elastic-managing-snapshots" in reason
    assert docdb.calls == [] and the_copies(docdb, REGION) == {} and the_copies(docdb, OTHER_REGION) == {}


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
            {"SourceSnapshotArn": source, "CopyTags": "true", "Tags": {"cost": "2"}},
        ),
    )
    assert response["Status"] == "SUCCESS", response["Reason"]
    (made,) = the_copies(docdb, REGION).values()
    assert made.tags["team"] == "data" and made.tags["cost"] == "2"
    assert made.tags[REQUEST_TAG_KEY] != "another-request" and made.tags[OWNER_TAG_KEY] != "another-owner"


@pytest.mark.usefixtures("taken_name")
def test_the_same_request_delivered_three_times_makes_one_copy_and_three_identical_answers(source, docdb, receiver):
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "KmsKeyId": KEY})
    sent = answers(receiver, event, times=3)
    assert len(sent) == 3 and all(a == sent[0] for a in sent) and sent[0]["Status"] == "SUCCESS"
    assert list(the_copies(docdb, REGION)) == [sent[0]["PhysicalResourceId"]]
    # AND the later deliveries were refused by name and adopted the first one's copy
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 3


def test_a_source_still_creating_is_waited_for_before_it_is_copied(docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release", creating_for=2.5)
    response = answer(
        receiver, copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "KmsKeyId": KEY})
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
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "TimeoutSeconds": "30"})
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


def test_a_key_of_another_region_than_the_stacks_fails_naming_both(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "KmsKeyId": KEY.replace(REGION, OTHER_REGION)}
    docdb.reset_calls()
    response = answer(receiver, copy_event("Create", receiver.new_url(), props))
    assert response["Status"] == "FAILED" and "KmsKeyId:" in response["Reason"]
    assert OTHER_REGION in response["Reason"] and REGION in response["Reason"] and docdb.calls == []


# --- failures the service reports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        ("missing-source", ["does not exist in this account and region", "source_snapshot_arn"]),
        ("unusable-key", [KEY, "is disabled", "key policy"]),
        ("quota", ["ServiceQuotaExceededException", "snapshots in this region", "retain_last"]),
        ("name-taken", ["already exists", "not created by this request", "snapshot_name_prefix"]),
    ],
)
def test_service_refusals_fail_with_a_reason_that_says_what_to_do(arrange, expected, docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release")
    props: dict[str, Any] = {"SourceSnapshotArn": source}
    event = copy_event("Create", receiver.new_url(), props)
    if arrange == "missing-source":
        props["SourceSnapshotArn"] = source.replace(source[-6:], "ffffff")
    elif arrange == "unusable-key":
        props["KmsKeyId"] = KEY
        docdb.kms_key_errors[KEY] = (400, "ValidationException", f"KMS key {KEY} is disabled")
    elif arrange == "quota":
        docdb.inject("CopyClusterSnapshot", Fault(402, "ServiceQuotaExceededException", "quota"))
    elif arrange == "name-taken":
        token = request_token(event["StackId"], event["LogicalResourceId"], event["RequestId"])
        docdb.add_snapshot(cluster, generate_snapshot_name(PREFIX, token), tags={REQUEST_TAG_KEY: "other"})
    event["ResourceProperties"].update(props)
    response = answer(receiver, event)
    assert response["Status"] == "FAILED"
    for text in expected:
        assert text in response["Reason"], (text, response["Reason"])
    assert the_copies(docdb, REGION) == {}


@pytest.mark.parametrize(
    "operation", ["GetClusterSnapshot", "CopyClusterSnapshot", "ListClusterSnapshots", "ListTagsForResource"]
)
@pytest.mark.parametrize("fault", [Fault.throttle, Fault.internal])
def test_bursts_of_transient_faults_on_any_call_still_give_one_copy(operation, fault, source, docdb, receiver):
    # GIVEN retention (so every call of the path is made), and four faults in a row on one call
    docdb.add_snapshot(docdb.snapshots[source].cluster_arn, "by-hand")
    docdb.inject(operation, *(fault() for _ in range(4)))
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "RetainLast": "1"})
    arn, data = dispatch.create_or_update(event, FakeLambdaContext(), services())
    assert data[Attr.STATUS] == "ACTIVE" and list(the_copies(docdb, REGION)) == [arn]
    assert len(docdb.calls_to(operation)) >= 5


def test_a_fault_burst_on_delete_with_destroy_is_absorbed(source, docdb, receiver):
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "KmsKeyId": KEY})
    arn, _ = dispatch.create_or_update(event, FakeLambdaContext(), services())
    docdb.inject("DeleteClusterSnapshot", Fault.throttle(), Fault.internal(), Fault.throttle())
    delete = copy_event(
        "Delete", receiver.new_url(), {"SourceSnapshotArn": source, "RemovalPolicy": "destroy"}, physical_id=arn
    )
    assert dispatch.delete(delete, FakeLambdaContext(), services()) == arn
    assert the_copies(docdb, REGION) == {}


def test_a_permanent_error_is_not_retried(source, docdb, receiver):
    docdb.inject("CopyClusterSnapshot", Fault(403, "AccessDeniedException", "not authorized"))
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "KmsKeyId": KEY})
    with pytest.raises(Failed) as raised:
        dispatch.create_or_update(event, FakeLambdaContext(), services())
    assert "AccessDeniedException" in str(raised.value) and "service control policies" in str(raised.value)
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 1


# --- retention, updates, deletion ----------------------------------------------------------------


def test_retention_prunes_only_this_constructs_own_copies(source, docdb, receiver):
    cluster = docdb.snapshots[source].cluster_arn
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "RetainLast": "2"})
    mine = {OWNER_TAG_KEY: owner_token(event["StackId"], OWNER)}
    # GIVEN two older copies of ours, a manual snapshot, another construct's copies with the same
    # prefix, and an untagged one with it
    ours = [docdb.add_snapshot(cluster, f"{PREFIX}-{i:021x}", tags=mine) for i in (1, 2)]
    manual = docdb.add_snapshot(cluster, "by-hand")
    other = docdb.add_snapshot(cluster, f"{PREFIX}-{3:021x}", tags={OWNER_TAG_KEY: "another"})
    untagged = docdb.add_snapshot(cluster, f"{PREFIX}-{4:021x}")
    # WHEN a new copy is made
    response = answer(receiver, event)
    assert response["Status"] == "SUCCESS", response["Reason"]
    # THEN only our oldest copy was deleted
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [ours[0]]
    assert {ours[1], manual, other, untagged, response["PhysicalResourceId"], source} == set(docdb.snapshots)


@pytest.mark.parametrize(("policy", "kept"), [("retain", True), ("destroy", False), (None, True)])
def test_delete_keeps_the_copy_unless_destroy_which_deletes_it(policy, kept, source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "KmsKeyId": KEY, "RemovalPolicy": policy}
    created = answer(receiver, copy_event("Create", receiver.new_url(), props))
    arn = created["PhysicalResourceId"]
    deleted = answer(receiver, copy_event("Delete", receiver.new_url(), props, physical_id=arn))
    assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == arn
    assert (arn in docdb.snapshots) is kept
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == ([] if kept else [arn])
    # AND a second Delete (the copy already gone) is success too
    again = answer(receiver, copy_event("Delete", receiver.new_url(), props, physical_id=arn))
    assert again["Status"] == "SUCCESS"


def test_delete_after_a_failed_create_makes_no_call(docdb, receiver):
    response = answer(
        receiver,
        copy_event("Delete", receiver.new_url(), {"RemovalPolicy": "destroy"}, physical_id="KeyCopy1234"),
    )
    assert response["Status"] == "SUCCESS" and docdb.calls == []


def test_an_update_with_a_new_source_makes_a_new_copy_and_keeps_the_old_one(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "KmsKeyId": KEY}
    first = answer(receiver, copy_event("Create", receiver.new_url(), props))["PhysicalResourceId"]
    newer = docdb.add_snapshot(docdb.snapshots[source].cluster_arn, "orders-before-change-2")
    changed = {**props, "SourceSnapshotArn": newer}
    second = answer(receiver, copy_event("Update", receiver.new_url(), changed, old=props, physical_id=first))
    assert second["Status"] == "SUCCESS" and second["PhysicalResourceId"] != first
    assert set(the_copies(docdb, REGION)) == {first, second["PhysicalResourceId"]}
    assert docdb.snapshots[second["PhysicalResourceId"]].copied_from == newer


def test_an_update_of_tags_or_retention_only_keeps_the_current_copy(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "KmsKeyId": KEY}
    first = answer(receiver, copy_event("Create", receiver.new_url(), props))["PhysicalResourceId"]
    changed = {**props, "Tags": {"team": "data"}, "RetainLast": "3", "TimeoutSeconds": "900"}
    update = answer(receiver, copy_event("Update", receiver.new_url(), changed, old=props, physical_id=first))
    assert update["Status"] == "SUCCESS" and update["PhysicalResourceId"] == first
    assert update["Data"][Attr.SNAPSHOT_ARN] == first and len(docdb.calls_to("CopyClusterSnapshot")) == 1


def test_an_update_to_an_empty_source_keeps_the_old_copy_and_says_why(source, docdb, receiver):
    props = {"SourceSnapshotArn": source, "KmsKeyId": KEY}
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


def test_a_final_snapshot_and_its_copy_under_another_key_are_active_before_the_delete_succeeds(docdb, receiver):
    docdb.snapshot_delay = 0.3
    docdb.copy_delay = 0.6
    cluster = docdb.add_cluster("orders")
    props = final_props(cluster, [{"KmsKeyId": KEY}])
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    response = answer(receiver, event)
    # THEN the final snapshot and its copy under the key were ACTIVE when SUCCESS was sent
    assert response["Status"] == "SUCCESS", response["Reason"]
    (final,) = [s for s in docdb.snapshots.values() if not s.copied_from]
    (made,) = the_copies(docdb, REGION).values()
    assert final.status() == "ACTIVE" and final.tags["protection"] == "final"
    assert made.copied_from == final.arn and made.status() == "ACTIVE" and made.tags["protection"] == "final"
    assert made.kms_key_id == KEY
    # AND the copy was polled until ACTIVE before the answer
    polled = {c.params["snapshotArn"] for c in docdb.calls_to("GetClusterSnapshot")}
    assert made.arn in polled


@pytest.mark.usefixtures("taken_name")
def test_a_final_snapshot_delivered_twice_gives_one_copy(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    props = final_props(cluster, [{"KmsKeyId": KEY}])
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    sent = answers(receiver, event, times=2)
    assert [a["Status"] for a in sent] == ["SUCCESS", "SUCCESS"]
    assert len(docdb.snapshots_in(REGION)) == 2 and len(the_copies(docdb, REGION)) == 1


def test_a_failed_copy_of_the_final_snapshot_keeps_the_cluster_and_says_how_to_proceed(docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    docdb.kms_key_errors[KEY] = (400, "ValidationException", f"KMS key {KEY} is pending deletion")
    props = final_props(cluster, [{"KmsKeyId": KEY}])
    event = cfn_event("Delete", receiver.new_url(), props, physical_id="final-snapshot-0123456789abcdef")
    response = answer(receiver, event)
    # THEN the Delete failed (so CloudFormation keeps the cluster), naming the final snapshot,
    # the key, the cause and the ways out
    assert response["Status"] == "FAILED"
    (final,) = docdb.snapshots_in(REGION)
    reason = response["Reason"]
    assert final in reason and KEY in reason and "pending deletion" in reason
    assert "cluster was not deleted" in reason and f"--retain-resources {event['LogicalResourceId']}" in reason
    assert reason.count("The final snapshot") == 1
    assert cluster in docdb.clusters and the_copies(docdb, REGION) == {}


def test_copy_to_is_validated_before_any_call(docdb, receiver):
    cluster = docdb.add_cluster("orders")
    docdb.reset_calls()
    copy_to = [{"Region": "mars-1"}, {"Region": OTHER_REGION}, {"KmsKeyId": "alias/copies"}]
    event = cfn_event("Create", receiver.new_url(), final_props(cluster, copy_to))
    response = answer(receiver, event)
    assert response["Status"] == "FAILED"
    for text in (
        "CopyTo[0].Region",
        f"CopyTo[1].Region: must be the stack's region {REGION}",
        "CopyTo[2].KmsKeyId",
        "at most 1 destination",
    ):
        assert text in response["Reason"], (text, response["Reason"])
    assert docdb.calls == []


# --- start-up cost -------------------------------------------------------------------------------


def test_a_plain_snapshot_create_does_not_load_the_copies_module(aws_env, docdb, receiver, repo_root: Path):
    # GIVEN a fresh interpreter, as a Lambda cold start
    cluster = docdb.add_cluster("orders")
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    script = (
        "import json, sys; from docdb_snapshot_handler import entrypoint; "
        "from standins.lambda_context import FakeLambdaContext; "
        "entrypoint.handler(json.loads(sys.argv[1]), FakeLambdaContext()); "
        "print(json.dumps([any(m in sys.modules for m in ('docdb_snapshot_handler.copying', "
        "'docdb_snapshot_handler.kinds.copy'))]))"
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
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False]


def test_copy_events_are_routed_by_resource_type_only(source, docdb, receiver):
    # A copy's properties sent as a snapshot resource are refused as unknown properties
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source})
    as_snapshot = copying.deepcopy(event)
    as_snapshot["ResourceType"] = "Custom::DocDbElasticClusterSnapshot"
    as_snapshot["RequestId"] = str(uuid.uuid4())
    response = answer(receiver, as_snapshot)
    assert response["Status"] == "FAILED" and "unknown properties 'SourceSnapshotArn'" in response["Reason"]
    assert docdb.calls_to("CopyClusterSnapshot") == []
