"""One provider per stack: the Lambda function, its role, its log group and their options.

Every resource in a stack shares it; each one widens the role just enough for what it uses
(grants.py: its cluster, deletion, copies...).
"""

from __future__ import annotations

import re

from aws_cdk import Duration, RemovalPolicy, Stack, Tags, aws_lambda
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from constructs import Construct
from docdb_snapshot_handler import contract

from .acknowledgements import acknowledge, as_nag_text
from .grants import ProviderGrants
from .handler_asset import HANDLER_ENTRY_POINT, handler_code
from .provider_options import DEFAULT_LOG_RETENTION, DEFAULT_MEMORY_SIZE, ProviderOptions
from .role_limits import check_role_limits
from .validation import InvalidPropsError

PROVIDER_ID = "DocDbElasticSnapshotProvider"
OPTIONS_ID = "DocDbElasticSnapshotProviderOptions"
# A wait longer than this continues in a new invocation of the same function.
FUNCTION_TIMEOUT = Duration.minutes(15)


class _ProviderConfiguration(Construct):
    """Holds a stack's ProviderOptions until the provider is made (no resources)."""

    def __init__(self, scope: Construct, construct_id: str, options: ProviderOptions) -> None:
        super().__init__(scope, construct_id)
        self.options = options


class SnapshotProvider(ProviderGrants):
    """Use ``SnapshotProvider.of(scope)``; never construct it directly.

    Its role's policies: the function depends on ``Policy``, which never names a resource of
    the stack (a SnapshotBeforeChange's cluster depends on the function); grants that name one
    go to ``ClusterPolicy``, ``RestorePolicy`` or ``CopyPolicy``, on which only the resources
    that need them depend; ``InvokeSelfPolicy`` lets a long wait continue; and what a Delete
    calls is in deletion policies (``_deletion_policy``). Each policy has one statement per set
    of actions granted together and condition set. Backup plans and restore tests add managed
    policies of their own. A validation fails the synth when the role would break one of IAM's
    limits (role_limits.py).
    """

    @classmethod
    def configure(cls, scope: Construct, options: ProviderOptions) -> None:
        """Set the provider options of ``scope``'s stack, before its first snapshot construct.
        Configuring again with equal options is allowed; with other options it is an error."""
        stack = Stack.of(scope)
        errors = options.errors()
        if errors:
            raise InvalidPropsError("ProviderOptions", stack.node.path, errors)
        existing = stack.node.try_find_child(OPTIONS_ID)
        if isinstance(existing, _ProviderConfiguration):
            if existing.options != options:
                raise InvalidPropsError(
                    "ProviderOptions",
                    stack.node.path,
                    [
                        "the provider of this stack is already configured with "
                        f"{existing.options.describe()}; it cannot also be configured with {options.describe()}"
                    ],
                )
            return
        if isinstance(stack.node.try_find_child(PROVIDER_ID), SnapshotProvider):
            raise InvalidPropsError(
                "ProviderOptions",
                stack.node.path,
                [
                    "SnapshotProvider.configure must be called before the first snapshot construct of "
                    "the stack: its provider already exists with the default options"
                ],
            )
        _ProviderConfiguration(stack, OPTIONS_ID, options)

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
        configured = stack.node.try_find_child(OPTIONS_ID)
        options = configured.options if isinstance(configured, _ProviderConfiguration) else ProviderOptions()
        self.options = options
        self._init_grants(stack)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=options.log_retention or DEFAULT_LOG_RETENTION,
            encryption_key=options.log_group_encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="DocumentDB elastic cluster snapshot custom resource handler",
            # ElasticClusterBackupGuard exempts and protects the library's roles by this path.
            path=contract.LIBRARY_ROLE_PATH,
        )
        self._policy = iam.Policy(self, "Policy", roles=[self.role])
        self._policy.add_statements(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )

        self.function = aws_lambda.Function(
            self,
            "Handler",
            description="Takes DocumentDB elastic cluster snapshots for CloudFormation",
            runtime=newest_python_runtime(),
            architecture=aws_lambda.Architecture.ARM_64,
            handler=HANDLER_ENTRY_POINT,
            code=handler_code(),
            memory_size=options.memory_size or DEFAULT_MEMORY_SIZE,
            timeout=FUNCTION_TIMEOUT,
            role=self.role,
            log_group=self.log_group,
            # No environment: the handler logs at INFO unless LOG_LEVEL is set by hand.
            vpc=options.vpc,
            vpc_subnets=options.vpc_subnets,
            security_groups=list(options.security_groups) if options.security_groups else None,
            reserved_concurrent_executions=options.reserved_concurrent_executions,
            tracing=options.tracing,
        )
        self.function.node.add_dependency(self._policy)
        for tagged in (self.role, self.function):
            Tags.of(tagged).add(contract.PROVIDER_TAG_KEY, contract.PROVIDER_TAG_VALUE)
        self._acknowledge_option_findings(stack)
        check_role_limits(self.role)

    def _acknowledge_option_findings(self, stack: Stack) -> None:
        if self.options.vpc is not None:
            managed = stack.resolve(
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSLambdaVPCAccessExecutionRole"
                ).managed_policy_arn
            )
            acknowledge(
                self.role,
                f"AwsSolutions-IAM4[Policy::{as_nag_text(managed)}]",
                "Added by the CDK for a function in a VPC: the network interface permissions Lambda "
                "needs to attach the function to the VPC's subnets (vpc option).",
            )
        if self.options.tracing not in (None, aws_lambda.Tracing.DISABLED, aws_lambda.Tracing.PASS_THROUGH):
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "Added by the CDK for X-Ray tracing (tracing option): xray:PutTraceSegments and "
                "xray:PutTelemetryRecords have no resource type.",
            )

    @property
    def service_token(self) -> str:
        return self.function.function_arn


def newest_python_runtime() -> aws_lambda.Runtime:
    """The newest Python runtime this aws-cdk-lib knows (determine_latest_python_runtime lags)."""
    candidates: list[tuple[int, aws_lambda.Runtime]] = []
    for name in dir(aws_lambda.Runtime):
        match = re.fullmatch(r"PYTHON_3_(\d+)", name)
        if match:
            candidates.append((int(match.group(1)), getattr(aws_lambda.Runtime, name)))
    return max(candidates, key=lambda item: item[0])[1]
