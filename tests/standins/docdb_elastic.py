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
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import botocore.session

from .rest_json import (
    ConnectionReset,
    LoopbackServer,
    ValidationFailed,
    rest_json_handler,
    routes,
    validate,
)

MODEL = botocore.session.get_session().get_service_model("docdb-elastic")
REGION = "us-east-1"
ACCOUNT = "123456789012"


def cluster_arn_for(name: str, region: str = REGION) -> str:
    """The stand-in's ARN for a cluster name: stable, so templates can be made before it runs."""
    return f"arn:aws:docdb-elastic:{region}:{ACCOUNT}:cluster/{uuid.uuid5(uuid.NAMESPACE_DNS, name)}"


def snapshot_arn_in(region: str) -> str:
    return f"arn:aws:docdb-elastic:{region}:{ACCOUNT}:cluster-snapshot/{uuid.uuid4().hex}"


def region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


@dataclass
class Fault:
    """An injected fault: an error answer, a connection reset, or a slow (but correct) answer."""

    status: int = 0
    code: str = ""
    message: str = "injected fault"
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    delay: float = 0.0
    body: dict[str, Any] | None = None

    @classmethod
    def throttle(cls, retry_after: int | None = None) -> Fault:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return cls(429, "ThrottlingException", "Rate exceeded", headers)

    @classmethod
    def internal(cls) -> Fault:
        return cls(500, "InternalServerException", "Internal failure")

    @classmethod
    def connection_reset(cls) -> Fault:
        return cls(reset=True)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(delay=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """A 200 answer without the members the API promises."""
        return cls(200, body={})


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    region: str = REGION
    # When the request arrived (time.monotonic()), and when its answer left, delayed by latency.
    at: float = 0.0
    answered_at: float = 0.0


@dataclass
class Cluster:
    arn: str
    name: str
    status: str = "ACTIVE"
    tags: dict[str, str] = field(default_factory=dict)
    # What GetCluster shows beyond the summary (restored clusters take theirs from the request).
    settings: dict[str, Any] = field(default_factory=dict)
    create_time: str = "2026-01-01T00:00:00Z"
    # A status change under way: at this monotonic time the status becomes the second member
    # (GONE: the cluster no longer exists).
    pending: tuple[float, str] | None = None
    # When a restored cluster reached (or will reach) its status after CREATING (monotonic).
    ready_at: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"clusterArn": self.arn, "clusterName": self.name, "status": self.status}

    def describe(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "adminUserName": "admin",
            "authType": "PLAIN_TEXT",
            "clusterEndpoint": f"{self.name}.cluster.docdb-elastic.amazonaws.com",
            "createTime": self.create_time,
            "shardCapacity": 2,
            "shardCount": 1,
            "subnetIds": ["subnet-0123456789abcdef0"],
            "vpcSecurityGroupIds": ["sg-0123456789abcdef0"],
            "kmsKeyId": "AWS_OWNED_KMS_KEY",
            "preferredMaintenanceWindow": "sun:03:00-sun:03:30",
            **self.settings,
        }


@dataclass
class Snapshot:
    arn: str
    name: str
    cluster_arn: str
    tags: dict[str, str]
    created: float
    snapshot_type: str = "MANUAL"
    final_status: str = "ACTIVE"
    delay: float = 0.0
    creation_time: str = "2026-11-28T07:00:00Z"
    kms_key_id: str = "AWS_OWNED_KMS_KEY"
    copied_from: str = ""

    @property
    def region(self) -> str:
        return region_of(self.arn)

    def status(self) -> str:
        return "CREATING" if time.monotonic() - self.created < self.delay else self.final_status

    def describe(self) -> dict[str, Any]:
        return {
            "adminUserName": "admin",
            "clusterArn": self.cluster_arn,
            "clusterCreationTime": "2026-01-01T00:00:00Z",
            "kmsKeyId": self.kms_key_id,
            "snapshotArn": self.arn,
            "snapshotCreationTime": self.creation_time,
            "snapshotName": self.name,
            "snapshotType": self.snapshot_type,
            "status": self.status(),
            "subnetIds": ["subnet-0123456789abcdef0"],
            "vpcSecurityGroupIds": ["sg-0123456789abcdef0"],
        }


class DocDbElasticStandIn:
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

    # --- test controls -------------------------------------------------------------------
    def add_cluster(
        self, name: str = "orders", status: str = "ACTIVE", region: str = REGION, tags: dict[str, str] | None = None
    ) -> str:
        arn = cluster_arn_for(name, region)
        with self.lock:
            self.clusters[arn] = Cluster(arn, name, status, tags=dict(tags or {}))
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
                name,
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
        cluster = self.clusters.get(params["clusterArn"]) if self._here(params["clusterArn"]) else None
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
        if self._name_taken(params["snapshotName"]):
            return self._error(
                409,
                "ConflictException",
                "Snapshot name already exists",
                resourceId=params["snapshotName"],
                resourceType="cluster-snapshot",
            )
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
        arn = snapshot_arn_in(self.request_region)
        snapshot = Snapshot(
            arn,
            params["snapshotName"],
            params["clusterArn"],
            dict(params.get("tags", {})),
            time.monotonic(),
            final_status=self.final_status,
            delay=self.snapshot_delay,
            creation_time=self._next_creation_time(),
        )
        self.snapshots[arn] = snapshot
        return 200, {"snapshot": snapshot.describe()}, {}

    def _name_taken(self, name: str) -> bool:
        """Snapshot names are unique per account and region, regardless of case."""
        return any(s.name.lower() == name.lower() and self._here(s.arn) for s in self.snapshots.values())

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
        snapshot = self.snapshots.pop(params["snapshotArn"]) if existing is not None else None
        if snapshot is None:
            return self._not_found(params["snapshotArn"], "cluster-snapshot")
        return 200, {"snapshot": {**snapshot.describe(), "status": "DELETING"}}, {}

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
        cluster = self.clusters.get(params["clusterArn"]) if self._here(params["clusterArn"]) else None
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

    # --- restored clusters ---------------------------------------------------------------
    def _RestoreClusterFromSnapshot(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        snapshot = self._snapshot_here(params["snapshotArn"])
        if snapshot is None:
            return self._not_found(params["snapshotArn"], "cluster-snapshot")
        if snapshot.status() != "ACTIVE":
            return self._error(409, "ConflictException", f"Snapshot is {snapshot.status()}", resourceId=snapshot.arn)
        name = params["clusterName"].lower()
        if any(c.name.lower() == name and self._here(c.arn) for c in self.clusters.values()):
            return self._error(409, "ConflictException", "Cluster name already exists", resourceId=name)
        arn = f"arn:aws:docdb-elastic:{self.request_region}:{ACCOUNT}:cluster/{uuid.uuid4()}"
        members = ("shardCapacity", "shardInstanceCount", "subnetIds", "vpcSecurityGroupIds", "kmsKeyId")
        settings = {key: params[key] for key in members if key in params}
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        cluster = Cluster(arn, name, tags=dict(params.get("tags", {})), settings=settings, create_time=created)
        # The answer says CREATING; a call made `restore_delay` seconds later sees the outcome.
        cluster.ready_at = time.monotonic() + self.restore_delay
        cluster.status, cluster.pending = "CREATING", (cluster.ready_at, self.restore_final_status)
        self.clusters[arn] = cluster
        return 200, {"cluster": cluster.describe()}, {}

    def _UpdateCluster(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        cluster = self.clusters.get(params["clusterArn"]) if self._here(params["clusterArn"]) else None
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        if cluster.status != "ACTIVE":
            return self._error(409, "ConflictException", f"Cluster is {cluster.status}", resourceId=cluster.arn)
        changes = {k: v for k, v in params.items() if k not in ("clusterArn", "clientToken")}
        cluster.settings.update(changes)
        cluster.status, cluster.pending = "UPDATING", (time.monotonic() + self.update_delay, "ACTIVE")
        return 200, {"cluster": cluster.describe()}, {}

    def _DeleteCluster(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        cluster = self.clusters.get(params["clusterArn"]) if self._here(params["clusterArn"]) else None
        if cluster is None:
            return self._not_found(params["clusterArn"], "cluster")
        required = self.cluster_delete_requires_tag
        if required is not None and cluster.tags.get(required[0]) != required[1]:
            return self._error(
                403,
                "AccessDeniedException",
                f"User is not authorized to perform: docdb-elastic:DeleteCluster on resource: {cluster.arn} "
                "because no identity-based policy allows the docdb-elastic:DeleteCluster action",
            )
        if cluster.status in ("CREATING", "UPDATING", "DELETING"):
            return self._error(409, "ConflictException", f"Cluster is {cluster.status}", resourceId=cluster.arn)
        cluster.status, cluster.pending = "DELETING", (time.monotonic() + self.delete_delay, "GONE")
        return 200, {"cluster": cluster.describe()}, {}

    def _TagResource(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        target = self.clusters.get(params["resourceArn"]) or self._snapshot_here(params["resourceArn"])
        if target is None:
            return self._not_found(params["resourceArn"], "cluster")
        target.tags.update(params["tags"])
        return 200, {}, {}

    def _UntagResource(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        target = self.clusters.get(params["resourceArn"]) or self._snapshot_here(params["resourceArn"])
        if target is None:
            return self._not_found(params["resourceArn"], "cluster")
        for key in params["tagKeys"]:
            target.tags.pop(key, None)
        return 200, {}, {}

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
        if self._name_taken(name):
            return self._error(
                409,
                "ConflictException",
                "Snapshot name already exists",
                resourceId=name,
                resourceType="cluster-snapshot",
            )
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
        arn = snapshot_arn_in(self.request_region)
        tags = {**(source.tags if params.get("copyTags") else {}), **params.get("tags", {})}
        copy = Snapshot(
            arn,
            name,
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
        "TagResource",
        "UntagResource",
    ),
)


class StandInServer(LoopbackServer):
    """Serve a DocDbElasticStandIn on 127.0.0.1 in a background thread."""

    def __init__(self, service: DocDbElasticStandIn | None = None) -> None:
        self.service = service or DocDbElasticStandIn()
        super().__init__(rest_json_handler(self.service, MODEL, _ROUTES, "docdb-elastic", error_key="message"))
