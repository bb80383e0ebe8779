"""Typed view of the ResourceProperties CloudFormation sends.

CloudFormation turns every scalar into a string ("true", "840"), so each value is parsed here and
checked against the contract before any API call is made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import contract
from .contract import Prop


class InvalidProperties(ValueError):
    """Every rule the properties break, each naming the property."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("Invalid properties: " + "; ".join(errors))


@dataclass(frozen=True)
class CopyDestination:
    """Where FinalSnapshot copies its snapshot: a region, and a key of that region (or the
    source's key when None)."""

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


def _optional_str(props: Mapping[str, Any], key: str, errors: list[str]) -> str | None:
    value = props.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"{key}: must be a string (got {type(value).__name__})")
        return None
    return value


def _bool(props: Mapping[str, Any], key: str, default: bool, errors: list[str]) -> bool:
    value = props.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    errors.append(f"{key}: must be 'true' or 'false' (got {str(value)[:40]!r})")
    return default


def _seconds(
    props: Mapping[str, Any], key: str, errors: list[str], what: str = "a whole number of seconds"
) -> int | None:
    """None when absent or malformed (the error is recorded)."""
    value = props.get(key)
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,9}", text):
        errors.append(f"{key}: must be {what} (got {str(value)[:40]!r})")
        return None
    return int(text)


def _choice(props: Mapping[str, Any], key: str, choices: tuple[str, ...], errors: list[str]) -> str:
    """One of `choices`; the first is the default."""
    value = props.get(key, choices[0])
    if value not in choices:
        errors.append(f"{key}: must be one of {', '.join(choices)} (got {str(value)[:40]!r})")
        return choices[0]
    return str(value)


def _tags(props: Mapping[str, Any], errors: list[str]) -> dict[str, str]:
    value = props.get(Prop.TAGS)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(f"{Prop.TAGS}: must be a map of tag keys to values")
        return {}
    tags = dict(value)
    errors.extend(contract.tags_errors(Prop.TAGS, tags))
    return tags


@dataclass(frozen=True)
class Home:
    """Where the function runs: a snapshot can only be taken of a cluster there."""

    partition: str = ""
    region: str = ""
    account: str = ""


def parse_properties(props: Mapping[str, Any] | None, home: Home = Home()) -> SnapshotProperties:
    """Parse and validate; raise InvalidProperties listing every broken rule."""
    if props is None:
        props = {}
    if not isinstance(props, Mapping):
        raise InvalidProperties([f"ResourceProperties: must be an object (got {type(props).__name__})"])
    errors: list[str] = []

    unknown = sorted(str(key) for key in set(props) - contract.OUR_PROPS - contract.CLOUDFORMATION_PROPS)
    if unknown:
        listed = ", ".join(repr(key[:40]) for key in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        errors.append(f"unknown properties {listed}: expected only {', '.join(sorted(contract.OUR_PROPS))}")

    mode = _choice(props, Prop.MODE, contract.MODES, errors)
    cluster_arn = _optional_str(props, Prop.CLUSTER_ARN, errors)
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
    cluster_name = _optional_str(props, Prop.CLUSTER_NAME, errors)
    if mode == contract.Mode.BEFORE_CHANGE and props.get(Prop.CLUSTER_NAME) in (None, ""):
        errors.append(f"{Prop.CLUSTER_NAME}: is required to find the cluster before it changes")

    name = _optional_str(props, Prop.SNAPSHOT_NAME, errors)
    prefix = _optional_str(props, Prop.SNAPSHOT_NAME_PREFIX, errors)
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

    timeout_seconds = _seconds(props, Prop.TIMEOUT_SECONDS, errors)
    if timeout_seconds is not None:
        errors.extend(contract.timeout_errors(Prop.TIMEOUT_SECONDS, timeout_seconds))

    removal_policy = _choice(props, Prop.REMOVAL_POLICY, contract.REMOVAL_POLICIES, errors)
    if mode != contract.Mode.SNAPSHOT and removal_policy != contract.RemovalPolicy.RETAIN:
        errors.append(f"{Prop.REMOVAL_POLICY}: a {mode} snapshot is always retained")

    owner = _optional_str(props, Prop.OWNER, errors)
    retain_last = _seconds(props, Prop.RETAIN_LAST, errors, what="a whole number")
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
        on_cluster_not_active=_choice(props, Prop.ON_CLUSTER_NOT_ACTIVE, contract.CLUSTER_NOT_ACTIVE_CHOICES, errors),
        snapshot_name=name,
        snapshot_name_prefix=prefix,
        tags=_tags(props, errors),
        trigger=_optional_str(props, Prop.TRIGGER, errors),
        wait_for_completion=_bool(props, Prop.WAIT_FOR_COMPLETION, True, errors),
        timeout_seconds=(contract.TIMEOUT_MAX_SECONDS if timeout_seconds is None else timeout_seconds),
        removal_policy=removal_policy,
        copy_to=_copy_to(props, mode, errors),
    )
    if errors:
        raise InvalidProperties(errors)
    return parsed


def _copy_to(props: Mapping[str, Any], mode: str, errors: list[str]) -> tuple[CopyDestination, ...]:
    value = props.get(Prop.COPY_TO)
    if value is None:
        return ()
    field_name = Prop.COPY_TO
    if mode != contract.Mode.FINAL:
        errors.append(f"{field_name}: only a final snapshot is copied to other regions")
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
        region = entry.get(contract.CopyDestinationKey.REGION)
        key = entry.get(contract.CopyDestinationKey.KMS_KEY_ID)
        if not isinstance(region, str):
            errors.append(f"{where}.{contract.CopyDestinationKey.REGION}: is required")
            continue
        errors.extend(contract.region_errors(f"{where}.{contract.CopyDestinationKey.REGION}", region))
        if key is not None:
            if not isinstance(key, str):
                errors.append(f"{where}.{contract.CopyDestinationKey.KMS_KEY_ID}: must be a string")
                key = None
            else:
                errors.extend(contract.kms_key_errors(f"{where}.{contract.CopyDestinationKey.KMS_KEY_ID}", key, region))
        destinations.append(CopyDestination(region, key))
    errors.extend(contract.copy_destination_count_errors(field_name, [d.region for d in destinations]))
    return tuple(destinations)


@dataclass(frozen=True)
class CopyProperties:
    """A copy resource's properties, parsed; `destination_region` defaults to the function's."""

    source_snapshot_arn: str
    destination_region: str
    snapshot_name_prefix: str
    kms_key_id: str | None = None
    copy_tags: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    wait_for_completion: bool = True
    timeout_seconds: int = contract.TIMEOUT_MAX_SECONDS
    removal_policy: str = contract.RemovalPolicy.RETAIN
    owner: str | None = None
    retain_last: int | None = None

    def identity(self) -> tuple[str, str, str | None]:
        """What makes a copy: a new one is made only when one of these changes."""
        return (self.source_snapshot_arn, self.destination_region, self.kms_key_id)


def parse_copy_properties(props: Mapping[str, Any] | None, home: Home = Home()) -> CopyProperties:
    """Parse and validate a copy resource's properties; raise InvalidProperties listing every
    broken rule."""
    CopyProp = contract.CopyProp
    if props is None:
        props = {}
    if not isinstance(props, Mapping):
        raise InvalidProperties([f"ResourceProperties: must be an object (got {type(props).__name__})"])
    errors: list[str] = []
    unknown = sorted(str(key) for key in set(props) - contract.COPY_PROPS - contract.CLOUDFORMATION_PROPS)
    if unknown:
        listed = ", ".join(repr(key[:40]) for key in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        errors.append(f"unknown properties {listed}: expected only {', '.join(sorted(contract.COPY_PROPS))}")

    source = _optional_str(props, CopyProp.SOURCE_SNAPSHOT_ARN, errors)
    if source is None:
        if CopyProp.SOURCE_SNAPSHOT_ARN not in props:
            errors.append(f"{CopyProp.SOURCE_SNAPSHOT_ARN}: is required")
    else:
        errors.extend(
            contract.source_snapshot_arn_errors(
                CopyProp.SOURCE_SNAPSHOT_ARN, source, partition=home.partition, account=home.account
            )
        )
    region = _optional_str(props, CopyProp.DESTINATION_REGION, errors)
    if region is not None:
        errors.extend(contract.region_errors(CopyProp.DESTINATION_REGION, region))
    elif not home.region:
        errors.append(f"{CopyProp.DESTINATION_REGION}: is required when the function has no region (AWS_REGION)")
    destination = region or home.region
    key = _optional_str(props, CopyProp.KMS_KEY_ID, errors)
    if key is not None:
        errors.extend(contract.kms_key_errors(CopyProp.KMS_KEY_ID, key, destination))

    prefix = _optional_str(props, Prop.SNAPSHOT_NAME_PREFIX, errors)
    if prefix is None:
        errors.append(f"{Prop.SNAPSHOT_NAME_PREFIX}: is required")
    else:
        errors.extend(contract.snapshot_name_prefix_errors(Prop.SNAPSHOT_NAME_PREFIX, prefix))
    timeout_seconds = _seconds(props, Prop.TIMEOUT_SECONDS, errors)
    if timeout_seconds is not None:
        errors.extend(contract.timeout_errors(Prop.TIMEOUT_SECONDS, timeout_seconds))
    wait = _bool(props, Prop.WAIT_FOR_COMPLETION, True, errors)
    owner = _optional_str(props, Prop.OWNER, errors)
    retain_last = _seconds(props, Prop.RETAIN_LAST, errors, what="a whole number")
    if retain_last is not None:
        errors.extend(contract.retain_last_errors(Prop.RETAIN_LAST, retain_last))
        if not owner:
            errors.append(f"{Prop.RETAIN_LAST}: needs {Prop.OWNER}, which recognises the copies this construct made")
        if not wait:
            errors.append(f"{Prop.RETAIN_LAST}: needs {Prop.WAIT_FOR_COMPLETION} (copies are pruned once ACTIVE)")

    parsed = CopyProperties(
        source_snapshot_arn=source or "",
        destination_region=destination,
        snapshot_name_prefix=prefix or "",
        kms_key_id=key,
        copy_tags=_bool(props, CopyProp.COPY_TAGS, False, errors),
        tags=_tags(props, errors),
        wait_for_completion=wait,
        timeout_seconds=contract.TIMEOUT_MAX_SECONDS if timeout_seconds is None else timeout_seconds,
        removal_policy=_choice(props, Prop.REMOVAL_POLICY, contract.REMOVAL_POLICIES, errors),
        owner=owner,
        retain_last=retain_last,
    )
    if errors:
        raise InvalidProperties(errors)
    return parsed


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


def removal_policy_of(props: Mapping[str, Any] | None) -> str:
    """The removal policy alone, for Delete: a Delete must not fail because some other property
    no longer passes validation. Anything but an exact 'destroy' keeps the snapshot."""
    value = (props or {}).get(Prop.REMOVAL_POLICY)
    return (
        contract.RemovalPolicy.DESTROY if value == contract.RemovalPolicy.DESTROY else (contract.RemovalPolicy.RETAIN)
    )
