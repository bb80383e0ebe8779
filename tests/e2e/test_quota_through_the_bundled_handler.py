"""The manual snapshot quota at run time, through the bundled handler in a fresh process against
a stand-in that enforces a quota: a backup plan's occurrence makes room only from its own rule's
points that retention deletes after it anyway, and otherwise fails naming the quota."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from docdb_snapshot_handler import contract
from emf import emf_lines
from standins.bundled_handler import BundledHandler
from standins.docdb_elastic import DocDbElasticStandIn
from standins.events import scheduled_event
from synth_support import templates

PLAN, RULE = "OrdersStack-Plan", "daily"


@pytest.fixture
def handler(standin_synth, receiver, aws_env) -> BundledHandler:
    template = templates(standin_synth)["DocDbElasticProtectedClusterDemo.template.json"]
    return BundledHandler(standin_synth, template, receiver, aws_env)


def now_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)


def occurrence(scheduled: datetime, cluster: str, keep_last: int) -> dict[str, Any]:
    """The daily rule's occurrence with keep_last, selecting `cluster` by ARN."""
    return scheduled_event(
        scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
        Clusters=[cluster],
        TagSelections=None,
        DeleteAfterSeconds=None,
        KeepLast=keep_last,
    )


def rule_point(docdb: DocDbElasticStandIn, cluster: str, scheduled: datetime) -> str:
    """A recovery point an earlier occurrence of the rule made."""
    name = contract.recovery_point_name(PLAN, RULE, scheduled, cluster)
    tags = {contract.PLAN_TAG_KEY: PLAN, contract.RULE_TAG_KEY: RULE}
    return docdb.add_snapshot(cluster, name, tags=tags)


def run(handler: BundledHandler, event: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Invoke; (the EMF object, the log lines)."""
    handler.finish(handler.start(event))
    (document,) = emf_lines(handler.outputs[-1])
    lines = [json.loads(line) for line in handler.logs[-1].splitlines() if line.startswith("{")]
    return document, lines


@pytest.mark.usefixtures("snapshot_deleting")
def test_at_the_quota_the_fourth_occurrence_deletes_the_rules_oldest_point_first(handler, docdb):
    # GIVEN keep_last=3, the rule's three points of the cluster from the last three days, and two
    # snapshots somebody else took: five manual snapshots, the region's quota of five (a deleted
    # snapshot gone at once, or counted while DELETING)
    docdb.manual_snapshot_quota = 5
    cluster = docdb.add_cluster("orders")
    scheduled = now_minute()
    oldest, *newer = [rule_point(docdb, cluster, scheduled - timedelta(days=d)) for d in (3, 2, 1)]
    theirs = {docdb.add_snapshot(cluster, f"by-hand-{i}") for i in range(2)}
    # WHEN the fourth occurrence runs in the bundled handler
    document, _ = run(handler, occurrence(scheduled, cluster, keep_last=3))
    # THEN it deleted the rule's oldest point, saw it gone, then made its own, with the
    # occurrence's name
    operations = [c.operation for c in docdb.calls if c.operation.endswith("ClusterSnapshot")]
    writes = [op for op in operations if op != "GetClusterSnapshot"]
    assert writes == ["CreateClusterSnapshot", "DeleteClusterSnapshot", "CreateClusterSnapshot"]
    between = operations[operations.index("DeleteClusterSnapshot") + 1 : -1]
    assert between and set(between) == {"GetClusterSnapshot"}
    assert docdb.calls_to("DeleteClusterSnapshot")[0].params["snapshotArn"] == oldest
    names = {s.name for s in docdb.snapshots.values()}
    assert contract.recovery_point_name(PLAN, RULE, scheduled, cluster) in names
    # AND the rule keeps its three newest points, and the other snapshots are untouched
    assert oldest not in docdb.snapshots and set(newer) <= set(docdb.snapshots) and theirs <= set(docdb.snapshots)
    assert len(docdb.snapshots) == 5
    assert document[contract.PlanMetric.RECOVERY_POINTS_CREATED] == 1
    assert document[contract.PlanMetric.RECOVERY_POINTS_DELETED] == 1
    assert document[contract.PlanMetric.RECOVERY_POINTS_FAILED] == 0


def test_a_quota_full_of_other_peoples_snapshots_deletes_none_of_them_and_reports_the_quota(handler, docdb):
    # GIVEN a quota of five, all five taken by somebody else's snapshots
    docdb.manual_snapshot_quota = 5
    cluster = docdb.add_cluster("orders")
    theirs = {docdb.add_snapshot(cluster, f"by-hand-{i}") for i in range(5)}
    # WHEN the rule's occurrence runs in the bundled handler
    document, lines = run(handler, occurrence(now_minute(), cluster, keep_last=3))
    # THEN nothing was deleted, and no recovery point made
    assert docdb.calls_to("DeleteClusterSnapshot") == []
    assert set(docdb.snapshots) == theirs
    # AND the failure counts (the plan's alarm fires on it), and the outcome names the quota and the fix
    assert document[contract.PlanMetric.RECOVERY_POINTS_FAILED] == 1
    assert document[contract.PlanMetric.RECOVERY_POINTS_CREATED] == 0
    (failed,) = [line for line in lines if line.get("outcome") == "failed"]
    assert failed["cluster_arn"] == cluster
    for words in ("ServiceQuotaExceededException", "quota of manual elastic cluster snapshots", "Service Quotas"):
        assert words in failed["reason"]
    assert "keep_last or delete_after of rule daily" in failed["reason"]
