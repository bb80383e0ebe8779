"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack, and restore
clusters from those snapshots."""

from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
from .restore import ElasticClusterFromSnapshot
from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = [
    "ClusterNotActive",
    "ElasticClusterFromSnapshot",
    "ElasticClusterSnapshot",
    "FinalSnapshot",
    "InvalidPropsError",
    "SnapshotBeforeChange",
]
