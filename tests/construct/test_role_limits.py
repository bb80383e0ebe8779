"""IAM's limits on every role the library creates (inline 10,240 characters per role, 6,144 per
managed policy, 10 managed policies per role), checked at synth time: what synthesizes deploys,
and what would not fails ``app.synth()`` with an error naming the role, the figure and the limit."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    SnapshotProvider,
)
from docdb_elastic_snapshot.role_limits import (
    MANAGED_POLICIES_PER_ROLE_QUOTA,
    MANAGED_POLICY_SIZE_QUOTA,
    ROLE_INLINE_POLICY_QUOTA,
    role_figures,
)
from every_construct import every_construct, more_snapshots
from iam_template import ENV, resolve
from standins.docdb_elastic import cluster_arn_for
from synth_support import recommended_app, synth_demo


def library_roles(stack: cdk.Stack) -> list[iam.Role]:
    return [c for c in stack.node.find_all() if isinstance(c, iam.Role) and "FlowLog" not in c.node.path]


def resolved_inline_size(template: dict[str, Any], role_id: str) -> int:
    """What CloudFormation would deploy as the role's inline policies, in the stand-in's account."""
    return sum(
        len(json.dumps(resolve(template, r["Properties"]["PolicyDocument"]), separators=(",", ":")))
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
    )


def test_the_demo_stack_fits_every_limit(tmp_path):
    # GIVEN the demo stack as app.py builds it: WHEN it synthesizes (the check runs in synth)
    template = synth_demo(tmp_path)
    # THEN its backup plan, its restore test and the final snapshot's grants are in managed policies
    managed = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    assert len(managed) == 3


@pytest.mark.parametrize("extra", [0, 20], ids=["every construct", "every construct and 20 more snapshots"])
def test_every_construct_in_one_stack_fits_with_room_to_spare(extra):
    # GIVEN every construct of the README in one stack, and 20 snapshots of 20 more clusters
    app = recommended_app()
    stack = cdk.Stack(app, "Everything", env=ENV)
    every_construct(stack)
    more_snapshots(stack, extra)
    # WHEN it synthesizes, THEN no limit is broken, each with at least a tenth to spare
    app.synth()
    for role in library_roles(stack):
        inline, managed, count = role_figures(role)
        assert inline < 0.9 * ROLE_INLINE_POLICY_QUOTA, (role.node.path, inline)
        assert all(size < 0.9 * MANAGED_POLICY_SIZE_QUOTA for _, size in managed), (role.node.path, managed)
        assert count <= MANAGED_POLICIES_PER_ROLE_QUOTA - 2, (role.node.path, count)


def test_the_estimate_is_never_below_what_cloudformation_deploys():
    # GIVEN every construct and 20 more snapshots, resolved as CloudFormation would
    stack = cdk.Stack(recommended_app(), "Everything", env=ENV)
    every_construct(stack)
    more_snapshots(stack, 20)
    template = Template.from_stack(stack).to_json()
    role = SnapshotProvider.of(stack).role
    real = resolved_inline_size(template, stack.resolve(role.node.default_child.ref)["Ref"])
    # THEN the estimate is at or a little above it
    estimate, _, _ = role_figures(role)
    assert real <= estimate <= real * 1.3, (estimate, real)


def test_150_snapshots_of_150_clusters_fail_at_synth_naming_the_role_the_figure_the_limit_and_the_fix():
    # GIVEN 150 snapshots of 150 clusters in one stack
    app = recommended_app()
    stack = cdk.Stack(app, "Many", env=ENV)
    more_snapshots(stack, 150)
    # WHEN it synthesizes, THEN app.synth() itself fails with the reason
    with pytest.raises(Exception) as raised:
        app.synth()
    text = str(raised.value)
    assert (
        "Many/DocDbElasticSnapshotProvider/Role" in text and f"over IAM's limit of {ROLE_INLINE_POLICY_QUOTA}" in text
    )
    assert "split the stack" in text and "reference_iam-quotas.html" in text
    (inline, _, _) = role_figures(SnapshotProvider.of(stack).role)
    assert f"about {inline} characters" in text


def test_more_managed_policies_than_the_role_may_have_fail_at_synth():
    # GIVEN eleven backup plans in one stack: eleven managed policies on the provider role
    app = recommended_app()
    stack = cdk.Stack(app, "Plans", env=ENV)
    for index in range(MANAGED_POLICIES_PER_ROLE_QUOTA + 1):
        plan = ElasticClusterBackupPlan(stack, f"Plan{index}", rules=[ElasticClusterBackupRule.daily()])
        plan.add_selection("Gold", tags={"backup": f"gold-{index}"})
    # THEN the synth fails on the count
    with pytest.raises(Exception, match=r"11 managed policies are attached, over IAM's default quota of 10"):
        app.synth()


def test_a_managed_policy_over_its_own_limit_fails_at_synth():
    # GIVEN a plan that selects 80 clusters by ARN (each named in its managed policy)
    app = recommended_app()
    stack = cdk.Stack(app, "BigPlan", env=ENV)
    plan = ElasticClusterBackupPlan(stack, "Plan", rules=[ElasticClusterBackupRule.daily()])
    plan.add_selection("Many", clusters=[cluster_arn_for(f"c-{index}") for index in range(80)])
    # THEN the synth fails naming the managed policy and its limit
    with pytest.raises(
        Exception, match=rf"the managed policy BigPlan/Plan/Policy.*over IAM's limit of {MANAGED_POLICY_SIZE_QUOTA}"
    ):
        app.synth()
