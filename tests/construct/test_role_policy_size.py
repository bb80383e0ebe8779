"""The provider role's inline policies against IAM's 10,240-character quota per role, estimated
at synth time: a warning before a deploy that would fail."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match, Template

from docdb_elastic_snapshot import CopyDestination, FinalSnapshot, SnapshotBeforeChange
from docdb_elastic_snapshot.policy_size import ROLE_INLINE_POLICY_QUOTA, estimated_size
from docdb_elastic_snapshot.provider import SnapshotProvider
from iam_lifecycles import ENV, cluster, resolve
from synth_support import recommended_app

REGIONS = ["us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ca-central-1"]


def protected(copies_per_cluster: int, clusters: int) -> cdk.Stack:
    stack = cdk.Stack(recommended_app(), "SizeStack", env=ENV)
    for index in range(clusters):
        c = cluster(stack, f"orders-{index}", f"Cluster{index}")
        SnapshotBeforeChange(stack, f"BeforeChange{index}", cluster=c)
        key = f"1234abcd-12ab-34cd-56ef-12345678900{index}"
        FinalSnapshot(
            stack,
            f"Final{index}",
            cluster=c,
            copy_to=[CopyDestination(r, kms_key_id=key) for r in REGIONS[:copies_per_cluster]],
        )
    return stack


def resolved_size(stack: cdk.Stack) -> int:
    template = Template.from_stack(stack).to_json()
    return sum(
        len(json.dumps(resolve(template, r["Properties"]["PolicyDocument"]), separators=(",", ":")))
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
    )


def quota_warnings(stack: cdk.Stack) -> list:
    return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("quota of 10240"))


def test_a_stack_within_the_quota_gets_no_warning_and_the_estimate_is_never_below_the_real_size():
    # GIVEN a protected cluster whose final snapshot is copied to five regions, each with a key
    stack = protected(copies_per_cluster=5, clusters=1)
    # THEN the estimate is at or a little above the size CloudFormation would resolve
    policies = [c for c in SnapshotProvider.of(stack).node.children if isinstance(c, cdk.aws_iam.Policy)]
    estimate, real = estimated_size(policies), resolved_size(stack)
    assert real <= estimate <= real * 1.3, (estimate, real)
    assert real < ROLE_INLINE_POLICY_QUOTA and quota_warnings(stack) == []


def test_a_stack_over_the_quota_is_warned_at_synth_time():
    # GIVEN two clusters whose final snapshots go to five regions each, each with its own keys
    stack = protected(copies_per_cluster=5, clusters=2)
    # THEN IAM would refuse the role's policies, and the synth says so before the deploy
    assert resolved_size(stack) > ROLE_INLINE_POLICY_QUOTA
    (warning,) = quota_warnings(stack)
    assert "split the stack" in warning.entry.data
