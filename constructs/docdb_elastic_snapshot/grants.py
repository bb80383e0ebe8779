"""The provider's IAM grants: what each construct lets the shared role do, and nothing more.

Every docdb-elastic grant goes through ``grant``, which adds the dependent actions the permission
table (permissions.py) decides for the operation; grants that name a resource of the stack go on
policies only the resources that need them depend on, and what a Delete calls on deletion
policies that outlive a removed resource. SnapshotProvider (provider.py) inherits these methods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Union

from aws_cdk import ArnFormat, CustomResource, Stack, Token, aws_lambda
from aws_cdk import aws_iam as iam

from constructs import Construct

from .acknowledgements import acknowledge, as_nag_text
from .permissions import OPERATIONS, SERVICE_LINKED_ROLE_PATH, SERVICE_PRINCIPAL, Scope

_VIA_DOCDB_ELASTIC = {"StringEquals": {"aws:CalledViaFirst": SERVICE_PRINCIPAL}}
_ANY_RESOURCE_REASON = (
    "'*' is granted only where the Service Authorization Reference lists no resource type "
    "(ListClusterSnapshots, ListClusters, CreateCluster on which a restore depends, the EC2 "
    "describe and VPC endpoint actions) or the KMS key is not known at synth time (a copy's "
    "source; before-change and final snapshots, which are of the cluster as it was, whose key "
    "a changed template no longer names); every such grant outside docdb-elastic is "
    "conditioned as AWS's AmazonDocDBElasticFullAccess policy does: EC2 by aws:CalledViaFirst "
    "docdb-elastic.amazonaws.com, KMS by kms:ViaService docdb-elastic.<region>."
)
_SNAPSHOT_WILDCARD_REASON = (
    "Snapshot ARNs are chosen by the service when a snapshot is created, so they cannot be known "
    "at synth time. The wildcard covers only snapshots of this account and region; "
    "CreateClusterSnapshot also needs the cluster, granted separately."
)
_CLUSTER_WILDCARD_REASON = (
    "SnapshotBeforeChange must run before its cluster changes, so the cluster depends on it and "
    "its ARN cannot be referenced here; the handler finds the cluster by name and only snapshots "
    "it. FinalSnapshot snapshots the old cluster of a replacement, whose ARN the policies no "
    "longer name by then. Limited to clusters of this account and region."
)
_SECRET_WILDCARD_REASON = (
    "A cluster's admin password may be a secret that the service reads with the caller's "
    "permissions; granted only through docdb-elastic (aws:CalledViaFirst), as AWS's "
    "AmazonDocDBElasticFullAccess policy does, and only in this account and region."
)


#: Where grants go: an inline policy of the provider's role, or a managed policy attached to it (a
#: backup plan's or a restore test's: off the role's inline quota, role_limits.py).
PolicyLike = Union[iam.Policy, iam.ManagedPolicy]  # noqa: UP007 (a runtime alias of jsii classes)


class ProviderGrants(Construct):
    """The grant half of SnapshotProvider: the role's policies and what each construct adds."""

    role: iam.Role
    function: aws_lambda.Function
    _policy: iam.Policy

    def _init_grants(self, stack: Stack) -> None:
        self._statements: dict[tuple[str, tuple[str, ...], str], iam.PolicyStatement] = {}
        self._resources: dict[tuple[str, tuple[str, ...], str], set[str]] = {}
        self._acknowledged: set[tuple[str, str]] = set()
        self._snapshot_arns = stack.format_arn(service="docdb-elastic", resource="cluster-snapshot", resource_name="*")
        self._any_cluster_arn = stack.format_arn(service="docdb-elastic", resource="cluster", resource_name="*")
        self._secret_arns = stack.format_arn(
            service="secretsmanager", resource="secret", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self._cluster_policy: iam.Policy | None = None
        self._invoke_policy: iam.Policy | None = None

    def grant(
        self,
        operation: str | tuple[str, ...],
        resources: Sequence[str],
        *,
        dependent: CustomResource | None = None,
        kms_key_arns: Sequence[str] | None = None,
    ) -> None:
        """Grant ``docdb-elastic:<operation>`` (a name in ``permissions.OPERATIONS``, or several
        that share one statement) on ``resources``, with every dependent action the permission
        table grants for it.

        :param dependent: the custom resource that needs the grant. With it, the grant goes to
            ``ClusterPolicy``, on which only that resource depends: use it when ``resources``
            name resources of the stack that may themselves depend on the function. Default:
            None, the provider's ``Policy``, on which the function depends.
        :param kms_key_arns: the KMS keys of the clusters or snapshots concerned. Default: None,
            unknown at synth time: any key, only through docdb-elastic in this region.
        """
        policy = self._policy if dependent is None else self._cluster_grants()
        self._grant(policy, operation, resources, kms_key_arns)
        if dependent is not None:
            dependent.node.add_dependency(policy)

    def _grant(
        self,
        policy: PolicyLike,
        operation: str | tuple[str, ...],
        resources: Sequence[str],
        kms_key_arns: Sequence[str] | None,
        *,
        contained: bool = False,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        """As ``grant``, on ``policy``. Grants that name no resource of the stack (wildcards,
        conditioned dependent actions) go on the provider's ``Policy``, shared by all, unless
        ``contained``: then everything goes on ``policy`` (a deletion policy, see
        ``_deletion_policy``, or a backup plan's). ``conditions`` apply to the operation itself,
        not to its dependent actions."""
        operations = [OPERATIONS[name] for name in ((operation,) if isinstance(operation, str) else operation)]
        self._allow(policy, tuple(op.action for op in operations), resources, conditions)
        shared = policy if contained else self._policy
        stack = Stack.of(self)
        for op in operations:
            for decision in op.decisions:
                # A decision's actions share one statement: the role's inline policies share a
                # 10,240-character quota.
                self._grant_dependent(policy, shared, decision.actions, decision.scope, resources, kms_key_arns, stack)

    def _grant_dependent(
        self,
        policy: PolicyLike,
        shared: PolicyLike,
        action: tuple[str, ...],
        scope: Scope,
        resources: Sequence[str],
        kms_key_arns: Sequence[str] | None,
        stack: Stack,
    ) -> None:
        if scope is Scope.OPERATION:
            self._allow(policy, action, resources)
        elif scope is Scope.ANY:
            self._allow(shared, action, ["*"])
        elif scope is Scope.VIA_DOCDB_ELASTIC:
            self._allow(shared, action, ["*"], _VIA_DOCDB_ELASTIC)
        elif scope in (Scope.CLUSTER_KEY, Scope.CLUSTER_KEY_GRANT):
            conditions = _via_docdb_elastic(stack, scope is Scope.CLUSTER_KEY_GRANT)
            self._allow(policy if kms_key_arns else shared, action, list(kms_key_arns or ["*"]), conditions)
        elif scope is Scope.SECRETS_VIA_DOCDB_ELASTIC:
            self._allow(shared, action, [self._secret_arns], _VIA_DOCDB_ELASTIC)
        elif scope is Scope.SERVICE_LINKED_ROLE:
            role = stack.format_arn(service="iam", region="", resource="role", resource_name=SERVICE_LINKED_ROLE_PATH)
            self._allow(shared, action, [role], {"StringLike": {"iam:AWSServiceName": SERVICE_PRINCIPAL}})

    def _allow(
        self,
        policy: PolicyLike,
        action: str | tuple[str, ...],
        resources: Sequence[str],
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        """One statement per action (or set of actions granted together) and condition set in
        each policy; new resources join it. Nothing is added where a statement of the policy
        already allows it all."""
        actions = (action,) if isinstance(action, str) else action
        key = (policy.node.path, actions, json.dumps(conditions or {}, sort_keys=True))
        for (path, granted, condition), granted_on in self._resources.items():
            if (path, condition) == (key[0], key[2]) and set(actions) <= set(granted) and set(resources) <= granted_on:
                return
        known = self._resources.setdefault(key, set())
        new = [r for r in resources if r not in known]
        if not new:
            return
        known.update(new)
        statement = self._statements.get(key)
        if statement is None:
            statement = iam.PolicyStatement(
                actions=list(actions), resources=new, conditions=dict(conditions or {}) or None
            )
            self._statements[key] = statement
            policy.add_statements(statement)
        else:
            statement.add_resources(*new)
        for resource in new:
            self._acknowledge_wildcard(policy, resource)

    def _acknowledge_wildcard(self, policy: PolicyLike, resource: str) -> None:
        stack = Stack.of(self)
        reasons = {
            "*": _ANY_RESOURCE_REASON,
            as_nag_text(stack.resolve(self._snapshot_arns)): _SNAPSHOT_WILDCARD_REASON,
            as_nag_text(stack.resolve(self._any_cluster_arn)): _CLUSTER_WILDCARD_REASON,
            as_nag_text(stack.resolve(self._secret_arns)): _SECRET_WILDCARD_REASON,
        }
        text = as_nag_text(stack.resolve(resource)) if "*" in resource else None
        if text is None or (policy.node.path, text) in self._acknowledged:
            return
        if text not in reasons:
            raise ValueError(f"no reason recorded for the wildcard resource {text}")
        self._acknowledged.add((policy.node.path, text))
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{text}]", reasons[text])

    def _allow_snapshot_reads(self, policy: PolicyLike | None = None) -> None:
        """What every resource that takes, copies or deletes snapshots calls: waiting for one, and
        finding an earlier delivery's snapshot (by name, then its request tag). Granted with the
        first such resource, so a stack without one grants none of it. On ``policy`` (a deletion
        policy) when given, else on the shared ``Policy``."""
        target = policy or self._policy
        for operation in ("GetClusterSnapshot", "ListTagsForResource"):
            self._grant(target, operation, [self._snapshot_arns], None, contained=policy is not None)
        self._grant(target, "ListClusterSnapshots", ["*"], None, contained=policy is not None)

    def _deletion_policy(self, construct_id: str, resource: Construct, *, managed: bool = False) -> PolicyLike:
        """A policy for what a resource's Delete calls. CloudFormation runs a removed resource's
        Delete in the clean-up, after it has updated every policy that stays: a grant on a
        shared policy would already be gone if the removed resource was the last to need it. A
        deletion policy's statements never depend on which resources use it (only constant
        ARN patterns and conditions), and each user depends on it, so it is either unchanged or
        deleted after the last of them. ``managed``: a managed policy, off the role's inline quota
        (role_limits.py), for the largest ones, whose size does not grow with the stack."""
        existing = self.node.try_find_child(construct_id)
        policy: PolicyLike
        if isinstance(existing, (iam.Policy, iam.ManagedPolicy)):
            policy = existing
        elif managed:
            policy = iam.ManagedPolicy(self, construct_id, roles=[self.role])
        else:
            policy = iam.Policy(self, construct_id, roles=[self.role])
        resource.node.add_dependency(policy)
        return policy

    def _cluster_grants(self) -> iam.Policy:
        if self._cluster_policy is None:
            self._cluster_policy = iam.Policy(self, "ClusterPolicy", roles=[self.role])
        return self._cluster_policy

    def allow_snapshots_of(
        self, resource: CustomResource, cluster_arn: str, *, kms_key_arns: Sequence[str] | None = None
    ) -> None:
        """Let `resource` snapshot one cluster and read its status (a busy cluster's status goes
        into the Reason), in one statement. An ARN known at synth time (an existing cluster) goes
        on the policy the function depends on, so the resource needs no DependsOn; a token (a
        cluster of this stack) on ClusterPolicy, on which the resource depends.
        ``kms_key_arns`` as for ``grant``."""
        self._allow_snapshot_reads()
        dependent = resource if Token.is_unresolved(cluster_arn) else None
        self.grant(
            ("CreateClusterSnapshot", "GetCluster"), [cluster_arn], dependent=dependent, kms_key_arns=kms_key_arns
        )
        # The snapshot side is the same for every cluster: the provider's own policy.
        self._allow(self._policy, OPERATIONS["CreateClusterSnapshot"].action, [self._snapshot_arns])

    def allow_long_waits(self, resource: Construct, waits_on_delete: bool) -> None:
        """A wait longer than one invocation goes on in a new invocation of this same function:
        it may invoke itself, and nothing else. (A policy of its own: it names the function.)
        A resource whose Delete may wait depends on it, so that CloudFormation cannot delete the
        grant while that wait goes on. A resource that waits only on Create and Update needs no
        DependsOn: CloudFormation creates the policy as soon as the function exists, and the
        first hand-over comes only after a whole invocation (minutes) of waiting."""
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
        referenced without a dependency cycle. Nor its key: the cluster is snapshotted as it is
        before the change, possibly with a key the new template no longer names."""
        self._allow_snapshot_reads()
        self.grant("CreateClusterSnapshot", [self._any_cluster_arn, self._snapshot_arns])
        self.grant("ListClusters", ["*"])
        # A busy cluster's status, for the log and the Reason.
        self.grant("GetCluster", [self._any_cluster_arn])

    def allow_final_snapshots(self, resource: CustomResource) -> None:
        """FinalSnapshot snapshots the *old* cluster when its cluster is replaced, and the
        cluster on Delete, also when the construct is removed. By then CloudFormation has
        already updated every policy that stays to the new template, so the grants cannot name
        the cluster nor its KMS key (a key change replaces the cluster): clusters of this
        account and region, any key through docdb-elastic here; all in FinalSnapshotPolicy, a
        deletion policy."""
        policy = self._deletion_policy("FinalSnapshotPolicy", resource, managed=True)
        self._allow_snapshot_reads(policy)
        self._grant(policy, "CreateClusterSnapshot", [self._any_cluster_arn, self._snapshot_arns], None, contained=True)
        self._grant(policy, "GetCluster", [self._any_cluster_arn], None, contained=True)

    def allow_deletion(self, resource: Construct) -> None:
        """DeleteClusterSnapshot (DESTROY on Delete, retain_last on Create and Update), in
        SnapshotDeletionPolicy, a deletion policy. (Every such resource has the snapshot reads
        already, from what it takes or copies.)"""
        policy = self._deletion_policy("SnapshotDeletionPolicy", resource)
        self._grant(policy, "DeleteClusterSnapshot", [self._snapshot_arns], None, contained=True)

    # --- ElasticClusterFromSnapshot (issue 10): restoring, changing and deleting clusters --------
    # A restored cluster's ARN is chosen by the service, so its grants are on clusters of the
    # account and region (the handler only acts on the cluster its resource restored). The
    # snapshot's own ARN, when it is a token of this stack (an ElasticClusterSnapshot's), goes on
    # a policy of its own, RestorePolicy, on which only the restore resources depend: on
    # ClusterPolicy it would form a cycle with that snapshot resource, which depends on it.

    _restore_policy: iam.Policy | None = None

    def allow_restores(
        self, resource: CustomResource, snapshot_arn: str | None, *, takes_snapshots: bool, deletes: bool
    ) -> None:
        """Let `resource` restore a cluster from `snapshot_arn` (None: the newest snapshot of a
        cluster, chosen at deploy time), wait for it, change and tag it; snapshot it when
        ``takes_snapshots`` (before an update, or a final snapshot) and delete it when ``deletes``
        (any removal policy but RETAIN). What the props rule out is not granted."""
        if snapshot_arn is None:
            self.grant("ListClusterSnapshots", ["*"])  # the source cluster's newest snapshot
        self.grant(
            ("GetCluster", "UpdateCluster", "ListTagsForResource", "TagResource", "UntagResource"),
            [self._any_cluster_arn],
        )
        self.grant("ListClusters", ["*"])
        if deletes:
            # The final snapshot and the deletion (also of a half-restored cluster, on Create or
            # Update), in ClusterDeletionPolicy: constant, so it outlives a removed resource.
            policy = self._deletion_policy("ClusterDeletionPolicy", resource, managed=True)
            self._allow_snapshot_reads(policy)
            # StartCluster: AWS deletes no STOPPED cluster, so one is started first (and only here,
            # where deletion is granted).
            self._grant(
                policy, ("GetCluster", "DeleteCluster", "StartCluster"), [self._any_cluster_arn], None, contained=True
            )
            self._grant(
                policy, "CreateClusterSnapshot", [self._any_cluster_arn, self._snapshot_arns], None, contained=True
            )
        elif takes_snapshots:
            self._allow_snapshot_reads()
            self.grant("CreateClusterSnapshot", [self._any_cluster_arn, self._snapshot_arns])
        if snapshot_arn is not None and Token.is_unresolved(snapshot_arn):
            if self._restore_policy is None:
                self._restore_policy = iam.Policy(self, "RestorePolicy", roles=[self.role])
            self._grant(self._restore_policy, "RestoreClusterFromSnapshot", [snapshot_arn, self._any_cluster_arn], None)
            resource.node.add_dependency(self._restore_policy)
        else:
            self.grant("RestoreClusterFromSnapshot", [snapshot_arn or self._snapshot_arns, self._any_cluster_arn])

    # --- Copies (ElasticClusterSnapshotCopy, FinalSnapshot copy_to) ------------------------------
    # In a policy of their own, on which only the resources that copy depend: a source given as a
    # token, or a key of this stack, must never become a dependency of the function. The actions
    # and dependent actions are the permission table's (CopyClusterSnapshot). Every copy is made
    # in this region (contract.COPIES_STAY_IN_REGION): no grant names another.

    _copy_policy: iam.Policy | None = None

    def allow_copies(
        self,
        resource: Construct,
        *,
        source_snapshot_arn: str | None,
        delete: bool = False,
        read_source_tags: bool = False,
        policy: PolicyLike | None = None,
    ) -> None:
        """Let `resource` copy a snapshot of this region (a literal ARN, or None/a token: any),
        under any key of this region: the source's is not known at synth time, so KMS is granted
        on any key through docdb-elastic of this region, which covers a given key too (naming it
        besides would add bytes, not a limit). ``policy``: where the grants go (a FinalSnapshot's
        deletion policy); default the shared CopyPolicy."""
        if policy is None:  # a FinalSnapshot's deletion policy holds the reads already
            self._allow_snapshot_reads()
        stack = Stack.of(self)
        policy = policy or self._copy_grants()
        literal_source = bool(source_snapshot_arn) and not Token.is_unresolved(source_snapshot_arn)
        source = str(source_snapshot_arn) if literal_source else self._snapshot_arns
        copy = OPERATIONS["CopyClusterSnapshot"]
        # IAM checks the source and the new snapshot each on its own.
        self._allow(policy, copy.action, [source, self._snapshot_arns])
        for decision in copy.decisions:
            actions = decision.actions
            if decision.scope is Scope.OPERATION:  # CreateClusterSnapshot: the copy is a new snapshot
                self._allow(policy, actions, [self._snapshot_arns])
            elif decision.scope in (Scope.CLUSTER_KEY, Scope.CLUSTER_KEY_GRANT):
                grant = decision.scope is Scope.CLUSTER_KEY_GRANT
                self._allow(policy, actions, ["*"], _via_docdb_elastic(stack, grant))
        # The wait for the source and for the copy; a repeated delivery reads the copy's tag.
        self._allow(policy, OPERATIONS["GetClusterSnapshot"].action, [source, self._snapshot_arns])
        self._allow(policy, OPERATIONS["ListTagsForResource"].action, [self._snapshot_arns])
        if read_source_tags:
            self._allow(policy, OPERATIONS["ListTagsForResource"].action, [source])
        if delete:
            self.allow_deletion(resource)
        resource.node.add_dependency(policy)

    def allow_final_copies(self, resource: CustomResource) -> None:
        """A FinalSnapshot's copy, made on Delete: in FinalCopyPolicy, a deletion policy shared by
        every final snapshot that is copied (its statements name no key: see allow_copies)."""
        self.allow_copies(resource, source_snapshot_arn=None, policy=self._deletion_policy("FinalCopyPolicy", resource))

    def _copy_grants(self) -> iam.Policy:
        if self._copy_policy is None:
            self._copy_policy = iam.Policy(self, "CopyPolicy", roles=[self.role])
        return self._copy_policy


def _via_docdb_elastic(stack: Stack, grant: bool) -> dict[str, Any]:
    """KMS only through docdb-elastic of this region (the managed policy's KMSSid/KMSGrantSid)."""
    conditions: dict[str, Any] = {
        "StringEquals": {"kms:ViaService": f"docdb-elastic.{stack.region}.{stack.url_suffix}"}
    }
    if grant:
        conditions["Bool"] = {"kms:GrantIsForAWSResource": True}
    return conditions
