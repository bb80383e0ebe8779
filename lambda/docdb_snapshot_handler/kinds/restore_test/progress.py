"""One cluster's test in an occurrence of a restore test, as it travels in the continuation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass
class ClusterTest:
    """One cluster's test in this occurrence; travels in the continuation as a dict."""

    source_arn: str
    source_name: str
    point_arn: str
    point_age: float
    cluster_arn: str
    requested_at: float
    active_at: float | None = None
    validated: bool = False
    outcome: str | None = None
    reason: str = ""
    # Concluded, but its DeleteCluster failed: tried again until the cluster is gone.
    delete_pending: bool = False

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> ClusterTest:
        """From a continuation (members a newer handler does not know are left out)."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in entry.items() if key in known})

    @property
    def restore_seconds(self) -> float | None:
        return None if self.active_at is None else max(0.0, self.active_at - self.requested_at)
