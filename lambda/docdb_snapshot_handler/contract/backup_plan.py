"""The backup plan kind's contract (ElasticClusterBackupPlan): the input each rule's schedule
sends, the names and tags of the recovery points it makes, the rules on plan and rule names and
on retention, and the metrics it publishes.

A recovery point's name is derived from the occurrence alone (plan, rule, scheduled time,
cluster), so every delivery of one occurrence asks for the same name and the service is the lock
(once.py). The name also carries the scheduled time and a digest that binds it to the plan, the
rule and the cluster: retention recognises the plan's recovery points from one listing of the
region, without reading each one's tags.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Final

from .common import RESERVED_TAG_PREFIX, RETAIN_LAST_MAX, TAGS_MAX_COUNT, name_rule_errors
from .scheduled import ScheduledInput

__all__ = [
    "BACKUP_EVENT_KEY",
    "BACKUP_INPUT_VERSION",
    "BACKUP_RESERVED_TAG_KEYS",
    "BACKUP_USER_TAGS_MAX_COUNT",
    "DELETE_AFTER_MIN_SECONDS",
    "METRIC_NAMESPACE",
    "PLAN_NAME_MAX_LENGTH",
    "PLAN_TAG_KEY",
    "RULE_NAME_MAX_LENGTH",
    "RULE_TAG_KEY",
    "START_WINDOW_MAX_SECONDS",
    "START_WINDOW_MIN_SECONDS",
    "BackupInput",
    "CopyActionKey",
    "PlanMetric",
    "backup_tag_count_errors",
    "delete_after_errors",
    "keep_last_errors",
    "occurrence_token",
    "plan_name_errors",
    "recovery_point_name",
    "recovery_point_time",
    "rule_name_errors",
    "start_window_errors",
]

# The key of the scheduled event's input that marks it as a backup plan's occurrence.
BACKUP_EVENT_KEY: Final = "DocDbElasticBackup"
BACKUP_INPUT_VERSION: Final = 1


class BackupInput:
    """Members of the input object each rule's schedule sends (under BACKUP_EVENT_KEY)."""

    VERSION: Final = ScheduledInput.VERSION
    PLAN: Final = "Plan"
    RULE: Final = "Rule"
    SCHEDULED_TIME: Final = ScheduledInput.SCHEDULED_TIME
    START_WINDOW_SECONDS: Final = "StartWindowSeconds"
    # The longest gap between two occurrences: the age a newest recovery point may reach.
    INTERVAL_SECONDS: Final = "IntervalSeconds"
    DELETE_AFTER_SECONDS: Final = "DeleteAfterSeconds"
    KEEP_LAST: Final = "KeepLast"
    RECOVERY_POINT_TAGS: Final = "RecoveryPointTags"
    COPIES: Final = "Copies"
    CLUSTERS: Final = ScheduledInput.CLUSTERS
    TAG_SELECTIONS: Final = ScheduledInput.TAG_SELECTIONS


class CopyActionKey:
    """Members of each entry of BackupInput.COPIES."""

    REGION: Final = "Region"
    KMS_KEY_ID: Final = "KmsKeyId"
    DELETE_AFTER_SECONDS: Final = "DeleteAfterSeconds"
    KEEP_LAST: Final = "KeepLast"


class PlanMetric:
    """Metric names, in METRIC_NAMESPACE with the dimensions Plan and Rule."""

    RECOVERY_POINTS_CREATED: Final = "RecoveryPointsCreated"
    RECOVERY_POINTS_FAILED: Final = "RecoveryPointsFailed"
    RECOVERY_POINTS_DELETED: Final = "RecoveryPointsDeleted"
    COPIES_CREATED: Final = "CopiesCreated"
    OCCURRENCES_MISSED: Final = "OccurrencesMissed"
    # The oldest, over the selected clusters, of each one's newest recovery point of the rule.
    NEWEST_RECOVERY_POINT_AGE_SECONDS: Final = "NewestRecoveryPointAgeSeconds"


METRIC_NAMESPACE: Final = "DocDbElasticSnapshot"

# Tags on everything a plan makes: the plan (the IAM condition that lets it delete), the rule, and
# the occurrence (the request tag of once.py: an overlapping delivery adopts only its own).
PLAN_TAG_KEY: Final = RESERVED_TAG_PREFIX + "plan"
RULE_TAG_KEY: Final = RESERVED_TAG_PREFIX + "rule"
BACKUP_RESERVED_TAG_KEYS: Final = (PLAN_TAG_KEY, RULE_TAG_KEY, RESERVED_TAG_PREFIX + "request")
BACKUP_USER_TAGS_MAX_COUNT: Final = TAGS_MAX_COUNT - len(BACKUP_RESERVED_TAG_KEYS)

PLAN_NAME_MAX_LENGTH: Final = 50
# <rule>-<YYYYMMDDHHMM>-<12 hex digits>: 30 + 1 + 12 + 1 + 12 = 56 of a snapshot name's 63.
RULE_NAME_MAX_LENGTH: Final = 30
_DIGEST_LENGTH = 12
_TIME_FORMAT = "%Y%m%d%H%M"
DELETE_AFTER_MIN_SECONDS: Final = 24 * 60 * 60
START_WINDOW_MIN_SECONDS: Final = 60
# EventBridge Scheduler keeps retrying an occurrence for at most 24 hours.
START_WINDOW_MAX_SECONDS: Final = 24 * 60 * 60


def plan_name_errors(field: str, value: str) -> list[str]:
    errors = name_rule_errors(field, value, PLAN_NAME_MAX_LENGTH, "a backup plan name")
    if value.endswith("-"):
        errors.append(f"{field}: a backup plan name must not end with a hyphen")
    return errors


def rule_name_errors(field: str, value: str) -> list[str]:
    """A rule's name starts the names of its recovery points."""
    errors = name_rule_errors(field, value, RULE_NAME_MAX_LENGTH, "a rule name")
    if value.endswith("-"):
        errors.append(f"{field}: a rule name must not end with a hyphen")
    return errors


def delete_after_errors(field: str, seconds: int) -> list[str]:
    if seconds < DELETE_AFTER_MIN_SECONDS:
        return [f"{field}: must be at least 1 day (got {seconds} seconds)"]
    if seconds % 60:
        return [f"{field}: must be a whole number of minutes (got {seconds} seconds)"]
    return []


def keep_last_errors(field: str, value: int) -> list[str]:
    if not 1 <= value <= RETAIN_LAST_MAX:
        return [f"{field}: must be between 1 and {RETAIN_LAST_MAX} (got {value})"]
    return []


def start_window_errors(field: str, seconds: int) -> list[str]:
    if not START_WINDOW_MIN_SECONDS <= seconds <= START_WINDOW_MAX_SECONDS:
        return [f"{field}: must be between 1 minute and 24 hours (got {seconds} seconds)"]
    return []


def backup_tag_count_errors(field: str, count: int) -> list[str]:
    if count > BACKUP_USER_TAGS_MAX_COUNT:
        return [
            f"{field}: at most {BACKUP_USER_TAGS_MAX_COUNT} tags are allowed (got {count}; "
            f"{len(BACKUP_RESERVED_TAG_KEYS)} of the API's {TAGS_MAX_COUNT} are kept for {RESERVED_TAG_PREFIX}*)"
        ]
    return []


def _occurrence(plan: str, rule: str, scheduled: datetime, cluster_arn: str, region: str | None) -> str:
    copy = f"|copy|{region}" if region else ""
    # To the minute: schedules fire on the minute, and a name holds no seconds to recompute from.
    return f"{plan}|{rule}|{scheduled.strftime('%Y-%m-%dT%H:%MZ')}|{cluster_arn}{copy}"


def occurrence_token(plan: str, rule: str, scheduled: datetime, cluster_arn: str, region: str | None = None) -> str:
    """The request tag of one occurrence's recovery point of one cluster (or its copy to `region`)."""
    return hashlib.sha256(_occurrence(plan, rule, scheduled, cluster_arn, region).encode()).hexdigest()[:32]


def recovery_point_name(plan: str, rule: str, scheduled: datetime, cluster_arn: str, region: str | None = None) -> str:
    """<rule>-<YYYYMMDDHHMM>-<digest>: the same for every delivery of the occurrence."""
    digest = hashlib.sha256(("name|" + _occurrence(plan, rule, scheduled, cluster_arn, region)).encode())
    return f"{rule}-{scheduled.strftime(_TIME_FORMAT)}-{digest.hexdigest()[:_DIGEST_LENGTH]}"


def recovery_point_time(
    plan: str, rule: str, name: str, cluster_arn: str, region: str | None = None
) -> datetime | None:
    """The scheduled time of `name` if it is this plan's and this rule's recovery point of
    `cluster_arn` (or its copy to `region`); None for any other name. In any case: snapshot names
    are "not case sensitive" (CopyClusterSnapshot), and whether AWS stores them lowercase is
    undocumented (docs/aws-limits.md)."""
    pattern = rf"{re.escape(rule)}-(\d{{12}})-([0-9a-f]{{{_DIGEST_LENGTH}}})"
    match = re.fullmatch(pattern, name, flags=re.IGNORECASE)
    if match is None:
        return None
    try:
        scheduled = datetime.strptime(match.group(1), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    if recovery_point_name(plan, rule, scheduled, cluster_arn, region).lower() != name.lower():
        return None
    return scheduled
