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

    # --- Copies (ElasticClusterSnapshotCopy, FinalSnapshot copy_to) ------------------------------
    # In a policy of their own, on which only the resources that copy depend: a source given as a
    # token, or a key of this stack, must never become a dependency of the function.

    _copy_policy: iam.Policy | None = None

    def allow_copies(
        self,
        resource: CustomResource,
        *,
        source_snapshot_arn: str | None,
        destination_region: str | None,
        kms_key_id: str | None,
        delete: bool = False,
        read_source_tags: bool = False,
    ) -> None:
        """Let `resource` copy a snapshot (a literal ARN, or None/a token: a snapshot of this
        stack's region) to `destination_region` (None: this stack's), with `kms_key_id` (a key
        ARN or id of the destination, or None: the source's key)."""
        stack = Stack.of(self)
        policy = self._copy_grants()
        literal_source = source_snapshot_arn is not None and not Token.is_unresolved(source_snapshot_arn)
        source = source_snapshot_arn if literal_source and source_snapshot_arn else self._snapshot_arns
        source_region = source.split(":")[3] if literal_source and source_snapshot_arn else stack.region
        destination = stack.format_arn(
            service="docdb-elastic", region=destination_region, resource="cluster-snapshot", resource_name="*"
        )
        # CopyClusterSnapshot on the source and the copy; its dependent action
        # CreateClusterSnapshot on the copy; reading (the wait, a repeated delivery's tag check),
        # tagging (the copy is created with tags) and, when used, deleting the copy.
        self._grant_copy(policy, ["CopyClusterSnapshot"], [source, destination])
        self._grant_copy(policy, ["GetClusterSnapshot"], [source])
        self._grant_copy(
            policy,
            ["CreateClusterSnapshot", "GetClusterSnapshot", "ListTagsForResource", "TagResource"],
            [destination],
        )
        if read_source_tags:
            self._grant_copy(policy, ["ListTagsForResource"], [source])
        if delete:
            self._grant_copy(policy, ["DeleteClusterSnapshot"], [destination])
        # KMS, the dependent actions of CopyClusterSnapshot, scoped like AmazonDocDBElasticFullAccess:
        # the given key by ARN, the source's key (unknown here) through docdb-elastic only.
        if kms_key_id is not None:
            key_arn = (
                kms_key_id
                if Token.is_unresolved(kms_key_id) or kms_key_id.startswith("arn:")
                else stack.format_arn(
                    service="kms", region=destination_region, resource="key", resource_name=kms_key_id
                )
            )
            self._grant_kms(policy, key_arn, destination_region or stack.region)
        self._grant_kms(policy, "*", source_region)
        resource.node.add_dependency(policy)
        nag_destination = _as_nag_text(stack.resolve(destination))
        if nag_destination not in self._copy_acknowledged:
            self._copy_acknowledged.add(nag_destination)
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{nag_destination}]",
                    reason="A copy's ARN is chosen by the service when it is created, so it cannot be "
                    "known at synth time. The wildcard covers only snapshots of this account in the "
                    "copy's destination region.",
                )
            )

    def _copy_grants(self) -> iam.Policy:
        if self._copy_policy is None:
            self._copy_policy = iam.Policy(self, "CopyPolicy", roles=[self.role])
            self._copy_granted: set[tuple[str, str]] = set()
            self._copy_acknowledged: set[str] = {_as_nag_text(Stack.of(self).resolve(self._snapshot_arns))}
            for rule, reason in (
                (
                    "AwsSolutions-IAM5[Resource::*]",
                    "The KMS key of a snapshot being copied is chosen when the snapshot is taken, so it "
                    "cannot be named here; its use is limited by kms:ViaService to docdb-elastic in the "
                    "source's region (CreateGrant also to grants for AWS resources).",
                ),
                (
                    f"AwsSolutions-IAM5[Resource::{_as_nag_text(Stack.of(self).resolve(self._snapshot_arns))}]",
                    "Snapshot ARNs are chosen by the service when a snapshot is created, so they cannot "
                    "be known at synth time. The wildcard covers only snapshots of this account and "
                    "region, the source of a copy given as a token.",
                ),
            ):
                Validations.of(self._copy_policy).acknowledge(Acknowledgment(id=rule, reason=reason))
        return self._copy_policy

    def _grant_copy(self, policy: iam.Policy, actions: list[str], resources: list[str]) -> None:
        for action in actions:
            for resource in resources:
                key = (action, Stack.of(self).to_json_string(resource))
                if key not in self._copy_granted:
                    self._copy_granted.add(key)
                    policy.add_statements(
                        iam.PolicyStatement(actions=[f"docdb-elastic:{action}"], resources=[resource])
                    )

    def _grant_kms(self, policy: iam.Policy, key_arn: str, via_region: str) -> None:
        stack = Stack.of(self)
        via = f"docdb-elastic.{via_region}.{stack.url_suffix}"
        key = ("kms:" + stack.to_json_string(key_arn), stack.to_json_string(via))
        if key in self._copy_granted:
            return
        self._copy_granted.add(key)
        policy.add_statements(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": via}},
            ),
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": via}, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
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
    candidates: list[tuple[int, aws_lambda.Runtime]] = []
    for name in dir(aws_lambda.Runtime):
        match = re.fullmatch(r"PYTHON_3_(\d+)", name)
        if match:
            candidates.append((int(match.group(1)), getattr(aws_lambda.Runtime, name)))
    return max(candidates, key=lambda item: item[0])[1]
