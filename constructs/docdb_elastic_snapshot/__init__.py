"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack."""

from .copy import CopyDestination, ElasticClusterSnapshotCopy
from .permissions import OPERATIONS, Decision, Operation, Scope
from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
from .provider import SnapshotProvider
from .provider_options import ProviderOptions
from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = [
    "OPERATIONS",
    "ClusterNotActive",
    "CopyDestination",
    "Decision",
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
