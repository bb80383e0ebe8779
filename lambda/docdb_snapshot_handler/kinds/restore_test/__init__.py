"""The restore test kind: ElasticClusterRestoreTest's scheduled occurrences. Not a CloudFormation
resource: its entry point is `run`, for the event the test's schedule sends."""

from .occurrence import count_invalid, log_fields, run

__all__ = ["count_invalid", "log_fields", "run"]
