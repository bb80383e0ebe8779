"""The stack's budget of manual snapshots against the account's quota per region (20 by
default; the context key docdb-elastic-snapshot:manualSnapshotQuota for a raised one).

Each construct that keeps manual snapshots says how many it keeps of which cluster at steady
state; before synthesis the stack sums them per cluster, and over its clusters (the stack is one
region, and the quota is the region's), and warns, naming the constructs, the count and the
quota, where a sum passes the quota. A plan that
selects by tag cannot know its clusters: its count per cluster is in the warning when it alone
passes the quota. Only what the stack makes is counted: the quota is the whole account's and
region's, so the real headroom is less (``docdb-elastic-backup report`` shows what exists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import jsii
from aws_cdk import Annotations, Aspects, IAspect, Stack, Token
from aws_cdk import aws_docdbelastic as docdbelastic

from constructs import Construct, IConstruct
from docdb_snapshot_handler import contract

_ID = "DocDbElasticSnapshotQuota"
# A cluster (ARN or CfnCluster), or the tags of "each cluster carrying them".
Subject = str | docdbelastic.CfnCluster | Mapping[str, str]
WARNING_ID = "docdb-elastic-snapshot:manualSnapshotQuota"


@dataclass(frozen=True)
class Kept:
    """What one construct keeps of one cluster: `count` manual snapshots at steady state, at least
    `count` and one more with every snapshot it takes when `grows` (no retention)."""

    owner: str
    count: int
    why: str
    grows: bool = False

    def describe(self) -> str:
        return f"{self.owner} keeps {'at least ' if self.grows else ''}{self.count} ({self.why})"


def quota_of(scope: Construct) -> int:
    """The quota the stack is budgeted against: the context key, else AWS's default."""
    value = scope.node.try_get_context(contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY)
    if value is None:
        return contract.MANUAL_SNAPSHOT_QUOTA_DEFAULT
    try:
        quota = int(value)
    except (TypeError, ValueError):
        quota = 0
    if quota < 1 or str(quota) != str(value).strip():
        raise ValueError(
            f"context {contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY}: must be a positive whole number, the account's "
            f"quota of manual elastic cluster snapshots per region (got {value!r})"
        )
    return quota


class SnapshotQuotaBudget(Construct):
    """One per stack: what the stack's constructs keep, per cluster. Use ``SnapshotQuotaBudget.of``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._by_cluster: dict[str, list[Kept]] = {}
        self._labels: dict[str, str] = {}
        self._per_tagged_cluster: list[tuple[Kept, Mapping[str, str]]] = []
        self._sources: list[Callable[[], Iterable[tuple[Subject, Kept]]]] = []
        # Each snapshot construct's snapshot_arn (a token), and the cluster it snapshots: a copy
        # of it keeps snapshots of that cluster.
        self._cluster_of_snapshot: dict[str, str | docdbelastic.CfnCluster] = {}
        Aspects.of(self).add(_Check(self))

    @classmethod
    def of(cls, scope: Construct) -> SnapshotQuotaBudget:
        stack = Stack.of(scope)
        found = stack.node.try_find_child(_ID)
        return found if isinstance(found, SnapshotQuotaBudget) else cls(stack, _ID)

    def keeps(self, cluster: str | docdbelastic.CfnCluster, kept: Kept, label: str | None = None) -> None:
        """`kept` snapshots of `cluster` (an ARN, literal or token, or a CfnCluster), named `label`
        in warnings (default: its name, or its ARN)."""
        if isinstance(cluster, docdbelastic.CfnCluster):
            key = cluster.attr_cluster_arn
            self._labels[key] = f"{cluster.cluster_name or 'the cluster'} ({cluster.node.path})"
        else:
            key = cluster
        if label is not None:
            self._labels[key] = label
        self._by_cluster.setdefault(key, []).append(kept)

    def keeps_retained(
        self,
        cluster: str | docdbelastic.CfnCluster,
        owner: Construct,
        retain_last: int | None,
        snapshot_arn: str | None = None,
    ) -> None:
        """What a snapshot construct with `retain_last` keeps of `cluster`; `snapshot_arn`, its
        attribute, for the copies made of its snapshots."""
        why = "retain_last" if retain_last is not None else "no retain_last: one more with every snapshot it takes"
        self.keeps(cluster, Kept(owner.node.path, retain_last or 1, why, grows=retain_last is None))
        if snapshot_arn is not None:
            self._cluster_of_snapshot[snapshot_arn] = cluster

    def keeps_copies(self, source_snapshot_arn: str, owner: Construct, retain_last: int | None) -> None:
        """What a copy construct with `retain_last` keeps: copies of the cluster whose snapshots
        it copies, where the stack knows that cluster (another construct's snapshot_arn); else
        they are counted apart, as the source snapshot's."""

        def kept() -> Iterable[tuple[Subject, Kept]]:
            cluster = self._cluster_of_snapshot.get(source_snapshot_arn)
            why = "retain_last" if retain_last is not None else "no retain_last: one more with every copy it makes"
            entry = Kept(owner.node.path, retain_last or 1, why, grows=retain_last is None)
            if cluster is None:
                label = (
                    "a snapshot given by a token" if Token.is_unresolved(source_snapshot_arn) else source_snapshot_arn
                )
                self._labels.setdefault(source_snapshot_arn, f"the cluster of {label}")
                return [(source_snapshot_arn, entry)]
            return [(cluster, entry)]

        self.add_source(kept)

    def keeps_per_tagged_cluster(self, kept: Kept, tags: Mapping[str, str]) -> None:
        """`kept` snapshots of each cluster that carries `tags` when a plan's occurrence runs."""
        self._per_tagged_cluster.append((kept, dict(tags)))

    def add_source(self, source: Callable[[], Iterable[tuple[Subject, Kept]]]) -> None:
        """What a construct keeps, asked for before synthesis (when its rules and selections are
        complete): (cluster, kept) pairs, a mapping of tags for "each cluster carrying them"."""
        self._sources.append(source)

    def _label(self, key: str) -> str:
        if key in self._labels:
            return self._labels[key]
        return "a cluster given by a token" if Token.is_unresolved(key) else key

    def check(self) -> None:
        try:
            quota = quota_of(self)
        except ValueError as error:
            Annotations.of(Stack.of(self)).add_error(str(error))
            return
        for source in self._sources:
            for cluster, entry in source():
                if isinstance(cluster, Mapping):
                    self.keeps_per_tagged_cluster(entry, cluster)
                else:
                    self.keeps(cluster, entry)
        self._sources = []
        raise_it = (
            f"raise the quota in Service Quotas (Amazon DocumentDB, manual elastic cluster snapshots) and set the "
            f"context key {contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY} to it (cdk.json), or keep fewer "
            "(keep_last, retain_last, a shorter delete_after)"
        )
        for key, all_kept in self._by_cluster.items():
            total = sum(k.count for k in all_kept)
            if total <= quota:
                continue
            at_least = "at least " if any(k.grows for k in all_kept) else ""
            Annotations.of(Stack.of(self)).add_warning_v2(
                WARNING_ID,
                f"{self._label(key)}: {at_least}{total} manual snapshots kept at steady state, over the account's "
                f"quota of {quota} per region: {'; '.join(k.describe() for k in all_kept)}. CreateClusterSnapshot "
                f"fails at the quota (ServiceQuotaExceededException). To fix: {raise_it}",
            )
        # The quota is the region's, not each cluster's: clusters that fit one by one may not together.
        totals = {key: sum(k.count for k in all_kept) for key, all_kept in self._by_cluster.items()}
        if len(totals) > 1 and all(t <= quota for t in totals.values()) and sum(totals.values()) > quota:
            at_least = "at least " if any(k.grows for kept in self._by_cluster.values() for k in kept) else ""
            Annotations.of(Stack.of(self)).add_warning_v2(
                WARNING_ID,
                f"the stack's {len(totals)} clusters together: {at_least}{sum(totals.values())} manual snapshots "
                f"kept at steady state in this region, over the account's quota of {quota} per region: "
                f"{'; '.join(f'{self._label(key)} {total}' for key, total in totals.items())}. To fix: {raise_it}",
            )
        for per_cluster, tags in self._per_tagged_cluster:
            if per_cluster.count > quota:
                selector = ", ".join(f"{k}={v}" for k, v in tags.items())
                Annotations.of(Stack.of(self)).add_warning_v2(
                    WARNING_ID,
                    f"each cluster tagged {selector}: {per_cluster.describe()}, over the account's quota of "
                    f"{quota} manual snapshots per region. To fix: {raise_it}",
                )


@jsii.implements(IAspect)
class _Check:
    """Runs the budget's check once, when the stack's aspects visit the budget (after every
    construct has been added)."""

    def __init__(self, budget: SnapshotQuotaBudget) -> None:
        self.budget = budget

    def visit(self, node: IConstruct) -> None:
        if node is self.budget:
            self.budget.check()
