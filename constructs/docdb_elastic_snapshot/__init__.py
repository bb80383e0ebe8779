"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack and on a
schedule (backup plans), copy the snapshots, restore clusters from them, and test those restores on
a schedule."""

from .backup_plan import ElasticClusterBackupPlan
from .backup_rule import ElasticClusterBackupRule, ElasticClusterCopyAction
from .copy import CopyDestination, ElasticClusterSnapshotCopy
from .permissions import OPERATIONS, Decision, Operation, Scope
from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
from .provider import SnapshotProvider
from .provider_options import ProviderOptions
from .restore import ElasticClusterFromSnapshot
from .restore_test import ElasticClusterRestoreTest, RecoveryPointType
from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = [
    "OPERATIONS",
    "ClusterNotActive",
    "CopyDestination",
    "Decision",
    "ElasticClusterBackupPlan",
    "ElasticClusterBackupRule",
    "ElasticClusterCopyAction",
    "ElasticClusterFromSnapshot",
    "ElasticClusterRestoreTest",
    "ElasticClusterSnapshot",
    "ElasticClusterSnapshotCopy",
    "FinalSnapshot",
    "InvalidPropsError",
    "Operation",
    "ProviderOptions",
    "RecoveryPointType",
    "Scope",
    "SnapshotBeforeChange",
    "SnapshotProvider",
]
