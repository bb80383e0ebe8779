"""AWS CDK constructs that snapshot Amazon DocumentDB elastic clusters from a stack."""

from .snapshot import ElasticClusterSnapshot
from .validation import InvalidPropsError

__all__ = ["ElasticClusterSnapshot", "InvalidPropsError"]
