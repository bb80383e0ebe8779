"""The restore kind: ElasticClusterFromSnapshot, a cluster restored from a snapshot."""

from .lifecycle import create_or_update, delete, resume

__all__ = ["create_or_update", "delete", "resume"]
