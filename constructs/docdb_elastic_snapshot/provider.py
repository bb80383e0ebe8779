"""One provider per stack: the Lambda function, its role and its log group.

Every snapshot resource in a stack shares it; each one widens the role just enough for what it
uses (its cluster, tagging, deletion).
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations, aws_lambda
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from constructs import Construct

from .handler_asset import HANDLER_ENTRY_POINT, handler_code

PROVIDER_ID = "DocDbElasticSnapshotProvider"
# A wait longer than this continues in a new invocation of the same function.
FUNCTION_TIMEOUT = Duration.minutes(15)


class SnapshotProvider(Construct):
    """Use ``SnapshotProvider.of(scope)``; never construct it directly.

    Two policies keep dependency cycles out: the function depends on ``Policy``, which never
    names a cluster of the stack (a SnapshotBeforeChange's cluster depends on the function);
    grants on specific clusters go to ``ClusterPolicy``, on which only the resources that need
    them depend.
    """

    @classmethod
    def of(cls, scope: Construct) -> SnapshotProvider:
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, SnapshotProvider):
            return existing
        return cls(stack, PROVIDER_ID)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # One statement per policy and set of actions, listing every resource it covers.
        self._statements: dict[tuple[str, tuple[str, ...]], iam.PolicyStatement] = {}
        self._granted: set[tuple[str, tuple[str, ...], str]] = set()
        self._snapshot_arns = stack.format_arn(service="docdb-elastic", resource="cluster-snapshot", resource_name="*")
        self._any_cluster_arn = stack.format_arn(service="docdb-elastic", resource="cluster", resource_name="*")

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="DocumentDB elastic cluster snapshot custom resource handler",
        )
        self._policy = iam.Policy(self, "Policy", roles=[self.role])
        self._policy.add_statements(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            ),
            # Tagging is always needed: the handler tags each snapshot with the request that
            # took it, and reads that tag back to recognise a repeated delivery.
            iam.PolicyStatement(
                actions=[
                    "docdb-elastic:CreateClusterSnapshot",
                    "docdb-elastic:GetClusterSnapshot",
                    "docdb-elastic:ListTagsForResource",
                    "docdb-elastic:TagResource",
                ],
                resources=[self._snapshot_arns],
            ),
            # A List action: it has no resource type to scope it to.
            iam.PolicyStatement(actions=["docdb-elastic:ListClusterSnapshots"], resources=["*"]),
        )
        self._cluster_policy: iam.Policy | None = None
        self._invoke_policy: iam.Policy | None = None

        self.function = aws_lambda.Function(
            self,
            "Handler",
            description="Takes DocumentDB elastic cluster snapshots for CloudFormation",
            runtime=newest_python_runtime(),
            architecture=aws_lambda.Architecture.ARM_64,
            handler=HANDLER_ENTRY_POINT,
            code=handler_code(),
            memory_size=256,
            timeout=FUNCTION_TIMEOUT,
            role=self.role,
            log_group=self.log_group,
            environment={"LOG_LEVEL": "INFO"},
        )
        self.function.node.add_dependency(self._policy)
        self._acknowledge(
            "AwsSolutions-IAM5[Resource::*]",
            "ListClusterSnapshots and ListClusters are List actions without resource-level "
            "permissions; they return names, ARNs and statuses, which the handler needs to find "
            "a cluster by name and a snapshot taken by an earlier delivery of the same request.",
        )
        self._acknowledge(
            f"AwsSolutions-IAM5[Resource::{_as_nag_text(stack.resolve(self._snapshot_arns))}]",
            "Snapshot ARNs are chosen by the service when a snapshot is created, so they cannot "
            "be known at synth time. The wildcard covers only snapshots of this account and "
            "region; CreateClusterSnapshot also needs the cluster, granted separately.",
        )

    @property
    def service_token(self) -> str:
        return self.function.function_arn

    def _grant_once(self, policy: iam.Policy, actions: str | tuple[str, ...], resource: str) -> None:
        names = (actions,) if isinstance(actions, str) else actions
        if (policy.node.id, names, resource) in self._granted:
            return
        self._granted.add((policy.node.id, names, resource))
        statement = self._statements.get((policy.node.id, names))
        if statement is None:
            statement = iam.PolicyStatement(actions=[f"docdb-elastic:{name}" for name in names])
            self._statements[(policy.node.id, names)] = statement
            policy.add_statements(statement)
        statement.add_resources(resource)

    def _cluster_grants(self) -> iam.Policy:
        if self._cluster_policy is None:
            self._cluster_policy = iam.Policy(self, "ClusterPolicy", roles=[self.role])
        return self._cluster_policy

    def allow_snapshots_of(self, resource: CustomResource, cluster_arn: str) -> None:
        """Let `resource` snapshot one cluster and read its status (a final snapshot checks it
        first; a busy cluster's status goes into the Reason). An ARN known at synth time goes on
        the policy the function itself depends on, so the resource needs no DependsOn; a token
        (a cluster of this stack) on ClusterPolicy, on which the resource depends."""
        policy = self._policy if not Token.is_unresolved(cluster_arn) else self._cluster_grants()
        self._grant_once(policy, ("CreateClusterSnapshot", "GetCluster"), cluster_arn)
        if policy is not self._policy:
            resource.node.add_dependency(policy)

    def allow_long_waits(self, resource: CustomResource, waits_on_delete: bool) -> None:
        """A wait longer than one invocation goes on in a new invocation of this same function:
        it may invoke itself, and nothing else. (A policy of its own: it names the function.)
        A resource whose Delete may wait depends on it, so that CloudFormation cannot delete the
        grant while that wait goes on. A resource that waits only on Create and Update needs no
        DependsOn: CloudFormation creates the policy as soon as the function exists, and the
        first hand-over comes after a whole invocation (minutes) of waiting."""
        if self._invoke_policy is None:
            self._invoke_policy = iam.Policy(
                self,
                "InvokeSelfPolicy",
                roles=[self.role],
                statements=[
                    iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])
                ],
            )
        if waits_on_delete:
            resource.node.add_dependency(self._invoke_policy)

    def allow_snapshots_of_clusters_found_by_name(self) -> None:
        """SnapshotBeforeChange finds its cluster by name at deploy time: its ARN cannot be
        referenced without a dependency cycle."""
        self._grant_once(self._policy, "CreateClusterSnapshot", self._any_cluster_arn)
        self._grant_once(self._policy, "ListClusters", "*")
        self._acknowledge(
            f"AwsSolutions-IAM5[Resource::{_as_nag_text(Stack.of(self).resolve(self._any_cluster_arn))}]",
            "SnapshotBeforeChange must run before its cluster changes, so the cluster depends on "
            "it and its ARN cannot be referenced here; the handler finds the cluster by name and "
            "only snapshots it. Limited to clusters of this account and region.",
        )

    def allow_deletion(self) -> None:
        self._grant_once(self._policy, "DeleteClusterSnapshot", self._snapshot_arns)

    def _acknowledge(self, rule: str, reason: str) -> None:
        Validations.of(self._policy).acknowledge(Acknowledgment(id=rule, reason=reason))

    # --- ElasticClusterFromSnapshot (issue 10): restoring, changing and deleting clusters ----------
    # A policy of its own, made only when the stack has a restore; only restore resources depend on
    # it (never the function), so a snapshot ARN from another resource of the stack cannot make a
    # dependency cycle. Scoped as AWS's managed policy AmazonDocDBElasticFullAccess scopes the
    # dependent actions the Service Authorization Reference lists for RestoreClusterFromSnapshot,
    # UpdateCluster and DeleteCluster (aws:CalledViaFirst, kms:ViaService, iam:AWSServiceName).

    def allow_restores(self, resource: CustomResource, snapshot_arn: str | None) -> None:
        """Let `resource` restore a cluster from `snapshot_arn` (None: the newest snapshot of a
        cluster, chosen at deploy time), change it, snapshot it and delete it."""
        policy = self._restore_grants()
        self._grant_once(policy, "RestoreClusterFromSnapshot", snapshot_arn or self._snapshot_arns)
        self._grant_once(policy, "RestoreClusterFromSnapshot", self._any_cluster_arn)
        if snapshot_arn is None:
            self._acknowledge_restore(
                f"AwsSolutions-IAM5[Resource::{_as_nag_text(Stack.of(self).resolve(self._snapshot_arns))}]",
                "source_cluster_arn restores the newest snapshot of a cluster, chosen at deploy time, "
                "so its ARN cannot be known at synth time; limited to snapshots of this account and region.",
            )
        resource.node.add_dependency(policy)

    _restore_policy: iam.Policy | None = None

    def _restore_grants(self) -> iam.Policy:
        from aws_cdk import ArnFormat

        if self._restore_policy is not None:
            return self._restore_policy
        stack = Stack.of(self)
        via_docdb_elastic = {"StringEquals": {"aws:CalledViaFirst": "docdb-elastic.amazonaws.com"}}
        via_service = {"StringLike": {"kms:ViaService": f"docdb-elastic.{stack.region}.amazonaws.com"}}
        secrets = stack.format_arn(
            service="secretsmanager", resource="secret", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self._restore_policy = iam.Policy(
            self,
            "RestorePolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        f"docdb-elastic:{action}"
                        for action in (
                            "GetCluster",
                            "UpdateCluster",
                            "DeleteCluster",
                            "CreateClusterSnapshot",
                            "ListTagsForResource",
                            "TagResource",
                            "UntagResource",
                        )
                    ],
                    resources=[self._any_cluster_arn],
                ),
                iam.PolicyStatement(
                    actions=["docdb-elastic:CreateCluster", "docdb-elastic:ListClusters"], resources=["*"]
                ),
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateVpcEndpoint",
                        "ec2:DeleteVpcEndpoints",
                        "ec2:ModifyVpcEndpoint",
                        "ec2:DescribeAvailabilityZones",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVpcAttribute",
                        "ec2:DescribeVpcEndpoints",
                        "ec2:DescribeVpcs",
                        "secretsmanager:ListSecrets",
                    ],
                    resources=["*"],
                    conditions=via_docdb_elastic,
                ),
                iam.PolicyStatement(
                    actions=[
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetResourcePolicy",
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:ListSecretVersionIds",
                    ],
                    resources=[secrets],
                    conditions=via_docdb_elastic,
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                    resources=["*"],
                    conditions=via_service,
                ),
                iam.PolicyStatement(
                    actions=["kms:CreateGrant"],
                    resources=["*"],
                    conditions={**via_service, "Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[
                        stack.format_arn(
                            service="iam",
                            region="",
                            resource="role",
                            resource_name="aws-service-role/docdb-elastic.amazonaws.com/AWSServiceRoleForDocDB-Elastic",
                        )
                    ],
                    conditions={"StringLike": {"iam:AWSServiceName": "docdb-elastic.amazonaws.com"}},
                ),
            ],
        )
        self._acknowledge_restore(
            f"AwsSolutions-IAM5[Resource::{_as_nag_text(stack.resolve(self._any_cluster_arn))}]",
            "A restored cluster's ARN is chosen by the service when it is restored, so it cannot be named "
            "at synth time; the handler changes and deletes only the cluster its resource restored "
            "(its physical id). Limited to clusters of this account and region.",
        )
        self._acknowledge_restore(
            "AwsSolutions-IAM5[Resource::*]",
            "CreateCluster and ListClusters have no resource-level permissions. The EC2 and "
            "ListSecrets actions are the dependent actions of RestoreClusterFromSnapshot/UpdateCluster/"
            "DeleteCluster and are allowed only when docdb-elastic calls them (aws:CalledViaFirst); "
            "the KMS actions only through docdb-elastic in this region (kms:ViaService), for an "
            "encrypted snapshot or cluster whose key is not known at synth time.",
        )
        self._acknowledge_restore(
            f"AwsSolutions-IAM5[Resource::{_as_nag_text(stack.resolve(secrets))}]",
            "A cluster restored from a snapshot may use a Secrets Manager secret for its admin password; "
            "which one is not known at synth time. Readable only when docdb-elastic makes the call "
            "(aws:CalledViaFirst), limited to secrets of this account and region.",
        )
        return self._restore_policy

    def _acknowledge_restore(self, rule: str, reason: str) -> None:
        assert self._restore_policy is not None
        Validations.of(self._restore_policy).acknowledge(Acknowledgment(id=rule, reason=reason))


def _as_nag_text(value: object) -> str:
    """Render a resolved value as cdk-nag names it in a finding: {"Ref": "X"} becomes <X>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_as_nag_text(part) for part in parts)
    raise ValueError(f"unexpected ARN shape {value!r}")


def newest_python_runtime() -> aws_lambda.Runtime:
    """The newest Python runtime this aws-cdk-lib knows (determine_latest_python_runtime lags)."""
    candidates: list[tuple[int, aws_lambda.Runtime]] = []
    for name in dir(aws_lambda.Runtime):
        match = re.fullmatch(r"PYTHON_3_(\d+)", name)
        if match:
            candidates.append((int(match.group(1)), getattr(aws_lambda.Runtime, name)))
    return max(candidates, key=lambda item: item[0])[1]
