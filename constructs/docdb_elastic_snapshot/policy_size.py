"""IAM's quota on a role's inline policies (10,240 characters, whitespace not counted, all
policies together), estimated at synth time: a provider role over it fails the deploy."""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam

from constructs import Construct, IValidation

ROLE_INLINE_POLICY_QUOTA = 10_240
#: Lengths of what CloudFormation fills in: pseudo parameters as in the commercial partition,
#: a region at its longest; any other reference (an ARN of the stack) at a generous 100.
_PSEUDO = {"AWS::Partition": 3, "AWS::Region": 14, "AWS::AccountId": 12, "AWS::URLSuffix": 13}
_REFERENCE = 100


def _rendered(value: Any) -> Any:
    if isinstance(value, list):
        return [_rendered(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return "x" * _PSEUDO.get(value["Ref"], _REFERENCE)
    if set(value) == {"Fn::GetAtt"}:
        return "x" * _REFERENCE
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_rendered(part)) for part in parts)
    return {key: _rendered(item) for key, item in value.items()}


def estimated_size(policies: list[iam.Policy]) -> int:
    """Characters of the policies' documents as IAM counts them, once CloudFormation has
    resolved them (an estimate: references count 100 characters)."""
    total = 0
    for policy in policies:
        document = Stack.of(policy).resolve(policy.document.to_json())
        total += len(json.dumps(_rendered(document), separators=(",", ":")))
    return total


@jsii.implements(IValidation)
class RolePolicySizeCheck:
    """Warns on the provider when its role's inline policies (all of them the provider's own
    children) would exceed the quota. A validation, not an aspect: it runs after the CDK has
    merged statements (``@aws-cdk/aws-iam:minimizePolicies``), on the policies as deployed."""

    def __init__(self, provider: Construct) -> None:
        self._provider = provider

    def validate(self) -> list[str]:
        node = self._provider
        size = estimated_size([child for child in node.node.children if isinstance(child, iam.Policy)])
        if size > ROLE_INLINE_POLICY_QUOTA:
            Annotations.of(node).add_warning_v2(
                "docdb-elastic-snapshot:role-policy-size",
                f"The provider role's inline policies come to about {size} characters, over IAM's quota of "
                f"{ROLE_INLINE_POLICY_QUOTA} for one role: the deploy would fail. Each distinct copy destination "
                "(region and key) of a FinalSnapshot adds about 950: use fewer per stack, or split the stack.",
            )
        return []
