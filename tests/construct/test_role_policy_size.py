"""The provider role's inline policies against IAM's 10,240-character quota per role, estimated
at synth time: a warning before a deploy that would fail."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from docdb_elastic_snapshot import ElasticClusterSnapshot
from docdb_elastic_snapshot.policy_size import ROLE_INLINE_POLICY_QUOTA, estimated_size
from docdb_elastic_snapshot.provider import SnapshotProvider
from iam_lifecycles import ENV, resolve
from standins.docdb_elastic import cluster_arn_for
from synth_support import recommended_app


def protected(clusters: int) -> cdk.Stack:
    """Snapshots of existing clusters, each under its own customer managed key: each adds its
    cluster's and its key's statements to the provider's policies (about 250 characters)."""
    stack = cdk.Stack(recommended_app(), "SizeStack", env=ENV)
    for index in range(clusters):
        key_arn = f"arn:aws:kms:{ENV.region}:{ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890{index:02d}"
        key = kms.Key.from_key_arn(stack, f"Key{index}", key_arn)
        ElasticClusterSnapshot(stack, f"Snapshot{index}", cluster_arn=cluster_arn_for(f"orders-{index}"), kms_key=key)
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
    # GIVEN ten clusters, each snapshotted under its own key
    stack = protected(clusters=10)
    # THEN the estimate is at or a little above the size CloudFormation would resolve
    policies = [c for c in SnapshotProvider.of(stack).node.children if isinstance(c, cdk.aws_iam.Policy)]
    estimate, real = estimated_size(policies), resolved_size(stack)
    assert real <= estimate <= real * 1.3, (estimate, real)
    assert real < ROLE_INLINE_POLICY_QUOTA and quota_warnings(stack) == []


def test_a_stack_over_the_quota_is_warned_at_synth_time():
    # GIVEN forty clusters, each snapshotted under its own key
    stack = protected(clusters=40)
    # THEN IAM would refuse the role's policies, and the synth says so before the deploy
    assert resolved_size(stack) > ROLE_INLINE_POLICY_QUOTA
    (warning,) = quota_warnings(stack)
    assert "split the stack" in warning.entry.data
