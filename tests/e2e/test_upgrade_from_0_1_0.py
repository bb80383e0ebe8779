"""An upgrade from 0.1.0: CloudFormation sees the leaner properties as a change and sends Update
with 0.1.0's properties as the old ones. The handler must answer with the resource as it was,
taking no snapshot, unless a property really changed; retention keeps working on the snapshots
0.1.0 named (PREFIX-YYYYMMDDhhmmss-xxxxxx).

The 0.1.0 templates (tests/fixtures/templates-0.1.0) were synthesized from the 0.1.0 tag's app.py
with -c clusterArn=<the stand-in's 'orders' cluster>."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from docdb_snapshot_handler.contract import OWNER_TAG_KEY, REQUEST_TAG_KEY, RESOURCE_TYPE, Attr, Prop
from docdb_snapshot_handler.snapshots import owner_token
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
from synth_support import synth_demo, templates

OLD = Path(__file__).resolve().parents[1] / "fixtures" / "templates-0.1.0"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/DocDbElasticStack/e2e"


def custom_resources(template: dict[str, Any], cluster_arn: str) -> dict[str, dict[str, Any]]:
    attributes = {("Cluster", "ClusterArn"): cluster_arn}
    for key_id in [k for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"]:
        attributes[(key_id, "Arn")] = f"arn:aws:kms:us-east-1:123456789012:key/{uuid.uuid5(uuid.NAMESPACE_DNS, key_id)}"
    return {
        logical_id: as_cloudformation_sends(resource["Properties"], attributes)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == RESOURCE_TYPE
    }


def left_by_0_1_0(docdb: DocDbElasticStandIn, cluster: str, props: dict[str, Any], stamp: str) -> str:
    """A snapshot as 0.1.0 took it: its name scheme, its request tag, its owner tag."""
    name = f"{props[Prop.SNAPSHOT_NAME_PREFIX]}-{stamp}-abc123"
    tags = {**props.get(Prop.TAGS, {}), REQUEST_TAG_KEY: "0" * 32, OWNER_TAG_KEY: owner_token(STACK_ID, props["Owner"])}
    return docdb.add_snapshot(cluster, name, tags=tags)


@pytest.fixture
def demo(tmp_path: Path):
    # the values the 0.1.0 fixture was made with
    new = synth_demo(tmp_path, beforeChangeRetainLast="5", releaseRetainLast="3")
    old = json.loads((OLD / "DocDbElasticProtectedClusterDemo.template.json").read_text())
    return tmp_path, old, new


def test_every_resource_of_both_stacks_answers_as_before_and_takes_no_snapshot(
    demo, standin_synth, receiver, aws_env, docdb: DocDbElasticStandIn
):
    outdir, old_demo, new_demo = demo
    sample_old = json.loads((OLD / "DocDbElasticSnapshotStack.template.json").read_text())
    sample_new = templates(standin_synth)["DocDbElasticSnapshotStack.template.json"]
    cases = [
        (BundledHandler(standin_synth, sample_new, receiver, aws_env), sample_old, sample_new, "orders"),
        (BundledHandler(outdir, new_demo, receiver, aws_env), old_demo, new_demo, "orders-demo"),
    ]
    upgraded = 0
    for handler, old_template, new_template, cluster_name in cases:
        cluster = docdb.add_cluster(cluster_name)
        old, new = custom_resources(old_template, cluster), custom_resources(new_template, cluster)
        # GIVEN the same resources (logical ids) in both versions, the new ones leaner
        assert set(old) == set(new)
        for logical_id in old:
            assert len(json.dumps(new[logical_id])) < len(json.dumps(old[logical_id])), logical_id
            # AND each in the state 0.1.0 left it: a snapshot, or none for the final snapshot
            if old[logical_id].get(Prop.MODE) == "final":
                physical_id = "final-snapshot-0123456789abcdef01234567"
            else:
                physical_id = left_by_0_1_0(docdb, cluster, old[logical_id], "20261101070000")
            docdb.reset_calls()
            # WHEN CloudFormation sends the Update the upgrade causes
            answer = handler.send("Update", logical_id, new[logical_id], old=old[logical_id], physical_id=physical_id)
            # THEN the answer keeps the old physical id, and nothing was created
            assert answer["Status"] == "SUCCESS", (logical_id, answer["Reason"])
            assert answer["PhysicalResourceId"] == physical_id
            assert docdb.calls_to("CreateClusterSnapshot") == [] and docdb.calls_to("DeleteClusterSnapshot") == []
            if physical_id.startswith("arn:"):
                assert answer["Data"][Attr.SNAPSHOT_ARN] == physical_id and answer["Data"][Attr.STATUS] == "ACTIVE"
            upgraded += 1
    assert upgraded == 4  # the sample's snapshot; the demo's before-change, final and release


def test_after_the_upgrade_a_real_change_takes_a_snapshot_and_prunes_0_1_0s(
    demo, receiver, aws_env, docdb: DocDbElasticStandIn
):
    outdir, old_demo, new_demo = demo
    handler = BundledHandler(outdir, new_demo, receiver, aws_env)
    cluster = docdb.add_cluster("orders-demo")
    assert cluster == cluster_arn_for("orders-demo")
    old, new = custom_resources(old_demo, cluster), custom_resources(new_demo, cluster)
    (release_id,) = [k for k, p in new.items() if Prop.MODE not in p]
    assert new[release_id][Prop.RETAIN_LAST] == "3"
    # GIVEN three release snapshots 0.1.0 took, and one taken by hand
    taken = [left_by_0_1_0(docdb, cluster, old[release_id], f"2026110{day}070000") for day in (1, 2, 3)]
    by_hand = docdb.add_snapshot(cluster, f"{old[release_id][Prop.SNAPSHOT_NAME_PREFIX]}-by-hand")
    # AND the upgrade's own Update, which takes nothing
    upgrade = handler.send("Update", release_id, new[release_id], old=old[release_id], physical_id=taken[-1])
    assert upgrade["PhysicalResourceId"] == taken[-1]
    # WHEN the release trigger really changes
    changed = {**new[release_id], Prop.TRIGGER: "v2"}
    answer = handler.send("Update", release_id, changed, old=new[release_id], physical_id=taken[-1])
    # THEN a new snapshot is taken, and retention (keep 3) deletes the oldest of 0.1.0's, not the manual one
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] not in taken
    assert set(docdb.snapshots) == {*taken[1:], by_hand, answer["PhysicalResourceId"]}
