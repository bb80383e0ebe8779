"""Typed view of the input a backup rule's schedule sends, checked against the contract before
any API call; every broken rule at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ... import contract
from ...contract import BackupInput, CopyActionKey
from ...parsing import (
    Home,
    InvalidProperties,
    cluster_arn_list,
    optional_str,
    scheduled_input,
    tag_map,
    tag_selection_list,
    whole_number,
)


@dataclass(frozen=True)
class CopyAction:
    region: str
    kms_key_id: str | None = None
    delete_after_seconds: int | None = None
    keep_last: int | None = None


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of one rule of one plan: what to protect, and how long to keep it."""

    plan: str
    rule: str
    scheduled: datetime
    start_window_seconds: int
    interval_seconds: int | None = None
    delete_after_seconds: int | None = None
    keep_last: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    copies: tuple[CopyAction, ...] = ()
    clusters: tuple[str, ...] = ()
    tag_selections: tuple[dict[str, str], ...] = ()

    def label(self) -> str:
        return f"{self.plan}/{self.rule} at {self.scheduled.strftime('%Y-%m-%dT%H:%M:%SZ')}"


_KNOWN = frozenset(value for key, value in vars(BackupInput).items() if not key.startswith("_"))


def _retention(
    payload: Mapping[str, Any], where: str, keys: tuple[str, str], errors: list[str]
) -> tuple[int | None, int | None]:
    delete_after = whole_number(payload, keys[0], errors)
    if delete_after is not None:
        errors.extend(contract.delete_after_errors(f"{where}{keys[0]}", delete_after))
    keep_last = whole_number(payload, keys[1], errors, what="a whole number")
    if keep_last is not None:
        errors.extend(contract.keep_last_errors(f"{where}{keys[1]}", keep_last))
    return delete_after, keep_last


def _copies(payload: Mapping[str, Any], home: Home, errors: list[str]) -> tuple[CopyAction, ...]:
    """The rule's copy actions: each in the function's region (Region, when given, must be it:
    contract.COPIES_STAY_IN_REGION), under its own key."""
    value = payload.get(BackupInput.COPIES)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(entry, Mapping) for entry in value):
        errors.append(f"{BackupInput.COPIES}: must be a list of objects")
        return ()
    actions = []
    for index, entry in enumerate(value):
        where = f"{BackupInput.COPIES}[{index}]"
        region = optional_str(entry, CopyActionKey.REGION, errors) or home.region
        key = optional_str(entry, CopyActionKey.KMS_KEY_ID, errors)
        names = (CopyActionKey.REGION, CopyActionKey.KMS_KEY_ID)
        errors.extend(contract.copy_destination_errors(where, region, key, home.region, names))
        delete_after, keep_last = _retention(
            entry, where + ".", (CopyActionKey.DELETE_AFTER_SECONDS, CopyActionKey.KEEP_LAST), errors
        )
        actions.append(CopyAction(region, key, delete_after, keep_last))
    errors.extend(contract.copy_destination_count_errors(BackupInput.COPIES, [a.region for a in actions]))
    return tuple(actions)


def parse_occurrence(payload: Any, home: Home | None = None) -> Occurrence:
    """Parse and validate; raise InvalidProperties listing every broken rule."""
    home = home or Home()
    payload, errors, scheduled = scheduled_input(
        payload, contract.BACKUP_EVENT_KEY, _KNOWN, contract.BACKUP_INPUT_VERSION
    )
    plan = optional_str(payload, BackupInput.PLAN, errors) or ""
    errors.extend(contract.plan_name_errors(BackupInput.PLAN, plan))
    rule = optional_str(payload, BackupInput.RULE, errors) or ""
    errors.extend(contract.rule_name_errors(BackupInput.RULE, rule))
    start_window = whole_number(payload, BackupInput.START_WINDOW_SECONDS, errors)
    if start_window is None:
        errors.append(f"{BackupInput.START_WINDOW_SECONDS}: is required")
    else:
        errors.extend(contract.start_window_errors(BackupInput.START_WINDOW_SECONDS, start_window))
    interval = whole_number(payload, BackupInput.INTERVAL_SECONDS, errors)
    delete_after, keep_last = _retention(payload, "", (BackupInput.DELETE_AFTER_SECONDS, BackupInput.KEEP_LAST), errors)
    tags = tag_map(payload, BackupInput.RECOVERY_POINT_TAGS, errors, contract.tag_entry_errors)
    errors.extend(contract.backup_tag_count_errors(BackupInput.RECOVERY_POINT_TAGS, len(tags)))
    occurrence = Occurrence(
        plan=plan,
        rule=rule,
        scheduled=scheduled,
        start_window_seconds=start_window or 0,
        interval_seconds=interval,
        delete_after_seconds=delete_after,
        keep_last=keep_last,
        tags=tags,
        copies=_copies(payload, home, errors),
        clusters=cluster_arn_list(payload, BackupInput.CLUSTERS, home, errors),
        tag_selections=tag_selection_list(payload, BackupInput.TAG_SELECTIONS, errors),
    )
    if not occurrence.clusters and not occurrence.tag_selections and not errors:
        errors.append(f"{BackupInput.CLUSTERS} or {BackupInput.TAG_SELECTIONS}: the plan selects no cluster")
    if errors:
        raise InvalidProperties(errors)
    return occurrence
