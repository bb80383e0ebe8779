"""Taking, waiting for and deleting elastic cluster snapshots, once per CloudFormation request.

Every call goes through ``api.Api`` (a boto3 client plus retries within a deadline), so the
same code runs against AWS and against the loopback stand-in in the tests.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from . import contract
from .api import Api, ApiError
from .contract import Attr
from .properties import SnapshotProperties

logger = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
# Statuses after which a snapshot will never become ACTIVE without someone's intervention.
FAILED_STATUSES = frozenset(
    {
        "DELETING",
        "STOPPING",
        "STOPPED",
        "VPC_ENDPOINT_LIMIT_EXCEEDED",
        "IP_ADDRESS_LIMIT_EXCEEDED",
        "INVALID_SECURITY_GROUP_ID",
        "INVALID_SUBNET_ID",
        "INACCESSIBLE_ENCRYPTION_CREDS",
        "INACCESSIBLE_SECRET_ARN",
        "INACCESSIBLE_VPC_ENDPOINT",
        "INCOMPATIBLE_NETWORK",
    }
)

# What the user can do about each final API error; {action} and {subject} are filled in.
ADVICE = {
    "AccessDeniedException": (
        "the provider's role may not call docdb-elastic:{action} on {subject}: check service "
        "control policies and permissions boundaries, and that cluster_arn names this cluster"
    ),
    "ConflictException": (
        "the cluster is busy (another snapshot or a change in progress) or the name is taken; "
        "deploy again once the cluster is ACTIVE"
    ),
    "InternalServerException": "the service kept failing; deploy again later",
    "ResourceNotFoundException": ("{subject} does not exist in this account and region: check cluster_arn"),
    "ServiceQuotaExceededException": (
        "the account's quota of manual cluster snapshots is reached: delete old snapshots or "
        "request a higher quota in Service Quotas"
    ),
    "ThrottlingException": "the API kept throttling; deploy again later",
    "ValidationException": "the API rejected the request: check snapshot_name and tags",
}
_CONNECTION_ADVICE = "the docdb-elastic endpoint could not be reached; deploy again later"


class SnapshotFailed(RuntimeError):
    """The snapshot cannot be taken or did not become ACTIVE; the message is the Reason."""


def explain(error: ApiError, subject: str) -> SnapshotFailed:
    advice = ADVICE.get(error.code, _CONNECTION_ADVICE if not error.http_status else "")
    tries = f" after {error.attempts} attempts" if error.attempts > 1 else ""
    reason = f"{error.operation} failed for {subject}{tries}: {error.code}: {error.message}"
    if advice:
        reason += ". To fix: " + advice.format(action=error.operation, subject=subject)
    return SnapshotFailed(reason)


def request_token(stack_id: str, logical_id: str, request_id: str) -> str:
    """Identifies one CloudFormation request; the same event delivered again has the same one."""
    return hashlib.sha256(f"{stack_id}|{logical_id}|{request_id}".encode()).hexdigest()[:32]


def generate_snapshot_name(prefix: str, token: str, now: datetime) -> str:
    """PREFIX-YYYYMMDDhhmmss-xxxxxx: sorts by time; the last part names the request."""
    return f"{prefix}-{now.astimezone(UTC):%Y%m%d%H%M%S}-{token[:6]}"


def generated_name_pattern(prefix: str, token: str | None = None) -> re.Pattern[str]:
    """Names generate_snapshot_name makes from `prefix` (for one request's `token`, if given)."""
    request_part = token[:6] if token else "[0-9a-f]{6}"
    return re.compile(rf"^{re.escape(prefix)}-[0-9]{{14}}-{request_part}$")


def owner_token(stack_id: str, owner: str) -> str:
    """Identifies one construct instance: its stack and its construct path."""
    return hashlib.sha256(f"{stack_id}|{owner}".encode()).hexdigest()[:32]


def attributes(snapshot: Mapping[str, Any], skipped_reason: str = "") -> dict[str, str]:
    """The response Data: every attribute present, as strings, so Fn::GetAtt always resolves."""
    return {
        Attr.SKIPPED_REASON: skipped_reason,
        Attr.SNAPSHOT_ARN: str(snapshot.get("snapshotArn", "")),
        Attr.SNAPSHOT_NAME: str(snapshot.get("snapshotName", "")),
        Attr.STATUS: str(snapshot.get("status", "")),
        Attr.SNAPSHOT_CREATION_TIME: str(snapshot.get("snapshotCreationTime", "")),
        Attr.CLUSTER_ARN: str(snapshot.get("clusterArn", "")),
        Attr.KMS_KEY_ID: str(snapshot.get("kmsKeyId", "")),
        Attr.SNAPSHOT_TYPE: str(snapshot.get("snapshotType", "")),
    }


# Polling: every 2 s during a snapshot's first minute, so a quick snapshot is answered within
# about 2 s of turning ACTIVE; every 15 s after that, which bounds a 60-minute wait to
# 30 + 236 GetClusterSnapshot calls while still answering within 15 s.
FAST_POLL_SECONDS = 2.0
FAST_POLL_PERIOD_SECONDS = 60.0
SLOW_POLL_SECONDS = 15.0


def poll_interval(elapsed_seconds: float) -> float:
    return FAST_POLL_SECONDS if elapsed_seconds < FAST_POLL_PERIOD_SECONDS else SLOW_POLL_SECONDS


class WaitPaused(Exception):
    """The invocation's time is up but not the wait's: continue in a new invocation."""

    def __init__(self, snapshot: dict[str, Any], polls: int) -> None:
        super().__init__(snapshot.get("snapshotArn"))
        self.snapshot = snapshot
        self.polls = polls


def is_snapshot_arn(value: str | None) -> bool:
    return bool(value) and re.match(contract.SNAPSHOT_ARN_PATTERN, value or "") is not None


class Snapshots:
    def __init__(self, api: Api) -> None:
        self.api = api

    def _list(self, cluster_arn: str) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"clusterArn": cluster_arn, "snapshotType": "manual", "maxResults": 100}
        while True:
            try:
                page = self.api.call("ListClusterSnapshots", **params)
            except ApiError as error:
                raise explain(error, cluster_arn) from error
            yield from page.get("snapshots", [])
            if not page.get("nextToken"):
                return
            params["nextToken"] = page["nextToken"]

    def _tags(self, snapshot_arn: str) -> dict[str, str]:
        try:
            tags: dict[str, str] = self.api.call("ListTagsForResource", resourceArn=snapshot_arn).get("tags", {})
        except ApiError as error:
            raise explain(error, snapshot_arn) from error
        return tags

    def _taken_by(self, snapshot_arn: str, token: str) -> bool:
        return self._tags(snapshot_arn).get(contract.REQUEST_TAG_KEY) == token

    def find_cluster(self, name: str) -> dict[str, Any] | None:
        """The cluster with this name in the function's account and region, if any."""
        params: dict[str, Any] = {"maxResults": 100}
        while True:
            try:
                page = self.api.call("ListClusters", **params)
            except ApiError as error:
                raise explain(error, f"cluster {name}") from error
            for cluster in page.get("clusters", []):
                if cluster.get("clusterName") == name:
                    return dict(cluster)
            if not page.get("nextToken"):
                return None
            params["nextToken"] = page["nextToken"]

    def get_cluster(self, cluster_arn: str) -> dict[str, Any] | None:
        try:
            cluster: dict[str, Any] = self.api.call("GetCluster", clusterArn=cluster_arn)["cluster"]
        except ApiError as error:
            if error.code == "ResourceNotFoundException":
                return None
            raise explain(error, cluster_arn) from error
        return cluster

    def get(self, snapshot_arn: str) -> dict[str, Any]:
        try:
            snapshot: dict[str, Any] = self.api.call("GetClusterSnapshot", snapshotArn=snapshot_arn)["snapshot"]
        except ApiError as error:
            raise explain(error, snapshot_arn) from error
        return snapshot

    def _earlier_delivery(self, props: SnapshotProperties, token: str) -> dict[str, Any] | None:
        """A snapshot this very request already took (Lambda delivers events at least once)."""
        assert props.snapshot_name_prefix is not None
        ours = generated_name_pattern(props.snapshot_name_prefix, token)
        for summary in self._list(props.cluster_arn):
            if ours.match(summary.get("snapshotName", "")) and self._taken_by(summary["snapshotArn"], token):
                return summary
        return None

    def take(self, props: SnapshotProperties, token: str, now: datetime, owner: str | None = None) -> dict[str, Any]:
        """CreateClusterSnapshot of props.cluster_arn once per request: a repeated delivery
        adopts the snapshot its first delivery took, never one taken by anyone else."""
        if props.snapshot_name is not None:
            name = props.snapshot_name
        else:
            earlier = self._earlier_delivery(props, token)
            if earlier is not None:
                logger.info(
                    "request already took this snapshot; adopting it", extra={"snapshot_arn": earlier["snapshotArn"]}
                )
                return self.get(earlier["snapshotArn"])
            name = generate_snapshot_name(props.snapshot_name_prefix or "", token, now)

        request: dict[str, Any] = {
            "clusterArn": props.cluster_arn,
            "snapshotName": name,
            "tags": {
                **props.tags,
                contract.REQUEST_TAG_KEY: token,
                **({contract.OWNER_TAG_KEY: owner} if owner else {}),
            },
        }
        try:
            snapshot: dict[str, Any] = self.api.call("CreateClusterSnapshot", **request)["snapshot"]
        except ApiError as error:
            if error.code == "ConflictException":
                return self._resolve_conflict(props, name, token, error)
            raise explain(error, f"snapshot {name} of {props.cluster_arn}") from error
        logger.info(
            "snapshot requested", extra={"snapshot_arn": snapshot.get("snapshotArn"), "status": snapshot.get("status")}
        )
        return snapshot

    def _resolve_conflict(self, props: SnapshotProperties, name: str, token: str, error: ApiError) -> dict[str, Any]:
        same_name = [s for s in self._list(props.cluster_arn) if s.get("snapshotName") == name]
        if not same_name:
            raise explain(error, f"snapshot {name} of {props.cluster_arn}") from error
        arn = same_name[0]["snapshotArn"]
        if self._taken_by(arn, token):
            logger.info("request already took this snapshot; adopting it", extra={"snapshot_arn": arn})
            return self.get(arn)
        raise SnapshotFailed(
            f"A snapshot named {name} already exists ({arn}) and was not taken by this request, "
            "so it is not reused. To fix: choose another snapshot_name, or use "
            "snapshot_name_prefix so that each snapshot gets a unique name"
        )

    def wait_until_active(
        self,
        snapshot: dict[str, Any],
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        pause_at: float | None = None,
        elapsed: Callable[[], float] | None = None,
    ) -> dict[str, Any]:
        """Poll until ACTIVE. Fail on a status that cannot become ACTIVE, or at `deadline`;
        raise WaitPaused at `pause_at` (the invocation's own limit) if that comes first.
        `elapsed` gives the seconds since the snapshot was requested (for the poll interval)."""
        started = clock()
        elapsed = elapsed or (lambda: clock() - started)
        arn = snapshot["snapshotArn"]
        polls = 0
        while True:
            status = snapshot.get("status")
            if status == ACTIVE:
                logger.info("snapshot active", extra={"snapshot_arn": arn, "polls": polls})
                return snapshot
            if status in FAILED_STATUSES:
                raise SnapshotFailed(
                    f"Snapshot {arn} is {status} and will not become ACTIVE. To fix: see the "
                    "cluster's status and events in the DocumentDB console, then deploy again"
                )
            remaining = deadline - clock()
            if remaining <= 0:
                raise SnapshotFailed(
                    f"Snapshot {arn} was still {status} when the wait ended; it may still "
                    "complete. To fix: raise the timeout prop, or set wait_for_completion=False"
                )
            if pause_at is not None and pause_at < deadline:
                if pause_at - clock() <= 0:
                    raise WaitPaused(snapshot, polls)
                remaining = pause_at - clock()
            sleep(min(poll_interval(elapsed()), remaining))
            polls += 1
            snapshot = self.get(arn)

    def prune(self, cluster_arn: str, prefix: str, owner: str, keep: int, newest_arn: str) -> list[str]:
        """Delete the oldest ACTIVE snapshots of this cluster that carry `owner`'s tag, beyond
        the newest `keep`. A name only nominates a candidate; the owner tag decides."""
        generated = generated_name_pattern(prefix)
        ours = [
            summary
            for summary in self._list(cluster_arn)
            if generated.match(summary.get("snapshotName", ""))
            and (summary.get("status") == ACTIVE or summary["snapshotArn"] == newest_arn)
            and self._tags(summary["snapshotArn"]).get(contract.OWNER_TAG_KEY) == owner
        ]
        ours.sort(key=lambda s: (s.get("snapshotCreationTime", ""), s.get("snapshotName", "")))
        excess = [s["snapshotArn"] for s in ours[: max(0, len(ours) - keep)] if s["snapshotArn"] != newest_arn]
        for arn in excess:
            self.delete(arn)
        logger.info("retention applied", extra={"kept": len(ours) - len(excess), "deleted": excess})
        return excess

    def delete(self, snapshot_arn: str) -> None:
        """Delete; a snapshot that is already gone is success."""
        try:
            self.api.call("DeleteClusterSnapshot", snapshotArn=snapshot_arn)
        except ApiError as error:
            if error.code == "ResourceNotFoundException":
                logger.info("snapshot already gone", extra={"snapshot_arn": snapshot_arn})
                return
            raise explain(error, snapshot_arn) from error
        logger.info("snapshot deleted", extra={"snapshot_arn": snapshot_arn})
