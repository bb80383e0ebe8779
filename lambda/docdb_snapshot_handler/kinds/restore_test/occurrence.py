"""One occurrence of a restore test: for each selected cluster, its newest ACTIVE recovery point
restored into a temporary cluster, timed until ACTIVE, validated, deleted; metrics and one log
line per cluster.

Exactly once per occurrence and cluster, as EventBridge Scheduler delivers at least once:
- the temporary cluster's name and request tag come from the occurrence (contract.
  temporary_cluster_name), so while it exists the service refuses a second one and a delivery
  adopts only its own (once.create_once); the invocation that restored it drives the test, or
  Lambda's retry of it (the same request id, a tag of the cluster) when it died;
- the record that outlives it is a tag on the recovery point (contract.restore_test_claim_key),
  or on the source cluster when the point refuses tags (records.py): written 'restoring' before
  the restore, and 'succeeded' or 'failed' once counted, before the
  deletion. A delivery that finds its occurrence's conclusion restores and counts nothing (and
  deletes a temporary cluster left behind); one that finds 'restoring' (an earlier delivery died)
  reuses that recovery point and restores under the name lock.

Always clean up: the run deletes its cluster once the test is over, whatever the outcome, and
tries again while it goes on; a run that died is swept by a later occurrence (the test's own
clusters, by name shape and tag, past the time their 'expires' tag gives). A STOPPED temporary
cluster is started, and deleted once ACTIVE (AWS deletes no stopped cluster). DeleteCluster is
called only on clusters that carry the test's tag (and the role may delete no other: an
aws:ResourceTag condition).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ... import contract
from ...clusters import CLUSTER_FAILED_STATUSES, RestoredClusters
from ...contract import RestoreTestMetric, RestoreTestRecord
from ...metrics import COUNT, SECONDS, publish
from ...once import Budget, Failed, Paused, poll_interval
from ...parsing import iso_timestamp
from ...request import Continue, Services, home_of, invocation_deadline
from .progress import ClusterTest
from .properties import RestoreTestOccurrence, parse_restore_test
from .records import Records
from .sweep import Sweeper

logger = logging.getLogger(__name__)

# A validation function is invoked only with at least this much of the invocation left (else
# the run continues in a fresh one first); it may take all of it but the margin.
VALIDATION_RESERVE_SECONDS = 600.0
VALIDATION_MARGIN_SECONDS = 30.0
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class _Run(Sweeper):
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
        self.records = Records(self.clusters, self.claim_key)
        # Stopped temporary clusters the sweep started: deleted once ACTIVE, as the run goes on.
        self.starting: list[ClusterTest] = []
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
            tests = [ClusterTest.of(entry) for entry in self.state.get("tests", [])]
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
            tests = self.start_all(listed) + self.starting
            if swept:
                logger.info("expired temporary clusters deleted", extra={"deleted": swept})
        self.drive(tests)
        return {
            "succeeded": sum(t.outcome == RestoreTestRecord.SUCCEEDED for t in tests),
            "failed": sum(t.outcome == RestoreTestRecord.FAILED for t in tests),
        }

    def start_all(self, listed: dict[str, dict[str, Any]]) -> list[ClusterTest]:
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

    # --- choosing and restoring ----------------------------------------------------------
    def earlier_record(self, source_arn: str, points: list[dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
        """This occurrence's record of one of the points (newest first), if any: its outcome and
        the point. The scan stops at a record of an earlier occurrence of the test: every point
        this occurrence could have chosen is at least as new as that one."""
        on_cluster = self.records.on_cluster(source_arn)
        for point in points:
            try:
                record = self.records.read(str(point["snapshotArn"]), source_arn, on_cluster)
            except Failed:
                continue  # deleted since the listing
            if record is None:
                continue
            if record[0] == self.mine:
                return record[1], point
            if record[0] < self.mine:
                break
        return None, None

    def start(self, source_arn: str, source_name: str, listed: Mapping[str, Mapping[str, Any]]) -> ClusterTest | None:
        occurrence = self.occurrence
        try:
            kinds = [kind.lower() for kind in occurrence.recovery_point_types]
            points = self.clusters.active_snapshots(source_arn, kinds)
            outcome, recorded = self.earlier_record(source_arn, points)
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
                self.records.write(point_arn, source_arn, record)
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
            test = ClusterTest(source_arn, source_name, point_arn, age, "", requested_at)
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
        return ClusterTest(source_arn, source_name, point_arn, age, str(cluster["clusterArn"]), requested_at)

    # --- waiting, validating, deleting ---------------------------------------------------
    def drive(self, tests: list[ClusterTest]) -> None:
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

    def expired(self, test: ClusterTest) -> bool:
        """Past the latest its run may keep the temporary cluster (its 'expires' tag)."""
        return self.services.wall() - test.requested_at > self.lifetime

    def observe(self, test: ClusterTest) -> None:
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

    def advance(self, test: ClusterTest) -> bool:
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

    def delete_again(self, test: ClusterTest) -> None:
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

    def validate(self, test: ClusterTest, cluster: Mapping[str, Any]) -> str | None:
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

    def conclude(self, test: ClusterTest, outcome: str, reason: str = "") -> None:
        """Count the outcome, record it on the recovery point, then delete the temporary cluster
        (in that order: a delivery that finds the outcome restores nothing and counts nothing; a
        run that dies between two of them counts an outcome twice rather than never)."""
        test.outcome, test.reason = outcome, reason
        try:
            earlier = self.records.read(test.point_arn, test.source_arn)
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
                self.records.write(test.point_arn, test.source_arn, record)
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
