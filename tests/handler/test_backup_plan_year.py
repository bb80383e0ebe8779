"""A simulated year of a backup plan: every occurrence of a daily, a weekly and a monthly rule
delivered at its time (the wall clock moved with time-machine), and after each one exactly what
the rules say is kept, at every retention boundary, recovery points and their copies under
another key alike; nothing the plan did not make is ever touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from docdb_snapshot_handler import contract
from standins.docdb_elastic import ACCOUNT, REGION
from standins.events import scheduled_event

PLAN = "OrdersStack-Plan"
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=400)  # past the monthly rule's 365 days, so its first points expire
COPY_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def occurrences() -> list[tuple[datetime, str]]:
    """(scheduled time, rule) in time order: daily at 03:00, Sundays at 04:00, the 1st at 05:00."""
    found = []
    day = START
    while day < END:
        found.append((day.replace(hour=3), "daily"))
        if day.weekday() == 6:
            found.append((day.replace(hour=4), "weekly"))
        if day.day == 1:
            found.append((day.replace(hour=5), "monthly"))
        day += timedelta(days=1)
    return found


RULES = {
    "daily": {"DeleteAfterSeconds": 35 * 86400, "IntervalSeconds": 86400},
    "weekly": {"KeepLast": 4, "DeleteAfterSeconds": None, "IntervalSeconds": 7 * 86400},
    "monthly": {
        "DeleteAfterSeconds": 365 * 86400,
        "IntervalSeconds": 31 * 86400,
        "Copies": [{"KmsKeyId": COPY_KEY, "KeepLast": 3}],
    },
}


def expected(rule: str, done: list[datetime], now: datetime) -> set[datetime]:
    """What the rule keeps after its occurrence at `now`, computed from the rule alone."""
    if rule == "weekly":
        return set(sorted(done)[-4:])
    days = 35 if rule == "daily" else 365
    return {t for t in done if t + timedelta(days=days) > now}


def kept(docdb, rule: str, cluster: str, copies: bool = False) -> set[datetime]:
    """The scheduled times of the rule's ACTIVE points of `cluster` (or of their copies)."""
    times = set()
    for snapshot in docdb.snapshots_in(REGION).values():
        if snapshot.status() != "ACTIVE" or bool(snapshot.copied_from) != copies:
            continue
        if snapshot.tags.get(contract.PLAN_TAG_KEY) != PLAN or snapshot.tags.get(contract.RULE_TAG_KEY) != rule:
            continue
        if snapshot.cluster_arn == cluster:
            scheduled = contract.recovery_point_time(PLAN, rule, snapshot.name, cluster, REGION if copies else None)
            assert scheduled is not None, snapshot.name
            times.add(scheduled)
    return times


def test_a_year_of_occurrences_keeps_exactly_what_each_rule_says(docdb, deliver):
    # GIVEN a cluster named by ARN and one selected by its tag, and snapshots the plan did not
    # make: by hand, automated, another construct's, another plan's rule of the same name, and an
    # old point of this plan that never became ACTIVE
    docdb.snapshot_delay = 0  # a year in seconds: each point is ACTIVE when made
    named = docdb.add_cluster("orders")
    tagged = docdb.add_cluster("billing", tags={"backup": "gold"})
    strangers = [
        docdb.add_snapshot(named, "by-hand"),
        docdb.add_snapshot(named, "rds-style-automated", snapshot_type="AUTOMATED"),
        docdb.add_snapshot(named, "OrdersStack-Release-0123456789abcdef01234", {contract.REQUEST_TAG_KEY: "x"}),
        docdb.add_snapshot(
            named,
            contract.recovery_point_name("OtherStack-Plan", "daily", START - timedelta(days=60), named),
            {contract.PLAN_TAG_KEY: "OtherStack-Plan", contract.RULE_TAG_KEY: "daily"},
        ),
    ]
    never_active = docdb.add_snapshot(
        tagged,
        contract.recovery_point_name(PLAN, "daily", START - timedelta(days=90), tagged),
        {contract.PLAN_TAG_KEY: PLAN, contract.RULE_TAG_KEY: "daily"},
    )
    docdb.snapshots[never_active].final_status = "INACCESSIBLE_ENCRYPTION_CREDS"
    done: dict[str, list[datetime]] = {rule: [] for rule in RULES}
    deleted = 0
    # WHEN every occurrence of 400 days is delivered a minute after its scheduled time
    for scheduled, rule in occurrences():
        members = {"Rule": rule, "Clusters": [named], "TagSelections": [{"backup": "gold"}], **RULES[rule]}
        documents = deliver(scheduled_event(iso(scheduled), **members))
        done[rule].append(scheduled)
        deleted += sum(int(d.get(contract.PlanMetric.RECOVERY_POINTS_DELETED, 0)) for d in documents)
        # THEN after each one, each cluster keeps exactly the rule's points, and their copies
        for cluster in (named, tagged):
            assert kept(docdb, rule, cluster) == expected(rule, done[rule], scheduled), (rule, scheduled)
            if rule == "monthly":
                assert kept(docdb, rule, cluster, copies=True) == set(sorted(done[rule])[-3:]), scheduled
    # AND nothing the plan did not make was touched, nor its point that never became ACTIVE
    assert all(arn in docdb.snapshots for arn in [*strangers, never_active])
    # AND the deletions counted in the metrics are the deletions made
    # every point of both clusters, and every monthly copy
    total = sum(len(times) for times in done.values()) * 2 + len(done["monthly"]) * 2
    remaining = sum(
        1 for s in docdb.snapshots.values() if s.tags.get(contract.PLAN_TAG_KEY) == PLAN and s.arn != never_active
    )
    assert deleted == total - remaining
