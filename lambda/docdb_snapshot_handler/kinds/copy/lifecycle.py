"""The copy kind (ElasticClusterSnapshotCopy): a snapshot copied in its region (under another
key, or a manual copy of an automated snapshot), once per request (the service layer is
copying.py). Every wait is bounded by the resource's timeout and continues across invocations.

- Create, or Update that changes the source or key: wait (bounded) for the source to be ACTIVE,
  copy it once, wait for the copy, then prune this construct's own copies (owner tag). Other
  updates keep the current copy.
- Delete: nothing (RETAIN), or delete the copy (DESTROY).
"""

from __future__ import annotations

import logging
from typing import Any

from ... import contract
from ...api import ApiError
from ...contract import CopyAttr
from ...copying import copy_once, wait_for_copy, wait_for_source
from ...once import Failed, Paused
from ...parsing import Home, InvalidProperties, removal_policy_of
from ...request import Frame, Result, Services, home_of, invocation_deadline
from ...snapshots import Snapshots, attributes, explain, generate_snapshot_name, is_snapshot_arn, owner_token
from .properties import CopyProperties, parse_copy_properties

logger = logging.getLogger(__name__)


def copy_attributes(copy: dict[str, Any], source_arn: str, region: str, skipped_reason: str = "") -> dict[str, str]:
    return {
        **attributes(copy, skipped_reason),
        CopyAttr.SOURCE_SNAPSHOT_ARN: source_arn,
        CopyAttr.REGION: region,
    }


class _CopyRequest(Frame):
    def __init__(self, event: dict[str, Any], context: Any, services: Services) -> None:
        self.props: CopyProperties = parse_copy_properties(event.get("ResourceProperties"), home_of(context))
        super().__init__(event, context, services, self.props.timeout_seconds)
        self.owner = owner_token(str(event["StackId"]), self.props.owner) if self.props.owner else None
        self.snapshots = Snapshots(services.api(self.api_deadline))

    def copy_tags(self) -> dict[str, str]:
        """The tags the copy gets: the source's (when copy_tags; never the construct's own
        reserved tags), then the props' tags."""
        props = self.props
        copied: dict[str, str] = {}
        if props.copy_tags:
            try:
                every = self.snapshots.api.call("ListTagsForResource", resourceArn=props.source_snapshot_arn).get(
                    "tags", {}
                )
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
        _, source_elapsed = self.since("requestedAt")
        try:
            wait_for_source(self.snapshots, props.source_snapshot_arn, self.budget, source_elapsed)
        except Paused as paused:
            raise self.continue_with(paused) from None
        name = generate_snapshot_name(props.snapshot_name_prefix, self.token)
        tags = {
            **self.copy_tags(),
            contract.REQUEST_TAG_KEY: self.token,
            **({contract.OWNER_TAG_KEY: self.owner} if self.owner else {}),
        }
        try:
            copy = copy_once(
                self.snapshots,
                source_arn=props.source_snapshot_arn,
                name=name,
                tags=tags,
                kms_key_id=props.kms_key_id,
                token=self.token,
                budget=self.budget,
            )
        except Paused as paused:
            raise self.continue_with(paused) from None
        if not props.wait_for_completion:
            return copy
        return self.wait(copy)

    def wait(self, copy: dict[str, Any]) -> dict[str, Any]:
        requested, elapsed = self.since("copyRequestedAt")
        try:
            copy = wait_for_copy(self.snapshots, copy, self.budget, elapsed)
        except Paused as paused:
            raise self.continue_with(paused, copyArn=copy["snapshotArn"], copyRequestedAt=requested) from None
        props = self.props
        if props.retain_last is not None and self.owner is not None:
            self.snapshots.apply_retention(
                None, props.snapshot_name_prefix, self.owner, props.retain_last, copy["snapshotArn"]
            )
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
        """An Update that keeps the source and key keeps the copy it has."""
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
        logger.info("source and key unchanged; no new copy", extra={"physical_resource_id": physical_id})
        props = self.props
        try:
            copy = self.snapshots.get(physical_id)
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
    return request.answer(request.wait(request.snapshots.get(str(copy_arn))))


def delete(event: dict[str, Any], context: Any, services: Services) -> str:
    """RETAIN keeps the copy; DESTROY deletes it (already gone is success)."""
    physical_id = str(event.get("PhysicalResourceId", ""))
    if not is_snapshot_arn(physical_id):
        logger.info("no copy behind this resource; nothing to delete")
        return physical_id
    if removal_policy_of(event.get("ResourceProperties")) != contract.RemovalPolicy.DESTROY:
        logger.info("copy retained", extra={"snapshot_arn": physical_id})
        return physical_id
    Snapshots(services.api(invocation_deadline(context, services.clock))).delete(physical_id)
    return physical_id
