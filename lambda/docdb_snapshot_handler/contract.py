"""The contract between the construct (synth time) and the handler (deploy time).

Property names, attribute names and the validation rules live here once. The construct imports
this module to validate literal props at synth time; the handler uses the same functions on the
strings CloudFormation sends, so a token that resolves to a bad value fails with the same words.
Pure Python: no boto3, no aws-cdk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

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
# CloudFormation adds these itself; they are expected, never "unknown".
CLOUDFORMATION_PROPS: Final = frozenset({"ServiceToken", "ServiceTimeout"})


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
RETAIN_LAST_MAX: Final = 1000
# A FinalSnapshot's physical id: its Delete takes the snapshot only behind such an id, never
# after a Create that failed.
FINAL_PHYSICAL_ID_PREFIX: Final = "final-snapshot-"
NO_SNAPSHOT_PHYSICAL_ID_PREFIX: Final = "no-snapshot-"


class RemovalPolicy:
    RETAIN: Final = "retain"
    DESTROY: Final = "destroy"


REMOVAL_POLICIES: Final = (RemovalPolicy.RETAIN, RemovalPolicy.DESTROY)

# Snapshot names: the API allows 1-63 characters; DocumentDB's naming rules add the rest.
SNAPSHOT_NAME_MAX_LENGTH: Final = 63
_NAME_CHARS = re.compile(r"^[A-Za-z0-9-]*$")
# A generated name is PREFIX-<hex digest of the CloudFormation request>: the same for every
# delivery of one request (so the service refuses a second resource) and new for every request.
# 0.1.0 generated PREFIX-YYYYMMDDhhmmss-xxxxxx; both are 22 characters after the prefix.
GENERATED_TOKEN_LENGTH: Final = 21
GENERATED_SUFFIX_LENGTH: Final = 1 + GENERATED_TOKEN_LENGTH
SNAPSHOT_NAME_PREFIX_MAX_LENGTH: Final = SNAPSHOT_NAME_MAX_LENGTH - GENERATED_SUFFIX_LENGTH

# Tags: botocore's docdb-elastic model (TagMap); tests check these against the model.
TAGS_MAX_COUNT: Final = 50
# Tags the handler sets itself. The request tag proves which CloudFormation request took a
# snapshot, so a retried request adopts its own snapshot and never someone else's.
RESERVED_TAG_PREFIX: Final = "docdb-elastic-snapshot:"
REQUEST_TAG_KEY: Final = RESERVED_TAG_PREFIX + "request"
# Which construct instance (stack id + construct path) took a snapshot: retention prunes only
# snapshots that carry its own owner tag.
OWNER_TAG_KEY: Final = RESERVED_TAG_PREFIX + "owner"
RESERVED_TAG_KEYS: Final = (REQUEST_TAG_KEY, OWNER_TAG_KEY)
USER_TAGS_MAX_COUNT: Final = TAGS_MAX_COUNT - len(RESERVED_TAG_KEYS)
TAG_KEY_MIN_LENGTH: Final = 1
TAG_KEY_MAX_LENGTH: Final = 128
TAG_KEY_PATTERN: Final = "^(?!aws:)[a-zA-Z+-=._:/]+$"
TAG_VALUE_MAX_LENGTH: Final = 256

# CloudFormation waits at most an hour for a custom resource (ServiceTimeout). A wait longer
# than one Lambda invocation continues in a new invocation of the same function.
TIMEOUT_MIN_SECONDS: Final = 30
TIMEOUT_MAX_SECONDS: Final = 60 * 60
CLOUDFORMATION_MAX_WAIT_SECONDS: Final = 60 * 60
# The handler answers at least this long before CloudFormation's own limit.
ANSWER_MARGIN_SECONDS: Final = 60
# Added by the handler to the event it passes to its own next invocation.
CONTINUATION_KEY: Final = "DocDbSnapshotContinuation"

CLUSTER_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:docdb-elastic:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9-]+$"
SNAPSHOT_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:docdb-elastic:[a-z0-9-]+:[0-9]{12}:cluster-snapshot/[A-Za-z0-9-]+$"


def _name_rule_errors(field: str, value: str, max_length: int, what: str) -> list[str]:
    errors = []
    if not value:
        return [f"{field}: {what} must not be empty"]
    if len(value) > max_length:
        errors.append(f"{field}: {what} must be at most {max_length} characters (got {len(value)})")
    if not value[0].isascii() or not value[0].isalpha():
        errors.append(f"{field}: {what} must start with a letter (got {value[0]!r})")
    if not _NAME_CHARS.match(value):
        errors.append(f"{field}: {what} may contain only ASCII letters, digits and hyphens")
    if "--" in value:
        errors.append(f"{field}: {what} must not contain two consecutive hyphens")
    return errors


def snapshot_name_errors(field: str, value: str) -> list[str]:
    """Rules for an exact snapshot name."""
    errors = _name_rule_errors(field, value, SNAPSHOT_NAME_MAX_LENGTH, "a snapshot name")
    if value.endswith("-"):
        errors.append(f"{field}: a snapshot name must not end with a hyphen")
    return errors


def snapshot_name_prefix_errors(field: str, value: str) -> list[str]:
    """Rules for a prefix: the generated suffix starts with a hyphen, so a trailing one would
    make '--'."""
    errors = _name_rule_errors(
        field,
        value,
        SNAPSHOT_NAME_PREFIX_MAX_LENGTH,
        "a snapshot name prefix (it leaves room for the generated suffix)",
    )
    if value.endswith("-"):
        errors.append(f"{field}: a snapshot name prefix must not end with a hyphen")
    return errors


def tags_errors(field: str, tags: Mapping[str, str]) -> list[str]:
    return tag_count_errors(field, len(tags)) + tag_entry_errors(field, tags)


def tag_count_errors(field: str, count: int) -> list[str]:
    if count > USER_TAGS_MAX_COUNT:
        return [
            f"{field}: at most {USER_TAGS_MAX_COUNT} tags are allowed (got {count}; "
            f"{len(RESERVED_TAG_KEYS)} of the API's {TAGS_MAX_COUNT} are kept for {RESERVED_TAG_PREFIX}*)"
        ]
    return []


_MAX_TAG_ERRORS_LISTED = 5


def tag_entry_errors(field: str, tags: Mapping[str, str]) -> list[str]:
    errors = _tag_entry_errors(field, tags)
    if len(errors) > _MAX_TAG_ERRORS_LISTED:
        more = len(errors) - _MAX_TAG_ERRORS_LISTED
        errors = [*errors[:_MAX_TAG_ERRORS_LISTED], f"{field}: {more} more tag errors like these"]
    return errors


def _tag_entry_errors(field: str, tags: Mapping[str, str]) -> list[str]:
    errors = []
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            errors.append(f"{field}: tag {key!r} must have a string key and a string value")
            continue
        if not TAG_KEY_MIN_LENGTH <= len(key) <= TAG_KEY_MAX_LENGTH:
            errors.append(
                f"{field}: tag key {key[:40]!r} must be {TAG_KEY_MIN_LENGTH} to "
                f"{TAG_KEY_MAX_LENGTH} characters (got {len(key)})"
            )
        elif key.startswith("aws:"):
            errors.append(f"{field}: tag key {key!r} must not start with 'aws:' (reserved by AWS)")
        elif key.startswith(RESERVED_TAG_PREFIX):
            errors.append(
                f"{field}: tag key {key!r} must not start with {RESERVED_TAG_PREFIX!r} "
                "(reserved for this construct's own tags)"
            )
        elif not re.match(TAG_KEY_PATTERN, key):
            errors.append(f"{field}: tag key {key!r} must match {TAG_KEY_PATTERN} (letters, digits, and + - = . _ : /)")
        if len(value) > TAG_VALUE_MAX_LENGTH:
            errors.append(
                f"{field}: the value of tag {key[:40]!r} must be at most {TAG_VALUE_MAX_LENGTH} "
                f"characters (got {len(value)})"
            )
    return errors


def timeout_errors(field: str, seconds: int) -> list[str]:
    if not TIMEOUT_MIN_SECONDS <= seconds <= TIMEOUT_MAX_SECONDS:
        return [
            f"{field}: must be between {TIMEOUT_MIN_SECONDS} seconds and "
            f"{TIMEOUT_MAX_SECONDS // 60} minutes (got {seconds} seconds)"
        ]
    return []


def retain_last_errors(field: str, value: int) -> list[str]:
    if not 1 <= value <= RETAIN_LAST_MAX:
        return [f"{field}: must be between 1 and {RETAIN_LAST_MAX} (got {value})"]
    return []


def cluster_location_errors(
    field: str, cluster_arn: str, *, partition: str = "", region: str = "", account: str = ""
) -> list[str]:
    """A snapshot is taken in the stack's own partition, account and region; an empty
    expectation (unknown, a token) is not checked. `cluster_arn` must already be well formed."""
    parts = cluster_arn.split(":")
    actual = {"partition": parts[1], "region": parts[3], "account": parts[4]}
    expected = {"partition": partition, "region": region, "account": account}
    return [
        f"{field}: the cluster must be in the stack's {name} {expected[name]} (got {actual[name]})"
        for name in ("partition", "region", "account")
        if expected[name] and actual[name] != expected[name]
    ]


def cluster_arn_errors(field: str, value: str) -> list[str]:
    if not re.match(CLUSTER_ARN_PATTERN, value):
        return [
            f"{field}: must be a DocumentDB elastic cluster ARN, "
            f"arn:<partition>:docdb-elastic:<region>:<account>:cluster/<id> (got {value[:120]!r})"
        ]
    return []


# --- Copies (ElasticClusterSnapshotCopy, FinalSnapshot copy_to) ----------------------------------

COPY_RESOURCE_TYPE: Final = "Custom::DocDbElasticClusterSnapshotCopy"


class CopyProp:
    """ResourceProperties keys of the copy resource (besides the shared ones in COPY_PROPS)."""

    SOURCE_SNAPSHOT_ARN: Final = "SourceSnapshotArn"
    DESTINATION_REGION: Final = "DestinationRegion"
    KMS_KEY_ID: Final = "KmsKeyId"
    COPY_TAGS: Final = "CopyTags"


class CopyDestinationKey:
    """Keys of each entry of FinalSnapshot's CopyTo list."""

    REGION: Final = "Region"
    KMS_KEY_ID: Final = "KmsKeyId"


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
# FinalSnapshot's copy_to: distinct regions, each copied and awaited within the one timeout.
COPY_DESTINATIONS_MAX: Final = 5

REGION_PATTERN: Final = r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$"
# A KMS key of the destination region, by ARN or id (aliases cannot be scoped in IAM).
KMS_KEY_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(?:mrk-[0-9a-f]{32}|[0-9a-f-]{36})$"
KMS_KEY_ID_PATTERN: Final = r"^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"


def region_errors(field: str, value: str) -> list[str]:
    if not re.match(REGION_PATTERN, value):
        return [f"{field}: must be an AWS region code such as us-west-2 (got {value[:40]!r})"]
    return []


def source_snapshot_arn_errors(field: str, value: str, *, partition: str = "", account: str = "") -> list[str]:
    """A snapshot ARN of this account (any region), or '' for "nothing to copy" (a protection
    that took no snapshot)."""
    if value == "":
        return []
    if not re.match(SNAPSHOT_ARN_PATTERN, value):
        return [
            f"{field}: must be a DocumentDB elastic cluster snapshot ARN, "
            f"arn:<partition>:docdb-elastic:<region>:<account>:cluster-snapshot/<id> (got {value[:120]!r})"
        ]
    parts = value.split(":")
    errors = []
    if partition and parts[1] != partition:
        errors.append(f"{field}: the snapshot must be in the stack's partition {partition} (got {parts[1]})")
    if account and parts[4] != account:
        errors.append(f"{field}: the snapshot must be in the stack's account {account} (got {parts[4]})")
    return errors


def kms_key_errors(field: str, value: str, destination_region: str = "") -> list[str]:
    """A key ARN or key id; an ARN must be in the destination region (when it is known)."""
    if re.match(KMS_KEY_ID_PATTERN, value):
        return []
    if not re.match(KMS_KEY_ARN_PATTERN, value):
        return [
            f"{field}: must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or key id "
            f"of the destination region; aliases are not accepted, so that the provider's role can be "
            f"granted exactly that key (got {value[:120]!r})"
        ]
    key_region = value.split(":")[3]
    if destination_region and key_region != destination_region:
        return [
            f"{field}: the key must be in the destination region {destination_region} (got a key of "
            f"{key_region}); KMS keys cannot be used across regions"
        ]
    return []


def copy_destination_count_errors(field: str, regions: list[str]) -> list[str]:
    errors = []
    if len(regions) > COPY_DESTINATIONS_MAX:
        errors.append(f"{field}: at most {COPY_DESTINATIONS_MAX} destinations (got {len(regions)})")
    duplicates = sorted({r for r in regions if regions.count(r) > 1})
    if duplicates:
        errors.append(f"{field}: each region at most once (repeated: {', '.join(duplicates)})")
    return errors


# --- Restore: a cluster created from a snapshot (ElasticClusterFromSnapshot) -------------------

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
#: Appended to the Reason of a failed Delete that protects data: in a stack update's clean-up
#: (the resource was removed from the template) CloudFormation does not send it again.
CLEANUP_NOTE: Final = (
    " If a stack update removed this resource from the template, CloudFormation does not send this "
    "Delete again: check the cluster, and snapshot it by hand if it still exists."
)
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
    errors = _name_rule_errors(field, value, CLUSTER_NAME_MAX_LENGTH, "a cluster name")
    if value.endswith("-"):
        errors.append(f"{field}: a cluster name must not end with a hyphen")
    return errors


def cluster_name_prefix_errors(field: str, value: str) -> list[str]:
    errors = _name_rule_errors(
        field, value, CLUSTER_NAME_PREFIX_MAX_LENGTH, "a cluster name prefix (it leaves room for the generated suffix)"
    )
    if value.endswith("-"):
        errors.append(f"{field}: a cluster name prefix must not end with a hyphen")
    return errors


def generated_cluster_name(prefix: str, token: str) -> str:
    """PREFIX-<12 hex digits of the request token>, lowercase as the service stores it: the same
    for every delivery of one request (the service refuses a second cluster), new per request."""
    return f"{prefix}-{token[:CLUSTER_NAME_TOKEN_LENGTH]}".lower()


def snapshot_arn_errors(field: str, value: str) -> list[str]:
    if not re.match(SNAPSHOT_ARN_PATTERN, value):
        return [
            f"{field}: must be a DocumentDB elastic cluster snapshot ARN, "
            f"arn:<partition>:docdb-elastic:<region>:<account>:cluster-snapshot/<id> (got {value[:120]!r})"
        ]
    return []


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
