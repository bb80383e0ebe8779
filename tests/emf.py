"""Reading and checking embedded-metric-format lines, by the specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
from typing import Any

UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def spec_errors(document: Any) -> list[str]:
    """What makes `document` an invalid EMF object (empty: valid)."""
    if not isinstance(document, dict):
        return ["the root must be an object"]
    meta = document.get("_aws")
    if not isinstance(meta, dict):
        return ["_aws: required object"]
    errors = []
    if not isinstance(meta.get("Timestamp"), int) or meta["Timestamp"] < 0:
        errors.append("_aws.Timestamp: required, milliseconds since the epoch (an integer)")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        return [*errors, "_aws.CloudWatchMetrics: required array"]
    for index, directive in enumerate(directives):
        where = f"_aws.CloudWatchMetrics[{index}]"
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 1024:
            errors.append(f"{where}.Namespace: required string of 1-1024 characters")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list):
            errors.append(f"{where}.Dimensions: required array of dimension sets")
            dimension_sets = []
        for dimensions in dimension_sets:
            if not isinstance(dimensions, list) or len(dimensions) > 30:
                errors.append(f"{where}.Dimensions: each set is an array of at most 30 names")
                continue
            for name in dimensions:
                if not isinstance(document.get(name), str):
                    errors.append(f"{where}: dimension {name!r} must be a string member of the root")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or len(metrics) > 100:
            errors.append(f"{where}.Metrics: required array of at most 100 metrics")
            metrics = []
        for metric in metrics:
            name = metric.get("Name") if isinstance(metric, dict) else None
            if not isinstance(name, str) or not 1 <= len(name) <= 1024:
                errors.append(f"{where}.Metrics: each needs a Name of 1-1024 characters")
                continue
            if "Unit" in metric and metric["Unit"] not in UNITS:
                errors.append(f"{where}.Metrics[{name}].Unit: {metric['Unit']!r} is not a CloudWatch unit")
            value = document.get(name)
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                errors.append(f"{where}: metric {name!r} needs a number (or array of numbers) in the root")
    return errors


def emf_lines(output: str) -> list[dict[str, Any]]:
    """Every EMF object written as a line of `output`."""
    found = []
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            found.append(document)
    return found
