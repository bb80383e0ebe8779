"""One provider per stack: the Lambda function, its role and its log group.

Every snapshot resource in a stack shares it; each one widens the role just enough for what it
uses (its cluster, tagging, deletion).
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda
from aws_cdk import aws_logs as logs
from constructs import Construct

from .handler_asset import HANDLER_ENTRY_POINT, handler_code

PROVIDER_ID = "DocDbElasticSnapshotProvider"
# The whole wait happens inside one invocation, so the function gets Lambda's maximum.
FUNCTION_TIMEOUT = Duration.minutes(15)


class SnapshotProvider(Construct):
    """Use ``SnapshotProvider.of(scope)``; never construct it directly."""

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
        self._cluster_arns: set[str] = set()
        self._can_delete = False
        self._snapshot_arns = stack.format_arn(
            service="docdb-elastic", resource="cluster-snapshot", resource_name="*"
        )

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
                    "docdb-elastic:GetClusterSnapshot",
                    "docdb-elastic:ListTagsForResource",
                    "docdb-elastic:TagResource",
                ],
                resources=[self._snapshot_arns],
            ),
            # A List action: it has no resource type to scope it to.
            iam.PolicyStatement(actions=["docdb-elastic:ListClusterSnapshots"], resources=["*"]),
        )
        self._create_statement = iam.PolicyStatement(
            actions=["docdb-elastic:CreateClusterSnapshot"], resources=[self._snapshot_arns]
        )
        self._policy.add_statements(self._create_statement)

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
        self._acknowledge_findings()

    @property
    def service_token(self) -> str:
        return self.function.function_arn

    def allow_snapshots_of(self, cluster_arn: str) -> None:
        if cluster_arn not in self._cluster_arns:
            self._cluster_arns.add(cluster_arn)
            self._create_statement.add_resources(cluster_arn)

    def allow_deletion(self) -> None:
        if not self._can_delete:
            self._can_delete = True
            self._policy.add_statements(
                iam.PolicyStatement(
                    actions=["docdb-elastic:DeleteClusterSnapshot"], resources=[self._snapshot_arns]
                )
            )

    def _acknowledge_findings(self) -> None:
        finding = f"AwsSolutions-IAM5[Resource::{_as_nag_text(Stack.of(self).resolve(self._snapshot_arns))}]"
        Validations.of(self._policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "docdb-elastic:ListClusterSnapshots is a List action without resource-level "
                    "permissions; it returns only names and ARNs, which the handler needs to "
                    "recognise a snapshot taken by an earlier delivery of the same request."
                ),
            ),
            Acknowledgment(
                id=finding,
                reason=(
                    "Snapshot ARNs are chosen by the service when a snapshot is created, so they "
                    "cannot be known at synth time. The wildcard covers only snapshots of this "
                    "account and region; CreateClusterSnapshot is also limited to the clusters "
                    "this stack snapshots."
                ),
            )
        )


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
    candidates = []
    for name in dir(aws_lambda.Runtime):
        match = re.fullmatch(r"PYTHON_3_(\d+)", name)
        if match:
            candidates.append((int(match.group(1)), getattr(aws_lambda.Runtime, name)))
    return max(candidates, key=lambda item: item[0])[1]
