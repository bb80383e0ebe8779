"""End to end: the sample app's restore drill, synthesized with the CDK CLI, its custom resource
driven as CloudFormation would (properties from the template, stringified), the bundled asset's
handler run in a fresh process per event; also two overlapping deliveries of one Create."""

from __future__ import annotations

from pathlib import Path

import pytest

from docdb_snapshot_handler.contract import RESTORE_RESOURCE_TYPE, ClusterAttr, RestoreProp
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.docdb_elastic import DocDbElasticStandIn
from standins.response_receiver import ResponseReceiver
from synth_support import templates


@pytest.fixture
def drill(standin_synth: Path, receiver: ResponseReceiver, aws_env: dict[str, str]):
    template = templates(standin_synth)["DocDbElasticRestoreDrill.template.json"]
    logical_id, resource = next((k, r) for k, r in template["Resources"].items() if r["Type"] == RESTORE_RESOURCE_TYPE)
    handler = BundledHandler(standin_synth, template, receiver, aws_env)
    return handler, logical_id, as_cloudformation_sends(resource["Properties"])


def send(handler: BundledHandler, request_type: str, logical_id: str, properties, **kwargs):
    event = handler.event(request_type, logical_id, properties, **kwargs)
    event["ResourceType"] = RESTORE_RESOURCE_TYPE
    handler.finish(handler.start(event))
    (response,) = handler.receiver.responses_for(event["ResponseURL"])
    return response


def test_the_drill_restores_the_newest_snapshot_replaces_on_a_new_drill_and_destroys(drill, docdb: DocDbElasticStandIn):
    handler, logical_id, properties = drill
    # GIVEN the drilled cluster with a manual and a newer automated snapshot
    source = docdb.add_cluster("orders")
    assert properties[RestoreProp.SOURCE_CLUSTER_ARN] == source
    docdb.add_snapshot(source, "orders-manual")
    automated = docdb.add_snapshot(source, "rds-orders-auto", snapshot_type="AUTOMATED")
    docdb.restore_delay = docdb.delete_delay = 0.5
    # WHEN the drill stack is created
    created = send(handler, "Create", logical_id, properties)
    # THEN the newest snapshot was restored and the recovery time is reported
    assert created["Status"] == "SUCCESS", created["Reason"]
    first = created["PhysicalResourceId"]
    assert created["Data"][ClusterAttr.SNAPSHOT_ARN] == automated
    assert docdb.clusters[first].status == "ACTIVE" and created["Data"][ClusterAttr.RESTORE_SECONDS].isdigit()
    # WHEN a new drill id changes the trigger, THEN a new cluster is restored (a replacement)
    newer = docdb.add_snapshot(source, "orders-newest")
    again = {**properties, RestoreProp.TRIGGER: "drill-2"}
    replaced = send(handler, "Update", logical_id, again, old=properties, physical_id=first)
    assert replaced["Status"] == "SUCCESS", replaced["Reason"]
    second = replaced["PhysicalResourceId"]
    assert second != first and replaced["Data"][ClusterAttr.SNAPSHOT_ARN] == newer
    # WHEN CloudFormation cleans up the old one and later destroys the stack (DESTROY)
    for physical_id, props in ((first, properties), (second, again)):
        deleted = send(handler, "Delete", logical_id, props, physical_id=physical_id)
        assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    # THEN both restored clusters are gone, without snapshots, and the source is untouched
    assert list(docdb.clusters) == [source]
    assert {s.name for s in docdb.snapshots.values()} == {"orders-manual", "rds-orders-auto", "orders-newest"}


@pytest.mark.parametrize("offset", [0.3, 1.5])
def test_two_overlapping_deliveries_of_one_create_restore_one_cluster(offset, drill, docdb: DocDbElasticStandIn):
    handler, logical_id, properties = drill
    source = docdb.add_cluster("orders")
    docdb.add_snapshot(source, "orders-manual")
    # GIVEN a slow service: every answer arrives late, and the restore takes 2 s
    docdb.restore_delay = 2.0
    docdb.latency = {"RestoreClusterFromSnapshot": 1.0, "ListClusters": 0.5, "ListTagsForResource": 0.3}
    event = handler.event("Create", logical_id, properties)
    event["ResourceType"] = RESTORE_RESOURCE_TYPE
    # WHEN the Create is delivered twice, overlapping
    answers = handler.deliver_overlapping(event, [0.0, offset])
    # THEN one cluster was restored, and both answers name it
    assert len(answers) == 2 and all(a["Status"] == "SUCCESS" for a in answers), [a["Reason"] for a in answers]
    assert answers[0]["PhysicalResourceId"] == answers[1]["PhysicalResourceId"]
    assert [c for c in docdb.clusters if c != source] == [answers[0]["PhysicalResourceId"]]
