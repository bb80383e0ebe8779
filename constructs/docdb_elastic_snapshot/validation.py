"""Synth-time checks of ElasticClusterSnapshot props.

Literal values are checked with the handler's own rules (docdb_snapshot_handler.contract);
tokens are left to the handler, which applies the same rules at deploy time. Every broken rule
is collected and reported in one error.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack, Token

from docdb_snapshot_handler import contract

SUPPORTED_REMOVAL_POLICIES = {
    RemovalPolicy.RETAIN: contract.RemovalPolicy.RETAIN,
    RemovalPolicy.DESTROY: contract.RemovalPolicy.DESTROY,
}


class InvalidPropsError(ValueError):
    def __init__(self, construct: str, construct_path: str, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"Invalid {construct} props at {construct_path}:\n  - " + "\n  - ".join(errors))


def _literal(value: str | None) -> bool:
    return value is not None and not Token.is_unresolved(value)


def common_errors(
    *,
    snapshot_name_prefix: str | None,
    tags: Mapping[str, str] | None,
    timeout: Duration,
    retain_last: int | None,
) -> list[str]:
    """Rules every snapshot construct shares."""
    errors: list[str] = []
    if snapshot_name_prefix is not None and _literal(snapshot_name_prefix):
        errors.extend(contract.snapshot_name_prefix_errors("snapshot_name_prefix", snapshot_name_prefix))
    if tags:
        # Entries with tokens are checked at deploy time; the count is known now.
        literal = {k: v for k, v in tags.items() if _literal(k) and _literal(v)}
        errors.extend(contract.tag_count_errors("tags", len(tags)))
        errors.extend(contract.tag_entry_errors("tags", literal))
    millis = timeout.to_milliseconds()
    if millis % 1000:
        errors.append(f"timeout: must be a whole number of seconds (got {millis / 1000} seconds)")
    errors.extend(contract.timeout_errors("timeout", int(millis // 1000)))
    if retain_last is not None:
        errors.extend(contract.retain_last_errors("retain_last", retain_last))
    return errors


def snapshot_props_errors(
    stack: Stack,
    *,
    cluster_arn: str,
    snapshot_name: str | None,
    snapshot_name_prefix: str | None,
    retain_last: int | None,
    removal_policy: RemovalPolicy,
) -> list[str]:
    """Rules of ElasticClusterSnapshot alone."""
    errors: list[str] = []
    if _literal(cluster_arn):
        arn_errors = contract.cluster_arn_errors("cluster_arn", cluster_arn)
        known = {k: v for k, v in (("region", stack.region), ("account", stack.account)) if _literal(v)}
        errors.extend(arn_errors or contract.cluster_location_errors("cluster_arn", cluster_arn, **known))
    if snapshot_name is not None and snapshot_name_prefix is not None:
        errors.append("snapshot_name and snapshot_name_prefix: give one or the other, not both")
    if snapshot_name is not None and _literal(snapshot_name):
        errors.extend(contract.snapshot_name_errors("snapshot_name", snapshot_name))
    if snapshot_name is not None and retain_last is not None:
        errors.append("retain_last: needs generated names (snapshot_name_prefix), not an exact snapshot_name")
    if removal_policy not in SUPPORTED_REMOVAL_POLICIES:
        errors.append(f"removal_policy: must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY (got {removal_policy})")
    return errors
