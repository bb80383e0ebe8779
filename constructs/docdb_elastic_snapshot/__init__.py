"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack and on a
schedule (backup plans), copy the snapshots, restore clusters from them, and test those restores on
a schedule.

The constructs are loaded on first use (PEP 562): ``docdb_elastic_snapshot.report``, the
``docdb-elastic-backup`` console script, needs neither aws_cdk nor the Node.js it starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backup_plan import ElasticClusterBackupPlan
    from .backup_rule import ElasticClusterBackupRule, ElasticClusterCopyAction
    from .copy import CopyDestination, ElasticClusterSnapshotCopy
    from .guard import ElasticClusterBackupGuard
    from .permissions import OPERATIONS, Decision, Operation, Scope
    from .protections import ClusterNotActive, FinalSnapshot, SnapshotBeforeChange
    from .provider import SnapshotProvider
    from .provider_options import ProviderOptions
    from .restore import ElasticClusterFromSnapshot
    from .restore_test import ElasticClusterRestoreTest, RecoveryPointType
    from .snapshot import ElasticClusterSnapshot
    from .validation import InvalidPropsError

_LAZY = {
    "ElasticClusterBackupPlan": "backup_plan",
    "ElasticClusterBackupRule": "backup_rule",
    "ElasticClusterCopyAction": "backup_rule",
    "CopyDestination": "copy",
    "ElasticClusterSnapshotCopy": "copy",
    "ElasticClusterBackupGuard": "guard",
    "OPERATIONS": "permissions",
    "Decision": "permissions",
    "Operation": "permissions",
    "Scope": "permissions",
    "ClusterNotActive": "protections",
    "FinalSnapshot": "protections",
    "SnapshotBeforeChange": "protections",
    "SnapshotProvider": "provider",
    "ProviderOptions": "provider_options",
    "ElasticClusterFromSnapshot": "restore",
    "ElasticClusterRestoreTest": "restore_test",
    "RecoveryPointType": "restore_test",
    "ElasticClusterSnapshot": "snapshot",
    "InvalidPropsError": "validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "OPERATIONS",
    "ClusterNotActive",
    "CopyDestination",
    "Decision",
    "ElasticClusterBackupGuard",
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
