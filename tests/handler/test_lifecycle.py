"""The handler, invoked as Lambda would, against the loopback docdb-elastic stand-in; answers
are read from the loopback ResponseURL receiver."""

from __future__ import annotations

import re
from typing import Any

import pytest

from docdb_snapshot_handler.contract import REQUEST_TAG_KEY, Attr
from standins.docdb_elastic import ACCOUNT, DocDbElasticStandIn
from standins.events import cfn_event
from standins.invoke import answer
from standins.response_receiver import ResponseReceiver


def invoke(receiver: ResponseReceiver, event: dict[str, Any], budget: float = 900.0) -> dict[str, Any]:
    return answer(receiver, event, budget)


@pytest.fixture
def cluster(docdb: DocDbElasticStandIn) -> str:
    return docdb.add_cluster("orders")


def created(receiver: ResponseReceiver, cluster: str, **props: Any) -> dict[str, Any]:
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, **props})
    return invoke(receiver, event)


def test_create_takes_a_snapshot_waits_until_active_and_returns_its_arn(receiver, docdb, cluster):
    # GIVEN a cluster whose snapshots take a moment to become ACTIVE
    docdb.snapshot_delay = 0.5
    # WHEN CloudFormation sends Create
    response = created(receiver, cluster, Tags={"team": "data"})
    # THEN the answer is SUCCESS with the snapshot's ARN as physical id and every attribute
    assert response["Status"] == "SUCCESS", response["Reason"]
    arn = response["PhysicalResourceId"]
    snapshot = docdb.snapshots[arn]
    assert snapshot.cluster_arn == cluster
    assert snapshot.tags == {"team": "data", REQUEST_TAG_KEY: snapshot.tags[REQUEST_TAG_KEY]}
    assert response["Data"] == {
        Attr.SKIPPED_REASON: "",
        Attr.SNAPSHOT_ARN: arn,
        Attr.SNAPSHOT_NAME: snapshot.name,
        Attr.STATUS: "ACTIVE",
        Attr.SNAPSHOT_CREATION_TIME: snapshot.creation_time,
        Attr.CLUSTER_ARN: cluster,
        Attr.KMS_KEY_ID: "AWS_OWNED_KMS_KEY",
        Attr.SNAPSHOT_TYPE: "MANUAL",
    }
    assert len(docdb.calls_to("GetClusterSnapshot")) >= 1


def test_generated_names_carry_the_prefix_and_differ_per_request(receiver, docdb, cluster):
    first = created(receiver, cluster, SnapshotNamePrefix="orders-nightly")
    second = created(receiver, cluster, SnapshotNamePrefix="orders-nightly")
    names = [first["Data"][Attr.SNAPSHOT_NAME], second["Data"][Attr.SNAPSHOT_NAME]]
    assert all(re.fullmatch(r"orders-nightly-[0-9a-f]{21}", name) for name in names), names
    assert names[0] != names[1]
    # Time order is the creation time's, which the attributes carry.
    times = [first["Data"][Attr.SNAPSHOT_CREATION_TIME], second["Data"][Attr.SNAPSHOT_CREATION_TIME]]
    assert times[0] < times[1]


def test_exact_snapshot_name_is_used_as_given(receiver, docdb, cluster):
    response = created(receiver, cluster, SnapshotNamePrefix=None, SnapshotName="before-migration-42")
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert docdb.snapshots[response["PhysicalResourceId"]].name == "before-migration-42"


def test_update_takes_a_new_snapshot_and_keeps_the_old_one(receiver, docdb, cluster):
    # GIVEN a snapshot taken on Create
    first = created(receiver, cluster)
    # WHEN a property changes and CloudFormation sends Update
    event = cfn_event(
        "Update",
        receiver.new_url(),
        {"ClusterArn": cluster, "Trigger": "2"},
        {"ClusterArn": cluster},
        physical_id=first["PhysicalResourceId"],
    )
    second = invoke(receiver, event)
    # THEN a second snapshot exists, with a new physical id, and the first is still there
    assert second["Status"] == "SUCCESS", second["Reason"]
    assert second["PhysicalResourceId"] != first["PhysicalResourceId"]
    assert set(docdb.snapshots) == {first["PhysicalResourceId"], second["PhysicalResourceId"]}


def test_wait_for_completion_false_answers_while_the_snapshot_is_creating(receiver, docdb, cluster):
    docdb.snapshot_delay = 60
    response = created(receiver, cluster, WaitForCompletion="false")
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"][Attr.STATUS] == "CREATING"
    assert docdb.calls_to("GetClusterSnapshot") == []


@pytest.mark.parametrize("status", ["INACCESSIBLE_ENCRYPTION_CREDS", "INVALID_SUBNET_ID", "STOPPED"])
def test_a_status_that_cannot_become_active_fails_the_resource(receiver, docdb, cluster, status):
    docdb.final_status = status
    response = created(receiver, cluster)
    assert response["Status"] == "FAILED"
    assert status in response["Reason"] and "will not become ACTIVE" in response["Reason"]
    assert response["PhysicalResourceId"]


def test_properties_arrive_as_strings_and_bad_ones_fail_naming_each_property(receiver, docdb, cluster):
    event = cfn_event(
        "Create",
        receiver.new_url(),
        {
            "ClusterArn": cluster,
            "WaitForCompletion": "yes",
            "TimeoutSeconds": "9000",
            "SnapshotNamePrefix": "9-lives-",
            "Tags": {"aws:owner": "x"},
            "Colour": "blue",
        },
    )
    response = invoke(receiver, event)
    assert response["Status"] == "FAILED"
    for field in ("WaitForCompletion", "TimeoutSeconds", "SnapshotNamePrefix", "Tags", "Colour"):
        assert field in response["Reason"], field
    assert docdb.calls == []


def test_service_token_and_service_timeout_are_expected_properties(receiver, docdb, cluster):
    response = created(receiver, cluster, ServiceToken="arn:aws:lambda:x", ServiceTimeout="900")
    assert response["Status"] == "SUCCESS", response["Reason"]


def test_a_cluster_in_another_account_is_rejected_before_any_call(receiver, docdb, cluster):
    foreign = cluster.replace(ACCOUNT, "210987654321")
    response = created(receiver, foreign)
    assert response["Status"] == "FAILED"
    assert "ClusterArn" in response["Reason"] and "account" in response["Reason"]
    assert docdb.calls == []


def test_create_of_a_missing_cluster_fails_with_the_api_error(receiver, docdb):
    missing = docdb.add_cluster("gone")
    docdb.clusters.clear()
    response = created(receiver, missing)
    assert response["Status"] == "FAILED"
    assert "ResourceNotFoundException" in response["Reason"] and missing in response["Reason"]


def test_delete_in_retain_mode_keeps_the_snapshot_without_calling_the_api(receiver, docdb, cluster):
    arn = created(receiver, cluster)["PhysicalResourceId"]
    calls_before = len(docdb.calls)
    event = cfn_event("Delete", receiver.new_url(), {"ClusterArn": cluster}, physical_id=arn)
    response = invoke(receiver, event)
    assert response["Status"] == "SUCCESS" and response["PhysicalResourceId"] == arn
    assert arn in docdb.snapshots and len(docdb.calls) == calls_before


def test_delete_in_destroy_mode_deletes_and_a_second_delete_still_succeeds(receiver, docdb, cluster):
    arn = created(receiver, cluster, RemovalPolicy="destroy")["PhysicalResourceId"]
    for _ in range(2):
        event = cfn_event(
            "Delete", receiver.new_url(), {"ClusterArn": cluster, "RemovalPolicy": "destroy"}, physical_id=arn
        )
        assert invoke(receiver, event)["Status"] == "SUCCESS"
    assert arn not in docdb.snapshots
    assert len(docdb.calls_to("DeleteClusterSnapshot")) == 2


def test_delete_after_a_failed_create_succeeds_without_an_api_call(receiver, docdb, cluster):
    failed = created(receiver, cluster, SnapshotNamePrefix="-bad")
    assert failed["Status"] == "FAILED" and failed["PhysicalResourceId"]
    event = cfn_event(
        "Delete",
        receiver.new_url(),
        {"ClusterArn": cluster, "RemovalPolicy": "destroy"},
        physical_id=failed["PhysicalResourceId"],
    )
    assert invoke(receiver, event)["Status"] == "SUCCESS"
    assert docdb.calls == []
