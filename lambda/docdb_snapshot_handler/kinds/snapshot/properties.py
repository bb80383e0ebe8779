"""Typed view of the snapshot kind's ResourceProperties (strings, as CloudFormation sends them),
checked against the contract before any API call; every broken rule at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ... import contract
from ...contract import Prop
from ...parsing import (
    Home,
    InvalidProperties,
    boolean,
    choice,
    optional_str,
    parse_timeout,
    properties_of,
    tag_map,
    whole_number,
)


@dataclass(frozen=True)
class CopyDestination:
    """Where FinalSnapshot copies its snapshot: the function's region (the only one AWS copies
    elastic cluster snapshots within), and a key of it (or the source's key when None)."""

    region: str
    kms_key_id: str | None = None


@dataclass(frozen=True)
class SnapshotProperties:
    cluster_arn: str
    mode: str = contract.Mode.SNAPSHOT
    cluster_name: str | None = None
    owner: str | None = None
    retain_last: int | None = None
    on_cluster_not_active: str = contract.ClusterNotActive.FAIL
    snapshot_name: str | None = None
    snapshot_name_prefix: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trigger: str | None = None
    wait_for_completion: bool = True
    timeout_seconds: int = contract.TIMEOUT_MAX_SECONDS
    removal_policy: str = contract.RemovalPolicy.RETAIN
    copy_to: tuple[CopyDestination, ...] = ()


def parse_properties(props: Mapping[str, Any] | None, home: Home | None = None) -> SnapshotProperties:
    """Parse and validate; raise InvalidProperties listing every broken rule."""
    home = home or Home()
    errors: list[str] = []
    props = properties_of(props, contract.OUR_PROPS, errors)

    mode = choice(props, Prop.MODE, contract.MODES, errors)
    cluster_arn = optional_str(props, Prop.CLUSTER_ARN, errors)
    if cluster_arn is not None:
        arn_errors = contract.cluster_arn_errors(Prop.CLUSTER_ARN, cluster_arn)
        errors.extend(
            arn_errors
            or contract.cluster_location_errors(
                Prop.CLUSTER_ARN, cluster_arn, partition=home.partition, region=home.region, account=home.account
            )
        )
    elif mode != contract.Mode.BEFORE_CHANGE and Prop.CLUSTER_ARN not in props:
        errors.append(f"{Prop.CLUSTER_ARN}: is required")
    cluster_name = optional_str(props, Prop.CLUSTER_NAME, errors)
    if mode == contract.Mode.BEFORE_CHANGE and props.get(Prop.CLUSTER_NAME) in (None, ""):
        errors.append(f"{Prop.CLUSTER_NAME}: is required to find the cluster before it changes")

    name = optional_str(props, Prop.SNAPSHOT_NAME, errors)
    prefix = optional_str(props, Prop.SNAPSHOT_NAME_PREFIX, errors)
    if name is not None and prefix is not None:
        errors.append(f"{Prop.SNAPSHOT_NAME} and {Prop.SNAPSHOT_NAME_PREFIX}: give one or the other, not both")
    if name is not None:
        errors.extend(contract.snapshot_name_errors(Prop.SNAPSHOT_NAME, name))
        if mode != contract.Mode.SNAPSHOT:
            errors.append(
                f"{Prop.SNAPSHOT_NAME}: a {mode} snapshot is taken many times, so it needs "
                f"{Prop.SNAPSHOT_NAME_PREFIX} instead"
            )
    if prefix is not None:
        errors.extend(contract.snapshot_name_prefix_errors(Prop.SNAPSHOT_NAME_PREFIX, prefix))
    if name is None and prefix is None:
        errors.append(f"{Prop.SNAPSHOT_NAME} or {Prop.SNAPSHOT_NAME_PREFIX}: one is required")

    timeout = parse_timeout(props, Prop.TIMEOUT_SECONDS, errors)

    removal_policy = choice(props, Prop.REMOVAL_POLICY, contract.REMOVAL_POLICIES, errors)
    if mode != contract.Mode.SNAPSHOT and removal_policy != contract.RemovalPolicy.RETAIN:
        errors.append(f"{Prop.REMOVAL_POLICY}: a {mode} snapshot is always retained")

    owner = optional_str(props, Prop.OWNER, errors)
    retain_last = whole_number(props, Prop.RETAIN_LAST, errors, what="a whole number")
    if retain_last is not None:
        errors.extend(contract.retain_last_errors(Prop.RETAIN_LAST, retain_last))
        if mode == contract.Mode.FINAL:
            errors.append(f"{Prop.RETAIN_LAST}: a final snapshot is never pruned")
        if not owner or prefix is None:
            errors.append(
                f"{Prop.RETAIN_LAST}: needs {Prop.OWNER} and {Prop.SNAPSHOT_NAME_PREFIX}, "
                "which recognise the snapshots this construct took"
            )

    parsed = SnapshotProperties(
        cluster_arn=cluster_arn or "",
        mode=mode,
        cluster_name=cluster_name,
        owner=owner,
        retain_last=retain_last,
        on_cluster_not_active=choice(props, Prop.ON_CLUSTER_NOT_ACTIVE, contract.CLUSTER_NOT_ACTIVE_CHOICES, errors),
        snapshot_name=name,
        snapshot_name_prefix=prefix,
        tags=tag_map(props, Prop.TAGS, errors),
        trigger=optional_str(props, Prop.TRIGGER, errors),
        wait_for_completion=boolean(props, Prop.WAIT_FOR_COMPLETION, True, errors),
        timeout_seconds=timeout,
        removal_policy=removal_policy,
        copy_to=_copy_to(props, mode, home, errors),
    )
    if errors:
        raise InvalidProperties(errors)
    return parsed


def _copy_to(props: Mapping[str, Any], mode: str, home: Home, errors: list[str]) -> tuple[CopyDestination, ...]:
    value = props.get(Prop.COPY_TO)
    if value is None:
        return ()
    field_name = Prop.COPY_TO
    if mode != contract.Mode.FINAL:
        errors.append(f"{field_name}: only a final snapshot is copied")
    if not isinstance(value, list) or not all(isinstance(entry, Mapping) for entry in value):
        errors.append(f"{field_name}: must be a list of {{Region, KmsKeyId}} objects")
        return ()
    destinations = []
    allowed = {contract.CopyDestinationKey.REGION, contract.CopyDestinationKey.KMS_KEY_ID}
    for index, entry in enumerate(value):
        where = f"{field_name}[{index}]"
        unknown = sorted(str(key)[:40] for key in set(entry) - allowed)
        if unknown:
            errors.append(f"{where}: unknown keys {', '.join(unknown)}: expected only {', '.join(sorted(allowed))}")
        region = entry.get(contract.CopyDestinationKey.REGION, home.region)
        key = entry.get(contract.CopyDestinationKey.KMS_KEY_ID)
        if not isinstance(region, str) or (key is not None and not isinstance(key, str)):
            errors.append(f"{where}: Region and KmsKeyId must be strings")
            continue
        names = (contract.CopyDestinationKey.REGION, contract.CopyDestinationKey.KMS_KEY_ID)
        errors.extend(contract.copy_destination_errors(where, region, key, home.region, names))
        destinations.append(CopyDestination(region, key))
    errors.extend(contract.copy_destination_count_errors(field_name, [d.region for d in destinations]))
    return tuple(destinations)


def same_meaning(old_props: Any, new: SnapshotProperties) -> bool:
    """Whether an Update's old properties, parsed the same way, ask for the same thing as `new`.
    Defaults left out or spelled out do not count; the owner counts only with retention (it is
    only used for pruning)."""
    if not isinstance(old_props, Mapping):
        return False
    try:
        old = parse_properties(old_props)
    except InvalidProperties:
        return False

    def meaning(props: SnapshotProperties) -> SnapshotProperties:
        return replace(props, owner=props.owner if props.retain_last is not None else None)

    return meaning(old) == meaning(new)


def previous_cluster_name(old_props: Any, current: str) -> str:
    """The cluster name before this change (an Update's OldResourceProperties), leniently."""
    if isinstance(old_props, Mapping):
        old = old_props.get(Prop.CLUSTER_NAME)
        if isinstance(old, str) and old:
            return old
    return current


def previous_cluster_arn(old_props: Any) -> str | None:
    if isinstance(old_props, Mapping):
        old = old_props.get(Prop.CLUSTER_ARN)
        if isinstance(old, str) and not contract.cluster_arn_errors(Prop.CLUSTER_ARN, old):
            return old
    return None
