"""The stand-in's state: what a cluster and a snapshot are, injected faults, recorded calls, and
the readings of AWS's documentation it plays (Readings)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import botocore.session

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
    # Deleted, but still listed (and counted against the quota) until then (monotonic time).
    gone_at: float | None = None

    @property
    def region(self) -> str:
        return region_of(self.arn)

    def status(self) -> str:
        if self.gone_at is not None:
            return "DELETING"
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


@dataclass
class Readings:
    """How the stand-in plays what AWS's pages say, or leave unsaid (docs/aws-limits.md,
    "Readings of AWS"). The documented readings are on by default; each undocumented one is a
    switch, and the tests that depend on it run under each answer (tests/conftest.py)."""

    # Documented: CreateCluster's clusterName is "stored as a lowercase string".
    lowercase_cluster_names: bool = True
    # Documented: a stopped cluster "cannot be modified in any way. This includes deleting the
    # cluster" (elastic-cluster-stop-start.html).
    no_deletion_while_stopped: bool = True
    # Undocumented: the error for a name already taken (a snapshot's, a copy's, a restored
    # cluster's): 409 ConflictException, or 400 ValidationException as one public report shows.
    taken_name_status: int = 409
    # Undocumented: whether an automated snapshot accepts TagResource.
    automated_snapshots_taggable: bool = True
    # Undocumented: whether UpdateCluster refuses more than one updatable member per call.
    one_field_per_update: bool = False
    # Undocumented: whether snapshot names are stored lowercase, as cluster names are (the API
    # says only that they are "not case sensitive").
    lowercase_snapshot_names: bool = False
    # Undocumented: whether a create at the quota whose name is taken answers the quota's error
    # (checked first) or the taken name's.
    quota_checked_before_name: bool = False
    # Undocumented: how long a deleted snapshot stays DELETING, listed and counted against the
    # manual snapshot quota (0: gone at once).
    snapshot_deleting_seconds: float = 0.0

    def taken_name(
        self, message: str, resource_id: str, resource_type: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer to a create whose name is taken, as this reading has it."""
        if self.taken_name_status == 400:
            body = {"message": message, "reason": "other", "fieldList": []}
            return 400, body, {"x-amzn-ErrorType": "ValidationException"}
        body = {"message": message, "resourceId": resource_id, "resourceType": resource_type}
        return 409, body, {"x-amzn-ErrorType": "ConflictException"}
