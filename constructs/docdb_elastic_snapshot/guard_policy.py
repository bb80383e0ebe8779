"""The service control policy of ElasticClusterBackupGuard, as data: which actions it denies, on
what, and to whom. No aws_cdk here, so the tests (and a reader) see the policy without a synth.

A service control policy limits every principal of the member accounts it reaches, their root
users included; it names the library's resources the way the workload side marks them
(``docdb_snapshot_handler.contract``): roles by their IAM path (an ARN, which every IAM action can
be scoped to), the provider's function by its tag, recovery points by their request tag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from docdb_snapshot_handler import contract

#: Every role the library makes, in every account and partition.
LIBRARY_ROLES = f"arn:*:iam::*:role{contract.LIBRARY_ROLE_PATH}*"
#: The CDK bootstrap roles (cdk-<qualifier>-deploy-role-..., cdk-<qualifier>-cfn-exec-role-...).
DEFAULT_DEPLOY_ROLES = ("arn:*:iam::*:role/cdk-*",)

RECOVERY_POINT_DELETION = ("docdb-elastic:DeleteClusterSnapshot",)
RECOVERY_POINT_TAGGING = ("docdb-elastic:TagResource", "docdb-elastic:UntagResource")
# What changes the provider's function, or lets someone else call it (a resource-based
# permission for another account, a function URL): a deploy is the audited way to do it.
PROVIDER_CHANGES = (
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:AddPermission",
    "lambda:CreateFunctionUrlConfig",
    "lambda:UpdateFunctionUrlConfig",
)
# Every role under the path is exempt from the recovery-point denials, so every one of them
# (not only the provider's) is protected from change, from being passed to another service and
# from being created anew: matched by ARN, as iam:PassRole has no tag condition to match by.
LIBRARY_ROLE_CHANGES = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
)
PROVIDER_INVOCATION = ("lambda:InvokeFunction", "lambda:InvokeAsync", "lambda:InvokeFunctionUrl")
PROTECTED_KEY_CHANGES = ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy")

_RESOURCE_TAG = "aws:ResourceTag/"


def guard_document(
    *,
    break_glass_role_arns: Sequence[str],
    deploy_role_arns: Sequence[str],
    protected_key_arns: Sequence[str],
) -> dict[str, Any]:
    """The policy document. Each statement denies its actions unless the principal's role ARN is
    one of the statement's exemptions (``ArnNotLike`` on ``aws:PrincipalArn``)."""
    break_glass = list(break_glass_role_arns)
    deploy = list(deploy_role_arns)
    library = [LIBRARY_ROLES]
    statements = [
        _deny(
            "DenyRecoveryPointDelete",
            RECOVERY_POINT_DELETION,
            "arn:*:docdb-elastic:*:*:cluster-snapshot/*",
            library + break_glass,
            {"Null": {_RESOURCE_TAG + contract.REQUEST_TAG_KEY: "false"}},
        ),
        _deny(
            "DenyRecoveryPointRetag",
            RECOVERY_POINT_TAGGING,
            "*",
            library + break_glass,
            {"ForAnyValue:StringLike": {"aws:TagKeys": [contract.RESERVED_TAG_PREFIX + "*"]}},
        ),
        _deny(
            "DenyProviderChange",
            PROVIDER_CHANGES,
            "*",
            deploy + break_glass,
            {"Null": {_RESOURCE_TAG + contract.PROVIDER_TAG_KEY: "false"}},
        ),
        _deny("DenyLibraryRoleChange", LIBRARY_ROLE_CHANGES, LIBRARY_ROLES, deploy + break_glass),
        # Deploy roles too: CloudFormation invokes a custom resource's function with the stack's
        # service role when it has one (the CDK's cfn-exec-role), and they may change the code anyway.
        _deny(
            "DenyProviderInvoke",
            PROVIDER_INVOCATION,
            "*",
            library + deploy + break_glass,
            {"Null": {_RESOURCE_TAG + contract.PROVIDER_TAG_KEY: "false"}},
        ),
    ]
    if protected_key_arns:
        statements.append(_deny("DenyProtectedKeyChange", PROTECTED_KEY_CHANGES, list(protected_key_arns), break_glass))
    return {"Version": "2012-10-17", "Statement": statements}


def _deny(
    sid: str,
    actions: Sequence[str],
    resource: str | list[str],
    exempt: list[str],
    condition: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, Any]:
    conditions: dict[str, Any] = dict(condition or {})
    if exempt:
        conditions["ArnNotLike"] = {"aws:PrincipalArn": exempt}
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Deny", "Action": list(actions), "Resource": resource}
    if conditions:
        statement["Condition"] = conditions
    return statement


def content_size(document: Mapping[str, Any]) -> int:
    """The characters the policy counts against the SCP quota, at most: CloudFormation serialises a
    JSON object Content itself, in a way AWS does not document, so this counts a space after every
    separator (json.dumps' default), more than a compact serialisation would."""
    return len(json.dumps(document))
