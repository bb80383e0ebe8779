"""One occurrence of a backup rule: every selected cluster snapshotted once, the rule's retention
applied, its copies made; metrics and one log line per cluster.

EventBridge Scheduler delivers at least once: an occurrence may arrive twice, overlapping, or
late. Every recovery point's name is derived from the occurrence (contract.recovery_point_name),
so a second delivery asks for the same names and the service refuses a second snapshot; the
snapshot carries the occurrence's tag, so a delivery adopts only what a delivery of the same
occurrence made (once.create_once). A delivery later than the rule's start window takes nothing.

Calls are bounded per cluster, so that one occurrence covers hundreds of clusters in one
invocation: one listing of the region's clusters (plus one ListTagsForResource per cluster when
the plan selects by tag), one CreateClusterSnapshot per selected cluster, one listing of the
region's manual snapshots for retention (the name says whose recovery point it is and when it
was scheduled, so no snapshot's tags are read), and one DeleteClusterSnapshot per expired point.
A cluster that cannot be snapshotted is reported by name and holds up none of the others; one
that is busy (a backup or a change in progress) is tried again until the start window closes,
in a new invocation if need be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ... import contract
from ...api import ApiError
from ...clusters import Clusters
from ...contract import BackupInput, PlanMetric
from ...copying import copy_once
from ...metrics import COUNT, SECONDS, publish
from ...once import BUSY_FIRST_WAIT_SECONDS, Budget, Failed, Paused, create_once
from ...request import Continue, Services, home_of, invocation_deadline
from ...snapshots import ACTIVE, FAILED_STATUSES, Snapshots, explain
from . import points
from .points import Point
from .properties import CopyAction, Occurrence, parse_occurrence

logger = logging.getLogger(__name__)

# A busy cluster is tried again after this long, while the start window is open.
BUSY_RETRY_SECONDS = 20.0
# Copies wait for their source snapshot at most this long after the scheduled time.
COPY_WAIT_MAX_SECONDS = 6 * 60 * 60
COPY_POLL_SECONDS = 15.0
# After a point is deleted to make room: how long it may take to be gone (whether a snapshot
# being deleted still counts against the quota is undocumented: docs/aws-limits.md); never into
# the last ROOM_RESERVE_SECONDS of the invocation, which retention and the metrics need.
ROOM_WAIT_SECONDS = 60.0
ROOM_POLL_SECONDS = 3.0
ROOM_RESERVE_SECONDS = 60.0


class _Busy(Exception):
    """The service refused the snapshot for now (ConflictException with no snapshot of the name)."""


class _NoWait(Budget):
    """once.create_once's Budget for one cluster among many: a busy cluster (a wait of
    BUSY_FIRST_WAIT_SECONDS or more) is set aside and tried again after the others. The short
    rechecks of a snapshot found without tags (its tags not yet visible) are waited, so that one
    made by someone else fails at once rather than being retried for the whole window."""

    def wait(self, seconds: float, timed_out: Callable[[], str], polls: int = 0) -> None:
        if seconds >= BUSY_FIRST_WAIT_SECONDS:
            raise _Busy()
        super().wait(seconds, timed_out, polls)


@dataclass
class _Tally:
    created: int = 0
    failed: int = 0
    deleted: int = 0
    copies: int = 0
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Run:
    def __init__(self, event: dict[str, Any], context: Any, services: Services) -> None:
        self.event = event
        self.services = services
        self.occurrence: Occurrence = parse_occurrence(event.get(contract.BACKUP_EVENT_KEY), home_of(context))
        self.state: dict[str, Any] = dict(event.get(contract.CONTINUATION_KEY) or {})
        self.region = home_of(context).region
        self.deadline = invocation_deadline(context, services.clock)
        self.api = services.api(self.deadline)
        self.snapshots = Snapshots(self.api)
        self.clusters = Clusters(self.api)
        self.tally = _Tally()
        # The rule's points, listed once when the quota is first met.
        self.listing: dict[str, list[Point]] | None = None

    # --- time ----------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.services.wall(), UTC)

    def window_open(self) -> bool:
        return self.now() <= self.occurrence.scheduled + timedelta(seconds=self.occurrence.start_window_seconds)

    def time_left(self) -> float:
        return self.deadline - self.services.clock()

    # --- the occurrence ------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        except Continue:
            # What this invocation did counts now; the next one publishes its own.
            self.publish(self.counts())
            raise

    def counts(self) -> dict[str, float]:
        return {
            PlanMetric.RECOVERY_POINTS_CREATED: self.tally.created,
            PlanMetric.RECOVERY_POINTS_FAILED: self.tally.failed,
            PlanMetric.RECOVERY_POINTS_DELETED: self.tally.deleted,
            PlanMetric.COPIES_CREATED: self.tally.copies,
        }

    def _run(self) -> dict[str, Any]:
        occurrence = self.occurrence
        phase = self.state.get("phase", "start")
        if phase == "start":
            late = (self.now() - occurrence.scheduled).total_seconds()
            if late > occurrence.start_window_seconds:
                logger.warning(
                    "occurrence missed: delivered after its start window; no recovery point taken",
                    extra={"occurrence": occurrence.label(), "late_seconds": round(late)},
                )
                self.publish({PlanMetric.OCCURRENCES_MISSED: 1})
                return {"missed": True}
            selected, failures = self.select()
            for arn, reason in failures.items():
                self.report(arn, "failed", reason=reason)
            made = self.protect(selected)
        else:
            selected = {}
            made = dict(self.state.get("made", {}))
            if phase == "busy":
                made.update(self.protect(dict(self.state.get("pending", {}))))
        rule_points = self.recovery_points(self.snapshots, region=None)
        for cluster_arn, arn in made.items():
            name = contract.recovery_point_name(occurrence.plan, occurrence.rule, occurrence.scheduled, cluster_arn)
            listed = rule_points.setdefault(cluster_arn, [])
            if not any(point.arn == arn for point in listed):
                listed.append(Point(occurrence.scheduled, arn, name, "CREATING"))
        self.tally.deleted += self.retain(
            self.snapshots, rule_points, occurrence.delete_after_seconds, occurrence.keep_last
        )
        ages = self.newest_ages(rule_points, selected) if phase == "start" else {}
        if occurrence.copies:
            self.copy_all(made)
        values = self.counts()
        if ages:
            values[PlanMetric.NEWEST_RECOVERY_POINT_AGE_SECONDS] = max(ages.values())
        self.publish(values)
        return {
            "created": self.tally.created,
            "failed": self.tally.failed,
            "deleted": self.tally.deleted,
            "copies": self.tally.copies,
        }

    # --- selection -----------------------------------------------------------------------
    def select(self) -> tuple[dict[str, str], dict[str, str]]:
        """The selected clusters (ARN to status) and those that cannot be (ARN to why)."""
        selected, failures = self.clusters.select(self.occurrence.clusters, self.occurrence.tag_selections)
        return {arn: str(summary.get("status", "")) for arn, summary in selected.items()}, failures

    # --- recovery points -----------------------------------------------------------------
    def protect(self, selected: Mapping[str, str]) -> dict[str, str]:
        """Snapshot each cluster once for this occurrence; return cluster ARN to snapshot ARN
        for those that have theirs. A busy cluster is tried again until the window closes."""
        made: dict[str, str] = {}
        pending = dict(selected)
        while pending:
            busy: dict[str, str] = {}
            for arn, status in pending.items():
                try:
                    made[arn] = self.snapshot_of(arn, status)
                except _Busy:
                    busy[arn] = status
                except Failed as error:
                    self.report(arn, "failed", reason=str(error))
            pending = busy
            if not pending:
                break
            if not self.window_open():
                for arn in pending:
                    self.report(
                        arn,
                        "failed",
                        reason="the cluster stayed busy (a backup or a change in progress) until the window closed",
                    )
                break
            if self.time_left() < BUSY_RETRY_SECONDS * 2:
                raise Continue({"phase": "busy", "made": made, "pending": pending})
            logger.info("busy clusters set aside; trying them again", extra={"busy": len(pending)})
            self.services.sleep(BUSY_RETRY_SECONDS)
        return made

    def snapshot_of(self, cluster_arn: str, status: str) -> str:
        occurrence = self.occurrence
        if status != ACTIVE and status in FAILED_STATUSES:
            raise Failed(f"the cluster is {status}, so no snapshot can be taken (start it, or check its key)")
        name = contract.recovery_point_name(occurrence.plan, occurrence.rule, occurrence.scheduled, cluster_arn)
        token = contract.occurrence_token(occurrence.plan, occurrence.rule, occurrence.scheduled, cluster_arn)
        tags = {**occurrence.tags, contract.PLAN_TAG_KEY: occurrence.plan, contract.RULE_TAG_KEY: occurrence.rule}
        request: dict[str, Any] = {
            "clusterArn": cluster_arn,
            "snapshotName": name,
            "tags": {**tags, contract.REQUEST_TAG_KEY: token},
        }
        created: list[str] = []

        def create() -> dict[str, Any]:
            while True:
                try:
                    snapshot: dict[str, Any] = self.api.call("CreateClusterSnapshot", **request)["snapshot"]
                    break
                except ApiError as error:
                    # Room from the rule's own points that go after this occurrence anyway; then
                    # the same request again (same name and tag: still exactly once).
                    if error.code != contract.QUOTA_EXCEEDED_CODE or not self.room_for(cluster_arn):
                        raise
            created.append(str(snapshot["snapshotArn"]))
            if self.listing is not None:
                # Counted as made: room for later clusters may come from this one's due points.
                point = Point(occurrence.scheduled, created[0], name, str(snapshot.get("status", "CREATING")))
                self.listing.setdefault(cluster_arn, []).append(point)
            return snapshot

        snapshot = create_once(
            create=create,
            find=lambda: self.snapshots.find(cluster_arn, name),
            adopt=lambda arn: {"snapshotArn": arn},
            token=token,
            budget=_NoWait(self.deadline, clock=self.services.clock, sleep=self.services.sleep),
            what=f"A snapshot named {name}",
            busy_reason=lambda: "the cluster was busy",
            foreign_remedy="delete or rename that snapshot; the plan makes a snapshot of this name at this time",
            explain=lambda error: self.explain(error, f"snapshot {name} of {cluster_arn}"),
        )
        arn = str(snapshot["snapshotArn"])
        if created:
            self.tally.created += 1
            self.report(cluster_arn, "created", snapshot_arn=arn)
        else:
            self.report(cluster_arn, "exists", snapshot_arn=arn)
        return arn

    def room_for(self, cluster_arn: str) -> bool:
        if self.listing is None:
            self.listing = self.recovery_points(self.snapshots, region=None)
        delete_after, keep_last = self.occurrence.delete_after_seconds, self.occurrence.keep_last
        return self.make_room(self.snapshots, self.listing, delete_after, keep_last, cluster_arn)

    def explain(self, error: ApiError, subject: str) -> Exception:
        """A cluster's outcome; at the quota, after room was sought among the rule's own points."""
        if error.code != contract.QUOTA_EXCEEDED_CODE:
            return explain(error, subject)
        return Failed(
            f"{error.failure(subject)}. No more of the rule's own recovery points were due for deletion, and "
            "nobody else's is ever deleted. To fix: "
            + contract.snapshot_quota_advice(f"keep_last or delete_after of rule {self.occurrence.rule}")
        )

    def recovery_points(self, snapshots: Snapshots, region: str | None) -> dict[str, list[Point]]:
        """This rule's recovery points (or its copies to `region`), by cluster."""
        return points.listed(snapshots, self.occurrence.plan, self.occurrence.rule, region)

    def retain(
        self, snapshots: Snapshots, listed: dict[str, list[Point]], delete_after: int | None, keep_last: int | None
    ) -> int:
        return points.retain(snapshots, listed, self.occurrence.scheduled, delete_after, keep_last)

    def make_room(
        self,
        snapshots: Snapshots,
        listing: dict[str, list[Point]],
        delete_after: int | None,
        keep_last: int | None,
        arn: str,
    ) -> bool:
        """At the quota: one of the rule's points that go after this occurrence anyway deleted, and
        gone, so that `arn`'s point fits (points.make_room); False when there is none."""
        until = min(self.services.clock() + ROOM_WAIT_SECONDS, self.deadline - ROOM_RESERVE_SECONDS)
        scheduled = self.occurrence.scheduled
        wait = points.Wait(self.services.clock, self.services.sleep, until, ROOM_POLL_SECONDS)
        if not points.make_room(snapshots, listing, arn, scheduled, delete_after, keep_last, wait):
            return False
        self.tally.deleted += 1
        return True

    def newest_ages(self, listed: dict[str, list[Point]], selected: Mapping[str, str]) -> dict[str, float]:
        """Seconds since each selected cluster's newest recovery point of the rule was scheduled."""
        now = self.now()
        ages = {}
        for arn in selected:
            usable = [p.scheduled for p in listed.get(arn, []) if p.status not in FAILED_STATUSES]
            if usable:
                ages[arn] = max(0.0, (now - max(usable)).total_seconds())
        return ages

    # --- copies --------------------------------------------------------------------------
    def copy_all(self, made: Mapping[str, str]) -> None:
        """Each recovery point of this occurrence, once ACTIVE, copied once for each copy action (in
        this region: contract.COPIES_STAY_IN_REGION); then each action's retention. Waits continue
        in a new invocation."""
        occurrence = self.occurrence
        copied = {tuple(pair) for pair in self.state.get("copied", [])}
        waiting_until = occurrence.scheduled + timedelta(seconds=COPY_WAIT_MAX_SECONDS)
        destinations = {action.region: self.snapshots for action in occurrence.copies}
        listings = {region: self.recovery_points(client, region) for region, client in destinations.items()}
        remaining = {arn: source for arn, source in made.items() if any((arn, r) not in copied for r in destinations)}
        while remaining:
            for cluster_arn, source_arn in list(remaining.items()):
                try:
                    source = self.snapshots.get(source_arn)
                except Failed as error:
                    self.report(cluster_arn, "copy-failed", snapshot_arn=source_arn, reason=str(error))
                    del remaining[cluster_arn]
                    continue
                if source.get("status") in FAILED_STATUSES:
                    self.report(cluster_arn, "copy-failed", snapshot_arn=source_arn, reason=f"it is {source['status']}")
                    del remaining[cluster_arn]
                    continue
                if source.get("status") != ACTIVE:
                    continue
                for action in occurrence.copies:
                    if (cluster_arn, action.region) not in copied:
                        self.copy_one(cluster_arn, source_arn, action, destinations[action.region], listings)
                        copied.add((cluster_arn, action.region))
                del remaining[cluster_arn]
            if not remaining:
                break
            if self.now() > waiting_until:
                for cluster_arn, source_arn in remaining.items():
                    self.report(cluster_arn, "copy-failed", snapshot_arn=source_arn, reason="not ACTIVE in time")
                break
            if self.time_left() < COPY_POLL_SECONDS * 2:
                raise Continue({"phase": "copy", "made": dict(made), "copied": sorted(copied)})
            self.services.sleep(COPY_POLL_SECONDS)
        for action in occurrence.copies:
            self.tally.deleted += self.retain(
                destinations[action.region], listings[action.region], action.delete_after_seconds, action.keep_last
            )

    def copy_one(
        self,
        cluster_arn: str,
        source_arn: str,
        action: CopyAction,
        destination: Snapshots,
        listings: dict[str, dict[str, list[Point]]],
    ) -> None:
        occurrence = self.occurrence
        plan, rule, scheduled = occurrence.plan, occurrence.rule, occurrence.scheduled
        name = contract.recovery_point_name(plan, rule, scheduled, cluster_arn, action.region)
        token = contract.occurrence_token(plan, rule, scheduled, cluster_arn, action.region)
        known = {point.name.lower() for point in listings[action.region].get(cluster_arn, [])}
        if name.lower() in known:
            return
        tags = {
            **occurrence.tags,
            contract.PLAN_TAG_KEY: plan,
            contract.RULE_TAG_KEY: rule,
            contract.REQUEST_TAG_KEY: token,
        }
        budget = Budget(self.deadline, clock=self.services.clock, sleep=self.services.sleep)
        try:
            copy = copy_once(
                destination,
                source_arn=source_arn,
                name=name,
                tags=tags,
                kms_key_id=action.kms_key_id,
                token=token,
                budget=budget,
                make_room=lambda: self.make_room(
                    destination,
                    listings[action.region],
                    action.delete_after_seconds,
                    action.keep_last,
                    cluster_arn,
                ),
                keep_fewer=f"keep_last or delete_after of rule {rule}'s copy action",
            )
        except (Failed, Paused) as error:
            self.report(cluster_arn, "copy-failed", snapshot_arn=source_arn, reason=str(error))
            return
        self.tally.copies += 1
        listings[action.region].setdefault(cluster_arn, []).append(
            Point(scheduled, str(copy["snapshotArn"]), name, str(copy.get("status", "CREATING")))
        )
        self.report(cluster_arn, "copied", snapshot_arn=str(copy["snapshotArn"]))

    # --- reporting -----------------------------------------------------------------------
    def report(self, cluster_arn: str, outcome: str, **details: Any) -> None:
        """One JSON log line per cluster and outcome, for people and log queries."""
        if outcome in ("failed", "copy-failed"):
            self.tally.failed += 1
        entry = {
            "plan": self.occurrence.plan,
            "rule": self.occurrence.rule,
            "scheduled_time": self.occurrence.scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cluster_arn": cluster_arn,
            "outcome": outcome,
            **details,
        }
        (logger.error if outcome.endswith("failed") else logger.info)("recovery point", extra=entry)

    def publish(self, values: Mapping[str, float]) -> None:
        units = {PlanMetric.NEWEST_RECOVERY_POINT_AGE_SECONDS: SECONDS}
        publish(
            contract.METRIC_NAMESPACE,
            {"Plan": self.occurrence.plan, "Rule": self.occurrence.rule},
            values,
            {name: units.get(name, COUNT) for name in values},
            wall=self.services.wall,
        )


def log_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """Whose occurrence, on every log line (read from the raw input: it may be invalid)."""
    return {"plan": str(payload.get(BackupInput.PLAN, "")), "rule": str(payload.get(BackupInput.RULE, ""))}


def count_invalid(payload: Mapping[str, Any]) -> None:
    """An input that cannot be parsed still counts as a failure, for the rule's alarm."""
    plan, rule = payload.get(BackupInput.PLAN), payload.get(BackupInput.RULE)
    if isinstance(plan, str) and isinstance(rule, str):
        publish(contract.METRIC_NAMESPACE, {"Plan": plan, "Rule": rule}, {PlanMetric.RECOVERY_POINTS_FAILED: 1})


def run(event: dict[str, Any], context: Any, services: Services) -> dict[str, Any]:
    """Run (or continue) one occurrence; return a summary. Raises Continue to hand over."""
    return _Run(event, context, services).run()
