"""Copies (ElasticClusterSnapshotCopy), handled as CloudFormation sends them, against the
region-aware loopback stand-in: copies in the source's region only (as AWS documents), another
region refused before any call, exactly one copy per request, bounded waits, explained refusals;
and the copy code loaded only for copies. (Service faults: test_copy_faults.py; retention, updates
and deletion: test_copy_lifecycle.py; FinalSnapshot's CopyTo: test_copy_final_snapshot.py.)"""

from __future__ import annotations

import copy as copying
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from copy_support import KEY, OTHER_REGION, OWNER, PREFIX, copy_event, the_copies
from docdb_snapshot_handler.contract import CONTINUATION_KEY, OWNER_TAG_KEY, REQUEST_TAG_KEY, Attr, CopyAttr
from docdb_snapshot_handler.once import request_token
from docdb_snapshot_handler.snapshots import generate_snapshot_name, owner_token
from standins.docdb_elastic import ACCOUNT, REGION
from standins.events import cfn_event
from standins.invoke import answer, answers

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
