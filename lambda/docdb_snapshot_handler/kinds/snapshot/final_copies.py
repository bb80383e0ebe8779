"""FinalSnapshot's copy_to: the final snapshot, once ACTIVE, copied in its region (under another
key) and the copy waited for, before CloudFormation may delete the cluster."""

from __future__ import annotations

import logging
from typing import Any

from ... import contract
from ...copying import copy_once, destination_token, wait_for_copy
from ...once import Failed, Paused
from ...snapshots import Snapshots, generate_snapshot_name
from .errors import FinalCopyFailed

logger = logging.getLogger(__name__)


def copy_final_snapshot(
    request: Any, snapshot: dict[str, Any], cluster_arn: str, answer_with: str | None, requested: float
) -> list[dict[str, Any]]:
    """Copy an ACTIVE final snapshot for each CopyTo destination and wait for each copy: only then
    may the cluster be deleted. `request` is the FinalSnapshot's request (lifecycle._Request)."""
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
        snapshots = Snapshots(request.services.api(request.api_deadline))
        copy_requested, copy_elapsed = request.since("copyRequestedAt")
        try:
            copy = copy_once(
                snapshots,
                source_arn=source_arn,
                name=name,
                tags=tags,
                kms_key_id=destination.kms_key_id,
                token=token,
                budget=request.budget,
            )
            copy = wait_for_copy(snapshots, copy, request.budget, copy_elapsed)
        except Paused as paused:
            raise request.continue_with(
                paused,
                snapshotArn=source_arn,
                clusterArn=cluster_arn,
                answerWith=answer_with,
                requestedAt=requested,
                copyRequestedAt=copy_requested,
            ) from None
        except Failed as error:
            raise FinalCopyFailed(
                f"The final snapshot {source_arn} is ACTIVE, but its copy{_under(destination.kms_key_id)} failed, "
                f"so the cluster was not deleted: {error}. To proceed: fix the cause and try again; or, to delete the "
                "cluster without this copy (the final snapshot is kept), delete the stack with "
                f"--retain-resources {request.event.get('LogicalResourceId')}.{contract.CLEANUP_NOTE}"
            ) from error
        logger.info("final snapshot copied", extra={"snapshot_arn": copy["snapshotArn"]})
        copies.append(copy)
    return copies


def _under(kms_key_id: str | None) -> str:
    return f" under KMS key {kms_key_id}" if kms_key_id else ""
