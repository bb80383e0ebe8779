"""The account's quota of manual elastic cluster snapshots per region: its default, the context key
for a raised one, the words every error at the quota uses, and the arithmetic of how many
snapshots a retention keeps of one cluster at steady state.

The quota counts every manual snapshot of the account in the region (ours, copies, and anybody
else's), so the library can only budget what it makes; the report shows what exists.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = [
    "MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY",
    "MANUAL_SNAPSHOT_QUOTA_DEFAULT",
    "QUOTA_EXCEEDED_CODE",
    "QUOTA_WARNING_SHARE",
    "occurrences_within",
    "points_kept",
    "snapshot_quota_advice",
]

# AWS's documented default (DocumentDB quotas page, elastic clusters), adjustable in Service Quotas.
MANUAL_SNAPSHOT_QUOTA_DEFAULT: Final = 20
MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY: Final = "docdb-elastic-snapshot:manualSnapshotQuota"
# What CreateClusterSnapshot and CopyClusterSnapshot answer at the quota (HTTP 402, botocore's model).
QUOTA_EXCEEDED_CODE: Final = "ServiceQuotaExceededException"
# The report calls a region at this share of its quota or more a problem.
QUOTA_WARNING_SHARE: Final = 0.9


def snapshot_quota_advice(keep_fewer: str) -> str:
    """What to do at the quota, in one wording for every construct; `keep_fewer` names the prop
    that keeps fewer (``keep_last``, ``retain_last``...)."""
    return (
        "the account's quota of manual elastic cluster snapshots in this region is reached "
        f"(AWS's default is {MANUAL_SNAPSHOT_QUOTA_DEFAULT}; ServiceQuotaExceededException): raise it in Service "
        f"Quotas (Amazon DocumentDB), or keep fewer ({keep_fewer}), or delete manual snapshots no longer needed"
    )


def points_kept(*, keep_last: int | None, delete_after_seconds: int | None, most_within: int | None) -> int | None:
    """How many recovery points of one cluster a rule keeps at steady state: the smaller of
    `keep_last` and `most_within` (the most occurrences that fall within any span of
    `delete_after_seconds`, ending at an occurrence: those are the points not yet expired). None:
    neither retention is set, the points are kept forever and the count grows without bound."""
    bounds = [bound for bound in (keep_last, most_within if delete_after_seconds is not None else None) if bound]
    return min(bounds) if bounds else None


def occurrences_within(span_seconds: int, gap_seconds: int) -> int:
    """The most occurrences `gap_seconds` apart (at least) in a half-open span of `span_seconds`
    that ends at one of them: a point expires once `span_seconds` after it have passed."""
    return max(1, math.ceil(span_seconds / gap_seconds))
