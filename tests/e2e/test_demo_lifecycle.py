"""End to end: the demo stack's three protections through create, update in place, update with
replacement, and delete; CloudFormation's part (order, which resources change, the cluster's
own create/replace/delete) is played from the synthesized templates, the handler's part by the
bundled asset in a fresh process per event. Every snapshot's state is checked at each step."""

from __future__ import annotations

import json
from typing import Any

from docdb_snapshot_handler.contract import OWNER_TAG_KEY, RESOURCE_TYPE, Attr, Prop
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
from standins.response_receiver import ResponseReceiver
from synth_support import synth_demo

MODES = {"before-change": "BeforeChange", "final": "Final", "snapshot": "Release"}


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
        self.applied: dict[str, dict[str, Any]] = {}
        self.physical: dict[str, str] = {}

    def properties(self, template: dict[str, Any], name: str, cluster_arn: str) -> dict[str, Any]:
        raw = template["Resources"][self.ids[name]]["Properties"]
        return as_cloudformation_sends(raw, {("Cluster", "ClusterArn"): cluster_arn})

    def apply(self, template: dict[str, Any], name: str, cluster_arn: str) -> dict[str, Any] | None:
        """Create, or Update when the properties changed (as CloudFormation decides)."""
        new = self.properties(template, name, cluster_arn)
        old = self.applied.get(name)
        if old == new:
            return None
        request_type = "Create" if old is None else "Update"
        answer = self.handler.send(request_type, self.ids[name], new, old=old, physical_id=self.physical.get(name))
        assert answer["Status"] == "SUCCESS", (name, answer["Reason"])
        self.applied[name], self.physical[name] = new, answer["PhysicalResourceId"]
        return answer

    def delete(self, name: str) -> dict[str, Any]:
        answer = self.handler.send("Delete", self.ids[name], self.applied[name], physical_id=self.physical[name])
        assert answer["Status"] == "SUCCESS", (name, answer["Reason"])
        return answer


def state(docdb: DocDbElasticStandIn) -> dict[str, tuple[str, str, str]]:
    """Each snapshot: (which protection took it, per the demo's tags; which cluster; status)."""
    result = {}
    for arn, snapshot in docdb.snapshots.items():
        cluster = next(c.name for c in [*docdb.clusters.values(), *docdb.retired] if c.arn == snapshot.cluster_arn)
        # retention's owner tag, on the snapshots of the protections that prune
        assert bool(snapshot.tags.get(OWNER_TAG_KEY)) == (snapshot.tags["protection"] != "final"), snapshot
        result[arn] = (snapshot.tags["protection"], cluster, snapshot.status())
    return result


def test_demo_stack_lifecycle_create_update_replace_delete(
    tmp_path, receiver: ResponseReceiver, aws_env, docdb: DocDbElasticStandIn
):
    docdb.snapshot_delay = 0.3
    docdb.retired = []
    v1 = synth_demo(tmp_path / "v1")
    v2 = synth_demo(tmp_path / "v2", demoShardCount="2")
    v3 = synth_demo(tmp_path / "v3", demoShardCount="2", demoClusterName="orders-demo-v2")
    assert json.dumps(v1) != json.dumps(v2)
    stack = Deployment(v1, BundledHandler(tmp_path / "v1", v1, receiver, aws_env))
    old_arn, new_arn = cluster_arn_for("orders-demo"), cluster_arn_for("orders-demo-v2")

    # STEP 1, create: before-change first (no cluster yet), then the cluster, then the others
    before = stack.apply(v1, "BeforeChange", old_arn)
    assert (
        before
        and before["Data"][Attr.SNAPSHOT_ARN] == ""
        and "does not exist yet" in before["Data"][Attr.SKIPPED_REASON]
    )
    docdb.add_cluster("orders-demo")
    final = stack.apply(v1, "Final", old_arn)
    assert final and final["Data"][Attr.SNAPSHOT_ARN] == ""
    release_1 = stack.apply(v1, "Release", old_arn)["PhysicalResourceId"]
    assert state(docdb) == {release_1: ("release", "orders-demo", "ACTIVE")}

    # STEP 2, shard count 1 -> 2: only the before-change trigger and the cluster change
    assert stack.properties(v2, "Final", old_arn) == stack.applied["Final"]
    before_1 = stack.apply(v2, "BeforeChange", old_arn)["PhysicalResourceId"]
    assert stack.apply(v2, "Final", old_arn) is None and stack.apply(v2, "Release", old_arn) is None
    assert state(docdb) == {
        release_1: ("release", "orders-demo", "ACTIVE"),
        before_1: ("before-change", "orders-demo", "ACTIVE"),
    }

    # STEP 3, rename: the old cluster is snapshotted before the change, the new cluster is
    # created, the final snapshot of the old one is taken before clean-up deletes it
    before_2 = stack.apply(v3, "BeforeChange", old_arn)
    assert before_2["Data"][Attr.CLUSTER_ARN] == old_arn
    docdb.add_cluster("orders-demo-v2")
    final_old = stack.apply(v3, "Final", new_arn)
    assert final_old["Data"][Attr.CLUSTER_ARN] == old_arn and final_old["Data"][Attr.STATUS] == "ACTIVE"
    release_2 = stack.apply(v3, "Release", new_arn)["PhysicalResourceId"]
    docdb.retired.append(docdb.clusters.pop(old_arn))  # CloudFormation's clean-up
    final_old_arn = final_old["Data"][Attr.SNAPSHOT_ARN]
    assert state(docdb) == {
        release_1: ("release", "orders-demo", "ACTIVE"),
        before_2["PhysicalResourceId"]: ("before-change", "orders-demo", "ACTIVE"),  # retain_last=1 pruned before_1
        final_old_arn: ("final", "orders-demo", "ACTIVE"),
        release_2: ("release", "orders-demo-v2", "ACTIVE"),
    }

    # STEP 4, delete the stack, in reverse order of dependencies
    stack.delete("Release")
    final_new = stack.delete("Final")
    assert any(
        s.cluster_arn == new_arn and s.tags["protection"] == "final" and s.status() == "ACTIVE"
        for s in docdb.snapshots.values()
    )  # before the cluster goes
    docdb.retired.append(docdb.clusters.pop(new_arn))
    stack.delete("BeforeChange")
    final_states = state(docdb)
    assert sorted(final_states.values()) == sorted(
        [
            ("release", "orders-demo", "ACTIVE"),
            ("before-change", "orders-demo", "ACTIVE"),
            ("final", "orders-demo", "ACTIVE"),
            ("release", "orders-demo-v2", "ACTIVE"),
            ("final", "orders-demo-v2", "ACTIVE"),
        ]
    )
    assert final_new["Status"] == "SUCCESS"
    # Nothing was ever deleted but the before-change snapshot that retention pruned
    assert [c.params["snapshotArn"] for c in docdb.calls_to("DeleteClusterSnapshot")] == [before_1]
