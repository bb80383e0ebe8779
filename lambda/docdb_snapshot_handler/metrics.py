"""CloudWatch metrics in the embedded metric format (EMF), written by hand.

One JSON object on its own line of stdout: Lambda sends it to CloudWatch Logs, which extracts the
metrics. No PutMetricData call (no permission, no latency, no failure mode of its own) and no
dependency: the Lambda asset stays the standard library, boto3 and crhelper (Powertools' Metrics
would add a package to the asset and to the cold start for one JSON line).

The specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

# The specification's limits: at most 100 metrics per object, 30 dimensions per set.
MAX_METRICS = 100
MAX_DIMENSIONS = 30

COUNT = "Count"
SECONDS = "Seconds"


def emf_object(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, float],
    units: Mapping[str, str],
    timestamp_ms: int,
    dimension_sets: Sequence[Sequence[str]] | None = None,
) -> dict[str, object]:
    """The EMF object for one set of dimension values and metric values; each metric is
    published once per dimension set (default: one set of all the dimensions)."""
    if not values:
        raise ValueError("an EMF object needs at least one metric")
    if dimension_sets is not None and any(set(names) - set(dimensions) for names in dimension_sets):
        raise ValueError("every name of a dimension set must be one of the dimensions")
    if len(values) > MAX_METRICS or len(dimensions) > MAX_DIMENSIONS:
        raise ValueError(f"at most {MAX_METRICS} metrics and {MAX_DIMENSIONS} dimensions per EMF object")
    clash = set(values) & set(dimensions)
    if clash:
        raise ValueError(f"names used both as a metric and as a dimension: {sorted(clash)}")
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(names) for names in dimension_sets or [list(dimensions)]],
                    "Metrics": [{"Name": name, "Unit": units.get(name, COUNT)} for name in values],
                }
            ],
        },
        **dimensions,
        **{name: float(value) for name, value in values.items()},
    }


def publish(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, float],
    units: Mapping[str, str] | None = None,
    *,
    wall: Callable[[], float] = time.time,
    stream: TextIO | None = None,
    dimension_sets: Sequence[Sequence[str]] | None = None,
) -> dict[str, object]:
    """Write the metrics as one EMF line (on stdout, where Lambda collects it); return the object."""
    document = emf_object(namespace, dimensions, values, units or {}, int(wall() * 1000), dimension_sets)
    out = stream or sys.stdout
    out.write(json.dumps(document, separators=(",", ":")) + "\n")
    out.flush()
    return document
