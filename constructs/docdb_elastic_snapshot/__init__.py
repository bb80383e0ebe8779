"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack."""

from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = ["ClusterNotActive", "ElasticClusterSnapshot", "FinalSnapshot", "InvalidPropsError", "SnapshotBeforeChange"]
