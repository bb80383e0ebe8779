"""The snapshot kind: ElasticClusterSnapshot, SnapshotBeforeChange and FinalSnapshot (with its
copy_to), one resource type told apart by its Mode property."""

from .lifecycle import create_or_update, delete, resume

__all__ = ["create_or_update", "delete", "resume"]
