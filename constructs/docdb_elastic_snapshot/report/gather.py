"""What the report knows, read from AWS: the plans' and restore tests' schedules, the region's
clusters, their recovery points and copies, and the restore tests' records; then each cluster's
findings, as plain data.

Only List* and Get* calls. The schedules are the source of truth for what protects what: their
inputs are the contract between the constructs and the handler, so the report reads them the
way the handler does (docdb_snapshot_handler.contract) and never keeps its own copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from docdb_snapshot_handler import contract

from .calls import CONFIG, REQUIRED_PERMISSIONS, ApiError, call, items, parallel

__all__ = ["REQUIRED_PERMISSIONS", "ApiError", "Report", "gather", "parse_schedule", "read_schedules"]


@dataclass(frozen=True)
class Selection:
    """The clusters a schedule acts on: named ones, and any carrying every tag of one map."""

    clusters: frozenset[str]
    tag_selections: tuple[Mapping[str, str], ...]

    def selects(self, cluster_arn: str, tags: Mapping[str, str]) -> bool:
        return contract.selected_by(cluster_arn, tags, self.clusters, self.tag_selections)


@dataclass(frozen=True)
class Rule:
    plan: str
    rule: str
    schedule: str
    selection: Selection
    # IntervalSeconds + StartWindowSeconds: the age a rule's newest recovery point may reach.
    max_age: timedelta
    # Where the rule's copies are: the plan's region, the only one elastic snapshots are copied
    # in ("" where the input names none: read as the report's region).
    copy_regions: tuple[str, ...]
    created: datetime | None

    @property
    def label(self) -> str:
        return f"{self.plan}/{self.rule}"

    def scheduled_time(self, name: str, cluster_arn: str, region: str | None = None) -> datetime | None:
        if not name.lower().startswith(self.rule.lower() + "-"):
            return None
        return contract.recovery_point_time(self.plan, self.rule, name, cluster_arn, region)


def _abandoned_after(validation_window_seconds: int) -> timedelta:
    """The latest a run can conclude after its occurrence: a late start, then as long as it may
    keep its temporary cluster (the handler's 'expires' tag), and an hour of hand-overs."""
    lifetime = contract.temporary_cluster_lifetime_seconds(validation_window_seconds)
    return timedelta(seconds=contract.RESTORE_TEST_START_WINDOW_SECONDS + lifetime, hours=1)


@dataclass(frozen=True)
class RestoreTest:
    test: str
    schedule: str
    selection: Selection
    # A "restoring" record older than this will never conclude: its run died.
    abandoned_after: timedelta = field(default_factory=lambda: _abandoned_after(0))


@dataclass(frozen=True)
class Point:
    """An ACTIVE snapshot: something a cluster can be restored from."""

    arn: str
    name: str
    type: str
    cluster_arn: str
    created: datetime | None


@dataclass(frozen=True)
class TestResult:
    test: str
    scheduled: datetime
    outcome: str
    restore_seconds: int | None
    # A "restoring" record left by a run that died: counted as failed.
    abandoned: bool = False


@dataclass
class Finding:
    cluster_arn: str
    cluster_name: str
    status: str
    protected_by: list[Rule] = field(default_factory=list)
    newest: Point | None = None
    points_per_rule: dict[str, int] = field(default_factory=dict)
    copies_per_region: dict[str, int] = field(default_factory=dict)
    last_test: TestResult | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QuotaUse:
    """A region's manual snapshots (every one listed, whoever made it and whatever its status)
    against the account's quota; `quota_given` False: AWS's default, not the user's figure."""

    region: str
    manual_snapshots: int
    quota: int
    quota_given: bool

    @property
    def share(self) -> float:
        return self.manual_snapshots / self.quota

    @property
    def which(self) -> str:
        return "the quota given" if self.quota_given else "the default quota"

    @property
    def problem(self) -> str | None:
        if self.share < contract.QUOTA_WARNING_SHARE:
            return None
        return (
            f"{self.manual_snapshots} manual snapshots in {self.region}, {self.share:.0%} of {self.which} of "
            f"{self.quota}: "
            "new snapshots fail at the quota. Raise it in Service Quotas (Amazon DocumentDB) and pass it with "
            "--snapshot-quota, or delete manual snapshots no longer needed"
        )


@dataclass(frozen=True)
class Report:
    region: str
    generated_at: datetime
    clusters: list[Finding]
    quotas: list[QuotaUse] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return sum(len(finding.problems) for finding in self.clusters) + sum(1 for q in self.quotas if q.problem)


def duration(delta: timedelta) -> str:
    """The two largest units, for people: '3d 7h', '25m 3s', '1d'."""
    seconds = max(0, int(delta.total_seconds()))
    parts: list[tuple[int, str]] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount or parts:
            parts.append((amount, unit))
    return " ".join(f"{amount}{unit}" for amount, unit in parts[:2] if amount) or "0s"


# --- calls ---------------------------------------------------------------------------------------


# --- schedules -----------------------------------------------------------------------------------


def _selection(members: Mapping[str, Any], clusters_key: str, tags_key: str) -> Selection:
    clusters = members.get(clusters_key) or []
    selections = members.get(tags_key) or []
    return Selection(
        frozenset(str(arn) for arn in clusters),
        tuple({str(k): str(v) for k, v in wanted.items()} for wanted in selections if isinstance(wanted, dict)),
    )


def parse_schedule(detail: Mapping[str, Any]) -> Rule | RestoreTest | None:
    """A GetSchedule answer as a backup rule or a restore test; None for anyone else's schedule
    (or an input this version does not understand)."""
    name = f"{detail.get('GroupName', 'default')}/{detail.get('Name', '')}"
    try:
        document = json.loads(detail.get("Target", {}).get("Input") or "null")
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    try:
        backup = document.get(contract.BACKUP_EVENT_KEY)
        if isinstance(backup, dict) and backup.get(contract.BackupInput.VERSION) == contract.BACKUP_INPUT_VERSION:
            member = contract.BackupInput
            created = detail.get("CreationDate")
            return Rule(
                plan=str(backup[member.PLAN]),
                rule=str(backup[member.RULE]),
                schedule=name,
                selection=_selection(backup, member.CLUSTERS, member.TAG_SELECTIONS),
                max_age=timedelta(
                    seconds=int(backup[member.INTERVAL_SECONDS]) + int(backup[member.START_WINDOW_SECONDS])
                ),
                copy_regions=tuple(
                    str(copy.get(contract.CopyActionKey.REGION, "")) for copy in backup.get(member.COPIES, [])
                ),
                created=created.astimezone(UTC) if isinstance(created, datetime) else None,
            )
        test = document.get(contract.RESTORE_TEST_EVENT_KEY)
        version = contract.RESTORE_TEST_INPUT_VERSION
        if isinstance(test, dict) and test.get(contract.RestoreTestInput.VERSION) == version:
            members = contract.RestoreTestInput
            return RestoreTest(
                test=str(test[members.TEST]),
                schedule=name,
                selection=_selection(test, members.CLUSTERS, members.TAG_SELECTIONS),
                abandoned_after=_abandoned_after(int(test.get(members.VALIDATION_WINDOW_SECONDS, 0))),
            )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return None


def read_schedules(scheduler: Any) -> tuple[list[Rule], list[RestoreTest]]:
    # ListSchedules has no inputs: every schedule of every group is read once.
    summaries = list(items(scheduler, "ListSchedules", "Schedules"))

    def detail(summary: dict[str, Any]) -> Rule | RestoreTest | None:
        try:
            answer = call(scheduler, "GetSchedule", Name=summary["Name"], GroupName=summary["GroupName"])
        except ApiError as error:
            if error.code == "ResourceNotFoundException":  # deleted since the listing
                return None
            raise
        return parse_schedule(answer)

    parsed = parallel(detail, summaries)
    rules = sorted((p for p in parsed if isinstance(p, Rule)), key=lambda rule: rule.label)
    tests = sorted((p for p in parsed if isinstance(p, RestoreTest)), key=lambda test: test.test)
    return rules, tests


# --- clusters and recovery points ----------------------------------------------------------------


def _time(text: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _newest_first(points: Iterable[Point]) -> list[Point]:
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(points, key=lambda point: point.created or oldest, reverse=True)


def _point(summary: Mapping[str, Any], snapshot_type: str) -> Point:
    return Point(
        arn=str(summary["snapshotArn"]),
        name=str(summary.get("snapshotName", "")),
        type=snapshot_type.upper(),
        cluster_arn=str(summary.get("clusterArn", "")),
        created=_time(summary.get("snapshotCreationTime")),
    )


def _points(client: Any, snapshot_type: str, **params: Any) -> list[Point]:
    """The ACTIVE snapshots of one listing (CREATING or failed ones restore nothing)."""
    listed = items(client, "ListClusterSnapshots", "snapshots", snapshotType=snapshot_type, **params)
    return [_point(s, snapshot_type) for s in listed if s.get("status") == "ACTIVE"]


@dataclass(frozen=True)
class _Cluster:
    arn: str
    name: str
    status: str
    tags: Mapping[str, str]
    points: list[Point]


def _read_cluster(docdb: Any, summary: Mapping[str, Any], with_tags: bool) -> _Cluster | None:
    arn = str(summary["clusterArn"])
    try:
        tags = call(docdb, "ListTagsForResource", resourceArn=arn).get("tags", {}) if with_tags else {}
    except ApiError as error:
        if error.code == "ResourceNotFoundException":  # deleted since the listing
            return None
        raise
    points = [p for kind in ("manual", "automated") for p in _points(docdb, kind, clusterArn=arn)]
    name, status = str(summary.get("clusterName", "")), str(summary.get("status", ""))
    return _Cluster(arn, name, status, dict(tags), _newest_first(points))


def _manual(client: Any) -> list[dict[str, Any]]:
    """Every manual snapshot of a region, whatever its status: one listing serves every cluster
    (copies keep their source's cluster ARN) and the quota (which counts them all)."""
    return list(items(client, "ListClusterSnapshots", "snapshots", snapshotType="manual"))


def _copies(listed: Iterable[Mapping[str, Any]]) -> dict[str, list[Point]]:
    """The ACTIVE manual snapshots of a listing, by cluster."""
    by_cluster: dict[str, list[Point]] = {}
    for point in (_point(s, "manual") for s in listed if s.get("status") == "ACTIVE"):
        by_cluster.setdefault(point.cluster_arn, []).append(point)
    return by_cluster


def _last_test(
    docdb: Any, points: Sequence[Point], tests: Sequence[RestoreTest], now: datetime, cluster_tags: Mapping[str, str]
) -> TestResult | None:
    """The latest record of the tests on the cluster's points, or on the cluster itself (where a
    point refused the tag). Each occurrence restores the newest point there is, so the newest
    point with a test's record holds its latest one: the scan, newest first, stops once every
    test has been found."""
    found: dict[str, TestResult] = {}
    keys = {contract.restore_test_claim_key(test.test): test.test for test in tests}
    limits = {test.test: test.abandoned_after for test in tests}

    def result(test: str, record: tuple[str, str, int | None]) -> TestResult | None:
        scheduled = contract.restore_test_record_time(record[0])
        if scheduled is None:
            return None
        outcome, seconds = record[1], record[2]
        abandoned = outcome == contract.RestoreTestRecord.RESTORING and now - scheduled > limits[test]
        outcome = contract.RestoreTestRecord.FAILED if abandoned else outcome
        return TestResult(test, scheduled, outcome, seconds, abandoned)

    on_cluster: dict[str, TestResult] = {}
    for key, test in keys.items():
        parsed = contract.parse_restore_test_cluster_record(str(cluster_tags.get(key, "")))
        candidate = result(test, parsed[0]) if parsed else None
        if candidate is not None:
            on_cluster[test] = candidate
    for point in points:
        if len(found) == len(keys):
            break
        try:
            tags = call(docdb, "ListTagsForResource", resourceArn=point.arn).get("tags", {})
        except ApiError as error:
            if error.code == "ResourceNotFoundException":  # deleted since the listing
                continue
            raise
        for key, test in keys.items():
            record = contract.parse_restore_test_record(str(tags.get(key, ""))) if test not in found else None
            candidate = result(test, record) if record else None
            if candidate is not None:
                found[test] = candidate
    for test, candidate in on_cluster.items():
        if test not in found or candidate.scheduled > found[test].scheduled:
            found[test] = candidate
    return max(found.values(), key=lambda last: last.scheduled, default=None)


def _selects(schedule: Rule | RestoreTest, cluster: _Cluster) -> bool:
    return schedule.selection.selects(cluster.arn, cluster.tags)


# --- findings ------------------------------------------------------------------------------------


def _staleness(rule: Rule, newest: datetime | None, now: datetime) -> str | None:
    if newest is not None and now - newest <= rule.max_age:
        return None
    if newest is None and rule.created is not None and now - rule.created <= rule.max_age:
        return None  # a new rule whose first occurrence is not overdue yet
    allowed = f"the rule allows {duration(rule.max_age)}"
    if newest is None:
        return f"no recovery point of {rule.label} ({allowed})"
    return f"newest recovery point of {rule.label} is {duration(now - newest)} old ({allowed})"


def assess(
    cluster: _Cluster,
    rules: Sequence[Rule],
    copies: Mapping[str, Mapping[str, list[Point]]],
    last_test: TestResult | None,
    now: datetime,
) -> Finding:
    """One cluster's findings: pure, from what was read."""
    finding = Finding(cluster.arn, cluster.name, cluster.status, last_test=last_test)
    finding.protected_by = [rule for rule in rules if _selects(rule, cluster)]
    finding.newest = cluster.points[0] if cluster.points else None
    manual = [p for p in cluster.points if p.type == "MANUAL"]
    for rule in finding.protected_by:
        times = [t for p in manual if (t := rule.scheduled_time(p.name, cluster.arn)) is not None]
        finding.points_per_rule[rule.label] = len(times)
        for region in rule.copy_regions:
            there = copies.get(region, {}).get(cluster.arn, [])
            count = sum(1 for p in there if rule.scheduled_time(p.name, cluster.arn, region) is not None)
            finding.copies_per_region[f"{rule.label}/{region}"] = count
        problem = _staleness(rule, max(times, default=None), now)
        if problem:
            finding.problems.append(problem)
    if last_test is not None and last_test.outcome == contract.RestoreTestRecord.FAILED:
        why = ": the run did not finish" if last_test.abandoned else ""
        when = last_test.scheduled.strftime("%Y-%m-%d %H:%MZ")
        finding.problems.append(f"last restore test {last_test.test} ({when}) failed{why}")
    return finding


def gather(session: boto3.Session, region: str, snapshot_quota: int | None = None) -> Report:
    """The report of `region`; `snapshot_quota`, the account's quota of manual snapshots per
    region if raised (None: AWS's default)."""
    now = datetime.now(UTC)
    docdb = session.client("docdb-elastic", region_name=region, config=CONFIG)
    scheduler = session.client("scheduler", region_name=region, config=CONFIG)
    rules, tests = read_schedules(scheduler)
    rules = [replace(rule, copy_regions=tuple(r or region for r in rule.copy_regions)) for rule in rules]
    summaries = list(items(docdb, "ListClusters", "clusters"))
    # Cluster tags matter to a selection by tag, and to a restore test (its record of an
    # automated point that refused tags is on the cluster).
    selections = [rule.selection for rule in rules] + [test.selection for test in tests]
    with_tags = bool(tests) or any(selection.tag_selections for selection in selections)
    clusters = [c for c in parallel(lambda s: _read_cluster(docdb, s, with_tags), summaries) if c is not None]
    # Only the regions a rule copies the report's clusters to are listed (a plan made before
    # copies stayed in their region may still name another).
    copy_regions = sorted(
        {region for rule in rules if any(_selects(rule, c) for c in clusters) for region in rule.copy_regions}
    )
    # The report's region is listed too: the quota counts its manual snapshots.
    listed_regions = sorted({region, *copy_regions})
    # Clients are made here: a boto3 session is not safe to share between threads, its clients are.
    regional = [session.client("docdb-elastic", region_name=r, config=CONFIG) for r in listed_regions]
    manual = dict(zip(listed_regions, parallel(_manual, regional), strict=True))
    copies = {r: _copies(manual[r]) for r in copy_regions}
    quota = contract.MANUAL_SNAPSHOT_QUOTA_DEFAULT if snapshot_quota is None else snapshot_quota
    quotas = [QuotaUse(r, len(manual[r]), quota, snapshot_quota is not None) for r in listed_regions]

    def tested(cluster: _Cluster) -> TestResult | None:
        selecting = [test for test in tests if _selects(test, cluster)]
        return _last_test(docdb, cluster.points, selecting, now, cluster.tags) if selecting else None

    last_tests = parallel(tested, clusters)
    findings = [assess(c, rules, copies, t, now) for c, t in zip(clusters, last_tests, strict=True)]
    return Report(region, now, sorted(findings, key=lambda finding: finding.cluster_name), quotas)
