"""The snapshot kind's contract (ElasticClusterSnapshot, SnapshotBeforeChange, FinalSnapshot):
its resource type, properties, attributes and the rules only it has."""

from __future__ import annotations

from typing import Final

from .common import COPIES_STAY_IN_REGION, copy_region_errors, kms_key_errors, region_errors

__all__ = [
    "CLUSTER_NOT_ACTIVE_CHOICES",
    "COPY_DESTINATIONS_MAX",
    "FINAL_PHYSICAL_ID_PREFIX",
    "MODES",
    "NO_SNAPSHOT_PHYSICAL_ID_PREFIX",
    "OUR_PROPS",
    "RESOURCE_TYPE",
    "Attr",
    "ClusterNotActive",
    "CopyDestinationKey",
    "Mode",
    "Prop",
    "copy_destination_count_errors",
    "copy_destination_errors",
]


RESOURCE_TYPE: Final = "Custom::DocDbElasticClusterSnapshot"


class Prop:
    """ResourceProperties keys of the custom resource."""

    CLUSTER_ARN: Final = "ClusterArn"
    SNAPSHOT_NAME: Final = "SnapshotName"
    SNAPSHOT_NAME_PREFIX: Final = "SnapshotNamePrefix"
    TAGS: Final = "Tags"
    TRIGGER: Final = "Trigger"
    WAIT_FOR_COMPLETION: Final = "WaitForCompletion"
    TIMEOUT_SECONDS: Final = "TimeoutSeconds"
    REMOVAL_POLICY: Final = "RemovalPolicy"
    MODE: Final = "Mode"
    CLUSTER_NAME: Final = "ClusterName"
    OWNER: Final = "Owner"
    RETAIN_LAST: Final = "RetainLast"
    ON_CLUSTER_NOT_ACTIVE: Final = "OnClusterNotActive"
    # FinalSnapshot only: copy the final snapshot to these destinations ([{Region, KmsKeyId}]).
    COPY_TO: Final = "CopyTo"


OUR_PROPS: Final = frozenset(value for key, value in vars(Prop).items() if not key.startswith("_"))


class Attr:
    """Keys of the response Data, readable with Fn::GetAtt."""

    SNAPSHOT_ARN: Final = "SnapshotArn"
    SNAPSHOT_NAME: Final = "SnapshotName"
    STATUS: Final = "Status"
    SNAPSHOT_CREATION_TIME: Final = "SnapshotCreationTime"
    CLUSTER_ARN: Final = "ClusterArn"
    KMS_KEY_ID: Final = "KmsKeyId"
    SNAPSHOT_TYPE: Final = "SnapshotType"
    # Empty when a snapshot was taken; otherwise why none was (first deploy, cluster stopped...).
    SKIPPED_REASON: Final = "SkippedReason"


class Mode:
    """What a resource protects: one snapshot, the cluster before each change, or at its end."""

    SNAPSHOT: Final = "snapshot"
    BEFORE_CHANGE: Final = "before-change"
    FINAL: Final = "final"


MODES: Final = (Mode.SNAPSHOT, Mode.BEFORE_CHANGE, Mode.FINAL)


class ClusterNotActive:
    """What SnapshotBeforeChange does when the cluster cannot be snapshotted right now."""

    FAIL: Final = "fail"
    SKIP: Final = "skip"


CLUSTER_NOT_ACTIVE_CHOICES: Final = (ClusterNotActive.FAIL, ClusterNotActive.SKIP)
# A FinalSnapshot's physical id: its Delete takes the snapshot only behind such an id, never
# after a Create that failed.
FINAL_PHYSICAL_ID_PREFIX: Final = "final-snapshot-"
NO_SNAPSHOT_PHYSICAL_ID_PREFIX: Final = "no-snapshot-"


class CopyDestinationKey:
    """Keys of each entry of FinalSnapshot's CopyTo list (Region: optional, the stack's)."""

    REGION: Final = "Region"
    KMS_KEY_ID: Final = "KmsKeyId"


# A copy is made in the source's region (COPIES_STAY_IN_REGION), so a final snapshot or a
# recovery point has one copy destination at most: the stack's region, under another key.
COPY_DESTINATIONS_MAX: Final = 1


def copy_destination_count_errors(field: str, regions: list[str]) -> list[str]:
    if len(regions) > COPY_DESTINATIONS_MAX:
        return [
            f"{field}: at most {COPY_DESTINATIONS_MAX} destination (got {len(regions)}): every copy is made in "
            f"the stack's region, so one copy under another key is all there is to make. {COPIES_STAY_IN_REGION}"
        ]
    return []


def copy_destination_errors(
    field: str, region: str | None, kms_key_id: str | None, home_region: str, names: tuple[str, str]
) -> list[str]:
    """One copy destination: a region (None: the stack's), which must be the stack's where known,
    and a key (None: the source's) of that region. `names`: what the caller calls the two."""
    region_field, key_field = (f"{field}.{name}" for name in names)
    errors = []
    if region is not None:
        errors.extend(region_errors(region_field, region) or copy_region_errors(region_field, region, home_region))
    if kms_key_id is not None:
        errors.extend(kms_key_errors(key_field, kms_key_id, home_region or region or ""))
    return errors
