"""The backup plan kind: ElasticClusterBackupPlan's scheduled occurrences. Not a CloudFormation
resource: its entry point is `run`, for the event each rule's schedule sends."""

from .occurrence import run

__all__ = ["run"]
