"""The copy kind's contract (ElasticClusterSnapshotCopy): its resource type, properties and
attributes. Most of its properties share their names with the snapshot kind's."""

from __future__ import annotations

from typing import Final

from .snapshot import Prop

__all__ = [
    "COPY_PROPS",
    "COPY_RESOURCE_TYPE",
    "NO_COPY_PHYSICAL_ID_PREFIX",
    "CopyAttr",
    "CopyProp",
]


COPY_RESOURCE_TYPE: Final = "Custom::DocDbElasticClusterSnapshotCopy"


class CopyProp:
    """ResourceProperties keys of the copy resource (besides the shared ones in COPY_PROPS)."""

    SOURCE_SNAPSHOT_ARN: Final = "SourceSnapshotArn"
    DESTINATION_REGION: Final = "DestinationRegion"
    KMS_KEY_ID: Final = "KmsKeyId"
    COPY_TAGS: Final = "CopyTags"


COPY_PROPS: Final = frozenset(
    {
        CopyProp.SOURCE_SNAPSHOT_ARN,
        CopyProp.DESTINATION_REGION,
        CopyProp.KMS_KEY_ID,
        CopyProp.COPY_TAGS,
        Prop.SNAPSHOT_NAME_PREFIX,
        Prop.TAGS,
        Prop.WAIT_FOR_COMPLETION,
        Prop.TIMEOUT_SECONDS,
        Prop.REMOVAL_POLICY,
        Prop.OWNER,
        Prop.RETAIN_LAST,
    }
)


class CopyAttr:
    """Response Data keys of a copy besides the snapshot attributes (Attr)."""

    SOURCE_SNAPSHOT_ARN: Final = "SourceSnapshotArn"
    REGION: Final = "Region"


# Before an empty source's copy resource has a copy, its physical id starts with this.
NO_COPY_PHYSICAL_ID_PREFIX: Final = "no-copy-"
