"""One occurrence of a restore test: for each selected cluster, its newest ACTIVE recovery point
restored into a temporary cluster, timed until ACTIVE, validated, deleted; metrics and one log
line per cluster.

Exactly once per occurrence and cluster, as EventBridge Scheduler delivers at least once:
- the temporary cluster's name and request tag come from the occurrence (contract.
  temporary_cluster_name), so while it exists the service refuses a second one and a delivery
  adopts only its own (once.create_once); the invocation that restored it drives the test, or
  Lambda's retry of it (the same request id, a tag of the cluster) when it died;
- the record that outlives it is a tag on the recovery point (contract.restore_test_claim_key):
  written 'restoring' before the restore, and 'succeeded' or 'failed' once counted, before the
  deletion. A delivery that finds its occurrence's conclusion restores and counts nothing (and
  deletes a temporary cluster left behind); one that finds 'restoring' (an earlier delivery died)
  reuses that recovery point and restores under the name lock.

Always clean up: the run deletes its cluster once the test is over, whatever the outcome, and
tries again while it goes on; a run that died is swept by a later occurrence (the test's own
clusters, by name shape and tag, past the time their 'expires' tag gives). DeleteCluster is
called only on clusters that carry the test's tag (and the role may delete no other: an
aws:ResourceTag condition).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from ... import contract
from ...clusters import CLUSTER_FAILED_STATUSES, RestoredClusters
from ...contract import RestoreTestMetric, RestoreTestRecord
from ...metrics import COUNT, SECONDS, publish
from ...once import Budget, Failed, Paused, poll_interval
from ...parsing import iso_timestamp
from ...request import Continue, Services, home_of, invocation_deadline
from .properties import RestoreTestOccurrence, parse_restore_test

logger = logging.getLogger(__name__)

# A validation function is invoked only with at least this much of the invocation left (else
# the run continues in a fresh one first); it may take all of it but the margin.
VALIDATION_RESERVE_SECONDS = 600.0
VALIDATION_MARGIN_SECONDS = 30.0
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class _Test:
    """One cluster's test in this occurrence; travels in the continuation as a dict."""

    source_arn: str
    source_name: str
    point_arn: str
    point_age: float
    cluster_arn: str
    requested_at: float
    active_at: float | None = None
    validated: bool = False
    outcome: str | None = None
    reason: str = ""
    # Concluded, but its DeleteCluster failed: tried again until the cluster is gone.
    delete_pending: bool = False

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> _Test:
        """From a continuation (members a newer handler does not know are left out)."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in entry.items() if key in known})

    @property
    def restore_seconds(self) -> float | None:
        return None if self.active_at is None else max(0.0, self.active_at - self.requested_at)


class _Run:
    def __init__(self, event: dict[str, Any], context: Any, services: Services) -> None:
        self.services = services
        self.occurrence: RestoreTestOccurrence = parse_restore_test(
            event.get(contract.RESTORE_TEST_EVENT_KEY), home_of(context)
        )
        self.state: dict[str, Any] = dict(event.get(contract.CONTINUATION_KEY) or {})
        self.deadline = invocation_deadline(context, services.clock)
        self.clusters = RestoredClusters(services.api(self.deadline))
        self.request_id = str(getattr(context, "aws_request_id", ""))
        self.claim_key = contract.restore_test_claim_key(self.occurrence.test)
        self.validations = 0
        # This occurrence as its records write it.
        self.mine = contract.restore_test_occurrence(self.occurrence.scheduled)
        self.lifetime = contract.temporary_cluster_lifetime_seconds(self.occurrence.validation_window_seconds)

    # --- time ----------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.services.wall(), UTC)

    def time_left(self) -> float:
        return self.deadline - self.services.clock()

    # --- the occurrence ------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        occurrence = self.occurrence
        if self.state.get("phase") == "test":
            tests = [_Test.of(entry) for entry in self.state.get("tests", [])]
        else:
            late = (self.now() - occurrence.scheduled).total_seconds()
            if late > contract.RESTORE_TEST_START_WINDOW_SECONDS:
                logger.warning(
                    "occurrence missed: delivered after its start window; nothing restored",
                    extra={"occurrence": occurrence.label(), "late_seconds": round(late)},
                )
                self.publish_test({RestoreTestMetric.FAILED: 1})
                return {"missed": True}
            listed = self.clusters.listing()
            swept = self.sweep(listed)
            tests = self.start_all(listed)
            if swept:
                logger.info("expired temporary clusters deleted", extra={"deleted": swept})
        self.drive(tests)
        return {
            "succeeded": sum(t.outcome == RestoreTestRecord.SUCCEEDED for t in tests),
            "failed": sum(t.outcome == RestoreTestRecord.FAILED for t in tests),
        }

    def start_all(self, listed: dict[str, dict[str, Any]]) -> list[_Test]:
        occurrence = self.occurrence
        # The test's own temporary clusters are never selected, whatever tags a selection names.
        own = {arn for arn, summary in listed.items() if self._temporary_time(summary) is not None}
        selected, failures = self.clusters.select(occurrence.clusters, occurrence.tag_selections, listed=listed)
        for arn, reason in failures.items():
            self.conclude_without_restore(arn, arn.rsplit("/", 1)[-1], reason)
        tests = []
        for arn, summary in selected.items():
            if arn in own:
                continue
            test = self.start(arn, str(summary.get("clusterName", arn)), listed)
            if test is not None:
                tests.append(test)
        return tests

    def _temporary_time(self, summary: Mapping[str, Any]) -> datetime | None:
        """The occurrence of one of the test's temporary clusters (None: not one of them)."""
        return contract.temporary_cluster_time(self.occurrence.test, str(summary.get("clusterName", "")))

    # --- choosing and restoring ----------------------------------------------------------
    def _record_of(self, point_arn: str) -> tuple[str, str] | None:
        """The test's record on a point: (occurrence as written, outcome); None without one."""
        record = contract.parse_restore_test_record(self.clusters.tags(point_arn).get(self.claim_key, ""))
        return None if record is None else (record[0], record[1])

    def earlier_record(self, points: list[dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
        """This occurrence's record on one of the points (newest first), if any: its outcome and
        the point. The scan stops at a record of an earlier occurrence of the test: every point
        this occurrence could have chosen is at least as new as that one."""
        for point in points:
            try:
                record = self._record_of(str(point["snapshotArn"]))
            except Failed:
                continue  # deleted since the listing
            if record is None:
                continue
            if record[0] == self.mine:
                return record[1], point
            if record[0] < self.mine:
                break
        return None, None

    def start(self, source_arn: str, source_name: str, listed: Mapping[str, Mapping[str, Any]]) -> _Test | None:
        occurrence = self.occurrence
        try:
            kinds = [kind.lower() for kind in occurrence.recovery_point_types]
            points = self.clusters.active_snapshots(source_arn, kinds)
            outcome, recorded = self.earlier_record(points)
        except Failed as error:
            self.conclude_without_restore(source_arn, source_name, str(error))
            return None
        if outcome in (RestoreTestRecord.SUCCEEDED, RestoreTestRecord.FAILED):
            self.report(source_arn, "already-tested", recorded_outcome=outcome)
            self.delete_left_over(source_arn, listed)
            return None
        if not points:
            types = " or ".join(occurrence.recovery_point_types)
            self.conclude_without_restore(source_arn, source_name, f"it has no ACTIVE {types} recovery point")
            return None
        # An earlier delivery's choice stands (it may have restored it already); else the newest.
        point = recorded or points[0]
        point_arn = str(point["snapshotArn"])
        created = iso_timestamp(point.get("snapshotCreationTime"))
        if recorded is None:
            try:
                # The record first: a restore without it could not be recognised by a redelivery.
                record = contract.restore_test_record(occurrence.scheduled, RestoreTestRecord.RESTORING)
                self.clusters.tag(point_arn, {self.claim_key: record})
            except Failed as error:
                reason = (
                    f"the test could not be recorded on recovery point {point_arn}, so nothing was restored ({error})"
                )
                self.conclude_without_restore(source_arn, source_name, reason)
                return None
        name = contract.temporary_cluster_name(occurrence.test, occurrence.scheduled, source_arn)
        token = contract.restore_test_token(occurrence.test, occurrence.scheduled, source_arn)
        expires = self.now() + timedelta(seconds=self.lifetime)
        request: dict[str, Any] = {
            "clusterName": name,
            "snapshotArn": point_arn,
            "subnetIds": list(occurrence.subnet_ids),
            "vpcSecurityGroupIds": list(occurrence.vpc_security_group_ids),
            "tags": {
                contract.RESTORE_TEST_TAG_KEY: occurrence.test,
                contract.RESTORE_TEST_EXPIRES_TAG_KEY: expires.strftime(_TIME_FORMAT),
                contract.RESTORE_TEST_CLUSTER_TAG_KEY: source_name,
                contract.RESTORE_TEST_INVOCATION_TAG_KEY: self.request_id,
                contract.SOURCE_TAG_KEY: point_arn,
                contract.REQUEST_TAG_KEY: token,
            },
        }
        for key, value in (
            ("shardCapacity", occurrence.shard_capacity),
            ("shardInstanceCount", occurrence.shard_instance_count),
            ("kmsKeyId", occurrence.kms_key_id),
        ):
            if value is not None:
                request[key] = value
        requested_at = self.services.wall()
        age = max(0.0, requested_at - created) if created is not None else 0.0
        try:
            cluster, restored = self.clusters.restore(
                request,
                token,
                Budget(self.deadline, clock=self.services.clock, sleep=self.services.sleep),
                foreign_remedy="rename or delete that cluster; the restore test names its temporary clusters so",
            )
        except (Failed, Paused) as error:
            test = _Test(source_arn, source_name, point_arn, age, "", requested_at)
            self.conclude(test, RestoreTestRecord.FAILED, f"the restore could not start: {error}")
            return None
        if not restored:
            maker = self.clusters.tags(str(cluster["clusterArn"])).get(contract.RESTORE_TEST_INVOCATION_TAG_KEY)
            if not self.request_id or maker != self.request_id:
                # Restored by another delivery of this occurrence, which drives the test.
                self.report(source_arn, "in-progress", temporary_cluster_arn=cluster.get("clusterArn"))
                return None
            # Restored by this very invocation before it failed: this is Lambda's retry of it,
            # which drives the test from here, timed from the cluster's creation.
            requested_at = iso_timestamp(cluster.get("createTime")) or requested_at
            age = max(0.0, requested_at - created) if created is not None else 0.0
            self.report(source_arn, "resumed", temporary_cluster_arn=cluster.get("clusterArn"))
        else:
            self.report(
                source_arn, "restoring", recovery_point_arn=point_arn, temporary_cluster_arn=cluster["clusterArn"]
            )
        return _Test(source_arn, source_name, point_arn, age, str(cluster["clusterArn"]), requested_at)

    def delete_left_over(self, source_arn: str, listed: Mapping[str, Mapping[str, Any]]) -> None:
        """The occurrence is concluded, but its temporary cluster may still be there (the run
        died between its record and its DeleteCluster): delete it, if it is this occurrence's."""
        name = contract.temporary_cluster_name(self.occurrence.test, self.occurrence.scheduled, source_arn)
        token = contract.restore_test_token(self.occurrence.test, self.occurrence.scheduled, source_arn)
        for arn, summary in listed.items():
            if summary.get("clusterName") != name or summary.get("status") == "DELETING":
                continue
            try:
                if self.clusters.tags(arn).get(contract.REQUEST_TAG_KEY) == token:
                    self.clusters.delete(arn)
            except Failed as error:
                logger.error("left-over temporary cluster could not be deleted", extra={"error": str(error)[:300]})

    # --- waiting, validating, deleting ---------------------------------------------------
    def drive(self, tests: list[_Test]) -> None:
        """Until every test is over: poll each temporary cluster, validate it once ACTIVE, delete
        it after the validation window. Hands over to a new invocation when time runs short, or
        when a validation needs more of an invocation than is left."""
        while True:
            pending = [t for t in tests if t.outcome is None or t.delete_pending]
            for test in pending:
                self.observe(test)
            handover = False
            for test in pending:
                validations = self.validations
                handover |= self.advance(test)
                if self.validations != validations:
                    # A validation takes its time: the others are looked at again before theirs,
                    # so that each RestoreSeconds stays within one poll.
                    for other in pending:
                        self.observe(other)
            pending = [t for t in tests if t.outcome is None or t.delete_pending]
            if not pending:
                return
            # As every wait of the library: every 2 s in a restore's first minute, then every 15 s.
            wait = min(poll_interval(self.services.wall() - t.requested_at) for t in pending)
            if handover or self.time_left() < wait * 2:
                raise Continue({"phase": "test", "tests": [vars(t) for t in pending]})
            self.services.sleep(wait)

    def expired(self, test: _Test) -> bool:
        """Past the latest its run may keep the temporary cluster (its 'expires' tag)."""
        return self.services.wall() - test.requested_at > self.lifetime

    def observe(self, test: _Test) -> None:
        """Until the temporary cluster is ACTIVE: its status; a failed or lost restore, or one
        slower than the longest wait, fails the test."""
        if test.outcome is not None or test.active_at is not None:
            return
        now = self.services.wall()
        late = now - test.requested_at > contract.RESTORE_TEST_RESTORE_WAIT_MAX_SECONDS
        try:
            cluster = self.clusters.get(test.cluster_arn)
        except Failed as error:
            logger.warning("temporary cluster could not be read", extra={"error": str(error)[:300]})
            if late:
                self.conclude(test, RestoreTestRecord.FAILED, f"the temporary cluster could not be read: {error}")
            return
        status = "GONE" if cluster is None else str(cluster.get("status"))
        if status == "GONE" or status in CLUSTER_FAILED_STATUSES:
            self.conclude(test, RestoreTestRecord.FAILED, f"the temporary cluster became {status}")
        elif status == "ACTIVE":
            test.active_at = now
            self.report(test.source_arn, "active", restore_seconds=round(now - test.requested_at, 1))
        elif late:
            hours = contract.RESTORE_TEST_RESTORE_WAIT_MAX_SECONDS // 3600
            self.conclude(test, RestoreTestRecord.FAILED, f"the restore was not ACTIVE within {hours} hours")

    def advance(self, test: _Test) -> bool:
        """Once ACTIVE: validate, then conclude after the window; a concluded test whose deletion
        failed is deleted again. True when it needs a fresh invocation to go on."""
        occurrence = self.occurrence
        if test.delete_pending:
            self.delete_again(test)
            return False
        if test.outcome is not None or test.active_at is None:
            return False
        if not test.validated:
            if occurrence.validation_function:
                if self.time_left() < VALIDATION_RESERVE_SECONDS:
                    return True
                try:
                    cluster = self.clusters.get(test.cluster_arn) or {}
                except Failed as error:
                    cluster = {}
                    logger.warning("temporary cluster could not be read", extra={"error": str(error)[:300]})
                failure = self.validate(test, cluster)
                if failure is not None:
                    self.conclude(test, RestoreTestRecord.FAILED, f"the validation function failed: {failure}")
                    return False
            test.validated = True
        if self.services.wall() >= test.active_at + occurrence.validation_window_seconds:
            self.conclude(test, RestoreTestRecord.SUCCEEDED)
        return False

    def delete_again(self, test: _Test) -> None:
        try:
            self.clusters.delete(test.cluster_arn)
        except Failed as error:
            if self.expired(test):
                # Past its 'expires' time: the next occurrence's sweep deletes it.
                test.delete_pending = False
                logger.error(
                    "temporary cluster still not deleted; the next occurrence's sweep deletes it",
                    extra={"cluster_arn": test.cluster_arn, "error": str(error)[:300]},
                )
            return
        test.delete_pending = False

    def validate(self, test: _Test, cluster: Mapping[str, Any]) -> str | None:
        """Invoke the validation function with the temporary cluster; None when it succeeded."""
        occurrence = self.occurrence
        assert occurrence.validation_function is not None
        payload = {
            "restoreTest": occurrence.test,
            "scheduledTime": occurrence.scheduled.strftime(_TIME_FORMAT),
            "sourceClusterArn": test.source_arn,
            "recoveryPointArn": test.point_arn,
            "clusterArn": test.cluster_arn,
            "clusterName": str(cluster.get("clusterName", "")),
            "clusterEndpoint": str(cluster.get("clusterEndpoint", "")),
            "adminUserName": str(cluster.get("adminUserName", "")),
        }
        self.validations += 1
        timeout = max(5.0, self.time_left() - VALIDATION_MARGIN_SECONDS)
        if self.services.invoke is None:
            return "this function cannot invoke others (no Lambda client)"
        failure = self.services.invoke(occurrence.validation_function, payload, timeout)
        self.report(test.source_arn, "validated" if failure is None else "validation-failed", reason=failure or "")
        return failure

    def conclude(self, test: _Test, outcome: str, reason: str = "") -> None:
        """Count the outcome, record it on the recovery point, then delete the temporary cluster
        (in that order: a delivery that finds the outcome restores nothing and counts nothing; a
        run that dies between two of them counts an outcome twice rather than never)."""
        test.outcome, test.reason = outcome, reason
        try:
            earlier = self._record_of(test.point_arn)
        except Failed:
            earlier = None
        if earlier is not None and earlier[0] == self.mine and earlier[1] != RestoreTestRecord.RESTORING:
            # Two deliveries drove this test at once: the other one concluded it, recorded and
            # counted it; this one only makes sure of the deletion.
            self.report(test.source_arn, "concluded-by-another-delivery", recorded_outcome=earlier[1])
        else:
            values: dict[str, float] = {
                RestoreTestMetric.SUCCEEDED: 1 if outcome == RestoreTestRecord.SUCCEEDED else 0,
                RestoreTestMetric.FAILED: 1 if outcome == RestoreTestRecord.FAILED else 0,
                RestoreTestMetric.RECOVERY_POINT_AGE_SECONDS: test.point_age,
            }
            if test.restore_seconds is not None:
                values[RestoreTestMetric.RESTORE_SECONDS] = test.restore_seconds
            self.publish_cluster(test.source_name, values)
            record = contract.restore_test_record(self.occurrence.scheduled, outcome, test.restore_seconds)
            try:
                self.clusters.tag(test.point_arn, {self.claim_key: record})
            except Failed as error:
                logger.error("outcome could not be recorded on the recovery point", extra={"error": str(error)[:300]})
            self.report(
                test.source_arn,
                outcome,
                reason=reason,
                recovery_point_arn=test.point_arn,
                temporary_cluster_arn=test.cluster_arn,
                restore_seconds=None if test.restore_seconds is None else round(test.restore_seconds, 1),
                recovery_point_age_seconds=round(test.point_age),
            )
        if test.cluster_arn:
            try:
                self.clusters.delete(test.cluster_arn)
            except Failed as error:
                # Tried again while the run goes on; past its 'expires' time, the sweep's.
                test.delete_pending = True
                logger.error(
                    "temporary cluster could not be deleted now; trying again",
                    extra={"cluster_arn": test.cluster_arn, "error": str(error)[:300]},
                )

    def conclude_without_restore(self, source_arn: str, source_name: str, reason: str) -> None:
        self.publish_cluster(source_name, {RestoreTestMetric.SUCCEEDED: 0, RestoreTestMetric.FAILED: 1})
        self.report(source_arn, RestoreTestRecord.FAILED, reason=reason)

    # --- the sweep -----------------------------------------------------------------------
    def sweep(self, listed: dict[str, dict[str, Any]]) -> int:
        """Delete the test's temporary clusters past their 'expires' time (a run that died): only
        clusters whose name has the shape of the test's and that carry the test's tag."""
        deleted = 0
        now = self.services.wall()
        for arn, summary in listed.items():
            scheduled = self._temporary_time(summary)
            if scheduled is None:
                continue
            try:
                tags = self.clusters.tags(arn)
            except Failed:
                continue
            if tags.get(contract.RESTORE_TEST_TAG_KEY) != self.occurrence.test:
                continue
            expires = iso_timestamp(tags.get(contract.RESTORE_TEST_EXPIRES_TAG_KEY))
            if expires is None or expires > now or summary.get("status") == "DELETING":
                continue
            self._fail_abandoned_record(
                scheduled,
                tags.get(contract.SOURCE_TAG_KEY, ""),
                str(summary.get("clusterName", "")),
                tags.get(contract.RESTORE_TEST_CLUSTER_TAG_KEY, ""),
            )
            try:
                self.clusters.delete(arn)
            except Failed as error:
                logger.error("expired temporary cluster could not be deleted", extra={"error": str(error)[:300]})
                continue
            deleted += 1
            logger.info("expired temporary cluster deleted", extra={"cluster_arn": arn})
        return deleted

    def _fail_abandoned_record(self, scheduled: datetime, point_arn: str, cluster_name: str, source_name: str) -> None:
        """An expired temporary cluster's occurrence never concluded: its record and the test's
        failure count say so."""
        try:
            tags = self.clusters.tags(point_arn) if point_arn else {}
        except Failed:
            return
        record = contract.parse_restore_test_record(tags.get(self.claim_key, ""))
        mine = contract.restore_test_record(scheduled, RestoreTestRecord.RESTORING)
        if record is None or " ".join(record[:2]) != mine:
            return
        logger.error(
            "an earlier occurrence's run ended before its test did; counted as failed",
            extra={"temporary_cluster": cluster_name, "recovery_point_arn": point_arn},
        )
        values = {RestoreTestMetric.SUCCEEDED: 0.0, RestoreTestMetric.FAILED: 1.0}
        if source_name:
            self.publish_cluster(source_name, values)
        else:
            self.publish_test(values)
        failed = contract.restore_test_record(scheduled, RestoreTestRecord.FAILED)
        try:
            self.clusters.tag(point_arn, {self.claim_key: failed})
        except Failed as error:
            logger.error("outcome could not be recorded on the recovery point", extra={"error": str(error)[:300]})

    # --- reporting -----------------------------------------------------------------------
    def report(self, source_arn: str, outcome: str, **details: Any) -> None:
        """One JSON log line per cluster and step, for people and log queries."""
        entry = {
            "restore_test": self.occurrence.test,
            "scheduled_time": self.occurrence.scheduled.strftime(_TIME_FORMAT),
            "source_cluster_arn": source_arn,
            "outcome": outcome,
            **{key: value for key, value in details.items() if value not in (None, "")},
        }
        (logger.error if outcome.endswith("failed") else logger.info)("restore test", extra=entry)

    def publish_cluster(self, cluster_name: str, values: Mapping[str, float]) -> None:
        units = {RestoreTestMetric.RESTORE_SECONDS: SECONDS, RestoreTestMetric.RECOVERY_POINT_AGE_SECONDS: SECONDS}
        publish(
            contract.METRIC_NAMESPACE,
            {"Cluster": cluster_name, "RestoreTest": self.occurrence.test},
            values,
            {name: units.get(name, COUNT) for name in values},
            wall=self.services.wall,
            dimension_sets=[["Cluster"], ["RestoreTest"]],
        )

    def publish_test(self, values: Mapping[str, float]) -> None:
        publish(contract.METRIC_NAMESPACE, {"RestoreTest": self.occurrence.test}, values, wall=self.services.wall)


def log_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """Whose occurrence, on every log line (read from the raw input: it may be invalid)."""
    return {"restore_test": str(payload.get(contract.RestoreTestInput.TEST, ""))}


def count_invalid(payload: Mapping[str, Any]) -> None:
    """An input that cannot be parsed still counts as a failed test, for the test's alarm."""
    test = payload.get(contract.RestoreTestInput.TEST)
    if isinstance(test, str):
        publish(contract.METRIC_NAMESPACE, {"RestoreTest": test}, {RestoreTestMetric.FAILED: 1})


def run(event: dict[str, Any], context: Any, services: Services) -> dict[str, Any]:
    """Run (or continue) one occurrence; return a summary. Raises Continue to hand over."""
    return _Run(event, context, services).run()
