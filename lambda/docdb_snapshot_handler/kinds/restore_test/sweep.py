"""Cleaning up after runs of a restore test that died: the sweep of its expired temporary
clusters (a STOPPED one is started, and deleted once ACTIVE as the run goes on), and the deletion
of a concluded occurrence's left-over cluster. Mixed into the occurrence's run (occurrence.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ... import contract
from ...clusters import RestoredClusters, Starting
from ...contract import RestoreTestMetric, RestoreTestRecord
from ...once import Failed
from ...parsing import iso_timestamp
from ...request import Services
from .progress import ClusterTest
from .properties import RestoreTestOccurrence
from .records import Records

logger = logging.getLogger(__name__)


class Sweeper:
    """The run's clean-up; its state and its reporting are the run's own."""

    clusters: RestoredClusters
    records: Records
    occurrence: RestoreTestOccurrence
    services: Services
    starting: list[ClusterTest]

    def _temporary_time(self, summary: Mapping[str, Any]) -> datetime | None:
        """The occurrence of one of the test's temporary clusters (None: not one of them)."""
        return contract.temporary_cluster_time(self.occurrence.test, str(summary.get("clusterName", "")))

    def publish_cluster(self, cluster_name: str, values: Mapping[str, float]) -> None:
        raise NotImplementedError

    def publish_test(self, values: Mapping[str, float]) -> None:
        raise NotImplementedError

    def delete_left_over(self, source_arn: str, listed: Mapping[str, Mapping[str, Any]]) -> None:
        """The occurrence is concluded, but its temporary cluster may still be there (the run
        died between its record and its DeleteCluster): delete it, if it is this occurrence's."""
        name = contract.temporary_cluster_name(self.occurrence.test, self.occurrence.scheduled, source_arn)
        token = contract.restore_test_token(self.occurrence.test, self.occurrence.scheduled, source_arn)
        for arn, summary in listed.items():
            if str(summary.get("clusterName", "")).lower() != name or summary.get("status") == "DELETING":
                continue
            try:
                if self.clusters.tags(arn).get(contract.REQUEST_TAG_KEY) == token:
                    self.clusters.delete(arn)
            except Failed as error:
                logger.error("left-over temporary cluster could not be deleted", extra={"error": str(error)[:300]})

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
            source_name = tags.get(contract.RESTORE_TEST_CLUSTER_TAG_KEY, "")
            source_arn = next(
                (a for a, s in listed.items() if str(s.get("clusterName", "")).lower() == source_name.lower()), ""
            )
            self._fail_abandoned_record(
                scheduled,
                tags.get(contract.SOURCE_TAG_KEY, ""),
                str(summary.get("clusterName", "")),
                source_name,
                source_arn,
            )
            try:
                self.clusters.delete(arn)
            except Starting as starting:
                logger.info(
                    "expired temporary cluster was stopped: started, deleted once ACTIVE", extra={"why": str(starting)}
                )
                self.starting.append(
                    ClusterTest("", source_name, "", 0.0, arn, now, outcome="swept", delete_pending=True)
                )
                continue
            except Failed as error:
                logger.error("expired temporary cluster could not be deleted", extra={"error": str(error)[:300]})
                continue
            deleted += 1
            logger.info("expired temporary cluster deleted", extra={"cluster_arn": arn})
        return deleted

    def _fail_abandoned_record(
        self, scheduled: datetime, point_arn: str, cluster_name: str, source_name: str, source_arn: str
    ) -> None:
        """An expired temporary cluster's occurrence never concluded: its record and the test's
        failure count say so."""
        try:
            record = self.records.read(point_arn, source_arn) if point_arn else None
        except Failed:
            return
        mine = contract.restore_test_record(scheduled, RestoreTestRecord.RESTORING)
        if record is None or " ".join(record) != mine:
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
            self.records.write(point_arn, source_arn, failed)
        except Failed as error:
            logger.error("outcome could not be recorded on the recovery point", extra={"error": str(error)[:300]})
