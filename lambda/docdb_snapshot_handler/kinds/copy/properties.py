"""Typed view of the copy kind's ResourceProperties (strings, as CloudFormation sends them),
checked against the contract before any API call; every broken rule at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
class CopyProperties:
    """A copy resource's properties, parsed; `destination_region` defaults to the function's, and
    is refused if it is another (contract.COPIES_STAY_IN_REGION)."""

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


def parse_copy_properties(props: Mapping[str, Any] | None, home: Home | None = None) -> CopyProperties:
    """Parse and validate a copy resource's properties; raise InvalidProperties listing every
    broken rule."""
    CopyProp = contract.CopyProp
    home = home or Home()
    errors: list[str] = []
    props = properties_of(props, contract.COPY_PROPS, errors)

    source = optional_str(props, CopyProp.SOURCE_SNAPSHOT_ARN, errors)
    if source is None:
        if CopyProp.SOURCE_SNAPSHOT_ARN not in props:
            errors.append(f"{CopyProp.SOURCE_SNAPSHOT_ARN}: is required")
    else:
        errors.extend(
            contract.source_snapshot_arn_errors(
                CopyProp.SOURCE_SNAPSHOT_ARN, source, partition=home.partition, region=home.region, account=home.account
            )
        )
    region = optional_str(props, CopyProp.DESTINATION_REGION, errors)
    if region is not None:
        errors.extend(
            contract.region_errors(CopyProp.DESTINATION_REGION, region)
            or contract.copy_region_errors(CopyProp.DESTINATION_REGION, region, home.region)
        )
    elif not home.region:
        errors.append(f"{CopyProp.DESTINATION_REGION}: is required when the function has no region (AWS_REGION)")
    destination = region or home.region
    key = optional_str(props, CopyProp.KMS_KEY_ID, errors)
    if key is not None:
        errors.extend(contract.kms_key_errors(CopyProp.KMS_KEY_ID, key, destination))

    prefix = optional_str(props, Prop.SNAPSHOT_NAME_PREFIX, errors)
    if prefix is None:
        errors.append(f"{Prop.SNAPSHOT_NAME_PREFIX}: is required")
    else:
        errors.extend(contract.snapshot_name_prefix_errors(Prop.SNAPSHOT_NAME_PREFIX, prefix))
    timeout = parse_timeout(props, Prop.TIMEOUT_SECONDS, errors)
    wait = boolean(props, Prop.WAIT_FOR_COMPLETION, True, errors)
    owner = optional_str(props, Prop.OWNER, errors)
    retain_last = whole_number(props, Prop.RETAIN_LAST, errors, what="a whole number")
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
        copy_tags=boolean(props, CopyProp.COPY_TAGS, False, errors),
        tags=tag_map(props, Prop.TAGS, errors),
        wait_for_completion=wait,
        timeout_seconds=timeout,
        removal_policy=choice(props, Prop.REMOVAL_POLICY, contract.REMOVAL_POLICIES, errors),
        owner=owner,
        retain_last=retain_last,
    )
    if errors:
        raise InvalidProperties(errors)
    return parsed
