"""Issue 24's readings of AWS (docs/aws-limits.md, "Readings of AWS") through the bundled handler:
each custom resource's event built from a synthesized template, each schedule's input from its
AWS::Scheduler::Schedule, and the asset's handler run in a fresh process per delivery against the
stand-in playing the reading (the documented ones are its defaults: cluster names stored
lowercase, no deletion of a STOPPED cluster; the undocumented ones are switched on here)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import (
    RESOURCE_TYPE,
    RESTORE_RESOURCE_TYPE,
    Attr,
    ClusterAttr,
    Prop,
    RestoreProp,
)
from emf import emf_lines
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn
from synth_support import REPO, recommended_app, templates

DEMO = "DocDbElasticProtectedClusterDemo.template.json"
DRILL = "DocDbElasticRestoreDrill.template.json"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"
# The snapshot the small app's restore names (the stand-in makes it at this ARN).
RESTORED_FROM = f"arn:aws:docdb-elastic:{REGION}:{ACCOUNT}:cluster-snapshot/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WINDOW = "mon:01:00-mon:02:00"


@pytest.fixture(autouse=True)
def no_delays(docdb: DocDbElasticStandIn) -> None:
    """Everything settles at once: each wait of the handler is its one first poll (2 s)."""
    docdb.snapshot_delay = docdb.restore_delay = docdb.update_delay = docdb.delete_delay = docdb.start_delay = 0.0


# --- the templates -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two deploys of a user's app, synthesized in-process: the demo stack with its cluster named
    Orders-Main (then with two shards: a change), and a restored cluster (then with shard_capacity
    and preferred_maintenance_window added)."""
    from aws_cdk import RemovalPolicy, Stack

    from docdb_elastic_snapshot import ElasticClusterFromSnapshot

    spec = importlib.util.spec_from_file_location("sample_app_for_readings", REPO / "app.py")
    assert spec and spec.loader
    sample_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample_app)
    outdirs = []
    for version, shards, changes in (
        ("v1", "1", {}),
        ("v2", "2", {"shard_capacity": 8, "preferred_maintenance_window": WINDOW}),
    ):
        outdir = tmp_path_factory.mktemp(f"cdk-out-readings-{version}")
        app = recommended_app(outdir=str(outdir))
        for key, value in {"demoClusterName": "Orders-Main", "demoShardCount": shards}.items():
            app.node.set_context(key, value)
        sample_app.build_demo(app)
        stack = Stack(app, "OrdersRestore")
        ElasticClusterFromSnapshot(
            stack, "Restored", snapshot_arn=RESTORED_FROM, removal_policy=RemovalPolicy.DESTROY, **changes
        )
        app.synth()
        outdirs.append(outdir)
    return outdirs[0], outdirs[1]


def of_type(template: dict[str, Any], resource_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    """The one resource of this type (and these literal properties): (logical id, resource)."""
    (found,) = [
        (k, r)
        for k, r in template["Resources"].items()
        if r["Type"] == resource_type and all(r["Properties"].get(p) == v for p, v in properties.items())
    ]
    return found


def resolve(value: Any, template: dict[str, Any], cluster_arn: str) -> Any:
    """What CloudFormation makes of a schedule's Input: the demo cluster's ARN, fake subnet and
    security group ids, the copy key's ARN; anything else fails the test."""
    resources = template["Resources"]
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(resolve(part, template, cluster_arn) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        assert resources[value["Ref"]]["Type"] == "AWS::EC2::Subnet", value
        return "subnet-" + hashlib.sha256(value["Ref"].encode()).hexdigest()[:17]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        known = {
            ("AWS::DocDBElastic::Cluster", "ClusterArn"): cluster_arn,
            ("AWS::EC2::SecurityGroup", "GroupId"): "sg-0a1b2c3d4e5f60718",
            ("AWS::KMS::Key", "Arn"): KEY_ARN,
        }
        return known[(resources[logical_id]["Type"], attribute)]
    assert isinstance(value, str), value
    return value


def schedule_event(
    template: dict[str, Any], key: str, cluster_arn: str, scheduled: datetime, **match: Any
) -> dict[str, Any]:
    """What the template's schedule whose input is under `key` (and has `match`) delivers for
    the occurrence at `scheduled`, its <aws.scheduler.*> attributes filled in as Scheduler does."""
    attributes = {
        "<aws.scheduler.scheduled-time>": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
        "<aws.scheduler.schedule-arn>": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/demo",
    }
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Scheduler::Schedule":
            continue
        text = resolve(resource["Properties"]["Target"]["Input"], template, cluster_arn)
        for placeholder, value in attributes.items():
            text = text.replace(placeholder, value)
        event = json.loads(text)
        if key in event and all(event[key].get(k) == v for k, v in match.items()):
            found.append(event)
    (event,) = found
    return event


def now_minute() -> datetime:
    """An occurrence a minute ago (schedules fire on the minute; the handler reads the wall clock)."""
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)


def run(handler: BundledHandler, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Deliver a scheduled event in a fresh process; the EMF objects it wrote."""
    handler.finish(handler.start(event))
    return emf_lines(handler.outputs[-1])


def total(documents: list[dict[str, Any]], metric: str) -> float:
    return sum(float(d.get(metric, 0)) for d in documents)


@pytest.fixture
def demo(standin_synth, receiver, aws_env) -> tuple[BundledHandler, dict[str, Any]]:
    template = templates(standin_synth)[DEMO]
    return BundledHandler(standin_synth, template, receiver, aws_env), template


@pytest.fixture
def drill(standin_synth, receiver, aws_env) -> tuple[BundledHandler, str, dict[str, Any]]:
    """The sample app's restore drill (DESTROY): its handler, logical id and properties."""
    template = templates(standin_synth)[DRILL]
    logical_id, resource = of_type(template, RESTORE_RESOURCE_TYPE)
    return (
        BundledHandler(standin_synth, template, receiver, aws_env),
        logical_id,
        as_cloudformation_sends(resource["Properties"]),
    )


def send_restore(handler: BundledHandler, request_type: str, logical_id: str, properties, **kwargs) -> dict:
    return handler.send(request_type, logical_id, properties, resource_type=RESTORE_RESOURCE_TYPE, **kwargs)


# --- cluster names are stored lowercase ----------------------------------------------------------


def test_a_before_change_snapshot_of_a_cluster_named_with_capitals_is_taken_before_the_change(
    own_synth, receiver, aws_env, docdb
):
    # GIVEN the demo stack with its CfnCluster named Orders-Main, deployed once (the cluster did
    # not exist yet when its protection was created), which AWS stores as orders-main
    v1, v2 = (templates(outdir)[DEMO] for outdir in own_synth)
    _, cfn_cluster = of_type(v1, "AWS::DocDBElastic::Cluster")
    assert cfn_cluster["Properties"]["ClusterName"] == "Orders-Main"
    (logical_id, first), (same_id, second) = (of_type(t, RESOURCE_TYPE, Mode="before-change") for t in (v1, v2))
    old, new = (as_cloudformation_sends(r["Properties"]) for r in (first, second))
    assert same_id == logical_id and old != new  # the cluster's digest changed
    assert old[Prop.CLUSTER_NAME] == new[Prop.CLUSTER_NAME] == "Orders-Main"
    handler = BundledHandler(own_synth[0], v1, receiver, aws_env)
    created = handler.send("Create", logical_id, old)
    assert created["Status"] == "SUCCESS" and created["Data"][Attr.SKIPPED_REASON], created
    assert docdb.snapshots == {}
    cluster = docdb.add_cluster("Orders-Main")
    assert docdb.clusters[cluster].name == "orders-main"
    # WHEN the next deploy changes the cluster: CloudFormation updates the protection first
    updated = handler.send("Update", logical_id, new, old=old, physical_id=created["PhysicalResourceId"])
    # THEN the cluster was found and snapshotted before the change, and nothing was skipped
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    (snapshot,) = docdb.snapshots.values()
    assert snapshot.cluster_arn == cluster and snapshot.status() == "ACTIVE"
    assert updated["PhysicalResourceId"] == snapshot.arn == updated["Data"][Attr.SNAPSHOT_ARN]
    assert updated["Data"][Attr.SKIPPED_REASON] == ""


# --- a taken name is 400: redeliveries adopt by looking, not by error code -----------------------


def test_under_a_taken_name_as_400_a_snapshot_create_delivered_twice_takes_one(sample_stack, docdb):
    # GIVEN a service that answers a taken name with a 400 ValidationException
    docdb.readings.taken_name_status = 400
    handler, logical_id, properties = sample_stack
    docdb.add_cluster("orders")
    # WHEN the existing-cluster stack's snapshot Create is delivered, then delivered again
    event = handler.event("Create", logical_id, properties)
    for _ in range(2):
        handler.finish(handler.start(event))
    answers = handler.receiver.responses_for(event["ResponseURL"])
    # THEN both answers are SUCCESS and name the one snapshot; the second create was refused
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"], [a["Reason"] for a in answers]
    assert list(docdb.snapshots) == [answers[0]["PhysicalResourceId"]] == [answers[1]["PhysicalResourceId"]]
    creates = docdb.calls_to("CreateClusterSnapshot")
    assert len(creates) == 2 and creates[0].params["snapshotName"] == creates[1].params["snapshotName"]


def test_under_a_taken_name_as_400_a_restore_create_delivered_twice_restores_one_cluster(drill, docdb):
    # GIVEN a service that answers a taken name with a 400, and the drill's source with a snapshot
    docdb.readings.taken_name_status = 400
    handler, logical_id, properties = drill
    source = docdb.add_cluster("orders")
    assert properties[RestoreProp.SOURCE_CLUSTER_ARN] == source
    point = docdb.add_snapshot(source, "orders-manual")
    # WHEN the drill's Create is delivered, then delivered again
    event = handler.event("Create", logical_id, properties, resource_type=RESTORE_RESOURCE_TYPE)
    for _ in range(2):
        handler.finish(handler.start(event))
    answers = handler.receiver.responses_for(event["ResponseURL"])
    # THEN one cluster was restored, and both answers are SUCCESS naming it
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"], [a["Reason"] for a in answers]
    restored = [arn for arn in docdb.clusters if arn != source]
    assert restored == [answers[0]["PhysicalResourceId"]] == [answers[1]["PhysicalResourceId"]]
    assert all(a["Data"][ClusterAttr.SNAPSHOT_ARN] == point for a in answers)
    restores = docdb.calls_to("RestoreClusterFromSnapshot")
    assert len(restores) == 2 and restores[0].params["clusterName"] == restores[1].params["clusterName"]


def test_under_a_taken_name_as_400_a_backup_occurrence_delivered_twice_makes_one_point(demo, docdb):
    # GIVEN a service that answers a taken name with a 400, and the demo's daily rule's occurrence
    docdb.readings.taken_name_status = 400
    handler, template = demo
    cluster = docdb.add_cluster("orders-demo")
    event = schedule_event(template, contract.BACKUP_EVENT_KEY, cluster, now_minute(), Rule="daily")
    # WHEN Scheduler delivers it, then again
    first, second = run(handler, event), run(handler, event)
    # THEN one recovery point was made, and the second delivery counted no failure (nor a point)
    (point,) = docdb.snapshots.values()
    assert (
        point.cluster_arn == cluster and point.tags[contract.PLAN_TAG_KEY] == event[contract.BACKUP_EVENT_KEY]["Plan"]
    )
    assert total(first, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 1
    assert total(second, contract.PlanMetric.RECOVERY_POINTS_FAILED) == 0
    assert total(second, contract.PlanMetric.RECOVERY_POINTS_CREATED) == 0
    creates = docdb.calls_to("CreateClusterSnapshot")
    assert len(creates) == 2 and creates[0].params["snapshotName"] == creates[1].params["snapshotName"]


# --- a STOPPED cluster is started before it is deleted -------------------------------------------


def test_destroy_of_a_restored_cluster_someone_stopped_starts_it_then_deletes_it(drill, docdb):
    # GIVEN the drill's restored cluster (DESTROY), which someone stopped
    handler, logical_id, properties = drill
    assert properties[RestoreProp.REMOVAL_POLICY] == contract.ClusterRemovalPolicy.DESTROY
    docdb.add_snapshot(docdb.add_cluster("orders"), "orders-manual")
    created = send_restore(handler, "Create", logical_id, properties)
    assert created["Status"] == "SUCCESS", created["Reason"]
    arn = created["PhysicalResourceId"]
    docdb.clusters[arn].status, docdb.clusters[arn].pending = "STOPPED", None
    docdb.reset_calls()
    # WHEN the stack is deleted
    deleted = send_restore(handler, "Delete", logical_id, properties, physical_id=arn)
    # THEN it was started, then deleted, without a snapshot, and the Delete is SUCCESS
    assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    writes = [
        c.operation for c in docdb.calls if c.operation in ("StartCluster", "DeleteCluster", "CreateClusterSnapshot")
    ]
    assert writes == ["StartCluster", "DeleteCluster"]
    assert arn not in docdb.clusters


def test_a_restore_tests_stopped_temporary_cluster_is_started_then_swept(demo, docdb):
    # GIVEN the demo's restore test, and a temporary cluster of an occurrence 31 days ago, past its
    # expiry, that someone stopped
    handler, template = demo
    source = docdb.add_cluster("orders-demo")
    docdb.add_snapshot(source, "orders-demo-manual")
    scheduled = now_minute()
    event = schedule_event(template, contract.RESTORE_TEST_EVENT_KEY, source, scheduled)
    test = event[contract.RESTORE_TEST_EVENT_KEY]["Test"]
    earlier = scheduled - timedelta(days=31)
    expires = (earlier + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    left = docdb.add_cluster(
        contract.temporary_cluster_name(test, earlier, source),
        status="STOPPED",
        tags={contract.RESTORE_TEST_TAG_KEY: test, contract.RESTORE_TEST_EXPIRES_TAG_KEY: expires},
    )
    # WHEN the next occurrence is delivered
    run(handler, event)
    # THEN the left-over was started, and deleted after its start; this occurrence's test ran too
    on_left = [c.operation for c in docdb.calls if c.params.get("clusterArn") == left]
    assert on_left.count("StartCluster") == 1, on_left
    assert on_left[-1] == "DeleteCluster" and on_left.index("StartCluster") < len(on_left) - 1
    assert left not in docdb.clusters or docdb.clusters[left].status == "DELETING"
    assert len(docdb.calls_to("RestoreClusterFromSnapshot")) == 1


# --- one field per UpdateCluster call ------------------------------------------------------------


def test_under_one_field_per_update_capacity_and_window_are_applied_one_member_per_call(
    own_synth, receiver, aws_env, docdb
):
    # GIVEN a service that refuses more than one member per UpdateCluster, and a restored cluster
    # whose next deploy adds shard_capacity and preferred_maintenance_window
    docdb.readings.one_field_per_update = True
    v1, v2 = (templates(outdir)["OrdersRestore.template.json"] for outdir in own_synth)
    logical_id, _ = of_type(v1, RESTORE_RESOURCE_TYPE)
    old, new = (as_cloudformation_sends(of_type(t, RESTORE_RESOURCE_TYPE)[1]["Properties"]) for t in (v1, v2))
    assert {k: v for k, v in new.items() if old.get(k) != v} == {
        RestoreProp.SHARD_CAPACITY: "8",
        RestoreProp.PREFERRED_MAINTENANCE_WINDOW: WINDOW,
    }
    docdb.add_snapshot(docdb.add_cluster("orders"), "orders-nightly", arn=RESTORED_FROM)
    handler = BundledHandler(own_synth[0], v1, receiver, aws_env)
    created = send_restore(handler, "Create", logical_id, old)
    assert created["Status"] == "SUCCESS", created["Reason"]
    arn = created["PhysicalResourceId"]
    docdb.reset_calls()
    # WHEN CloudFormation updates it
    updated = send_restore(handler, "Update", logical_id, new, old=old, physical_id=arn)
    # THEN the update succeeded in place, one member per call, and both are applied
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"] == arn and updated["Data"][ClusterAttr.STATUS] == "ACTIVE"
    members = [sorted(set(c.params) - {"clusterArn", "clientToken"}) for c in docdb.calls_to("UpdateCluster")]
    assert members == [["preferredMaintenanceWindow"], ["shardCapacity"]]
    settings = docdb.clusters[arn].settings
    assert settings["shardCapacity"] == 8 and settings["preferredMaintenanceWindow"] == WINDOW


# --- automated snapshots that cannot be tagged ---------------------------------------------------


def test_under_untaggable_automated_snapshots_a_restore_test_delivered_twice_restores_once_recorded(demo, docdb):
    # GIVEN automated snapshots that refuse tags, and the demo cluster whose newest point is one
    docdb.readings.automated_snapshots_taggable = False
    handler, template = demo
    source = docdb.add_cluster("orders-demo")
    point = docdb.add_snapshot(source, "rds:orders-demo-automated", snapshot_type="AUTOMATED")
    scheduled = now_minute()
    event = schedule_event(template, contract.RESTORE_TEST_EVENT_KEY, source, scheduled)
    claim = contract.restore_test_claim_key(event[contract.RESTORE_TEST_EVENT_KEY]["Test"])
    # WHEN the occurrence is delivered, then again
    first, second = run(handler, event), run(handler, event)
    # THEN it restored the automated point once, counted once as succeeded
    assert [c.params["snapshotArn"] for c in docdb.calls_to("RestoreClusterFromSnapshot")] == [point]
    assert total(first, contract.RestoreTestMetric.SUCCEEDED) == 1
    assert total(second, contract.RestoreTestMetric.SUCCEEDED) == 0
    assert total(first, contract.RestoreTestMetric.FAILED) == total(second, contract.RestoreTestMetric.FAILED) == 0
    # AND the record says succeeded, on the source cluster, naming the point (which has none)
    assert claim not in docdb.snapshots[point].tags
    record = docdb.clusters[source].tags[claim].split(" ")
    assert record[:2] == [contract.restore_test_occurrence(scheduled), "succeeded"]
    assert point.endswith("/" + record[-1])
