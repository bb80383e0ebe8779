"""The restore kind's contract (ElasticClusterFromSnapshot): its resource type, properties,
attributes and the rules on clusters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from .common import REQUEST_TAG_KEY, RESERVED_TAG_PREFIX, TAGS_MAX_COUNT, name_rule_errors, tag_entry_errors

__all__ = [
    "BACKUP_RETENTION_DAYS_MAX",
    "BACKUP_RETENTION_DAYS_MIN",
    "CLUSTER_NAME_MAX_LENGTH",
    "CLUSTER_NAME_PREFIX_MAX_LENGTH",
    "CLUSTER_NAME_TOKEN_LENGTH",
    "CLUSTER_REMOVAL_POLICIES",
    "CLUSTER_RESERVED_TAG_KEYS",
    "CLUSTER_USER_TAGS_MAX_COUNT",
    "DEFAULT_PORT",
    "FAILED_RESTORE_PHYSICAL_ID_PREFIX",
    "IDENTITY_TAG_KEY",
    "KMS_KEY_PATTERN",
    "RESTORE_PROPS",
    "RESTORE_RESOURCE_TYPE",
    "SECURITY_GROUP_ID_PATTERN",
    "SHARD_CAPACITIES",
    "SHARD_INSTANCE_COUNT_MAX",
    "SOURCE_TAG_KEY",
    "SUBNET_ID_PATTERN",
    "WINDOW_MIN_MINUTES",
    "ClusterAttr",
    "ClusterRemovalPolicy",
    "RestoreProp",
    "backup_retention_period_errors",
    "cluster_name_errors",
    "cluster_name_prefix_errors",
    "cluster_tag_count_errors",
    "cluster_tags_errors",
    "generated_cluster_name",
    "id_list_errors",
    "kms_key_id_errors",
    "preferred_backup_window_errors",
    "preferred_maintenance_window_errors",
    "shard_capacity_errors",
    "shard_instance_count_errors",
    "snapshot_source_errors",
]


RESTORE_RESOURCE_TYPE: Final = "Custom::DocDbElasticClusterFromSnapshot"


class RestoreProp:
    """ResourceProperties keys of the restore custom resource. Left out means the default."""

    SNAPSHOT_ARN: Final = "SnapshotArn"
    SOURCE_CLUSTER_ARN: Final = "SourceClusterArn"
    CLUSTER_NAME: Final = "ClusterName"
    # The construct's part of a generated name; the handler appends a request-derived part.
    CLUSTER_NAME_PREFIX: Final = "ClusterNamePrefix"
    SUBNET_IDS: Final = "SubnetIds"
    VPC_SECURITY_GROUP_IDS: Final = "VpcSecurityGroupIds"
    SHARD_CAPACITY: Final = "ShardCapacity"
    SHARD_INSTANCE_COUNT: Final = "ShardInstanceCount"
    KMS_KEY_ID: Final = "KmsKeyId"
    TAGS: Final = "Tags"
    BACKUP_RETENTION_PERIOD: Final = "BackupRetentionPeriod"
    PREFERRED_BACKUP_WINDOW: Final = "PreferredBackupWindow"
    PREFERRED_MAINTENANCE_WINDOW: Final = "PreferredMaintenanceWindow"
    SNAPSHOT_BEFORE_UPDATE: Final = "SnapshotBeforeUpdate"
    REMOVAL_POLICY: Final = "RemovalPolicy"
    TRIGGER: Final = "Trigger"
    TIMEOUT_SECONDS: Final = "TimeoutSeconds"


RESTORE_PROPS: Final = frozenset(value for key, value in vars(RestoreProp).items() if not key.startswith("_"))


class ClusterAttr:
    """Keys of the restore resource's response Data."""

    CLUSTER_ARN: Final = "ClusterArn"
    CLUSTER_ENDPOINT: Final = "ClusterEndpoint"
    CLUSTER_NAME: Final = "ClusterName"
    STATUS: Final = "Status"
    # The snapshot actually restored from (with SourceClusterArn: the one that was chosen).
    SNAPSHOT_ARN: Final = "SnapshotArn"
    # From the RestoreClusterFromSnapshot call to ACTIVE, whole seconds ('' on an in-place update).
    RESTORE_SECONDS: Final = "RestoreSeconds"


class ClusterRemovalPolicy:
    """What deleting a restored cluster does. The first is the default."""

    SNAPSHOT: Final = "snapshot"
    DESTROY: Final = "destroy"
    RETAIN: Final = "retain"


CLUSTER_REMOVAL_POLICIES: Final = (
    ClusterRemovalPolicy.SNAPSHOT,
    ClusterRemovalPolicy.DESTROY,
    ClusterRemovalPolicy.RETAIN,
)

# A Create (or a replacement) that failed after its cluster existed answers with this prefix and
# the cluster's ARN, so the rollback's Delete removes the half-restored cluster, without a snapshot.
FAILED_RESTORE_PHYSICAL_ID_PREFIX: Final = "failed-restore:"

# Elastic cluster names: 1-63 letters, digits and hyphens, first a letter, no trailing hyphen and
# no '--'; the service stores them in lowercase.
CLUSTER_NAME_MAX_LENGTH: Final = 63
CLUSTER_NAME_TOKEN_LENGTH: Final = 12
CLUSTER_NAME_PREFIX_MAX_LENGTH: Final = CLUSTER_NAME_MAX_LENGTH - 1 - CLUSTER_NAME_TOKEN_LENGTH
# Tags the handler sets on a restored cluster: the request that restored it, the snapshot it was
# restored from, and a digest of what it was restored as (to recognise it in a rollback).
SOURCE_TAG_KEY: Final = RESERVED_TAG_PREFIX + "source"
IDENTITY_TAG_KEY: Final = RESERVED_TAG_PREFIX + "identity"
CLUSTER_RESERVED_TAG_KEYS: Final = (REQUEST_TAG_KEY, SOURCE_TAG_KEY, IDENTITY_TAG_KEY)
CLUSTER_USER_TAGS_MAX_COUNT: Final = TAGS_MAX_COUNT - len(CLUSTER_RESERVED_TAG_KEYS)

SHARD_CAPACITIES: Final = (2, 4, 8, 16, 32, 64)
SHARD_INSTANCE_COUNT_MAX: Final = 16
BACKUP_RETENTION_DAYS_MIN: Final = 1
BACKUP_RETENTION_DAYS_MAX: Final = 35
WINDOW_MIN_MINUTES: Final = 30
DEFAULT_PORT: Final = 27017
SUBNET_ID_PATTERN: Final = r"^subnet-[0-9a-f]{8,17}$"
SECURITY_GROUP_ID_PATTERN: Final = r"^sg-[0-9a-f]{8,17}$"
KMS_KEY_PATTERN: Final = (
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_+=,.@-]+)"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_+=,.@-]+)$"
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cluster_name_errors(field: str, value: str) -> list[str]:
    errors = name_rule_errors(field, value, CLUSTER_NAME_MAX_LENGTH, "a cluster name")
    if value.endswith("-"):
        errors.append(f"{field}: a cluster name must not end with a hyphen")
    return errors


def cluster_name_prefix_errors(field: str, value: str) -> list[str]:
    errors = name_rule_errors(
        field, value, CLUSTER_NAME_PREFIX_MAX_LENGTH, "a cluster name prefix (it leaves room for the generated suffix)"
    )
    if value.endswith("-"):
        errors.append(f"{field}: a cluster name prefix must not end with a hyphen")
    return errors


def generated_cluster_name(prefix: str, token: str) -> str:
    """PREFIX-<12 hex digits of the request token>, lowercase as the service stores it: the same
    for every delivery of one request (the service refuses a second cluster), new per request."""
    return f"{prefix}-{token[:CLUSTER_NAME_TOKEN_LENGTH]}".lower()


def snapshot_source_errors(snapshot_arn: object, source_cluster_arn: object, fields: tuple[str, str]) -> list[str]:
    """Exactly one of the two ways to say what to restore."""
    given = [value for value in (snapshot_arn, source_cluster_arn) if value is not None]
    if len(given) != 1:
        which = "both were given" if given else "neither was given"
        return [f"{fields[0]} or {fields[1]}: give exactly one ({which})"]
    return []


def shard_capacity_errors(field: str, value: int) -> list[str]:
    if value not in SHARD_CAPACITIES:
        return [f"{field}: must be one of {', '.join(map(str, SHARD_CAPACITIES))} vCPUs (got {value})"]
    return []


def shard_instance_count_errors(field: str, value: int) -> list[str]:
    if not 1 <= value <= SHARD_INSTANCE_COUNT_MAX:
        return [f"{field}: must be between 1 and {SHARD_INSTANCE_COUNT_MAX} (got {value})"]
    return []


def backup_retention_period_errors(field: str, value: int) -> list[str]:
    if not BACKUP_RETENTION_DAYS_MIN <= value <= BACKUP_RETENTION_DAYS_MAX:
        low, high = BACKUP_RETENTION_DAYS_MIN, BACKUP_RETENTION_DAYS_MAX
        return [f"{field}: must be between {low} and {high} days (got {value})"]
    return []


def _minutes(text: str) -> int | None:
    match = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", text)
    return None if match is None else int(match.group(1)) * 60 + int(match.group(2))


def preferred_backup_window_errors(field: str, value: str) -> list[str]:
    """hh24:mi-hh24:mi in UTC, at least 30 minutes."""
    start, _, end = value.partition("-")
    first, last = _minutes(start), _minutes(end)
    if first is None or last is None:
        return [f"{field}: must be hh24:mi-hh24:mi in UTC, e.g. 02:00-02:30 (got {value[:40]!r})"]
    if (last - first) % (24 * 60) < WINDOW_MIN_MINUTES:
        return [f"{field}: must be at least {WINDOW_MIN_MINUTES} minutes long (got {value!r})"]
    return []


def preferred_maintenance_window_errors(field: str, value: str) -> list[str]:
    """ddd:hh24:mi-ddd:hh24:mi in UTC, at least 30 minutes."""
    match = re.fullmatch(r"([A-Za-z]{3}):(\d\d:\d\d)-([A-Za-z]{3}):(\d\d:\d\d)", value)
    if match is None or match.group(1).lower() not in _DAYS or match.group(3).lower() not in _DAYS:
        return [f"{field}: must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:03:00-sun:03:30 (got {value[:40]!r})"]
    first, last = _minutes(match.group(2)), _minutes(match.group(4))
    if first is None or last is None:
        return [f"{field}: must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:03:00-sun:03:30 (got {value[:40]!r})"]
    week = 7 * 24 * 60
    start = _DAYS.index(match.group(1).lower()) * 24 * 60 + first
    end = _DAYS.index(match.group(3).lower()) * 24 * 60 + last
    if (end - start) % week < WINDOW_MIN_MINUTES:
        return [f"{field}: must be at least {WINDOW_MIN_MINUTES} minutes long (got {value!r})"]
    return []


def id_list_errors(field: str, values: list[str], pattern: str, what: str) -> list[str]:
    if not values:
        return [f"{field}: must list at least one {what} ID when given"]
    bad = [value for value in values if not isinstance(value, str) or not re.match(pattern, value)]
    if bad:
        return [f"{field}: {', '.join(repr(str(b)[:40]) for b in bad[:3])} is not a {what} ID ({pattern})"]
    return []


def kms_key_id_errors(field: str, value: str) -> list[str]:
    if not re.match(KMS_KEY_PATTERN, value):
        return [f"{field}: must be a KMS key ARN, key id, alias name or alias ARN (got {value[:120]!r})"]
    return []


def cluster_tags_errors(field: str, tags: Mapping[str, str]) -> list[str]:
    return cluster_tag_count_errors(field, len(tags)) + tag_entry_errors(field, tags)


def cluster_tag_count_errors(field: str, count: int) -> list[str]:
    if count > CLUSTER_USER_TAGS_MAX_COUNT:
        return [
            f"{field}: at most {CLUSTER_USER_TAGS_MAX_COUNT} tags are allowed (got {count}; "
            f"{len(CLUSTER_RESERVED_TAG_KEYS)} of the API's {TAGS_MAX_COUNT} are kept for {RESERVED_TAG_PREFIX}*)"
        ]
    return []
