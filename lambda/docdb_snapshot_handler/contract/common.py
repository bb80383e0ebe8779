"""What every kind's contract shares: names, tags, ARNs, regions, keys, timeouts, the
continuation, and the rules on them. Pure Python: no boto3, no aws-cdk."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = [
    "ANSWER_MARGIN_SECONDS",
    "CLEANUP_NOTE",
    "CLOUDFORMATION_MAX_WAIT_SECONDS",
    "CLOUDFORMATION_PROPS",
    "CLUSTER_ARN_PATTERN",
    "CONTINUATION_KEY",
    "COPIES_STAY_IN_REGION",
    "COPIES_STAY_IN_REGION_PAGE",
    "GENERATED_SUFFIX_LENGTH",
    "GENERATED_TOKEN_LENGTH",
    "KMS_KEY_ARN_PATTERN",
    "KMS_KEY_ID_PATTERN",
    "OWNER_TAG_KEY",
    "REGION_PATTERN",
    "REMOVAL_POLICIES",
    "REQUEST_TAG_KEY",
    "RESERVED_TAG_KEYS",
    "RESERVED_TAG_PREFIX",
    "RETAIN_LAST_MAX",
    "SNAPSHOT_ARN_PATTERN",
    "SNAPSHOT_NAME_MAX_LENGTH",
    "SNAPSHOT_NAME_PREFIX_MAX_LENGTH",
    "TAGS_MAX_COUNT",
    "TAG_KEY_MAX_LENGTH",
    "TAG_KEY_MIN_LENGTH",
    "TAG_KEY_PATTERN",
    "TAG_VALUE_MAX_LENGTH",
    "TIMEOUT_MAX_SECONDS",
    "TIMEOUT_MIN_SECONDS",
    "USER_TAGS_MAX_COUNT",
    "RemovalPolicy",
    "cluster_arn_errors",
    "cluster_location_errors",
    "copy_region_errors",
    "kms_key_errors",
    "name_rule_errors",
    "region_errors",
    "retain_last_errors",
    "snapshot_arn_errors",
    "snapshot_name_errors",
    "snapshot_name_prefix_errors",
    "source_snapshot_arn_errors",
    "tag_count_errors",
    "tag_entry_errors",
    "tags_errors",
    "timeout_errors",
]


# CloudFormation adds these itself; they are expected, never "unknown".
CLOUDFORMATION_PROPS: Final = frozenset({"ServiceToken", "ServiceTimeout"})
RETAIN_LAST_MAX: Final = 1000


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


def name_rule_errors(field: str, value: str, max_length: int, what: str) -> list[str]:
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
    errors = name_rule_errors(field, value, SNAPSHOT_NAME_MAX_LENGTH, "a snapshot name")
    if value.endswith("-"):
        errors.append(f"{field}: a snapshot name must not end with a hyphen")
    return errors


def snapshot_name_prefix_errors(field: str, value: str) -> list[str]:
    """Rules for a prefix: the generated suffix starts with a hyphen, so a trailing one would
    make '--'."""
    errors = name_rule_errors(
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


REGION_PATTERN: Final = r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$"
# A KMS key of the copy's region (the stack's), by ARN or id (aliases cannot be scoped in IAM).
KMS_KEY_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(?:mrk-[0-9a-f]{32}|[0-9a-f-]{36})$"
KMS_KEY_ID_PATTERN: Final = r"^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"


def region_errors(field: str, value: str) -> list[str]:
    if not re.match(REGION_PATTERN, value):
        return [f"{field}: must be an AWS region code such as us-west-2 (got {value[:40]!r})"]
    return []


# AWS's DocumentDB developer guide, "Managing elastic cluster snapshots", section "Copying an
# elastic cluster snapshot": copies are made "within the same region and within the same
# account". CopyClusterSnapshot has no source region nor destination: nothing else is offered.
COPIES_STAY_IN_REGION_PAGE: Final = (
    "https://docs.aws.amazon.com/documentdb/latest/developerguide/elastic-managing-snapshots.html"
)
COPIES_STAY_IN_REGION: Final = (
    "AWS copies elastic cluster snapshots only within the same region and the same account "
    f"(Amazon DocumentDB developer guide, 'Managing elastic cluster snapshots': {COPIES_STAY_IN_REGION_PAGE})"
)


def copy_region_errors(field: str, region: str, home_region: str) -> list[str]:
    """A copy's region must be the stack's (the function's) own; '' when not known yet."""
    if home_region and region != home_region:
        return [f"{field}: must be the stack's region {home_region} (got {region}): {COPIES_STAY_IN_REGION}"]
    return []


def source_snapshot_arn_errors(
    field: str, value: str, *, partition: str = "", region: str = "", account: str = ""
) -> list[str]:
    """A snapshot ARN of the stack's partition, region and account (each checked when known), or
    '' for "nothing to copy" (a protection that took no snapshot)."""
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
    if region and parts[3] != region:
        errors.append(
            f"{field}: the snapshot must be in the stack's region {region} (got {parts[3]}): {COPIES_STAY_IN_REGION}"
        )
    if account and parts[4] != account:
        errors.append(
            f"{field}: the snapshot must be in the stack's account {account} (got {parts[4]}): {COPIES_STAY_IN_REGION}"
        )
    return errors


def kms_key_errors(field: str, value: str, region: str = "") -> list[str]:
    """A key ARN or key id; an ARN must be in the copy's region, the stack's (when it is known)."""
    if re.match(KMS_KEY_ID_PATTERN, value):
        return []
    if not re.match(KMS_KEY_ARN_PATTERN, value):
        return [
            f"{field}: must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or key id "
            f"of the stack's region; aliases are not accepted, so that the provider's role can be "
            f"granted exactly that key (got {value[:120]!r})"
        ]
    key_region = value.split(":")[3]
    if region and key_region != region:
        return [
            f"{field}: the key must be in the stack's region {region}, where the copy is made (got a key of "
            f"{key_region}); KMS keys cannot be used across regions"
        ]
    return []


def snapshot_arn_errors(field: str, value: str) -> list[str]:
    if not re.match(SNAPSHOT_ARN_PATTERN, value):
        return [
            f"{field}: must be a DocumentDB elastic cluster snapshot ARN, "
            f"arn:<partition>:docdb-elastic:<region>:<account>:cluster-snapshot/<id> (got {value[:120]!r})"
        ]
    return []


#: Appended to the Reason of a failed Delete that protects data: in a stack update's clean-up
#: (the resource was removed from the template) CloudFormation does not send it again.
CLEANUP_NOTE: Final = (
    " If a stack update removed this resource from the template, CloudFormation does not send this "
    "Delete again: check the cluster, and snapshot it by hand if it still exists."
)
