"""A copy after its Create: retention of the construct's own copies only, updates (a new source
makes a new copy; anything else keeps the current one), and deletion (kept unless DESTROY)."""

from __future__ import annotations

import pytest

from copy_support import KEY, OWNER, PREFIX, copy_event, the_copies
from docdb_snapshot_handler.contract import OWNER_TAG_KEY, Attr
from docdb_snapshot_handler.snapshots import owner_token
from standins.docdb_elastic import REGION
from standins.invoke import answer

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
