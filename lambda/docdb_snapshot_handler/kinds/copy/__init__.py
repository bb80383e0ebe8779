"""The copy kind: ElasticClusterSnapshotCopy."""

from .lifecycle import create_or_update, delete, resume

__all__ = ["create_or_update", "delete", "resume"]
