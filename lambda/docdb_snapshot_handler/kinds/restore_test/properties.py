"""The input a restore test's schedule sends (RestoreTestInput), as a typed occurrence: checked
with the contract's rules before any API call, every broken rule reported at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ... import contract
from ...contract import RestoreTestInput
from ...parsing import (
    Home,
    InvalidProperties,
    checked,
    cluster_arn_list,
    optional_str,
    scheduled_input,
    tag_selection_list,
    whole_number,
)


@dataclass(frozen=True)
class RestoreTestOccurrence:
    """One occurrence of one restore test: which clusters, and where and how to restore them."""

    test: str
    scheduled: datetime
    subnet_ids: tuple[str, ...]
    vpc_security_group_ids: tuple[str, ...]
    clusters: tuple[str, ...] = ()
    tag_selections: tuple[dict[str, str], ...] = ()
    shard_capacity: int | None = None
    shard_instance_count: int | None = None
    kms_key_id: str | None = None
    validation_function: str | None = None
    validation_window_seconds: int = 0
    recovery_point_types: tuple[str, ...] = contract.RECOVERY_POINT_TYPES

    def label(self) -> str:
        return f"{self.test} at {self.scheduled.strftime('%Y-%m-%dT%H:%M:%SZ')}"


_KNOWN = frozenset(value for key, value in vars(RestoreTestInput).items() if not key.startswith("_"))


def _ids(payload: Mapping[str, Any], key: str, pattern: str, what: str, errors: list[str]) -> tuple[str, ...]:
    value = payload.get(key)
    if not isinstance(value, list):
        errors.append(f"{key}: is required, a list of {what} IDs")
        return ()
    errors.extend(contract.id_list_errors(key, value, pattern, what))
    return tuple(str(item) for item in value)


def _types(payload: Mapping[str, Any], errors: list[str]) -> tuple[str, ...]:
    key = RestoreTestInput.RECOVERY_POINT_TYPES
    value = payload.get(key, list(contract.RECOVERY_POINT_TYPES))
    problems = contract.recovery_point_types_errors(key, value)
    errors.extend(problems)
    return contract.RECOVERY_POINT_TYPES if problems else tuple(dict.fromkeys(value))


def parse_restore_test(payload: Any, home: Home | None = None) -> RestoreTestOccurrence:
    """Parse and validate; raise InvalidProperties listing every broken rule."""
    home = home or Home()
    payload, errors, scheduled = scheduled_input(
        payload, contract.RESTORE_TEST_EVENT_KEY, _KNOWN, contract.RESTORE_TEST_INPUT_VERSION
    )
    test = optional_str(payload, RestoreTestInput.TEST, errors) or ""
    errors.extend(contract.restore_test_name_errors(RestoreTestInput.TEST, test))
    subnets = _ids(payload, RestoreTestInput.SUBNET_IDS, contract.SUBNET_ID_PATTERN, "subnet", errors)
    groups = _ids(
        payload, RestoreTestInput.VPC_SECURITY_GROUP_IDS, contract.SECURITY_GROUP_ID_PATTERN, "security group", errors
    )
    member = RestoreTestInput
    count = "a whole number"
    capacity = checked(
        whole_number(payload, member.SHARD_CAPACITY, errors, what=count),
        member.SHARD_CAPACITY,
        contract.shard_capacity_errors,
        errors,
    )
    instances = checked(
        whole_number(payload, member.SHARD_INSTANCE_COUNT, errors, what=count),
        member.SHARD_INSTANCE_COUNT,
        contract.shard_instance_count_errors,
        errors,
    )
    key = member.KMS_KEY_ID
    kms_key_id = checked(optional_str(payload, key, errors), key, contract.kms_key_id_errors, errors)
    key = member.VALIDATION_FUNCTION
    function = checked(optional_str(payload, key, errors), key, contract.function_arn_errors, errors)
    key = member.VALIDATION_WINDOW_SECONDS
    window = checked(whole_number(payload, key, errors) or 0, key, contract.validation_window_errors, errors) or 0
    occurrence = RestoreTestOccurrence(
        test=test,
        scheduled=scheduled,
        subnet_ids=subnets,
        vpc_security_group_ids=groups,
        clusters=cluster_arn_list(payload, RestoreTestInput.CLUSTERS, home, errors),
        tag_selections=tag_selection_list(payload, RestoreTestInput.TAG_SELECTIONS, errors),
        shard_capacity=capacity,
        shard_instance_count=instances,
        kms_key_id=kms_key_id,
        validation_function=function,
        validation_window_seconds=window,
        recovery_point_types=_types(payload, errors),
    )
    if not occurrence.clusters and not occurrence.tag_selections and not errors:
        errors.append(
            f"{RestoreTestInput.CLUSTERS} or {RestoreTestInput.TAG_SELECTIONS}: the restore test selects no cluster"
        )
    if errors:
        raise InvalidProperties(errors)
    return occurrence
