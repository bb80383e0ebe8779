"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack, and restore
clusters from those snapshots."""

from .copy import CopyDestination, ElasticClusterSnapshotCopy
from .permissions import OPERATIONS, Decision, Operation, Scope
from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
from .provider import SnapshotProvider
from .provider_options import ProviderOptions
from .restore import ElasticClusterFromSnapshot
from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = [
    "OPERATIONS",
    "ClusterNotActive",
    "CopyDestination",
    "Decision",
    "ElasticClusterFromSnapshot",
    "ElasticClusterSnapshot",
    "ElasticClusterSnapshotCopy",
    "FinalSnapshot",
    "InvalidPropsError",
    "Operation",
    "ProviderOptions",
    "Scope",
    "SnapshotBeforeChange",
    "SnapshotProvider",
]
