"""Taking, waiting for and deleting elastic cluster snapshots, once per CloudFormation request.

Every call goes through ``api.Api`` (a boto3 client plus retries within a deadline), so the
same code runs against AWS and against the loopback stand-in in the tests.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import contract
from .api import Api, ApiError
from .contract import Attr
from .once import Budget, Failed, Found, create_once, request_token, wait_for_status

__all__ = ["SnapshotFailed", "Snapshots", "request_token"]

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
        "the cluster is busy (another snapshot or a change in progress); deploy again once it is ACTIVE"
    ),
    "InternalServerException": "the service kept failing; deploy again later",
    "ResourceNotFoundException": ("{subject} does not exist in this account and region: check cluster_arn"),
    contract.QUOTA_EXCEEDED_CODE: contract.snapshot_quota_advice("retain_last, where the construct offers it"),
    "ThrottlingException": "the API kept throttling; deploy again later",
    "ValidationException": "the API rejected the request: check snapshot_name and tags",
    "UnrecognizedClientException": (
        "the region of {subject} may not be enabled for this account (opt-in regions are enabled in "
        "the account settings), or docdb-elastic is not offered there"
    ),
}
_CONNECTION_ADVICE = "the docdb-elastic endpoint could not be reached; deploy again later"


# The snapshot cannot be taken or did not become ACTIVE; the message is the Reason.
SnapshotFailed = Failed


def explain(error: ApiError, subject: str) -> SnapshotFailed:
    advice = ADVICE.get(error.code, _CONNECTION_ADVICE if not error.http_status else "")
    reason = error.failure(subject)
    if advice:
        reason += ". To fix: " + advice.format(action=error.operation, subject=subject)
    return SnapshotFailed(reason)


def generate_snapshot_name(prefix: str, token: str) -> str:
    """PREFIX-<21 hex digits of the request token>: the same for every delivery of one request, so
    CreateClusterSnapshot itself refuses a second snapshot. Time order comes from
    snapshotCreationTime, not from the name."""
    return f"{prefix}-{token[: contract.GENERATED_TOKEN_LENGTH]}"


def generated_name_pattern(prefix: str) -> re.Pattern[str]:
    """Names generated from `prefix` by this version or by 0.1.0 (PREFIX-YYYYMMDDhhmmss-xxxxxx),
    so retention keeps working on a stack's older snapshots; in any case (whether AWS stores
    snapshot names lowercase is undocumented: docs/aws-limits.md)."""
    return re.compile(
        rf"^{re.escape(prefix)}-(?:[0-9a-f]{{{contract.GENERATED_TOKEN_LENGTH}}}|[0-9]{{14}}-[0-9a-f]{{6}})$",
        re.IGNORECASE,
    )


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


def is_snapshot_arn(value: str | None) -> bool:
    return bool(value) and re.match(contract.SNAPSHOT_ARN_PATTERN, value or "") is not None


class Snapshots:
    """Snapshots of one account and region, through a retrying client."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def _list(self, cluster_arn: str | None) -> Iterator[dict[str, Any]]:
        """Manual snapshots of one cluster, or (None) all of this region's: a copy in another
        region than its cluster's is found by its name alone."""
        params: dict[str, Any] = {"snapshotType": "manual", "maxResults": 100}
        if cluster_arn is not None:
            params["clusterArn"] = cluster_arn
        while True:
            try:
                page = self.api.call("ListClusterSnapshots", **params)
            except ApiError as error:
                raise explain(error, cluster_arn or "the region's manual snapshots") from error
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

    def get(self, snapshot_arn: str) -> dict[str, Any]:
        try:
            snapshot: dict[str, Any] = self.api.call("GetClusterSnapshot", snapshotArn=snapshot_arn)["snapshot"]
        except ApiError as error:
            raise explain(error, snapshot_arn) from error
        return snapshot

    def find(self, cluster_arn: str | None, name: str) -> Found | None:
        """The snapshot of this name: of this cluster, or else of any cluster of this region
        (names are unique there, so another cluster's snapshot may hold it, and a copy in another
        region than its cluster's is found by its name alone)."""
        # Snapshot names are "not case sensitive" (CopyClusterSnapshot's targetSnapshotName).
        wanted = name.lower()
        for scope in (cluster_arn, None) if cluster_arn else (None,):
            for summary in self._list(scope):
                if str(summary.get("snapshotName", "")).lower() == wanted:
                    arn = str(summary["snapshotArn"])
                    return Found(arn, self._tags(arn).get(contract.REQUEST_TAG_KEY))
        return None

    def find_by_arn(self, snapshot_arn: str) -> dict[str, Any] | None:
        """The snapshot, or None when it no longer exists."""
        try:
            snapshot: dict[str, Any] = self.api.call("GetClusterSnapshot", snapshotArn=snapshot_arn)["snapshot"]
        except ApiError as error:
            if error.code == "ResourceNotFoundException":
                return None
            raise explain(error, snapshot_arn) from error
        return snapshot

    def take(
        self,
        cluster_arn: str,
        name: str,
        tags: Mapping[str, str],
        token: str,
        budget: Budget,
        owner: str | None = None,
        busy_reason: Callable[[], str] = lambda: "the cluster was busy",
    ) -> dict[str, Any]:
        """CreateClusterSnapshot of `cluster_arn` named `name` once per request (see
        once.create_once), tagged with `tags`, the request's token and the owner (if any)."""
        subject = f"snapshot {name} of {cluster_arn}"
        request: dict[str, Any] = {
            "clusterArn": cluster_arn,
            "snapshotName": name,
            "tags": {
                **tags,
                contract.REQUEST_TAG_KEY: token,
                **({contract.OWNER_TAG_KEY: owner} if owner else {}),
            },
        }

        def create() -> dict[str, Any]:
            snapshot: dict[str, Any] = self.api.call("CreateClusterSnapshot", **request)["snapshot"]
            logger.info("snapshot requested", extra={"snapshot_arn": snapshot.get("snapshotArn")})
            return snapshot

        return create_once(
            create=create,
            find=lambda: self.find(cluster_arn, name),
            adopt=self.get,
            token=token,
            budget=budget,
            what=f"A snapshot named {name}",
            busy_reason=busy_reason,
            foreign_remedy=(
                "choose another snapshot_name, or use snapshot_name_prefix so that each snapshot gets a unique name"
            ),
            explain=lambda error: explain(error, subject),
        )

    def wait_until_active(
        self, snapshot: dict[str, Any], budget: Budget, elapsed: Callable[[], float], what: str = "Snapshot"
    ) -> tuple[dict[str, Any], int]:
        arn = str(snapshot["snapshotArn"])
        return wait_for_status(
            current=snapshot,
            fetch=lambda: self.get(arn),
            budget=budget,
            elapsed=elapsed,
            what=f"{what} {arn}",
            failed_statuses=FAILED_STATUSES,
            still_waiting_remedy="raise the timeout prop, or set wait_for_completion=False",
        )

    def prune(self, cluster_arn: str | None, prefix: str, owner: str, keep: int, newest_arn: str) -> list[str]:
        """Delete the oldest ACTIVE snapshots of this cluster that carry `owner`'s tag, beyond
        the newest `keep`, oldest first by creation time. A name only nominates a candidate;
        the owner tag decides."""
        generated = generated_name_pattern(prefix)
        ours = [
            summary
            for summary in self._list(cluster_arn)
            if generated.match(summary.get("snapshotName", ""))
            and (summary.get("status") == ACTIVE or summary["snapshotArn"] == newest_arn)
            and self._tags(summary["snapshotArn"]).get(contract.OWNER_TAG_KEY) == owner
        ]
        ours.sort(key=lambda s: (s.get("snapshotCreationTime", ""), s["snapshotArn"] == newest_arn))
        excess = [s["snapshotArn"] for s in ours[: max(0, len(ours) - keep)] if s["snapshotArn"] != newest_arn]
        for arn in excess:
            self.delete(arn)
        logger.info("retention applied", extra={"kept": len(ours) - len(excess), "deleted": excess})
        return excess

    def apply_retention(self, cluster_arn: str | None, prefix: str, owner: str, keep: int, newest_arn: str) -> None:
        """prune, after a new snapshot or copy is safe: a failed clean-up is logged, never raised,
        so that it cannot roll the stack back."""
        try:
            self.prune(cluster_arn, prefix, owner, keep, newest_arn)
        except Failed as error:
            logger.error("retention could not be applied", extra={"reason": str(error)})

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
