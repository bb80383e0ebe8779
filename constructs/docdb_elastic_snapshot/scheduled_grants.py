"""The grants of the scheduled constructs (ElasticClusterBackupPlan, ElasticClusterRestoreTest):
each on a policy of its own, attached to the provider's role, made as the construct's rules and
selections are added: exactly what an occurrence calls, and deletions only under a tag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Stack, aws_lambda
from aws_cdk import aws_iam as iam

from constructs import Construct
from docdb_snapshot_handler import contract

from .acknowledgements import acknowledge, as_nag_text
from .grants import PolicyLike, ProviderGrants
from .permissions import OPERATIONS

_TAG_SELECTED_CLUSTERS_REASON = (
    "A backup plan selects clusters by tag at run time: CreateClusterSnapshot and ListTagsForResource "
    "are granted on the clusters of this account and region, CreateClusterSnapshot only under an "
    "aws:ResourceTag condition for each selection's tags, so the policy does not grow with the "
    "number of clusters and the plan cannot snapshot an untagged cluster."
)


class BackupPlanGrants:
    """The grants of one ElasticClusterBackupPlan, on a policy of its own, made as its rules and
    selections are added: what an occurrence calls (kinds/backup_plan/occurrence.py)."""

    def __init__(self, provider: ProviderGrants, policy: PolicyLike, plan_name: str) -> None:
        self.provider = provider
        self.policy = policy
        self._only_its_own = {"StringEquals": {f"aws:ResourceTag/{contract.PLAN_TAG_KEY}": plan_name}}
        self._dependents: list[Construct] = []
        self._copies = False
        # Listing the region's clusters and manual snapshots; reading a snapshot and its tags (a
        # redelivered occurrence's, a copy's source); snapshotting clusters (the new snapshot's
        # side); deleting only what carries the plan's tag.
        provider._grant(policy, "ListClusters", ["*"], None, contained=True)
        provider._grant(policy, "ListClusterSnapshots", ["*"], None, contained=True)
        provider._grant(
            policy, ("GetClusterSnapshot", "ListTagsForResource"), [provider._snapshot_arns], None, contained=True
        )
        provider._allow(policy, OPERATIONS["CreateClusterSnapshot"].action, [provider._snapshot_arns])
        provider._grant(
            policy,
            "DeleteClusterSnapshot",
            [provider._snapshot_arns],
            None,
            contained=True,
            conditions=self._only_its_own,
        )

    def allow_clusters(self, cluster_arns: Sequence[str]) -> None:
        """Clusters selected by ARN: snapshotted by ARN."""
        if cluster_arns:
            self.provider._grant(self.policy, "CreateClusterSnapshot", list(cluster_arns), None, contained=True)

    def allow_tagged_clusters(self, tags: Mapping[str, str]) -> None:
        """Clusters selected by tag: their tags read, and snapshotted only under aws:ResourceTag
        conditions, so the policy does not grow with the number of clusters."""
        provider, policy = self.provider, self.policy
        text = as_nag_text(Stack.of(provider).resolve(provider._any_cluster_arn))
        if (policy.node.path, text) not in provider._acknowledged:
            provider._acknowledged.add((policy.node.path, text))
            acknowledge(policy, f"AwsSolutions-IAM5[Resource::{text}]", _TAG_SELECTED_CLUSTERS_REASON)
        provider._grant(policy, "ListTagsForResource", [provider._any_cluster_arn], None, contained=True)
        condition = {"StringEquals": {f"aws:ResourceTag/{key}": value for key, value in tags.items()}}
        provider._grant(
            policy, "CreateClusterSnapshot", [provider._any_cluster_arn], None, contained=True, conditions=condition
        )

    def allow_schedule(self, schedule: Construct) -> None:
        """A rule's schedule: it runs once the grants exist; its occurrence may continue in a new
        invocation of the function."""
        schedule.node.add_dependency(self.policy)
        self.provider.allow_long_waits(schedule, waits_on_delete=False)
        self._dependents.append(schedule)
        if self._copies:
            self._allow_copy(schedule)

    def allow_copies(self) -> None:
        """A copy action: copies made in this region (under any key, as for every copy), deleted
        only under the plan's tag."""
        if self._copies:
            return
        self._copies = True
        for dependent in self._dependents:
            self._allow_copy(dependent)
        self.provider._grant(
            self.policy,
            "DeleteClusterSnapshot",
            [self.provider._snapshot_arns],
            None,
            contained=True,
            conditions=self._only_its_own,
        )

    def _allow_copy(self, dependent: Construct) -> None:
        self.provider.allow_copies(dependent, source_snapshot_arn=None, policy=self.policy)


_ANY_CLUSTER_REASON = (
    "A restore test's temporary clusters get their ARNs from the service when they are restored, "
    "and its selection by tag is evaluated at run time: GetCluster, ListTagsForResource and "
    "RestoreClusterFromSnapshot are granted on the clusters of this account and region; "
    "DeleteCluster only under an aws:ResourceTag condition on the test's own tag."
)


class RestoreTestGrants:
    """The grants of one ElasticClusterRestoreTest, on a policy of its own: what an occurrence
    calls (kinds/restore_test/occurrence.py)."""

    def __init__(self, provider: ProviderGrants, policy: PolicyLike, test_name: str) -> None:
        self.provider = provider
        self.policy = policy
        snapshots, clusters = provider._snapshot_arns, provider._any_cluster_arn
        text = as_nag_text(Stack.of(provider).resolve(clusters))
        if (policy.node.path, text) not in provider._acknowledged:
            provider._acknowledged.add((policy.node.path, text))
            acknowledge(policy, f"AwsSolutions-IAM5[Resource::{text}]", _ANY_CLUSTER_REASON)
        # Listing the region's clusters (selection, the sweep, finding an earlier delivery's
        # temporary cluster) and each cluster's recovery points.
        provider._grant(policy, "ListClusters", ["*"], None, contained=True)
        provider._grant(policy, "ListClusterSnapshots", ["*"], None, contained=True)
        # Reading clusters' tags (selection, the sweep) and recovery points' (the record).
        provider._grant(policy, ("GetCluster", "ListTagsForResource"), [clusters], None, contained=True)
        provider._grant(policy, "ListTagsForResource", [snapshots], None, contained=True)
        # The record on a recovery point (or on its cluster, when the point refuses tags): that one
        # tag key and no other.
        provider._grant(
            policy,
            "TagResource",
            [snapshots, clusters],
            None,
            contained=True,
            conditions={"ForAllValues:StringEquals": {"aws:TagKeys": [contract.restore_test_claim_key(test_name)]}},
        )
        # Restoring (with every dependent action: EC2 and KMS through docdb-elastic, the
        # admin secret, the service-linked role), and deleting only what carries the test's tag.
        provider._grant(policy, "RestoreClusterFromSnapshot", [snapshots, clusters], None, contained=True)
        # StartCluster with it: AWS deletes no STOPPED cluster, so a stopped one is started first.
        provider._grant(
            policy,
            ("DeleteCluster", "StartCluster"),
            [clusters],
            None,
            contained=True,
            conditions={"StringEquals": {f"aws:ResourceTag/{contract.RESTORE_TEST_TAG_KEY}": test_name}},
        )

    def allow_schedule(self, schedule: Construct) -> None:
        """The test's schedule runs once the grants exist; an occurrence continues in new
        invocations of the function while its restores take their time."""
        schedule.node.add_dependency(self.policy)
        self.provider.allow_long_waits(schedule, waits_on_delete=False)

    def allow_validation(self, function: aws_lambda.IFunction) -> None:
        """The validation function, invoked synchronously with the temporary cluster's endpoint."""
        self.policy.add_statements(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn])
        )
