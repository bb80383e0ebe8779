"""What the scheduled kinds' contracts share (a backup plan's rules, a restore test): the members
every schedule input has, EventBridge Scheduler's time placeholder and how its value is read, and
the rule that selects a cluster by ARN or by tags. The constructs write these, the handler and
the recovery report read them."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "SCHEDULED_TIME_PLACEHOLDER",
    "ScheduledInput",
    "scheduled_time_of",
    "selected_by",
]

# A context attribute of EventBridge Scheduler: the schedule's input holds it, the delivered
# event the occurrence's time in its place.
SCHEDULED_TIME_PLACEHOLDER: Final = "<aws.scheduler.scheduled-time>"


class ScheduledInput:
    """Members every scheduled input has, whatever its kind."""

    VERSION: Final = "Version"
    # SCHEDULED_TIME_PLACEHOLDER in the schedule; the occurrence's time when delivered.
    SCHEDULED_TIME: Final = "ScheduledTime"
    CLUSTERS: Final = "Clusters"
    # A list of tag maps: a cluster is selected when it carries every tag of one of them.
    TAG_SELECTIONS: Final = "TagSelections"


def scheduled_time_of(text: str) -> datetime:
    """EventBridge Scheduler's <aws.scheduler.scheduled-time>: ISO 8601 in UTC, to the second.
    Raises ValueError for anything else."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]00:00)", text):
        raise ValueError(f"not an ISO 8601 UTC time: {text[:40]!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(microsecond=0)


def selected_by(
    cluster_arn: str,
    tags: Mapping[str, str],
    clusters: Collection[str],
    tag_selections: Sequence[Mapping[str, str]],
) -> bool:
    """Whether a schedule's selection takes the cluster: named, or carrying every tag of one of
    the tag maps."""
    return cluster_arn in clusters or any(
        all(tags.get(key) == value for key, value in wanted.items()) for wanted in tag_selections
    )
