"""End to end: the demo stack's three protections and its copies under a second key (before-change
snapshots copied with retention, the final snapshot copied before the cluster goes), all in the
stack's region, through create, update in place, update with replacement, and delete; CloudFormation's part (order, which resources change, the cluster's
own create/replace/delete) is played from the synthesized templates, the handler's part by the
bundled asset in a fresh process per event. Every snapshot's state is checked at each step."""

from __future__ import annotations

import json
from typing import Any

from docdb_snapshot_handler.contract import COPY_RESOURCE_TYPE, OWNER_TAG_KEY, RESOURCE_TYPE, Attr, CopyAttr, Prop
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, cluster_arn_for
from standins.response_receiver import ResponseReceiver
from synth_support import synth_demo

MODES = {"before-change": "BeforeChange", "final": "Final", "snapshot": "Release"}
#: What CloudFormation gives the demo's copy key as its Arn.
COPY_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"


def synth_demo_with_copies(outdir, **context: str) -> dict[str, Any]:
    """The demo stack, its copies keeping the newest one."""
    return synth_demo(outdir, copyRetainLast="1", **context)


class Deployment:
    """The stack's custom resources, their last properties and physical ids."""

    def __init__(self, template: dict[str, Any], handler: BundledHandler) -> None:
        self.handler = handler
        self.template = template
        self.ids = {
            MODES[r["Properties"].get(Prop.MODE, "snapshot")]: k
            for k, r in template["Resources"].items()
            if r["Type"] == RESOURCE_TYPE
        }
        (self.ids["Copy"],) = [k for k, r in template["Resources"].items() if r["Type"] == COPY_RESOURCE_TYPE]
        (self.copy_key,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
        self.applied: dict[str, dict[str, Any]] = {}
        self.physical: dict[str, str] = {}
        self.data: dict[str, dict[str, str]] = {}

    def properties(self, template: dict[str, Any], name: str, cluster_arn: str) -> dict[str, Any]:
        raw = template["Resources"][self.ids[name]]["Properties"]
        attributes = {("Cluster", "ClusterArn"): cluster_arn, (self.copy_key, "Arn"): COPY_KEY_ARN}
        for other, data in self.data.items():  # Fn::GetAtt of resources already applied
            attributes.update({(self.ids[other], key): value for key, value in data.items()})
        return as_cloudformation_sends(raw, attributes)

    def resource_type(self, name: str) -> str:
        return self.template["Resources"][self.ids[name]]["Type"]

    def apply(self, template: dict[str, Any], name: str, cluster_arn: str) -> dict[str, Any] | None:
        """Create, or Update when the properties changed (as CloudFormation decides)."""
        new = self.properties(template, name, cluster_arn)
        old = self.applied.get(name)
        if old == new:
            return None
        request_type = "Create" if old is None else "Update"
        answer = self.handler.send(
            request_type,
            self.ids[name],
            new,
            old=old,
            physical_id=self.physical.get(name),
            resource_type=self.resource_type(name),
        )
        assert answer["Status"] == "SUCCESS", (name, answer["Reason"])
        self.applied[name], self.physical[name] = new, answer["PhysicalResourceId"]
        self.data[name] = answer["Data"]
        return answer

    def delete(self, name: str) -> dict[str, Any]:
        answer = self.handler.send(
            "Delete",
            self.ids[name],
            self.applied[name],
            physical_id=self.physical[name],
            resource_type=self.resource_type(name),
        )
        assert answer["Status"] == "SUCCESS", (name, answer["Reason"])
        return answer


def state(docdb: DocDbElasticStandIn) -> dict[str, tuple[str, str, str, str]]:
    """Each snapshot: (which protection took it, per the demo's tags; which cluster; its key: the
    second one or the cluster's; status)."""
    result = {}
    for arn, snapshot in docdb.snapshots.items():
        cluster = next(c.name for c in [*docdb.clusters.values(), *docdb.retired] if c.arn == snapshot.cluster_arn)
        # retention's owner tag, on the snapshots of the protections that prune
        assert bool(snapshot.tags.get(OWNER_TAG_KEY)) == (snapshot.tags["protection"] != "final"), snapshot
        assert snapshot.region == REGION, snapshot
        key = "copy key" if snapshot.kms_key_id == COPY_KEY_ARN else "cluster key"
        result[arn] = (snapshot.tags["protection"], cluster, key, snapshot.status())
    return result


def copy_of(docdb: DocDbElasticStandIn, source: str) -> str:
    (arn,) = [arn for arn, s in docdb.snapshots.items() if s.copied_from == source]
    return arn


def test_demo_stack_lifecycle_create_update_replace_delete(
    tmp_path, receiver: ResponseReceiver, aws_env, docdb: DocDbElasticStandIn
):
    docdb.snapshot_delay = 0.3
    docdb.retired = []
    v1 = synth_demo_with_copies(tmp_path / "v1")
    v2 = synth_demo_with_copies(tmp_path / "v2", demoShardCount="2")
    v3 = synth_demo_with_copies(tmp_path / "v3", demoShardCount="2", demoClusterName="orders-demo-v2")
    assert json.dumps(v1) != json.dumps(v2)
    stack = Deployment(v1, BundledHandler(tmp_path / "v1", v1, receiver, aws_env))
    old_arn, new_arn = cluster_arn_for("orders-demo"), cluster_arn_for("orders-demo-v2")

    E, W = "cluster key", "copy key"
    # STEP 1, create: before-change first (no cluster yet), its copy (nothing to copy), then the
    # cluster, then the others
    before = stack.apply(v1, "BeforeChange", old_arn)
    assert (
        before
        and before["Data"][Attr.SNAPSHOT_ARN] == ""
        and "does not exist yet" in before["Data"][Attr.SKIPPED_REASON]
    )
    dr = stack.apply(v1, "Copy", old_arn)
    assert dr and dr["Data"][Attr.SNAPSHOT_ARN] == "" and dr["Data"][Attr.SKIPPED_REASON]
    docdb.add_cluster("orders-demo")
    final = stack.apply(v1, "Final", old_arn)
    assert final and final["Data"][Attr.SNAPSHOT_ARN] == ""
    release_1 = stack.apply(v1, "Release", old_arn)["PhysicalResourceId"]
    assert state(docdb) == {release_1: ("release", "orders-demo", E, "ACTIVE")}

    # STEP 2, shard count 1 -> 2: the before-change trigger changes, so a snapshot, and with it
    # the copy's source, so a copy under the second key
    assert stack.properties(v2, "Final", old_arn) == stack.applied["Final"]
    before_1 = stack.apply(v2, "BeforeChange", old_arn)["PhysicalResourceId"]
    dr_1 = stack.apply(v2, "Copy", old_arn)
    assert dr_1["Data"][CopyAttr.SOURCE_SNAPSHOT_ARN] == before_1 and dr_1["Data"][CopyAttr.REGION] == REGION
    dr_1 = dr_1["PhysicalResourceId"]
    assert stack.apply(v2, "Final", old_arn) is None and stack.apply(v2, "Release", old_arn) is None
    assert state(docdb) == {
        release_1: ("release", "orders-demo", E, "ACTIVE"),
        before_1: ("before-change", "orders-demo", E, "ACTIVE"),
        dr_1: ("before-change-copy", "orders-demo", W, "ACTIVE"),
    }

    # STEP 3, rename: the old cluster is snapshotted before the change (and copied), the new
    # cluster is created, the final snapshot of the old one is taken and copied under the key
    # before clean-up deletes it
    before_2 = stack.apply(v3, "BeforeChange", old_arn)
    assert before_2["Data"][Attr.CLUSTER_ARN] == old_arn
    dr_2 = stack.apply(v3, "Copy", old_arn)["PhysicalResourceId"]
    docdb.add_cluster("orders-demo-v2")
    final_old = stack.apply(v3, "Final", new_arn)
    assert final_old["Data"][Attr.CLUSTER_ARN] == old_arn and final_old["Data"][Attr.STATUS] == "ACTIVE"
    final_old_arn = final_old["Data"][Attr.SNAPSHOT_ARN]
    final_old_copy = copy_of(docdb, final_old_arn)
    release_2 = stack.apply(v3, "Release", new_arn)["PhysicalResourceId"]
    docdb.retired.append(docdb.clusters.pop(old_arn))  # CloudFormation's clean-up
    assert state(docdb) == {
        release_1: ("release", "orders-demo", E, "ACTIVE"),
        before_2["PhysicalResourceId"]: ("before-change", "orders-demo", E, "ACTIVE"),  # retain_last=1 pruned before_1
        dr_2: ("before-change-copy", "orders-demo", W, "ACTIVE"),  # copyRetainLast=1 pruned dr_1
        final_old_arn: ("final", "orders-demo", E, "ACTIVE"),
        final_old_copy: ("final", "orders-demo", W, "ACTIVE"),
        release_2: ("release", "orders-demo-v2", E, "ACTIVE"),
    }

    # STEP 4, delete the stack, in reverse order of dependencies
    stack.delete("Release")
    final_new = stack.delete("Final")
    # before the cluster goes: its final snapshot, and its copy under the key, are ACTIVE
    (final_new_arn,) = [
        arn
        for arn, s in docdb.snapshots.items()
        if s.cluster_arn == new_arn and s.tags["protection"] == "final" and s.status() == "ACTIVE" and not s.copied_from
    ]
    assert docdb.snapshots[copy_of(docdb, final_new_arn)].status() == "ACTIVE"
    docdb.retired.append(docdb.clusters.pop(new_arn))
    stack.delete("Copy")
    stack.delete("BeforeChange")
    final_states = state(docdb)
    assert sorted(final_states.values()) == sorted(
        [
            ("release", "orders-demo", E, "ACTIVE"),
            ("before-change", "orders-demo", E, "ACTIVE"),
            ("before-change-copy", "orders-demo", W, "ACTIVE"),
            ("final", "orders-demo", E, "ACTIVE"),
            ("final", "orders-demo", W, "ACTIVE"),
            ("release", "orders-demo-v2", E, "ACTIVE"),
            ("final", "orders-demo-v2", E, "ACTIVE"),
            ("final", "orders-demo-v2", W, "ACTIVE"),
        ]
    )
    assert final_new["Status"] == "SUCCESS"
    # Nothing was ever deleted but what retention pruned: a before-change snapshot and its copy
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [before_1, dr_1]
    # AND every call was made in the stack's region
    assert {c.region for c in docdb.calls} == {REGION}
