"""End to end: the sample app's template and bundled asset, run in a fresh process against the
loopback stand-ins, through create, update and delete."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import Attr, Prop
from standins.bundled_handler import BundledHandler
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
from standins.response_receiver import SECRET_QUERY
from synth_support import templates


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


def test_the_demo_plans_daily_schedule_runs_the_bundled_handler(
    standin_synth, receiver, aws_env, docdb: DocDbElasticStandIn
):
    # GIVEN the demo stack's daily schedule, its input as EventBridge Scheduler delivers it (the
    # cluster's ARN resolved as CloudFormation would, the scheduled time a minute ago)
    template = templates(standin_synth)["DocDbElasticProtectedClusterDemo.template.json"]
    resources = template["Resources"]
    (cluster_name,) = [
        r["Properties"]["ClusterName"] for r in resources.values() if r["Type"] == "AWS::DocDBElastic::Cluster"
    ]
    daily = next(
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Scheduler::Schedule" and r["Properties"]["Description"].endswith("rule daily")
    )
    parts = daily["Target"]["Input"]["Fn::Join"][1]
    scheduled = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    text = "".join(part if isinstance(part, str) else cluster_arn_for(cluster_name) for part in parts)
    event = json.loads(text.replace("<aws.scheduler.scheduled-time>", scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")))
    demo = docdb.add_cluster(cluster_name)
    gold = docdb.add_cluster("gold-by-tag", tags={"backup": "gold"})
    docdb.add_cluster("not-selected")
    # WHEN the bundled handler runs it in a fresh process
    handler = BundledHandler(standin_synth, template, receiver, aws_env)
    handler.finish(handler.start(event))
    # THEN the demo cluster and the gold-tagged one have their recovery point, named by the occurrence
    plan = event[contract.BACKUP_EVENT_KEY]["Plan"]
    made = {s.cluster_arn: s.name for s in docdb.snapshots.values() if s.tags.get(contract.PLAN_TAG_KEY) == plan}
    assert made == {arn: contract.recovery_point_name(plan, "daily", scheduled, arn) for arn in (demo, gold)}
