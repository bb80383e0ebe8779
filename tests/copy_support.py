"""What the copy handler tests share: a copy resource's request as CloudFormation sends it, the
copies the stand-in holds, and the names and keys they are made with."""

from __future__ import annotations

from typing import Any

from docdb_snapshot_handler.contract import COPY_RESOURCE_TYPE
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn
from standins.events import cfn_event

OTHER_REGION = "us-west-2"
#: A second customer managed key of the stack's region, the one copies are made under.
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OWNER = "Stack/KeyCopy"
PREFIX = "orders-copy"


def copy_event(
    request_type: str,
    url: str,
    props: dict[str, Any],
    old: dict[str, Any] | None = None,
    physical_id: str | None = None,
) -> dict[str, Any]:
    """A copy resource's request; SnapshotNamePrefix and Owner as the construct sets them."""
    event = cfn_event(request_type, url, physical_id=physical_id)
    event["ResourceType"] = COPY_RESOURCE_TYPE
    base = {"ServiceToken": event["ServiceToken"], "SnapshotNamePrefix": PREFIX, "Owner": OWNER}
    event["ResourceProperties"] = {k: v for k, v in {**base, **props}.items() if v is not None}
    if old is not None:
        event["OldResourceProperties"] = {k: v for k, v in {**base, **old}.items() if v is not None}
    return event


def the_copies(docdb: DocDbElasticStandIn, region: str) -> dict[str, Any]:
    return {arn: s for arn, s in docdb.snapshots_in(region).items() if s.copied_from}
