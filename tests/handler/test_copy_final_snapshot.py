"""FinalSnapshot with CopyTo: the final snapshot and its copy ACTIVE before the Delete succeeds,
one copy per request, a failed copy keeping the cluster, CopyTo validated before any call."""

from __future__ import annotations

from typing import Any

import pytest

from copy_support import KEY, OTHER_REGION, the_copies
from standins.docdb_elastic import REGION
from standins.events import cfn_event
from standins.invoke import answer, answers

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
