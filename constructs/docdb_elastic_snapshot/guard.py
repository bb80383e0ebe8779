"""ElasticClusterBackupGuard: a service control policy that keeps the library's recovery points,
its provider and the keys that encrypt them out of reach of everyone in the member accounts but
the library's own roles, the deploy roles (for the provider only) and a break-glass role.

It goes in a stack of the organization's management account (or of the account the organization
delegates policy management to); the workload stacks need nothing but the library, whose roles and
provider carry the marks the policy names (docs/guard.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Token
from aws_cdk import aws_organizations as organizations

from constructs import Construct
from docdb_snapshot_handler import contract

from .guard_policy import DEFAULT_DEPLOY_ROLES, content_size, guard_document
from .validation import reject_invalid

# botocore's organizations model: PolicyTargetId, PolicyName, PolicyDescription.
TARGET_ID_PATTERN = r"^(?:r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$"
POLICY_NAME_MAX_LENGTH = 128
POLICY_DESCRIPTION_MAX_LENGTH = 512
# A role ARN, or a pattern of them: '*' or '?' may stand for the partition, the account or part
# of the name (an SCP reaches many accounts).
ROLE_ARN_PATTERN = r"^arn:(?:aws[a-z-]*|\*):iam::(?:\d{12}|\*):role/[\w+=,.@/*?-]+$"
DEFAULT_POLICY_NAME = "docdb-elastic-snapshot-guard"


class ElasticClusterBackupGuard(Construct):
    """One ``AWS::Organizations::Policy`` of type ``SERVICE_CONTROL_POLICY``, attached to
    ``target_ids`` (roots, OUs or account ids). It denies, to every principal of those accounts but
    the exempt ones: deleting a snapshot that carries the library's request tag, and changing a
    ``docdb-elastic-snapshot:*`` tag (unless a library role or break-glass); changing, deleting,
    sharing or retagging the provider's function, and changing, passing or creating a role under
    the library's path (unless a deploy role or break-glass); invoking the provider (unless a
    library role, a deploy role or break-glass); disabling, deleting or re-policying
    ``protected_key_arns`` (unless break-glass). Nothing else.

    ``deploy_role_arns`` defaults to the CDK bootstrap roles (``cdk-*``); ``[]`` lets only
    break-glass change the provider (and deploys that change it fail)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target_ids: Sequence[str],
        break_glass_role_arns: Sequence[str] | None = None,
        deploy_role_arns: Sequence[str] | None = None,
        protected_key_arns: Sequence[str] | None = None,
        policy_name: str = DEFAULT_POLICY_NAME,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        break_glass = list(break_glass_role_arns or [])
        deploy = list(DEFAULT_DEPLOY_ROLES if deploy_role_arns is None else deploy_role_arns)
        keys = list(protected_key_arns or [])
        errors = guard_errors(
            target_ids=target_ids,
            break_glass_role_arns=break_glass,
            deploy_role_arns=deploy,
            protected_key_arns=keys,
            policy_name=policy_name,
            description=description,
        )
        self.document = guard_document(
            break_glass_role_arns=break_glass, deploy_role_arns=deploy, protected_key_arns=keys
        )
        if not errors:
            errors.extend(content_size_errors(content_size(self.document)))
        reject_invalid(self, errors)

        self.policy = organizations.CfnPolicy(
            self,
            "Policy",
            name=policy_name,
            type="SERVICE_CONTROL_POLICY",
            # A JSON object, as CloudFormation recommends: a string cannot be drift-detected.
            content=self.document,
            target_ids=list(target_ids),
            description=description
            or "docdb-elastic-snapshot: recovery points, their provider and keys only the library changes",
        )

    @property
    def policy_id(self) -> str:
        return self.policy.attr_id


def guard_errors(
    *,
    target_ids: Sequence[str],
    break_glass_role_arns: Sequence[str],
    deploy_role_arns: Sequence[str],
    protected_key_arns: Sequence[str],
    policy_name: str,
    description: str | None,
) -> list[str]:
    """Every broken rule of the props at once."""
    errors = _target_errors(target_ids)
    errors += _role_errors("break_glass_role_arns", break_glass_role_arns)
    errors += _role_errors("deploy_role_arns", deploy_role_arns)
    errors += _key_errors(protected_key_arns)
    if not Token.is_unresolved(policy_name) and not 1 <= len(policy_name) <= POLICY_NAME_MAX_LENGTH:
        errors.append(f"policy_name: must be 1 to {POLICY_NAME_MAX_LENGTH} characters (got {len(policy_name)})")
    if description is not None and len(description) > POLICY_DESCRIPTION_MAX_LENGTH:
        errors.append(
            f"description: must be at most {POLICY_DESCRIPTION_MAX_LENGTH} characters (got {len(description)})"
        )
    return errors


def content_size_errors(size: int) -> list[str]:
    if size > contract.SCP_MAX_CHARACTERS:
        return [
            f"the policy would be {size} characters, over AWS Organizations' {contract.SCP_MAX_CHARACTERS} for a "
            "service control policy: give fewer or shorter break_glass_role_arns or deploy_role_arns, or split "
            "protected_key_arns over two guards"
        ]
    return []


def _target_errors(target_ids: Sequence[str]) -> list[str]:
    if isinstance(target_ids, str) or not target_ids:
        return ["target_ids: give at least one root (r-...), organizational unit (ou-...-...) or account id"]
    errors = []
    literal = [t for t in target_ids if not Token.is_unresolved(t)]
    for target in literal:
        if not re.match(TARGET_ID_PATTERN, target):
            errors.append(
                f"target_ids: {target[:80]!r} is not a root id (r-xxxx), an OU id (ou-xxxx-xxxxxxxx) or a "
                "12-digit account id"
            )
    duplicates = sorted({t for t in literal if literal.count(t) > 1})
    if duplicates:
        errors.append(f"target_ids: each target once (repeated: {', '.join(duplicates)})")
    return errors


def _role_errors(field: str, arns: Sequence[str]) -> list[str]:
    if isinstance(arns, str):
        return [f"{field}: must be a list of role ARNs, not one string"]
    errors = []
    for arn in arns:
        if Token.is_unresolved(arn):
            errors.append(
                f"{field}: must be literal ARNs (the policy's size is checked before deploy, and a role of a member "
                "account cannot be referenced from the management account's stack)"
            )
        elif not re.match(ROLE_ARN_PATTERN, arn):
            errors.append(
                f"{field}: {arn[:120]!r} must be an IAM role ARN, arn:<partition>:iam::<account>:role/<path><name>; "
                "'*' and '?' may stand for the partition, the account or part of the name"
            )
        elif not arn.split(":role/", 1)[1].strip("*?/"):
            errors.append(f"{field}: {arn!r} matches every role, which would exempt everyone from the guard")
        elif arn.split(":role/", 1)[1].startswith(contract.LIBRARY_ROLE_PATH.strip("/")):
            errors.append(
                f"{field}: {arn!r} is under the library's own path {contract.LIBRARY_ROLE_PATH}; name roles of your own"
            )
    return errors


def _key_errors(arns: Sequence[str]) -> list[str]:
    if isinstance(arns, str):
        return ["protected_key_arns: must be a list of KMS key ARNs, not one string"]
    errors = []
    for arn in arns:
        if Token.is_unresolved(arn) or not re.match(contract.KMS_KEY_ARN_PATTERN, arn):
            errors.append(
                f"protected_key_arns: {str(arn)[:120]!r} must be a literal KMS key ARN, "
                "arn:<partition>:kms:<region>:<account>:key/<id> (an SCP names a key of a member account by its ARN; "
                "aliases cannot be)"
            )
    if len(set(arns)) != len(arns):
        errors.append("protected_key_arns: each key once")
    return errors
