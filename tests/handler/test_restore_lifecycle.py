"""ElasticClusterFromSnapshot's handler through the Lambda entry point, against the stand-in:
every lifecycle line of issue 10 (create, exactly once, update in place, replacement, delete per
removal policy, rollback) with polls shortened to 20 ms so each test takes well under a second."""

from __future__ import annotations

from typing import Any

import pytest

from docdb_snapshot_handler import entrypoint
from docdb_snapshot_handler.contract import (
    FAILED_RESTORE_PHYSICAL_ID_PREFIX,
    IDENTITY_TAG_KEY,
    REQUEST_TAG_KEY,
    SOURCE_TAG_KEY,
    ClusterAttr,
    RestoreProp,
)
from docdb_snapshot_handler.once import request_token
from standins.docdb_elastic import DocDbElasticStandIn
from standins.events import RESTORE_STACK_ID, restore_event
from standins.invoke import answer
from standins.response_receiver import ResponseReceiver

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]
GROUPS = ["sg-0a1b2c3d4e5f60718"]


@pytest.fixture(autouse=True)
def polls_quickly(quick_polls: None) -> None:
    """Poll every 20 ms instead of every 2 s (conftest's quick_polls), in every test here."""


@pytest.fixture
def source(docdb: DocDbElasticStandIn) -> dict[str, str]:
    """A source cluster with one ACTIVE manual snapshot."""
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    snapshot = docdb.add_snapshot(cluster, "orders-nightly")
    docdb.restore_delay = docdb.update_delay = docdb.delete_delay = 0.05
    return {"cluster": cluster, "snapshot": snapshot}


def send(receiver: ResponseReceiver, request_type: str, props: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return answer(receiver, restore_event(request_type, receiver.new_url(), props, **kwargs))


def restored(docdb: DocDbElasticStandIn, arn: str):
    return docdb.clusters[arn]


def writes(docdb: DocDbElasticStandIn) -> list[str]:
    return [
        c.operation
        for c in docdb.calls
        if c.operation
        in {"RestoreClusterFromSnapshot", "UpdateCluster", "DeleteCluster", "CreateClusterSnapshot", "TagResource"}
        | {"UntagResource", "DeleteClusterSnapshot"}
    ]


def test_create_restores_the_snapshot_waits_until_active_and_answers_with_the_cluster(source, docdb, receiver):
    # GIVEN a snapshot and restore props with network, shards, tags and backup settings
    props = {
        RestoreProp.SNAPSHOT_ARN: source["snapshot"],
        RestoreProp.CLUSTER_NAME_PREFIX: "RestoreStack-Restored",
        RestoreProp.SUBNET_IDS: SUBNETS,
        RestoreProp.VPC_SECURITY_GROUP_IDS: GROUPS,
        RestoreProp.SHARD_CAPACITY: "4",
        RestoreProp.TAGS: {"team": "data"},
        RestoreProp.BACKUP_RETENTION_PERIOD: "7",
        RestoreProp.PREFERRED_BACKUP_WINDOW: "02:00-02:30",
    }
    # WHEN CloudFormation sends Create
    response = send(receiver, "Create", props)
    # THEN one ACTIVE cluster exists, named from the prefix, restored from that snapshot, with
    # the settings the restore call takes and, applied afterwards, the backup settings
    assert response["Status"] == "SUCCESS", response["Reason"]
    arn = response["PhysicalResourceId"]
    cluster = restored(docdb, arn)
    assert cluster.status == "ACTIVE" and cluster.name.startswith("restorestack-restored-")
    assert cluster.settings["shardCapacity"] == 4 and cluster.settings["subnetIds"] == SUBNETS
    assert cluster.settings["backupRetentionPeriod"] == 7 and cluster.settings["preferredBackupWindow"] == "02:00-02:30"
    assert cluster.tags["team"] == "data" and cluster.tags[SOURCE_TAG_KEY] == source["snapshot"]
    data = response["Data"]
    assert data[ClusterAttr.CLUSTER_ARN] == arn and data[ClusterAttr.STATUS] == "ACTIVE"
    assert data[ClusterAttr.SNAPSHOT_ARN] == source["snapshot"] and data[ClusterAttr.CLUSTER_NAME] == cluster.name
    assert data[ClusterAttr.CLUSTER_ENDPOINT].startswith(cluster.name)
    assert data[ClusterAttr.RESTORE_SECONDS].isdigit()
    # AND the backup settings were applied only once the restore was ACTIVE, one per call
    ops = writes(docdb)
    assert ops == ["RestoreClusterFromSnapshot", "UpdateCluster", "UpdateCluster"]


def test_without_backup_settings_the_cluster_is_not_updated_after_the_restore(source, docdb, receiver):
    response = send(receiver, "Create", {RestoreProp.SNAPSHOT_ARN: source["snapshot"]})
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert writes(docdb) == ["RestoreClusterFromSnapshot"]


def test_source_cluster_restores_its_newest_active_snapshot_manual_or_automated(source, docdb, receiver):
    # GIVEN manual and automated snapshots of the cluster, the newest of them still CREATING
    cluster = source["cluster"]
    automated = docdb.add_snapshot(cluster, "rds:orders-auto", snapshot_type="AUTOMATED")
    docdb.add_snapshot(cluster, "orders-in-progress", creating_for=600)
    other = docdb.add_cluster("payments")
    docdb.add_snapshot(other, "payments-newer")
    # WHEN a restore of the cluster's newest snapshot is created
    response = send(receiver, "Create", {RestoreProp.SOURCE_CLUSTER_ARN: cluster})
    # THEN the newest ACTIVE one of that cluster was restored, and the attribute says which
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"][ClusterAttr.SNAPSHOT_ARN] == automated
    (restore,) = docdb.calls_to("RestoreClusterFromSnapshot")
    assert restore.params["snapshotArn"] == automated


def test_a_source_cluster_without_an_active_snapshot_fails_naming_it_and_restores_nothing(docdb, receiver):
    cluster = docdb.add_cluster("empty")
    docdb.add_snapshot(cluster, "empty-in-progress", creating_for=600)
    response = send(receiver, "Create", {RestoreProp.SOURCE_CLUSTER_ARN: cluster})
    assert response["Status"] == "FAILED" and cluster in response["Reason"]
    assert "no ACTIVE snapshot" in response["Reason"]
    assert docdb.calls_to("RestoreClusterFromSnapshot") == []


BAD_PROPS = {
    "both sources": ({RestoreProp.SOURCE_CLUSTER_ARN: "X"}, "give exactly one"),
    "cluster name": ({RestoreProp.CLUSTER_NAME: "9lives"}, RestoreProp.CLUSTER_NAME),
    "name with --": ({RestoreProp.CLUSTER_NAME: "a--b"}, RestoreProp.CLUSTER_NAME),
    "name too long": ({RestoreProp.CLUSTER_NAME: "a" * 64}, RestoreProp.CLUSTER_NAME),
    "prefix": ({RestoreProp.CLUSTER_NAME_PREFIX: "p" * 51}, RestoreProp.CLUSTER_NAME_PREFIX),
    "shard capacity": ({RestoreProp.SHARD_CAPACITY: "3"}, RestoreProp.SHARD_CAPACITY),
    "instance count": ({RestoreProp.SHARD_INSTANCE_COUNT: "17"}, RestoreProp.SHARD_INSTANCE_COUNT),
    "retention": ({RestoreProp.BACKUP_RETENTION_PERIOD: "36"}, RestoreProp.BACKUP_RETENTION_PERIOD),
    "backup window": ({RestoreProp.PREFERRED_BACKUP_WINDOW: "02:00-02:10"}, RestoreProp.PREFERRED_BACKUP_WINDOW),
    "maintenance": ({RestoreProp.PREFERRED_MAINTENANCE_WINDOW: "someday"}, RestoreProp.PREFERRED_MAINTENANCE_WINDOW),
    "subnets": ({RestoreProp.SUBNET_IDS: ["vpc-123"]}, RestoreProp.SUBNET_IDS),
    "groups": ({RestoreProp.VPC_SECURITY_GROUP_IDS: []}, RestoreProp.VPC_SECURITY_GROUP_IDS),
    "kms key": ({RestoreProp.KMS_KEY_ID: "my key"}, RestoreProp.KMS_KEY_ID),
    "tags": ({RestoreProp.TAGS: {"aws:x": "1"}}, RestoreProp.TAGS),
    "removal policy": ({RestoreProp.REMOVAL_POLICY: "snapshot-and-keep"}, RestoreProp.REMOVAL_POLICY),
    "before update": ({RestoreProp.SNAPSHOT_BEFORE_UPDATE: "yes"}, RestoreProp.SNAPSHOT_BEFORE_UPDATE),
    "timeout": ({RestoreProp.TIMEOUT_SECONDS: "7200"}, RestoreProp.TIMEOUT_SECONDS),
    "unknown": ({"Snapshot": "x"}, "unknown properties"),
}


@pytest.mark.parametrize("case", sorted(BAD_PROPS))
def test_a_bad_property_fails_naming_it_before_any_call(case, source, docdb, receiver):
    change, named = BAD_PROPS[case]
    docdb.reset_calls()
    response = send(receiver, "Create", {RestoreProp.SNAPSHOT_ARN: source["snapshot"], **change})
    assert response["Status"] == "FAILED" and response["Reason"].startswith("Invalid properties: ")
    assert named in response["Reason"]
    assert docdb.calls == []


def test_neither_source_fails_and_every_broken_rule_is_listed_at_once(docdb, receiver):
    response = send(receiver, "Create", {RestoreProp.SHARD_CAPACITY: "3", RestoreProp.CLUSTER_NAME: "-x"})
    reason = response["Reason"]
    assert response["Status"] == "FAILED" and "neither was given" in reason
    assert RestoreProp.SHARD_CAPACITY in reason and RestoreProp.CLUSTER_NAME in reason
    assert docdb.calls == []


@pytest.mark.usefixtures("taken_name")
def test_a_redelivered_create_gives_one_cluster_and_the_same_answer(source, docdb, receiver):
    event = restore_event("Create", receiver.new_url(), {RestoreProp.SNAPSHOT_ARN: source["snapshot"]})
    entrypoint.handler(event, _context())
    entrypoint.handler(event, _context())
    first, second = receiver.responses_for(event["ResponseURL"])
    assert first["Status"] == second["Status"] == "SUCCESS", (first["Reason"], second["Reason"])
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert first["Data"][ClusterAttr.SNAPSHOT_ARN] == second["Data"][ClusterAttr.SNAPSHOT_ARN]
    assert [c for c in docdb.clusters if c != source["cluster"]] == [first["PhysicalResourceId"]]
    assert len(docdb.calls_to("RestoreClusterFromSnapshot")) == 2  # the second was refused by name


def test_a_cluster_with_the_name_that_this_request_did_not_restore_fails_and_is_left_alone(source, docdb, receiver):
    # GIVEN someone else's cluster already has the exact name
    theirs = docdb.add_cluster("orders-restored")
    docdb.reset_calls()
    props = {RestoreProp.SNAPSHOT_ARN: source["snapshot"], RestoreProp.CLUSTER_NAME: "orders-restored"}
    response = send(receiver, "Create", props)
    assert response["Status"] == "FAILED" and theirs in response["Reason"]
    assert "choose another cluster_name" in response["Reason"]
    assert docdb.clusters[theirs].status == "ACTIVE" and len(docdb.clusters) == 2
    # (an untagged resource of the name is re-read a few times before it is called foreign)
    assert set(writes(docdb)) == {"RestoreClusterFromSnapshot"}


def created(source, receiver, **extra: Any) -> tuple[dict[str, Any], str]:
    props = {RestoreProp.SNAPSHOT_ARN: source["snapshot"], RestoreProp.TAGS: {"team": "data"}, **extra}
    response = send(receiver, "Create", props)
    assert response["Status"] == "SUCCESS", response["Reason"]
    return props, response["PhysicalResourceId"]


@pytest.mark.usefixtures("update_fields")
def test_an_update_in_place_snapshots_the_cluster_first_then_changes_it(source, docdb, receiver):
    props, arn = created(source, receiver)
    docdb.reset_calls()
    changed = {**props, RestoreProp.SHARD_CAPACITY: "8", RestoreProp.SHARD_INSTANCE_COUNT: "2"}
    response = send(receiver, "Update", changed, old_properties=props, physical_id=arn)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == arn and response["Data"][ClusterAttr.STATUS] == "ACTIVE"
    assert restored(docdb, arn).settings["shardCapacity"] == 8
    assert restored(docdb, arn).settings["shardInstanceCount"] == 2
    # the snapshot was taken of this cluster, and was ACTIVE before UpdateCluster was called, once
    # per member: whether AWS takes several in one call is undocumented
    assert writes(docdb) == ["CreateClusterSnapshot", "UpdateCluster", "UpdateCluster"]
    members = [sorted(set(c.params) - {"clusterArn", "clientToken"}) for c in docdb.calls_to("UpdateCluster")]
    assert members == [["shardInstanceCount"], ["shardCapacity"]]
    (snapshot,) = [s for s in docdb.snapshots.values() if s.cluster_arn == arn]
    polled = [i for i, c in enumerate(docdb.calls) if c.operation in ("GetClusterSnapshot", "UpdateCluster")]
    assert snapshot.status() == "ACTIVE" and docdb.calls[polled[-1]].operation == "UpdateCluster"
    assert snapshot.tags["team"] == "data"


def test_without_snapshot_before_update_no_snapshot_is_taken(source, docdb, receiver):
    props, arn = created(source, receiver, **{RestoreProp.SNAPSHOT_BEFORE_UPDATE: "false"})
    docdb.reset_calls()
    changed = {**props, RestoreProp.PREFERRED_MAINTENANCE_WINDOW: "mon:01:00-mon:02:00"}
    response = send(receiver, "Update", changed, old_properties=props, physical_id=arn)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert writes(docdb) == ["UpdateCluster"]


def test_a_tags_only_update_retags_without_snapshot_or_update(source, docdb, receiver):
    props, arn = created(source, receiver)
    docdb.reset_calls()
    changed = {**props, RestoreProp.TAGS: {"owner": "ops"}}
    response = send(receiver, "Update", changed, old_properties=props, physical_id=arn)
    assert response["Status"] == "SUCCESS", response["Reason"]
    tags = restored(docdb, arn).tags
    assert tags["owner"] == "ops" and "team" not in tags and tags[REQUEST_TAG_KEY]
    assert writes(docdb) == ["TagResource", "UntagResource"]


def test_an_update_of_a_stopped_cluster_fails_naming_its_status(source, docdb, receiver):
    props, arn = created(source, receiver)
    restored(docdb, arn).status = "STOPPED"
    docdb.reset_calls()
    response = send(
        receiver, "Update", {**props, RestoreProp.SHARD_CAPACITY: "8"}, old_properties=props, physical_id=arn
    )
    assert response["Status"] == "FAILED" and "STOPPED" in response["Reason"]
    assert response["PhysicalResourceId"] == arn and writes(docdb) == []


def test_a_new_snapshot_restores_a_new_cluster_and_keeps_the_old_for_cloudformation(source, docdb, receiver):
    props, arn = created(source, receiver)
    newer = docdb.add_snapshot(source["cluster"], "orders-newer")
    changed = {**props, RestoreProp.SNAPSHOT_ARN: newer}
    response = send(receiver, "Update", changed, old_properties=props, physical_id=arn)
    assert response["Status"] == "SUCCESS", response["Reason"]
    new_arn = response["PhysicalResourceId"]
    assert new_arn != arn and response["Data"][ClusterAttr.SNAPSHOT_ARN] == newer
    assert restored(docdb, arn).status == "ACTIVE" and restored(docdb, new_arn).status == "ACTIVE"
    assert restored(docdb, new_arn).name != restored(docdb, arn).name


def test_a_replacement_with_an_unchanged_exact_name_fails_before_any_write(source, docdb, receiver):
    props, arn = created(source, receiver, **{RestoreProp.CLUSTER_NAME: "orders-copy"})
    docdb.reset_calls()
    response = send(receiver, "Update", {**props, RestoreProp.TRIGGER: "2"}, old_properties=props, physical_id=arn)
    assert response["Status"] == "FAILED" and "change cluster_name" in response["Reason"]
    assert "generated name" in response["Reason"] and writes(docdb) == []


def test_the_rollback_of_a_replacement_keeps_the_original_cluster(source, docdb, receiver):
    # GIVEN a cluster restored with trigger 1, and an update to trigger 2 that failed
    props, arn = created(source, receiver, **{RestoreProp.TRIGGER: "1"})
    failed = {**props, RestoreProp.TRIGGER: "2"}
    docdb.reset_calls()
    # WHEN CloudFormation rolls back: an Update back to trigger 1, on the original cluster
    response = send(receiver, "Update", props, old_properties=failed, physical_id=arn)
    # THEN the original cluster is the answer, and nothing was restored
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == arn and docdb.calls_to("RestoreClusterFromSnapshot") == []
    assert restored(docdb, arn).tags[IDENTITY_TAG_KEY]


def test_delete_by_default_takes_a_final_snapshot_then_deletes_the_cluster(source, docdb, receiver):
    props, arn = created(source, receiver)
    docdb.reset_calls()
    response = send(receiver, "Delete", props, physical_id=arn)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert arn not in docdb.clusters
    (final,) = [s for s in docdb.snapshots.values() if s.cluster_arn == arn]
    assert final.status() == "ACTIVE" and "final" in final.name
    assert writes(docdb) == ["CreateClusterSnapshot", "DeleteCluster"]


def test_delete_with_destroy_deletes_without_a_snapshot_and_retain_makes_no_call(source, docdb, receiver):
    props, arn = created(source, receiver)
    docdb.reset_calls()
    kept = send(receiver, "Delete", {**props, RestoreProp.REMOVAL_POLICY: "retain"}, physical_id=arn)
    assert kept["Status"] == "SUCCESS" and docdb.calls == [] and arn in docdb.clusters
    gone = send(receiver, "Delete", {**props, RestoreProp.REMOVAL_POLICY: "destroy"}, physical_id=arn)
    assert gone["Status"] == "SUCCESS" and arn not in docdb.clusters
    assert writes(docdb) == ["DeleteCluster"]


def test_a_failed_final_snapshot_keeps_the_cluster_and_says_how_to_proceed(source, docdb, receiver):
    # a status only someone's action ends (a STOPPED cluster is started first, so not that one)
    props, arn = created(source, receiver)
    restored(docdb, arn).status = "INACCESSIBLE_ENCRYPTION_CREDS"
    response = send(receiver, "Delete", props, physical_id=arn)
    assert response["Status"] == "FAILED" and "final snapshot failed" in response["Reason"]
    assert "--retain-resources RestoredCluster0A1B2C3D" in response["Reason"] and "DESTROY" in response["Reason"]
    assert arn in docdb.clusters and docdb.calls_to("DeleteCluster") == []


@pytest.mark.parametrize("policy", ["snapshot", "retain"])
def test_the_rollback_of_a_failed_create_deletes_the_half_restored_cluster_unless_retained(
    policy, source, docdb, receiver
):
    # GIVEN a restore whose cluster ends INVALID_SUBNET_ID
    docdb.restore_final_status = "INVALID_SUBNET_ID"
    props = {RestoreProp.SNAPSHOT_ARN: source["snapshot"], RestoreProp.REMOVAL_POLICY: policy}
    failed = send(receiver, "Create", props)
    assert failed["Status"] == "FAILED" and "INVALID_SUBNET_ID" in failed["Reason"]
    physical = failed["PhysicalResourceId"]
    assert physical.startswith(FAILED_RESTORE_PHYSICAL_ID_PREFIX)
    arn = physical.removeprefix(FAILED_RESTORE_PHYSICAL_ID_PREFIX)
    # WHEN CloudFormation rolls back (it sends Delete unless DeletionPolicy is Retain)
    if policy != "retain":
        rollback = send(receiver, "Delete", props, physical_id=physical)
        assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    # THEN the cluster is deleted without a snapshot, or kept under RETAIN
    assert (arn in docdb.clusters) == (policy == "retain")
    assert [s for s in docdb.snapshots.values() if s.cluster_arn == arn] == []


def test_a_delete_after_a_create_that_restored_nothing_makes_no_call(docdb, receiver):
    response = send(receiver, "Delete", {RestoreProp.SNAPSHOT_ARN: "bad"}, physical_id="RestoredCluster0A1B2C3D")
    assert response["Status"] == "SUCCESS" and docdb.calls == []


def test_the_restore_request_tag_identifies_the_request(source, docdb, receiver):
    event = restore_event("Create", receiver.new_url(), {RestoreProp.SNAPSHOT_ARN: source["snapshot"]})
    entrypoint.handler(event, _context())
    (response,) = receiver.responses_for(event["ResponseURL"])
    token = request_token(RESTORE_STACK_ID, event["LogicalResourceId"], event["RequestId"])
    assert restored(docdb, response["PhysicalResourceId"]).tags[REQUEST_TAG_KEY] == token


def _context():
    from standins.lambda_context import FakeLambdaContext

    return FakeLambdaContext()
