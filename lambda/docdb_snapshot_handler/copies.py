"""Copies of snapshots to another region (or re-encrypted in the same one): the copy resource
(ElasticClusterSnapshotCopy) and FinalSnapshot's copy_to.

CopyClusterSnapshot is called with a client of the DESTINATION region; the source ARN names the
source region. Exactly once per request comes from once.create_once, as for snapshots: the
copy's name is derived from the request, and carries the request's tag. Every wait is bounded
by the resource's timeout and continues across invocations.

- Create, or Update that changes the source, destination region or key: wait (bounded) for the
  source to be ACTIVE, copy it once, wait for the copy, then prune this construct's own copies
  in the destination (owner tag). Other updates keep the current copy.
- Delete: nothing (RETAIN), or delete the copy in its region (DESTROY).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from . import contract
from .api import ApiError
from .contract import CopyAttr
from .lifecycle import Continue, FinalCopyFailed, Result, Services, _deadline, home_of, request_budget
from .once import Budget, Failed, Paused, create_once, request_token, wait_for_status
from .properties import CopyProperties, Home, InvalidProperties, parse_copy_properties, removal_policy_of
from .snapshots import (
    ADVICE,
    FAILED_STATUSES,
    Snapshots,
    attributes,
    explain,
    generate_snapshot_name,
    is_snapshot_arn,
    owner_token,
)

logger = logging.getLogger(__name__)

_NOT_ENABLED_CODES = frozenset({"UnrecognizedClientException", "InvalidSignatureException", "AuthFailure"})


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def _since(wall: Callable[[], float], at: float) -> float:
    return wall() - at


def destination_token(token: str, region: str) -> str:
    """The request token of one of FinalSnapshot's copies: its own name and tag per region."""
    return hashlib.sha256(f"{token}|copy|{region}".encode()).hexdigest()[:32]


def copy_attributes(copy: dict[str, Any], source_arn: str, region: str, skipped_reason: str = "") -> dict[str, str]:
    return {
        **attributes(copy, skipped_reason),
        CopyAttr.SOURCE_SNAPSHOT_ARN: source_arn,
        CopyAttr.REGION: region,
    }


def explain_copy(error: ApiError, source_arn: str, name: str, region: str, kms_key_id: str | None) -> Failed:
    """A Reason for a failed CopyClusterSnapshot: names the copy, the source, the region and the key."""
    key = f" with KMS key {kms_key_id}" if kms_key_id else ""
    subject = f"copy {name} of {source_arn} to {region}{key}"
    tries = f" after {error.attempts} attempts" if error.attempts > 1 else ""
    reason = f"{error.operation} failed for {subject}{tries}: {error.code}: {error.message}"
    key_check = (
        f"check that KMS key {kms_key_id} exists in {region}, is enabled, and that its key policy lets the "
        "provider's role use it through docdb-elastic"
        if kms_key_id
        else f"an encrypted snapshot copied to another region needs kms_key_id, a key of {region}"
    )
    advice = {
        "ResourceNotFoundException": (
            f"the source snapshot does not exist in {region_of(source_arn)} of this account: check source_snapshot_arn"
        ),
        "AccessDeniedException": (
            f"the provider's role may not copy the source to {region}: check service control policies, "
            f"permissions boundaries and, {key_check}. A source in another region than the stack's must "
            "be given as a literal ARN, so that the role is granted on it"
        ),
        "ValidationException": f"the API rejected the copy: {key_check}",
        "ServiceQuotaExceededException": (
            f"the account's quota of manual cluster snapshots in {region} is reached: delete old copies "
            "(retain_last) or request a higher quota in Service Quotas"
        ),
    }.get(error.code)
    if advice is None and error.code in _NOT_ENABLED_CODES:
        advice = (
            f"the destination region {region} may not be enabled for this account (opt-in regions are "
            "enabled in the account settings), or docdb-elastic is not offered there"
        )
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
                f"Source snapshot {source_arn} does not exist in {region_of(source_arn)} of this account, so "
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
    region: str,
    name: str,
    tags: dict[str, str],
    kms_key_id: str | None,
    token: str,
    budget: Budget,
) -> dict[str, Any]:
    """CopyClusterSnapshot into `destination`'s region, once per request (see once.create_once)."""
    request: dict[str, Any] = {"snapshotArn": source_arn, "targetSnapshotName": name, "tags": tags}
    if kms_key_id:
        request["kmsKeyId"] = kms_key_id

    def create() -> dict[str, Any]:
        copy: dict[str, Any] = destination.api.call("CopyClusterSnapshot", **request)["snapshot"]
        logger.info("copy requested", extra={"snapshot_arn": copy.get("snapshotArn"), "region": region})
        return copy

    return create_once(
        create=create,
        find=lambda: destination.find(None, name),
        adopt=destination.get,
        token=token,
        budget=budget,
        what=f"A snapshot named {name} in {region}",
        busy_reason=lambda: f"the source snapshot {source_arn} or the region {region} was busy",
        foreign_remedy="choose another snapshot_name_prefix for the copies",
        explain=lambda error: explain_copy(error, source_arn, name, region, kms_key_id),
    )


def wait_for_copy(
    destination: Snapshots, copy: dict[str, Any], budget: Budget, elapsed: Callable[[], float]
) -> dict[str, Any]:
    active, _ = destination.wait_until_active(copy, budget, elapsed, what="Copy")
    return active


# --- the copy resource --------------------------------------------------------------------------


class _CopyRequest:
    def __init__(self, event: dict[str, Any], context: Any, services: Services) -> None:
        self.event = event
        self.services = services
        self.props: CopyProperties = parse_copy_properties(event.get("ResourceProperties"), home_of(context))
        self.continuation: dict[str, Any] = dict(event.get(contract.CONTINUATION_KEY) or {})
        self.started, self.budget, self.api_deadline = request_budget(
            event, context, services, self.props.timeout_seconds
        )
        self.token = request_token(str(event["StackId"]), str(event["LogicalResourceId"]), str(event["RequestId"]))
        self.owner = owner_token(str(event["StackId"]), self.props.owner) if self.props.owner else None

    def snapshots_in(self, region: str) -> Snapshots:
        return Snapshots(self.services.api_in(region, self.api_deadline))

    def _continue(self, paused: Paused, **state: Any) -> Continue:
        return Continue(
            {
                **state,
                "startedAt": self.started,
                "polls": int(self.continuation.get("polls", 0)) + paused.polls,
                "invocation": int(self.continuation.get("invocation", 1)) + 1,
            }
        )

    def since(self, key: str) -> tuple[float, Callable[[], float]]:
        at = float(self.continuation.get(key, self.services.wall()))
        return at, lambda: self.services.wall() - at

    def copy_tags(self, source: Snapshots) -> dict[str, str]:
        """The tags the copy gets: the source's (when copy_tags; never the construct's own
        reserved tags), then the props' tags."""
        props = self.props
        copied: dict[str, str] = {}
        if props.copy_tags:
            try:
                every = source.api.call("ListTagsForResource", resourceArn=props.source_snapshot_arn).get("tags", {})
            except ApiError as error:
                raise explain(error, props.source_snapshot_arn) from error
            copied = {k: v for k, v in every.items() if not k.startswith(contract.RESERVED_TAG_PREFIX)}
        tags = {**copied, **props.tags}
        if len(tags) > contract.USER_TAGS_MAX_COUNT:
            raise Failed(
                f"The copy would carry {len(tags)} tags (the source's and the tags prop); at most "
                f"{contract.USER_TAGS_MAX_COUNT} are allowed. To fix: set copy_tags=False or give fewer tags"
            )
        return tags

    def make(self) -> dict[str, Any]:
        """Wait for the source, copy it once, wait for the copy, apply retention."""
        props = self.props
        source = self.snapshots_in(region_of(props.source_snapshot_arn))
        destination = self.snapshots_in(props.destination_region)
        _, source_elapsed = self.since("requestedAt")
        try:
            wait_for_source(source, props.source_snapshot_arn, self.budget, source_elapsed)
        except Paused as paused:
            raise self._continue(paused) from None
        name = generate_snapshot_name(props.snapshot_name_prefix, self.token)
        tags = {
            **self.copy_tags(source),
            contract.REQUEST_TAG_KEY: self.token,
            **({contract.OWNER_TAG_KEY: self.owner} if self.owner else {}),
        }
        try:
            copy = copy_once(
                destination,
                source_arn=props.source_snapshot_arn,
                region=props.destination_region,
                name=name,
                tags=tags,
                kms_key_id=props.kms_key_id,
                token=self.token,
                budget=self.budget,
            )
        except Paused as paused:
            raise self._continue(paused) from None
        if not props.wait_for_completion:
            return copy
        return self.wait(destination, copy)

    def wait(self, destination: Snapshots, copy: dict[str, Any]) -> dict[str, Any]:
        requested, elapsed = self.since("copyRequestedAt")
        try:
            copy = wait_for_copy(destination, copy, self.budget, elapsed)
        except Paused as paused:
            raise self._continue(paused, copyArn=copy["snapshotArn"], copyRequestedAt=requested) from None
        props = self.props
        if props.retain_last is not None and self.owner is not None:
            try:
                destination.prune(None, props.snapshot_name_prefix, self.owner, props.retain_last, copy["snapshotArn"])
            except Failed as error:
                # The new copy is safe; a failed clean-up must not roll the stack back.
                logger.error("retention could not be applied", extra={"reason": str(error)})
        return copy

    def answer(self, copy: dict[str, Any]) -> Result:
        props = self.props
        return str(copy["snapshotArn"]), copy_attributes(copy, props.source_snapshot_arn, props.destination_region)

    def skipped(self, reason: str) -> Result:
        logger.info("no copy made", extra={"skipped_reason": reason})
        physical_id = self.event.get("PhysicalResourceId") or contract.NO_COPY_PHYSICAL_ID_PREFIX + self.token[:24]
        props = self.props
        return str(physical_id), copy_attributes({}, props.source_snapshot_arn, props.destination_region, reason)

    def unchanged(self) -> Result | None:
        """An Update that keeps the source, destination and key keeps the copy it has."""
        event = self.event
        if event["RequestType"] != "Update":
            return None
        try:
            # The new destination is the default, so one left out and one spelled out compare alike.
            old = parse_copy_properties(event.get("OldResourceProperties"), Home(region=self.props.destination_region))
        except InvalidProperties:
            return None
        physical_id = str(event.get("PhysicalResourceId", ""))
        if old.identity() != self.props.identity() or not is_snapshot_arn(physical_id):
            return None
        logger.info("source, destination and key unchanged; no new copy", extra={"physical_resource_id": physical_id})
        props = self.props
        try:
            copy = self.snapshots_in(region_of(physical_id)).get(physical_id)
        except Failed:
            # Deleted by hand since: the resource still names it; nothing to copy again.
            return physical_id, copy_attributes(
                {"snapshotArn": physical_id},
                props.source_snapshot_arn,
                props.destination_region,
                "The copy this resource made no longer exists",
            )
        return self.answer(copy)


def create_or_update(event: dict[str, Any], context: Any, services: Services) -> Result:
    request = _CopyRequest(event, context, services)
    if not request.props.source_snapshot_arn:
        return request.skipped("The source snapshot ARN is empty (the snapshot was not taken), so nothing was copied")
    unchanged = request.unchanged()
    if unchanged is not None:
        return unchanged
    return request.answer(request.make())


def resume(event: dict[str, Any], context: Any, services: Services) -> Result:
    """Go on waiting for the copy; or, before it exists, run the request again (its name and tag
    are the request's own, so nothing is made twice)."""
    request = _CopyRequest(event, context, services)
    copy_arn = request.continuation.get("copyArn")
    if event["RequestType"] == "Delete":
        return delete(event, context, services), {}
    if not copy_arn:
        return create_or_update(event, context, services)
    destination = request.snapshots_in(region_of(str(copy_arn)))
    return request.answer(request.wait(destination, destination.get(str(copy_arn))))


def delete(event: dict[str, Any], context: Any, services: Services) -> str:
    """RETAIN keeps the copy; DESTROY deletes it in its own region (already gone is success)."""
    physical_id = str(event.get("PhysicalResourceId", ""))
    if not is_snapshot_arn(physical_id):
        logger.info("no copy behind this resource; nothing to delete")
        return physical_id
    if removal_policy_of(event.get("ResourceProperties")) != contract.RemovalPolicy.DESTROY:
        logger.info("copy retained", extra={"snapshot_arn": physical_id})
        return physical_id
    Snapshots(services.api_in(region_of(physical_id), _deadline(context, services.clock))).delete(physical_id)
    return physical_id


# --- FinalSnapshot's copy_to ----------------------------------------------------------------------


def copy_final_snapshot(
    request: Any, snapshot: dict[str, Any], cluster_arn: str, answer_with: str | None, requested: float
) -> list[dict[str, Any]]:
    """Copy an ACTIVE final snapshot to each CopyTo destination and wait for each copy: only then
    may the cluster be deleted. `request` is lifecycle's _Request of the FinalSnapshot."""
    props = request.props
    source_arn = str(snapshot["snapshotArn"])
    copies = []
    for destination in props.copy_to:
        token = destination_token(request.token, destination.region)
        name = generate_snapshot_name(props.snapshot_name_prefix or "", token)
        tags = {
            **props.tags,
            contract.REQUEST_TAG_KEY: token,
            **({contract.OWNER_TAG_KEY: request.owner} if request.owner else {}),
        }
        snapshots = Snapshots(request.services.api_in(destination.region, request.api_deadline))
        copy_requested = float(request.continuation.get("copyRequestedAt", request.wall()))
        try:
            copy = copy_once(
                snapshots,
                source_arn=source_arn,
                region=destination.region,
                name=name,
                tags=tags,
                kms_key_id=destination.kms_key_id,
                token=token,
                budget=request.budget,
            )
            copy = wait_for_copy(
                snapshots, copy, request.budget, functools.partial(_since, request.wall, copy_requested)
            )
        except Paused as paused:
            raise request._continue(
                paused,
                snapshotArn=source_arn,
                clusterArn=cluster_arn,
                answerWith=answer_with,
                requestedAt=requested,
                copyRequestedAt=copy_requested,
            ) from None
        except Failed as error:
            raise FinalCopyFailed(
                f"The final snapshot {source_arn} is ACTIVE, but its copy to {destination.region} failed, so the "
                f"cluster was not deleted: {error}. To proceed: fix the cause and try again; or, to delete the "
                "cluster without this copy (the final snapshot is kept), delete the stack with "
                f"--retain-resources {request.event.get('LogicalResourceId')}.{contract.CLEANUP_NOTE}"
            ) from error
        logger.info("final snapshot copied", extra={"snapshot_arn": copy["snapshotArn"], "region": destination.region})
        copies.append(copy)
    return copies
