"""Typed view of the ResourceProperties CloudFormation sends.

CloudFormation turns every scalar into a string ("true", "840"), so each value is parsed here and
checked against the contract before any API call is made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import contract
from .contract import Prop


class InvalidProperties(ValueError):
    """Every rule the properties break, each naming the property."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("Invalid properties: " + "; ".join(errors))


@dataclass(frozen=True)
class SnapshotProperties:
    cluster_arn: str
    snapshot_name: str | None = None
    snapshot_name_prefix: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trigger: str | None = None
    wait_for_completion: bool = True
    timeout_seconds: int = contract.TIMEOUT_MAX_SECONDS
    removal_policy: str = contract.RemovalPolicy.RETAIN


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


def _seconds(props: Mapping[str, Any], key: str, errors: list[str]) -> int | None:
    """None when absent or malformed (the error is recorded)."""
    value = props.get(key)
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,9}", text):
        errors.append(f"{key}: must be a whole number of seconds (got {str(value)[:40]!r})")
        return None
    return int(text)


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


def _location_errors(cluster_arn: str, home: Home) -> list[str]:
    parts = cluster_arn.split(":")
    actual = {"partition": parts[1], "region": parts[3], "account": parts[4]}
    return [
        f"{Prop.CLUSTER_ARN}: the cluster must be in the stack's {name} {expected} (got {actual[name]})"
        for name, expected in (("partition", home.partition), ("region", home.region), ("account", home.account))
        if expected and actual[name] != expected
    ]


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
        errors.append(
            f"unknown properties {listed}: expected only {', '.join(sorted(contract.OUR_PROPS))}"
        )

    cluster_arn = _optional_str(props, Prop.CLUSTER_ARN, errors)
    if cluster_arn is None:
        if Prop.CLUSTER_ARN not in props:
            errors.append(f"{Prop.CLUSTER_ARN}: is required")
        cluster_arn = ""
    else:
        arn_errors = contract.cluster_arn_errors(Prop.CLUSTER_ARN, cluster_arn)
        errors.extend(arn_errors or _location_errors(cluster_arn, home))

    name = _optional_str(props, Prop.SNAPSHOT_NAME, errors)
    prefix = _optional_str(props, Prop.SNAPSHOT_NAME_PREFIX, errors)
    if name is not None and prefix is not None:
        errors.append(
            f"{Prop.SNAPSHOT_NAME} and {Prop.SNAPSHOT_NAME_PREFIX}: give one or the other, not both"
        )
    if name is not None:
        errors.extend(contract.snapshot_name_errors(Prop.SNAPSHOT_NAME, name))
    if prefix is not None:
        errors.extend(contract.snapshot_name_prefix_errors(Prop.SNAPSHOT_NAME_PREFIX, prefix))
    if name is None and prefix is None:
        errors.append(f"{Prop.SNAPSHOT_NAME} or {Prop.SNAPSHOT_NAME_PREFIX}: one is required")

    timeout_seconds = _seconds(props, Prop.TIMEOUT_SECONDS, errors)
    if timeout_seconds is not None:
        errors.extend(contract.timeout_errors(Prop.TIMEOUT_SECONDS, timeout_seconds))

    removal_policy = props.get(Prop.REMOVAL_POLICY, contract.RemovalPolicy.RETAIN)
    if removal_policy not in contract.REMOVAL_POLICIES:
        errors.append(
            f"{Prop.REMOVAL_POLICY}: must be one of {', '.join(contract.REMOVAL_POLICIES)} "
            f"(got {str(removal_policy)[:40]!r})"
        )

    parsed = SnapshotProperties(
        cluster_arn=cluster_arn,
        snapshot_name=name,
        snapshot_name_prefix=prefix,
        tags=_tags(props, errors),
        trigger=_optional_str(props, Prop.TRIGGER, errors),
        wait_for_completion=_bool(props, Prop.WAIT_FOR_COMPLETION, True, errors),
        timeout_seconds=(
            contract.TIMEOUT_MAX_SECONDS if timeout_seconds is None else timeout_seconds
        ),
        removal_policy=str(removal_policy),
    )
    if errors:
        raise InvalidProperties(errors)
    return parsed


def removal_policy_of(props: Mapping[str, Any] | None) -> str:
    """The removal policy alone, for Delete: a Delete must not fail because some other property
    no longer passes validation. Anything but an exact 'destroy' keeps the snapshot."""
    value = (props or {}).get(Prop.REMOVAL_POLICY)
    return contract.RemovalPolicy.DESTROY if value == contract.RemovalPolicy.DESTROY else (
        contract.RemovalPolicy.RETAIN
    )
