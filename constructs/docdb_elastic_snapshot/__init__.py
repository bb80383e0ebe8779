"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack."""

from .copy import CopyDestination, ElasticClusterSnapshotCopy
from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = [
    "ClusterNotActive",
    "CopyDestination",
    "ElasticClusterSnapshot",
    "ElasticClusterSnapshotCopy",
    "FinalSnapshot",
    "InvalidPropsError",
    "SnapshotBeforeChange",
]
