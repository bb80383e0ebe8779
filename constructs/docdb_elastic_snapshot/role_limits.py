"""IAM's limits on a role's permissions, checked at synth time for every role the library creates:
what synthesizes must deploy. From *IAM and AWS STS quotas*
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a role's inline
policies together at most 10,240 characters, a managed policy at most 6,144, at most 10 managed
policies attached to a role (the default quota), whitespace not counted.

Every policy attached to the role counts, whichever construct added it: AWS::IAM::Policy and
AWS::IAM::ManagedPolicy resources naming the role, and the role's own Policies and
ManagedPolicyArns. A validation, not an aspect: it runs after the CDK has merged statements
(``@aws-cdk/aws-iam:minimizePolicies``), on the policies as deployed, and its errors fail
``app.synth()`` itself.
"""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from constructs import IValidation

ROLE_INLINE_POLICY_QUOTA = 10_240
MANAGED_POLICY_SIZE_QUOTA = 6_144
MANAGED_POLICIES_PER_ROLE_QUOTA = 10
QUOTAS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
#: What CloudFormation fills in, at its longest: pseudo parameters (a partition such as
#: aws-iso-b, the longest region code, an account id, a URL suffix such as amazonaws.com.cn);
#: any other reference (an ARN or a name of the stack) at a generous 140.
_PSEUDO = {"AWS::Partition": 9, "AWS::Region": 14, "AWS::AccountId": 12, "AWS::URLSuffix": 16}
_REFERENCE = 140
_TO_FIX = (
    "To fix: split the stack (fewer snapshots of existing clusters, backup plans or restore tests in one stack "
    "share one provider role), or raise the quota where IAM allows it"
)


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


def document_size(stack: Stack, document: Any) -> int:
    """Characters of a policy document as IAM counts them once CloudFormation has resolved it."""
    return len(json.dumps(_rendered(stack.resolve(document)), separators=(",", ":")))


def _names(stack: Stack, roles: Any, ref: Any) -> bool:
    resolved = stack.resolve(roles) or []
    return isinstance(resolved, list) and ref in resolved


def role_figures(role: iam.Role) -> tuple[int, list[tuple[str, int]], int]:
    """(inline characters, [(managed policy path, characters)] of the stack's own, managed count)."""
    stack = Stack.of(role)
    cfn_role = role.node.default_child
    assert isinstance(cfn_role, iam.CfnRole)
    ref = stack.resolve(cfn_role.ref)
    own = stack.resolve(cfn_role.policies) or []
    inline = sum(document_size(stack, p.get("PolicyDocument", p.get("policyDocument"))) for p in own)
    managed: list[tuple[str, int]] = []
    arns = stack.resolve(cfn_role.managed_policy_arns) or []
    count = len(arns) if isinstance(arns, list) else 0
    for construct in stack.node.find_all():
        if isinstance(construct, iam.CfnPolicy) and _names(stack, construct.roles, ref):
            inline += document_size(stack, construct.policy_document)
        elif isinstance(construct, iam.CfnManagedPolicy):
            size = document_size(stack, construct.policy_document)
            if _names(stack, construct.roles, ref):
                managed.append((construct.node.path, size))
                count += 1
            elif stack.resolve(construct.ref) in arns:
                managed.append((construct.node.path, size))
    return inline, managed, count


@jsii.implements(IValidation)
class RoleLimitsCheck:
    """Fails the synth when a role of the library's would break one of IAM's limits."""

    def __init__(self, role: iam.Role) -> None:
        self._role = role

    def validate(self) -> list[str]:
        inline, managed, count = role_figures(self._role)
        role = self._role.node.path
        errors = []
        if inline > ROLE_INLINE_POLICY_QUOTA:
            errors.append(
                f"The role {role}: its inline policies come to about {inline} characters, over IAM's limit of "
                f"{ROLE_INLINE_POLICY_QUOTA} per role ({QUOTAS_PAGE}): the deploy would fail. {_TO_FIX}"
            )
        errors.extend(
            f"The role {role}: the managed policy {path} comes to about {size} characters, over IAM's limit of "
            f"{MANAGED_POLICY_SIZE_QUOTA} per managed policy ({QUOTAS_PAGE}): the deploy would fail. {_TO_FIX}"
            for path, size in managed
            if size > MANAGED_POLICY_SIZE_QUOTA
        )
        if count > MANAGED_POLICIES_PER_ROLE_QUOTA:
            errors.append(
                f"The role {role}: {count} managed policies are attached, over IAM's default quota of "
                f"{MANAGED_POLICIES_PER_ROLE_QUOTA} per role ({QUOTAS_PAGE}): the deploy would fail. {_TO_FIX}"
            )
        return errors


def check_role_limits(role: iam.Role) -> None:
    role.node.add_validation(RoleLimitsCheck(role))
