"""What a plan's occurrences do with recovery points when a cluster leaves the plan's selection
or a rule leaves the plan (docs/backup-plan.md, "Removing a plan, a rule or a selection"): a
rule's retention covers every point of that rule by name, selected or not; a rule removed from
the plan expires nothing any more, and the other rules never take its points for theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from docdb_snapshot_handler import contract
from standins.docdb_elastic import REGION, DocDbElasticStandIn
from standins.events import scheduled_event

PLAN = "OrdersStack-Plan"
AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
DAY = 86_400


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def points_of(docdb: DocDbElasticStandIn, cluster_arn: str, rule: str) -> list[str]:
    return sorted(
        s.name
        for s in docdb.snapshots_in(REGION).values()
        if s.cluster_arn == cluster_arn
        and s.tags.get(contract.PLAN_TAG_KEY) == PLAN
        and s.tags.get(contract.RULE_TAG_KEY) == rule
    )


def test_a_cluster_taken_out_of_the_selection_keeps_its_points_until_the_rule_expires_them(docdb, deliver):
    # GIVEN a cluster tagged gold with daily points of 40 and 10 days ago (35-day retention)
    docdb.snapshot_delay = 0  # weeks pass between occurrences: each point ACTIVE when made
    cluster = docdb.add_cluster("orders", tags={"backup": "gold"})
    old, recent = AT - timedelta(days=40), AT - timedelta(days=10)
    deliver(scheduled_event(iso(old)))
    deliver(scheduled_event(iso(recent)))
    assert len(points_of(docdb, cluster, "daily")) == 2
    # AND the cluster then taken out of the selection (retagged)
    docdb.clusters[cluster].tags = {"backup": "silver"}
    # WHEN the rule's next occurrence runs
    deliver(scheduled_event(iso(AT)))
    # THEN it takes no point of that cluster, and applies the rule's retention to its points:
    # the one past 35 days is deleted, the other kept until it expires
    assert points_of(docdb, cluster, "daily") == [contract.recovery_point_name(PLAN, "daily", recent, cluster)]


def test_the_points_of_a_rule_removed_from_the_plan_are_left_to_you(docdb, deliver):
    # GIVEN an hourly rule's point of 40 days ago (the hourly rule kept 24), and the rule then
    # removed from the plan, so that only the daily rule's occurrences run
    docdb.snapshot_delay = 0
    cluster = docdb.add_cluster("orders", tags={"backup": "gold"})
    hourly = AT - timedelta(days=40)
    deliver(scheduled_event(iso(hourly), Rule="hourly", IntervalSeconds=3600, DeleteAfterSeconds=None, KeepLast=24))
    # WHEN the daily rule's occurrences run, with a retention the hourly point is past
    deliver(scheduled_event(iso(AT - timedelta(days=1))))
    deliver(scheduled_event(iso(AT), DeleteAfterSeconds=DAY))
    # THEN the hourly point is still there (no other rule takes it for its own), and the daily
    # rule kept only its own newest point
    assert points_of(docdb, cluster, "hourly") == [contract.recovery_point_name(PLAN, "hourly", hourly, cluster)]
    assert points_of(docdb, cluster, "daily") == [contract.recovery_point_name(PLAN, "daily", AT, cluster)]
    assert len(docdb.calls_to("DeleteClusterSnapshot")) == 1
