"""End to end: the sample app's template and bundled asset, run in a fresh process against the
loopback stand-ins, through create, update and delete."""

from __future__ import annotations

import json

from docdb_snapshot_handler.contract import Attr, Prop
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
from standins.response_receiver import SECRET_QUERY


def test_create_update_delete_of_the_sample_stack_with_the_bundled_handler(sample_stack, docdb: DocDbElasticStandIn):
    handler, logical_id, properties = sample_stack
    # GIVEN the stand-in holds the cluster the sample app was synthesized for
    cluster = docdb.add_cluster("orders")
    assert properties[Prop.CLUSTER_ARN] == cluster == cluster_arn_for("orders")
    docdb.snapshot_delay = 1.0

    # WHEN CloudFormation creates the stack, THEN one ACTIVE snapshot is taken, tagged as in app.py
    created = handler.send("Create", logical_id, properties)
    assert created["Status"] == "SUCCESS", created["Reason"]
    first = created["PhysicalResourceId"]
    assert created["Data"][Attr.SNAPSHOT_ARN] == first and created["Data"][Attr.STATUS] == "ACTIVE"
    assert docdb.snapshots[first].tags["created-by"] == "docdb-elastic-snapshot-sample"

    # WHEN the trigger changes (cdk deploy -c snapshotTrigger=2), THEN a second snapshot is taken
    changed = {**properties, Prop.TRIGGER: "2"}
    updated = handler.send("Update", logical_id, changed, old=properties, physical_id=first)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    second = updated["PhysicalResourceId"]
    assert second != first and set(docdb.snapshots) == {first, second}

    # WHEN the stack is deleted (default RETAIN), THEN both snapshots remain
    deleted = handler.send("Delete", logical_id, changed, physical_id=second)
    assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == second
    assert set(docdb.snapshots) == {first, second}
    assert [c.operation for c in docdb.calls].count("CreateClusterSnapshot") == 2

    # AND every log line is JSON, and none carries the presigned ResponseURL credential
    lines = [json.loads(line) for log in handler.logs for line in log.splitlines()]
    assert {line["request_type"] for line in lines} == {"Create", "Update", "Delete"}
    assert not any(SECRET_QUERY in log for log in handler.logs)


def test_a_bad_property_fails_the_bundled_handler_without_any_api_call(sample_stack, docdb: DocDbElasticStandIn):
    handler, logical_id, properties = sample_stack
    docdb.add_cluster("orders")
    response = handler.send("Create", logical_id, {**properties, Prop.TIMEOUT_SECONDS: "forever"})
    assert response["Status"] == "FAILED" and "TimeoutSeconds" in response["Reason"]
    assert docdb.calls == []
