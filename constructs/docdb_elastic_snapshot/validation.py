"""Synth-time checks of ElasticClusterSnapshot props.

Literal values are checked with the handler's own rules (docdb_snapshot_handler.contract);
tokens are left to the handler, which applies the same rules at deploy time. Every broken rule
is collected and reported in one error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack, Token

from constructs import Construct
from docdb_snapshot_handler import contract

SUPPORTED_REMOVAL_POLICIES = {
    RemovalPolicy.RETAIN: contract.RemovalPolicy.RETAIN,
    RemovalPolicy.DESTROY: contract.RemovalPolicy.DESTROY,
}


class InvalidPropsError(ValueError):
    def __init__(self, construct: str, construct_path: str, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"Invalid {construct} props at {construct_path}:\n  - " + "\n  - ".join(errors))


def reject_invalid(construct: Construct, errors: list[str]) -> None:
    """Every construct's preamble: raise once, with every broken rule, before any resource is
    made; nothing when `errors` is empty."""
    if errors:
        raise InvalidPropsError(type(construct).__name__, construct.node.path, errors)


def literal(value: object) -> bool:
    """Known at synth time: not None, not a token."""
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
    if snapshot_name_prefix is not None and literal(snapshot_name_prefix):
        errors.extend(contract.snapshot_name_prefix_errors("snapshot_name_prefix", snapshot_name_prefix))
    if tags:
        # Entries with tokens are checked at deploy time; the count is known now.
        known = {k: v for k, v in tags.items() if literal(k) and literal(v)}
        errors.extend(contract.tag_count_errors("tags", len(tags)))
        errors.extend(contract.tag_entry_errors("tags", known))
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
    if literal(cluster_arn):
        arn_errors = contract.cluster_arn_errors("cluster_arn", cluster_arn)
        known = {k: v for k, v in (("region", stack.region), ("account", stack.account)) if literal(v)}
        errors.extend(arn_errors or contract.cluster_location_errors("cluster_arn", cluster_arn, **known))
    if snapshot_name is not None and snapshot_name_prefix is not None:
        errors.append("snapshot_name and snapshot_name_prefix: give one or the other, not both")
    if snapshot_name is not None and literal(snapshot_name):
        errors.extend(contract.snapshot_name_errors("snapshot_name", snapshot_name))
    if snapshot_name is not None and retain_last is not None:
        errors.append("retain_last: needs generated names (snapshot_name_prefix), not an exact snapshot_name")
    if removal_policy not in SUPPORTED_REMOVAL_POLICIES:
        errors.append(f"removal_policy: must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY (got {removal_policy})")
    return errors


def copy_props_errors(
    stack: Stack,
    *,
    source_snapshot_arn: str,
    destination_region: str | None,
    kms_key_id: str | None,
    retain_last: int | None,
    wait_for_completion: bool,
    removal_policy: RemovalPolicy,
) -> list[str]:
    """Rules of ElasticClusterSnapshotCopy alone (the handler applies the same ones to tokens,
    and to the stack's region and account when they are unknown here)."""
    errors: list[str] = []
    home = _known_home(stack)
    if literal(source_snapshot_arn):
        errors.extend(contract.source_snapshot_arn_errors("source_snapshot_arn", source_snapshot_arn, **home))
    if destination_region is not None and literal(destination_region):
        errors.extend(
            contract.region_errors("destination_region", destination_region)
            or contract.copy_region_errors("destination_region", destination_region, home.get("region", ""))
        )
    if kms_key_id is not None and literal(kms_key_id):
        errors.extend(contract.kms_key_errors("kms_key_id", kms_key_id, _known_region(stack, destination_region)))
    if retain_last is not None and not wait_for_completion:
        errors.append("retain_last: needs wait_for_completion=True (copies are pruned once the new one is ACTIVE)")
    if removal_policy not in SUPPORTED_REMOVAL_POLICIES:
        errors.append(f"removal_policy: must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY (got {removal_policy})")
    return errors


def copy_destinations_errors(
    field: str,
    destinations: Sequence[tuple[str | None, str | None]],
    home_region: str,
    names: tuple[str, str] = ("region", "kms_key_id"),
) -> list[str]:
    """Rules of FinalSnapshot's copy_to and a backup rule's copy_actions: (region, kms_key_id)
    per destination (`names`: the props' names), each in the stack's region `home_region` (when
    known, else ''), at most one."""
    errors: list[str] = []
    for index, (region, key) in enumerate(destinations):
        errors.extend(
            contract.copy_destination_errors(
                f"{field}[{index}]",
                region if region is not None and literal(region) else None,
                key if key is not None and literal(key) else None,
                home_region,
                names,
            )
        )
    errors.extend(contract.copy_destination_count_errors(field, [region or "" for region, _ in destinations]))
    return errors


def known_region(stack: Stack) -> str:
    """The stack's region, or '' in an environment-agnostic stack."""
    return stack.region if literal(stack.region) else ""


def _known_home(stack: Stack) -> dict[str, str]:
    """The stack's partition, region and account, those known at synth time."""
    known = (("partition", stack.partition), ("region", stack.region), ("account", stack.account))
    return {name: value for name, value in known if literal(value)}


def _known_region(stack: Stack, region: str | None) -> str:
    """The copy's region when known at synth time ('' otherwise)."""
    if region is not None:
        return region if literal(region) else ""
    return stack.region if literal(stack.region) else ""


def id_list_errors(field: str, ids: Sequence[str] | None, pattern: str, what: str) -> list[str]:
    """A list of subnet or security group ids: its literal entries checked now, its tokens (a
    VPC's subnets, a security group of the stack) at deploy time by the handler. An empty list
    is an error; None (not given) is not."""
    if ids is None or Token.is_unresolved(ids):
        return []
    known = [i for i in ids if literal(i)]
    if ids and not known:
        return []
    return contract.id_list_errors(field, known, pattern, what)
