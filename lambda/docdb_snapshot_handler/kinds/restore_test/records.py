"""Where a restore test records its test of a cluster in one occurrence ('restoring', then
'succeeded' or 'failed'): the record that outlives the temporary cluster, so that a redelivery
restores and counts nothing twice.

The record is a tag on the recovery point (contract.restore_test_claim_key). Whether an automated
snapshot accepts tags is not documented; when the point refuses the tag, the record goes on the
source cluster under the same key, its value naming the point ('<record> <snapshot id>'): a tag
the library writes and reads, on a resource that outlives the point's test. It holds the test's
latest record for that cluster, which is all a redelivery needs (one occurrence at a time).
"""

from __future__ import annotations

import logging

from ... import contract
from ...clusters import RestoredClusters
from ...once import Failed

logger = logging.getLogger(__name__)


class Records:
    def __init__(self, clusters: RestoredClusters, key: str) -> None:
        self.clusters = clusters
        self.key = key

    def on_cluster(self, source_arn: str) -> str:
        """The fallback record on the source cluster, as written ("" without one)."""
        return self.clusters.tags(source_arn).get(self.key, "") if source_arn else ""

    def read(self, point_arn: str, source_arn: str, on_cluster: str | None = None) -> tuple[str, str] | None:
        """(occurrence as written, outcome) of the record of the point, if any: on the point, or
        on the source cluster naming it (`on_cluster`: that value, already read)."""
        record = contract.parse_restore_test_record(self.clusters.tags(point_arn).get(self.key, ""))
        if record is not None:
            return record[0], record[1]
        value = self.on_cluster(source_arn) if on_cluster is None else on_cluster
        parsed = contract.parse_restore_test_cluster_record(value)
        if parsed is None or parsed[1] != point_arn.rsplit("/", 1)[-1]:
            return None
        return parsed[0][0], parsed[0][1]

    def write(self, point_arn: str, source_arn: str, record: str) -> None:
        """Tag the point with the record; if it refuses (an automated snapshot may), tag the source
        cluster. Raises Failed when neither can be tagged."""
        try:
            self.clusters.tag(point_arn, {self.key: record})
            return
        except Failed as refused:
            if not source_arn:
                raise
            logger.warning(
                "the recovery point refused the record; it is recorded on its cluster",
                extra={"recovery_point_arn": point_arn, "cluster_arn": source_arn, "error": str(refused)[:300]},
            )
        self.clusters.tag(source_arn, {self.key: contract.restore_test_cluster_record(record, point_arn)})
