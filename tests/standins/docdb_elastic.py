"""A loopback stand-in for the docdb-elastic REST API.

Every request is checked against botocore's own service model (required members, lengths,
patterns, ranges) so a request AWS would reject is rejected here too. It keeps snapshot state
(CREATING, then ACTIVE or a chosen failure status after a delay) and can inject faults.

Regions: every cluster and snapshot lives in the region its ARN names; a client's region is the
one in its request's SigV4 signing scope. A client sees only its own region's resources,
CopyClusterSnapshot's source included: AWS's *Managing elastic cluster snapshots* says elastic
snapshots are copied "within the same region and within the same account"
(https://docs.aws.amazon.com/documentdb/latest/developerguide/elastic-managing-snapshots.html).
A region can be marked not enabled (every request signed for it is refused), and KMS keys unusable.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from .docdb_elastic_clusters import ClusterOperations
from .docdb_elastic_state import (
    ACCOUNT,
    MODEL,
    REGION,
    Call,
    Cluster,
    Fault,
    Readings,
    Snapshot,
    cluster_arn_for,
    region_of,
    snapshot_arn_in,
)
from .rest_json import (
    ConnectionReset,
    LoopbackServer,
    ValidationFailed,
    rest_json_handler,
    routes,
    validate,
)

__all__ = [
    "ACCOUNT",
    "MODEL",
    "REGION",
    "Cluster",
    "DocDbElasticStandIn",
    "Fault",
    "Readings",
    "Snapshot",
    "StandInServer",
    "cluster_arn_for",
    "region_of",
]


class DocDbElasticStandIn(ClusterOperations):
    """State and behaviour; the HTTP layer below only routes to it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clusters: dict[str, Cluster] = {}
            self._sequence = 0
            self.snapshots: dict[str, Snapshot] = {}
            self.calls: list[Call] = []
            self.faults: dict[str, deque[Fault]] = {}
            self.snapshot_delay = 0.0
            self.final_status = "ACTIVE"
            self.page_size_cap = 100
            # Seconds an operation's answer is held back after it was computed on arrival, so two
            # overlapping deliveries of one request interleave deterministically.
            self.latency: dict[str, float] = {}
            # Like AWS may: refuse a snapshot while another snapshot of the cluster is CREATING.
            self.one_snapshot_in_progress = False
            # Restored clusters: seconds spent CREATING (then ACTIVE, or restore_final_status),
            # UPDATING after UpdateCluster, and DELETING before they are gone.
            self.restore_delay = 0.0
            self.restore_final_status = "ACTIVE"
            self.update_delay = 0.0
            self.delete_delay = 0.0
            self.start_delay = 0.0
            # Regions: the one the current request was signed for; regions not enabled for the
            # account; KMS keys (ARN or id) that cannot be used, with the error AWS would give.
            self.request_region = REGION
            self.disabled_regions: set[str] = set()
            self.kms_key_errors: dict[str, tuple[int, str, str]] = {}
            # How long a copy stays CREATING (None: as long as a snapshot).
            self.copy_delay: float | None = None
            # The caller's IAM policy, as far as DeleteClusterSnapshot goes: with (key, value), it
            # is allowed only on snapshots tagged so (an aws:ResourceTag condition), as IAM would.
            self.delete_requires_tag: tuple[str, str] | None = None
            # The same for DeleteCluster (a restore test may delete only the clusters it tagged).
            self.cluster_delete_requires_tag: tuple[str, str] | None = None
            # The readings of AWS's documentation played (documented ones on, the others switches).
            self.readings = Readings()
            # The account's quota of manual snapshots per region (AWS's default is 20): None, not
            # enforced; a number, CreateClusterSnapshot and CopyClusterSnapshot answer 402
            # ServiceQuotaExceededException (botocore's model) when the region holds that many.
            self.manual_snapshot_quota: int | None = None

    # --- test controls -------------------------------------------------------------------
    def add_cluster(
        self, name: str = "orders", status: str = "ACTIVE", region: str = REGION, tags: dict[str, str] | None = None
    ) -> str:
        arn = cluster_arn_for(name, region)
        stored = name.lower() if self.readings.lowercase_cluster_names else name
        with self.lock:
            self.clusters[arn] = Cluster(arn, stored, status, tags=dict(tags or {}))
        return arn

    def _next_creation_time(self) -> str:
        """Creation times that increase with every snapshot, a second apart."""
        self._sequence += 1
        return f"2026-11-28T07:{self._sequence // 60:02d}:{self._sequence % 60:02d}Z"

    def inject(self, operation: str, *faults: Fault) -> None:
        with self.lock:
            self.faults.setdefault(operation, deque()).extend(faults)

    def reset_calls(self) -> None:
        with self.lock:
            self.calls = []

    def calls_to(self, operation: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.operation == operation]

    def snapshots_in(self, region: str) -> dict[str, Snapshot]:
        with self.lock:
            return {arn: s for arn, s in self.snapshots.items() if s.region == region}

    def _here(self, arn: str) -> bool:
        """Whether a resource ARN is in the region of the request being handled."""
        return region_of(arn) == self.request_region

    # --- operations ----------------------------------------------------------------------
    def add_snapshot(
        self,
        cluster_arn: str,
        name: str,
        tags: dict[str, str] | None = None,
        snapshot_type: str = "MANUAL",
        creating_for: float = 0.0,
        region: str | None = None,
        kms_key_id: str = "AWS_OWNED_KMS_KEY",
        arn: str | None = None,
    ) -> str:
        """A snapshot someone else took (by hand, or the service's automated backups), CREATING
        for `creating_for` seconds, in `region` (default: the cluster's); at `arn` when a test
        must know it in advance (a template that names it)."""
        arn = arn or snapshot_arn_in(region or region_of(cluster_arn))
        with self.lock:
            self.snapshots[arn] = Snapshot(
                arn,
                self._stored_snapshot_name(name),
                cluster_arn,
                dict(tags or {}),
                time.monotonic(),
                snapshot_type=snapshot_type,
                delay=creating_for,
                creation_time=self._next_creation_time(),
                kms_key_id=kms_key_id,
            )
        return arn

    def _advance(self) -> None:
        """Apply the status changes that are due (under the lock)."""
        now = time.monotonic()
        for arn, cluster in list(self.clusters.items()):
            if cluster.pending is not None and cluster.pending[0] <= now:
                if cluster.pending[1] == "GONE":
                    del self.clusters[arn]
                else:
                    cluster.status, cluster.pending = cluster.pending[1], None
        for arn, snapshot in list(self.snapshots.items()):
            if snapshot.gone_at is not None and snapshot.gone_at <= now:
                del self.snapshots[arn]

    def handle(
        self, operation: str, params: dict[str, Any], region: str = REGION
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        call = Call(operation, params, region, at=time.monotonic())
        with self.lock:
            self._advance()
            self.calls.append(call)
            queue = self.faults.get(operation)
            fault = queue.popleft() if queue else None
        if fault is not None:
            if fault.reset:
                raise ConnectionReset()
            if fault.delay:
                time.sleep(fault.delay)
            elif fault.body is not None:
                return fault.status, fault.body, {}
            else:
                return fault.status, {"message": fault.message}, {"x-amzn-ErrorType": fault.code, **fault.headers}
        try:
            validate(MODEL.operation_model(operation).input_shape, params, operation)
        except ValidationFailed as error:
            return (
                400,
                {"message": str(error), "reason": "fieldValidationFailed"},
                {"x-amzn-ErrorType": "ValidationException"},
            )
        if region in self.disabled_regions:
            # What AWS answers in an opt-in region the account has not enabled.
            return self._error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        with self.lock:
            self.request_region = region
            answer: tuple[int, dict[str, Any], dict[str, str]] = getattr(self, "_" + operation)(params)
            delay = self.latency.get(operation, 0.0)
        if delay:
            time.sleep(delay)
        call.answered_at = time.monotonic()
        return answer

    @staticmethod
    def _error(status: int, code: str, message: str, **extra: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        return status, {"message": message, **extra}, {"x-amzn-ErrorType": code}

    @classmethod
    def _not_found(cls, resource_id: str, resource_type: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        what = "Cluster" if resource_type == "cluster" else "Snapshot"
        return cls._error(
            404, "ResourceNotFoundException", f"{what} not found", resourceId=resource_id, resourceType=resource_type
        )

    def _page(
        self, key: str, items: list[dict[str, Any]], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One page of `items`, at most maxResults (and the test's page_size_cap) long."""
        start = int(params.get("nextToken", "0"))
        size = min(int(params.get("maxResults", 100)), self.page_size_cap)
        body: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            body["nextToken"] = str(start + size)
        return 200, body, {}

    def _CreateClusterSnapshot(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        cluster = self._cluster_here(params["clusterArn"])
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        if cluster.status != "ACTIVE":
            return self._error(
                409,
                "ConflictException",
                f"Cluster is {cluster.status}",
                resourceId=params["clusterArn"],
                resourceType="cluster",
            )
        quota = self._quota_reached() if self.readings.quota_checked_before_name else None
        if quota is not None:
            return quota
        if self._name_taken(params["snapshotName"]):
            return self.readings.taken_name("Snapshot name already exists", params["snapshotName"], "cluster-snapshot")
        if self.one_snapshot_in_progress and any(
            s.cluster_arn == cluster.arn and s.status() == "CREATING" for s in self.snapshots.values()
        ):
            return self._error(
                409,
                "ConflictException",
                "Another snapshot of this cluster is in progress",
                resourceId=params["clusterArn"],
                resourceType="cluster",
            )
        quota = self._quota_reached()
        if quota is not None:
            return quota
        arn = snapshot_arn_in(self.request_region)
        snapshot = Snapshot(
            arn,
            self._stored_snapshot_name(params["snapshotName"]),
            params["clusterArn"],
            dict(params.get("tags", {})),
            time.monotonic(),
            final_status=self.final_status,
            delay=self.snapshot_delay,
            creation_time=self._next_creation_time(),
        )
        self.snapshots[arn] = snapshot
        return 200, {"snapshot": snapshot.describe()}, {}

    def _quota_reached(self) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Every manual snapshot of the region counts, whoever made it (copies too)."""
        if self.manual_snapshot_quota is None:
            return None
        manual = [s for s in self.snapshots.values() if s.snapshot_type == "MANUAL" and self._here(s.arn)]
        if len(manual) < self.manual_snapshot_quota:
            return None
        return self._error(402, "ServiceQuotaExceededException", "The service quota for the action was exceeded.")

    def _name_taken(self, name: str) -> bool:
        """Snapshot names are unique per account and region, regardless of case."""
        return any(s.name.lower() == name.lower() and self._here(s.arn) for s in self.snapshots.values())

    def _stored_snapshot_name(self, name: str) -> str:
        return name.lower() if self.readings.lowercase_snapshot_names else name

    def _snapshot_here(self, arn: str) -> Snapshot | None:
        return self.snapshots.get(arn) if self._here(arn) else None

    def _GetClusterSnapshot(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        snapshot = self._snapshot_here(params["snapshotArn"])
        if snapshot is None:
            return self._not_found(params["snapshotArn"], "cluster-snapshot")
        return 200, {"snapshot": snapshot.describe()}, {}

    def _DeleteClusterSnapshot(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        existing = self._snapshot_here(params["snapshotArn"])
        condition = self.delete_requires_tag
        if existing is not None and condition is not None and existing.tags.get(condition[0]) != condition[1]:
            return self._error(
                403,
                "AccessDeniedException",
                f"User is not authorized to perform: docdb-elastic:DeleteClusterSnapshot on resource: {existing.arn} "
                "because no identity-based policy allows the docdb-elastic:DeleteClusterSnapshot action",
            )
        if existing is None:
            return self._not_found(params["snapshotArn"], "cluster-snapshot")
        if existing.gone_at is not None:
            return self._error(409, "ConflictException", "Snapshot is DELETING", resourceId=existing.arn)
        if self.readings.snapshot_deleting_seconds > 0:
            existing.gone_at = time.monotonic() + self.readings.snapshot_deleting_seconds
        else:
            del self.snapshots[existing.arn]
        return 200, {"snapshot": {**existing.describe(), "status": "DELETING"}}, {}

    def _ListClusterSnapshots(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        summary = ("clusterArn", "snapshotArn", "snapshotCreationTime", "snapshotName", "status")
        matching = [
            {key: s.describe()[key] for key in summary}
            for s in self.snapshots.values()
            if self._here(s.arn)
            and s.cluster_arn == params.get("clusterArn", s.cluster_arn)
            and s.snapshot_type.lower() == params.get("snapshotType", s.snapshot_type).lower()
        ]
        return self._page("snapshots", matching, params)

    def _ListClusters(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        return self._page("clusters", [c.summary() for c in self.clusters.values() if self._here(c.arn)], params)

    def _GetCluster(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        cluster = self._cluster_here(params["clusterArn"])
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        return 200, {"cluster": cluster.describe()}, {}

    def _ListTagsForResource(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        cluster = self.clusters.get(params["resourceArn"]) if self._here(params["resourceArn"]) else None
        if cluster is not None:
            return 200, {"tags": dict(cluster.tags)}, {}
        snapshot = self._snapshot_here(params["resourceArn"])
        if snapshot is None:
            return self._not_found(params["resourceArn"], "cluster-snapshot")
        return 200, {"tags": dict(snapshot.tags)}, {}

    def _CopyClusterSnapshot(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The source must be in the request's region and account, as AWS documents.

        What AWS answers for a source of another region is not documented; a resource the
        region's API cannot see is "not found", which is what this answers.
        """
        source_arn = params["snapshotArn"]
        source = self.snapshots.get(source_arn) if source_arn.split(":")[4:5] == [ACCOUNT] else None
        if source is None or not self._here(source_arn):
            return self._not_found(source_arn, "cluster-snapshot")
        if source.status() != "ACTIVE":
            return self._error(
                409,
                "ConflictException",
                f"Source snapshot is {source.status()}",
                resourceId=source_arn,
                resourceType="cluster-snapshot",
            )
        name = params["targetSnapshotName"]
        quota = self._quota_reached() if self.readings.quota_checked_before_name else None
        if quota is not None:
            return quota
        if self._name_taken(name):
            return self.readings.taken_name("Snapshot name already exists", name, "cluster-snapshot")
        key = params.get("kmsKeyId")
        if key is not None:
            if key.startswith("arn:") and region_of(key) != self.request_region:
                return self._error(
                    400,
                    "ValidationException",
                    f"KMS key {key} is not in {self.request_region}",
                    reason="fieldValidationFailed",
                )
            if key in self.kms_key_errors:
                status, code, message = self.kms_key_errors[key]
                return self._error(status, code, message)
        quota = self._quota_reached()
        if quota is not None:
            return quota
        arn = snapshot_arn_in(self.request_region)
        tags = {**(source.tags if params.get("copyTags") else {}), **params.get("tags", {})}
        copy = Snapshot(
            arn,
            self._stored_snapshot_name(name),
            source.cluster_arn,
            tags,
            time.monotonic(),
            final_status=self.final_status,
            delay=self.snapshot_delay if self.copy_delay is None else self.copy_delay,
            creation_time=self._next_creation_time(),
            kms_key_id=key or source.kms_key_id,
            copied_from=source_arn,
        )
        self.snapshots[arn] = copy
        return 200, {"snapshot": copy.describe()}, {}


_ROUTES = routes(
    MODEL,
    (
        "CreateClusterSnapshot",
        "GetClusterSnapshot",
        "DeleteClusterSnapshot",
        "ListClusterSnapshots",
        "ListTagsForResource",
        "ListClusters",
        "GetCluster",
        "CopyClusterSnapshot",
        # Restored clusters (ElasticClusterFromSnapshot, the restore test).
        "RestoreClusterFromSnapshot",
        "UpdateCluster",
        "DeleteCluster",
        "StartCluster",
        "TagResource",
        "UntagResource",
    ),
)


class StandInServer(LoopbackServer):
    """Serve a DocDbElasticStandIn on 127.0.0.1 in a background thread."""

    def __init__(self, service: DocDbElasticStandIn | None = None) -> None:
        self.service = service or DocDbElasticStandIn()
        super().__init__(rest_json_handler(self.service, MODEL, _ROUTES, "docdb-elastic", error_key="message"))
