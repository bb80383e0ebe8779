"""The restore test kind's contract (ElasticClusterRestoreTest): the input its schedule sends, the
names and tags of the temporary clusters it makes, the record it leaves on the recovery point it
restored, and the metrics it publishes.

Every delivery of one occurrence derives the same temporary cluster name and request tag from
the occurrence (test, scheduled time, cluster), so the service is the lock while the temporary
cluster exists (once.py). The record that outlives the cluster is a tag on the recovery point it
restored: its key names the test, its value the occurrence and how it ended.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Final

from .common import RESERVED_TAG_PREFIX, name_rule_errors
from .scheduled import ScheduledInput

__all__ = [
    "FUNCTION_ARN_PATTERN",
    "RECOVERY_POINT_TYPES",
    "RESTORE_TEST_CLUSTER_TAG_KEY",
    "RESTORE_TEST_EVENT_KEY",
    "RESTORE_TEST_EXPIRES_TAG_KEY",
    "RESTORE_TEST_EXPIRY_MARGIN_SECONDS",
    "RESTORE_TEST_INPUT_VERSION",
    "RESTORE_TEST_INVOCATION_TAG_KEY",
    "RESTORE_TEST_NAME_MAX_LENGTH",
    "RESTORE_TEST_RESTORE_WAIT_MAX_SECONDS",
    "RESTORE_TEST_START_WINDOW_SECONDS",
    "RESTORE_TEST_TAG_KEY",
    "VALIDATION_WINDOW_MAX_SECONDS",
    "RestoreTestInput",
    "RestoreTestMetric",
    "RestoreTestRecord",
    "function_arn_errors",
    "parse_restore_test_cluster_record",
    "parse_restore_test_record",
    "recovery_point_types_errors",
    "restore_test_claim_key",
    "restore_test_cluster_record",
    "restore_test_name_errors",
    "restore_test_occurrence",
    "restore_test_record",
    "restore_test_record_time",
    "restore_test_token",
    "temporary_cluster_lifetime_seconds",
    "temporary_cluster_name",
    "temporary_cluster_time",
    "validation_window_errors",
]

# The key of the scheduled event's input that marks it as a restore test's occurrence.
RESTORE_TEST_EVENT_KEY: Final = "DocDbElasticRestoreTest"
RESTORE_TEST_INPUT_VERSION: Final = 1
RECOVERY_POINT_TYPES: Final = ("MANUAL", "AUTOMATED")


class RestoreTestInput:
    """Members of the input object the test's schedule sends (under RESTORE_TEST_EVENT_KEY)."""

    VERSION: Final = ScheduledInput.VERSION
    TEST: Final = "Test"
    SCHEDULED_TIME: Final = ScheduledInput.SCHEDULED_TIME
    CLUSTERS: Final = ScheduledInput.CLUSTERS
    TAG_SELECTIONS: Final = ScheduledInput.TAG_SELECTIONS
    SUBNET_IDS: Final = "SubnetIds"
    VPC_SECURITY_GROUP_IDS: Final = "VpcSecurityGroupIds"
    SHARD_CAPACITY: Final = "ShardCapacity"
    SHARD_INSTANCE_COUNT: Final = "ShardInstanceCount"
    KMS_KEY_ID: Final = "KmsKeyId"
    VALIDATION_FUNCTION: Final = "ValidationFunction"
    VALIDATION_WINDOW_SECONDS: Final = "ValidationWindowSeconds"
    RECOVERY_POINT_TYPES: Final = "RecoveryPointTypes"


class RestoreTestMetric:
    """Metric names, in METRIC_NAMESPACE with the dimension Cluster (the source cluster's name),
    and again with the dimension RestoreTest alone (the test's name), for alarms over all its
    clusters."""

    RESTORE_SECONDS: Final = "RestoreSeconds"
    SUCCEEDED: Final = "RestoreTestsSucceeded"
    FAILED: Final = "RestoreTestsFailed"
    # How old the restored point was when the restore began: the recovery point objective met.
    RECOVERY_POINT_AGE_SECONDS: Final = "RecoveryPointAgeSeconds"


class RestoreTestRecord:
    """The outcomes written in the record tag's value."""

    RESTORING: Final = "restoring"
    SUCCEEDED: Final = "succeeded"
    FAILED: Final = "failed"


# On every temporary cluster: the test's name (the IAM condition that lets it delete), and when
# it is due for deletion by a later occurrence's sweep if the run that made it died.
RESTORE_TEST_TAG_KEY: Final = RESERVED_TAG_PREFIX + "restore-test"
RESTORE_TEST_EXPIRES_TAG_KEY: Final = RESERVED_TAG_PREFIX + "expires"
# The name of the cluster whose recovery point it holds: the sweep counts a died run against it.
RESTORE_TEST_CLUSTER_TAG_KEY: Final = RESERVED_TAG_PREFIX + "tested-cluster"
# The Lambda request id of the invocation that restored it: Lambda retries a failed asynchronous
# invocation with the same request id, and only that retry takes over the test of a died run.
RESTORE_TEST_INVOCATION_TAG_KEY: Final = RESERVED_TAG_PREFIX + "invocation"
_CLAIM_KEY_PREFIX = RESERVED_TAG_PREFIX + "restore-test:"

# <test>-<YYYYMMDDHHMM>-<12 hex digits>: 30 + 1 + 12 + 1 + 12 = 56 of a cluster name's 63.
RESTORE_TEST_NAME_MAX_LENGTH: Final = 30
_DIGEST_LENGTH = 12
# A delivery later than this after its scheduled time restores nothing (EventBridge Scheduler
# retries for at most 24 hours; a test that starts hours late measures the wrong thing).
RESTORE_TEST_START_WINDOW_SECONDS: Final = 6 * 60 * 60
# How long a run waits for its temporary cluster to become ACTIVE before it fails the test.
RESTORE_TEST_RESTORE_WAIT_MAX_SECONDS: Final = 8 * 60 * 60
VALIDATION_WINDOW_MAX_SECONDS: Final = 24 * 60 * 60
# A temporary cluster outlives its run's longest wait and validation window by this much before a
# later occurrence's sweep deletes it.
RESTORE_TEST_EXPIRY_MARGIN_SECONDS: Final = 60 * 60
_OCCURRENCE_FORMAT = "%Y-%m-%dT%H:%MZ"
_NAME_TIME_FORMAT = "%Y%m%d%H%M"


def restore_test_name_errors(field: str, value: str) -> list[str]:
    """A test's name starts its temporary clusters' names and its record tag's key."""
    errors = name_rule_errors(field, value, RESTORE_TEST_NAME_MAX_LENGTH, "a restore test name")
    if value.endswith("-") or "--" in value:
        errors.append(f"{field}: a restore test name must not end with a hyphen or hold two in a row")
    return errors


def validation_window_errors(field: str, seconds: int) -> list[str]:
    if not 0 <= seconds <= VALIDATION_WINDOW_MAX_SECONDS:
        return [f"{field}: must be between 0 and 24 hours (got {seconds} seconds)"]
    return []


FUNCTION_ARN_PATTERN: Final = (
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$"
)


def recovery_point_types_errors(field: str, value: object) -> list[str]:
    if not isinstance(value, list | tuple) or not value or any(item not in RECOVERY_POINT_TYPES for item in value):
        return [f"{field}: must list one or both of {', '.join(RECOVERY_POINT_TYPES)} (got {str(value)[:60]!r})"]
    return []


def temporary_cluster_lifetime_seconds(validation_window_seconds: int) -> int:
    """How long after its restore request a temporary cluster may be kept: the longest wait for
    ACTIVE, the validation window and a margin. Its 'expires' tag says when that is."""
    return RESTORE_TEST_RESTORE_WAIT_MAX_SECONDS + validation_window_seconds + RESTORE_TEST_EXPIRY_MARGIN_SECONDS


def function_arn_errors(field: str, value: str) -> list[str]:
    if not re.match(FUNCTION_ARN_PATTERN, value):
        return [f"{field}: must be a Lambda function ARN (got {value[:120]!r})"]
    return []


def _occurrence(test: str, scheduled: datetime, cluster_arn: str) -> str:
    return f"restore-test|{test}|{restore_test_occurrence(scheduled)}|{cluster_arn}"


def restore_test_token(test: str, scheduled: datetime, cluster_arn: str) -> str:
    """The request tag of one occurrence's temporary cluster of one source cluster."""
    return hashlib.sha256(_occurrence(test, scheduled, cluster_arn).encode()).hexdigest()[:32]


def temporary_cluster_name(test: str, scheduled: datetime, cluster_arn: str) -> str:
    """<test>-<YYYYMMDDHHMM>-<digest>, lower case: the same for every delivery of the occurrence."""
    digest = hashlib.sha256(("name|" + _occurrence(test, scheduled, cluster_arn)).encode()).hexdigest()
    return f"{test}-{scheduled.strftime(_NAME_TIME_FORMAT)}-{digest[:_DIGEST_LENGTH]}".lower()


def temporary_cluster_time(test: str, name: str) -> datetime | None:
    """The occurrence of the test's temporary cluster named `name`; None for a name without the
    shape of the test's temporary clusters' (the sweep also requires the test's tag)."""
    match = re.fullmatch(rf"{re.escape(test.lower())}-(\d{{12}})-[0-9a-f]{{{_DIGEST_LENGTH}}}", name.lower())
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), _NAME_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def restore_test_claim_key(test: str) -> str:
    """The key of the record a test leaves on each recovery point it restored."""
    return _CLAIM_KEY_PREFIX + test


def restore_test_occurrence(scheduled: datetime) -> str:
    """An occurrence as its records write it (to the minute: schedules fire on the minute)."""
    return scheduled.strftime(_OCCURRENCE_FORMAT)


def restore_test_record_time(occurrence: str) -> datetime | None:
    """The time of an occurrence as a record writes it; None for anything else."""
    try:
        return datetime.strptime(occurrence, _OCCURRENCE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def restore_test_record(scheduled: datetime, outcome: str, restore_seconds: float | None = None) -> str:
    """The record's value: '<occurrence> <outcome>[ <seconds to ACTIVE>]'."""
    text = f"{restore_test_occurrence(scheduled)} {outcome}"
    return text if restore_seconds is None else f"{text} {round(restore_seconds)}"


def parse_restore_test_record(value: str) -> tuple[str, str, int | None] | None:
    """(occurrence as written, outcome, seconds or None); None for a value that is not a record."""
    parts = value.split(" ")
    if len(parts) not in (2, 3) or restore_test_record_time(parts[0]) is None:
        return None
    seconds = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None
    return parts[0], parts[1], seconds


def restore_test_cluster_record(record: str, point_arn: str) -> str:
    """The record as the source cluster carries it when the recovery point refuses tags (an
    automated snapshot may: undocumented): '<record> <snapshot id of the point>'."""
    return f"{record} {point_arn.rsplit('/', 1)[-1]}"


def parse_restore_test_cluster_record(value: str) -> tuple[tuple[str, str, int | None], str] | None:
    """(the record, the snapshot id of its point) of a cluster's record; None for anything else."""
    text, _, point = value.rpartition(" ")
    record = parse_restore_test_record(text) if point else None
    return None if record is None else (record, point)
