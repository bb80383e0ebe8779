"""Copying snapshots within their region (under another key, or a manual copy of an automated
snapshot), once per request: the service layer under the copy kind, FinalSnapshot's copy_to and
the backup plan's copy actions.

AWS copies elastic cluster snapshots only within the same region and account
(contract.COPIES_STAY_IN_REGION): the function's own client makes every copy, and the properties
refuse any other region before a call is made. Exactly once comes from once.create_once, as for
snapshots: the copy's name is derived from the request, and carries the request's tag.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from . import contract
from .api import ApiError
from .once import Budget, Failed, create_once, wait_for_status
from .snapshots import ADVICE, FAILED_STATUSES, Snapshots, explain

logger = logging.getLogger(__name__)


def destination_token(token: str, region: str) -> str:
    """The request token of one of FinalSnapshot's copies: its own name and tag."""
    return hashlib.sha256(f"{token}|copy|{region}".encode()).hexdigest()[:32]


def explain_copy(
    error: ApiError, source_arn: str, name: str, kms_key_id: str | None, keep_fewer: str = "retain_last"
) -> Failed:
    """A Reason for a failed CopyClusterSnapshot: names the copy, the source and the key."""
    key = f" under KMS key {kms_key_id}" if kms_key_id else ""
    subject = f"copy {name} of {source_arn}{key}"
    reason = error.failure(subject)
    key_check = (
        f"check that KMS key {kms_key_id} exists in this region, is enabled, and that its key policy lets the "
        "provider's role use it through docdb-elastic"
        if kms_key_id
        else "check that the source's KMS key is enabled and that its key policy lets the provider's role use it"
    )
    advice = {
        "ResourceNotFoundException": (
            "the source snapshot does not exist in this account and region: check source_snapshot_arn"
        ),
        "AccessDeniedException": (
            "the provider's role may not copy the source: check service control policies, permissions "
            f"boundaries and {key_check}"
        ),
        "ValidationException": f"the API rejected the copy: {key_check}",
        contract.QUOTA_EXCEEDED_CODE: contract.snapshot_quota_advice(keep_fewer),
    }.get(error.code)
    if advice is None:
        advice = ADVICE.get(error.code, "" if error.http_status else "the endpoint could not be reached; try later")
    return Failed(reason + (f". To fix: {advice}" if advice else ""))


def wait_for_source(source: Snapshots, source_arn: str, budget: Budget, elapsed: Callable[[], float]) -> dict[str, Any]:
    """The source snapshot, once ACTIVE (a copy can only be made of an ACTIVE snapshot)."""
    try:
        snapshot: dict[str, Any] = source.api.call("GetClusterSnapshot", snapshotArn=source_arn)["snapshot"]
    except ApiError as error:
        if error.code == "ResourceNotFoundException":
            raise Failed(
                f"Source snapshot {source_arn} does not exist in this account and region, so "
                "it cannot be copied. To fix: check source_snapshot_arn"
            ) from error
        raise explain(error, f"source snapshot {source_arn}") from error
    active, _ = wait_for_status(
        current=snapshot,
        fetch=lambda: source.get(source_arn),
        budget=budget,
        elapsed=elapsed,
        what=f"Source snapshot {source_arn}",
        failed_statuses=FAILED_STATUSES,
        still_waiting_remedy="raise the timeout prop, or deploy again once the source snapshot is ACTIVE",
    )
    return active


def copy_once(
    destination: Snapshots,
    *,
    source_arn: str,
    name: str,
    tags: dict[str, str],
    kms_key_id: str | None,
    token: str,
    budget: Budget,
    make_room: Callable[[], bool] = lambda: False,
    keep_fewer: str = "retain_last",
) -> dict[str, Any]:
    """CopyClusterSnapshot, once per request (see once.create_once). At the quota, `make_room()`
    may delete one snapshot that was going anyway (True) and the same request is tried again."""
    request: dict[str, Any] = {"snapshotArn": source_arn, "targetSnapshotName": name, "tags": tags}
    if kms_key_id:
        request["kmsKeyId"] = kms_key_id

    def create() -> dict[str, Any]:
        while True:
            try:
                copy: dict[str, Any] = destination.api.call("CopyClusterSnapshot", **request)["snapshot"]
                break
            except ApiError as error:
                if error.code != contract.QUOTA_EXCEEDED_CODE or not make_room():
                    raise
        logger.info("copy requested", extra={"snapshot_arn": copy.get("snapshotArn")})
        return copy

    return create_once(
        create=create,
        find=lambda: destination.find(None, name),
        adopt=destination.get,
        token=token,
        budget=budget,
        what=f"A snapshot named {name}",
        busy_reason=lambda: f"the source snapshot {source_arn} was busy",
        foreign_remedy="choose another snapshot_name_prefix for the copies",
        explain=lambda error: explain_copy(error, source_arn, name, kms_key_id, keep_fewer),
    )


def wait_for_copy(
    destination: Snapshots, copy: dict[str, Any], budget: Budget, elapsed: Callable[[], float]
) -> dict[str, Any]:
    active, _ = destination.wait_until_active(copy, budget, elapsed, what="Copy")
    return active
