"""Typed values from the ResourceProperties CloudFormation sends, shared by every kind's parser.

CloudFormation turns every scalar into a string ("true", "840"), so each value is parsed here and
every broken rule is recorded in `errors` (named by its property), never raised one at a time:
a kind's parser raises InvalidProperties once, with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from . import contract


class InvalidProperties(ValueError):
    """Every rule the properties break, each naming the property."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("Invalid properties: " + "; ".join(errors))


@dataclass(frozen=True)
class Home:
    """Where the function runs: what a kind may act on is checked against it."""

    partition: str = ""
    region: str = ""
    account: str = ""


def properties_of(props: Mapping[str, Any] | None, known: frozenset[str], errors: list[str]) -> Mapping[str, Any]:
    """The properties as a mapping (None: empty), with an error for each key that no kind of
    `known` names (CloudFormation's own keys are expected). A value that is not an object fails
    at once: nothing else can be read from it."""
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise InvalidProperties([f"ResourceProperties: must be an object (got {type(props).__name__})"])
    unknown = sorted(str(key) for key in set(props) - known - contract.CLOUDFORMATION_PROPS)
    if unknown:
        listed = ", ".join(repr(key[:40]) for key in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        errors.append(f"unknown properties {listed}: expected only {', '.join(sorted(known))}")
    return props


def optional_str(props: Mapping[str, Any], key: str, errors: list[str]) -> str | None:
    value = props.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"{key}: must be a string (got {type(value).__name__})")
        return None
    return value


def boolean(props: Mapping[str, Any], key: str, default: bool, errors: list[str]) -> bool:
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


def whole_number(
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


def parse_timeout(props: Mapping[str, Any], key: str, errors: list[str]) -> int:
    """The resource's wait limit; CloudFormation's own when absent."""
    seconds = whole_number(props, key, errors)
    if seconds is None:
        return contract.TIMEOUT_MAX_SECONDS
    errors.extend(contract.timeout_errors(key, seconds))
    return seconds


def choice(props: Mapping[str, Any], key: str, choices: tuple[str, ...], errors: list[str]) -> str:
    """One of `choices`; the first is the default."""
    value = props.get(key, choices[0])
    if value not in choices:
        errors.append(f"{key}: must be one of {', '.join(choices)} (got {str(value)[:40]!r})")
        return choices[0]
    return str(value)


_V = TypeVar("_V")


def checked(value: _V | None, key: str, rule: Callable[[str, _V], list[str]], errors: list[str]) -> _V | None:
    """`value` (None when absent or malformed), with the errors `rule(key, value)` finds."""
    if value is not None:
        errors.extend(rule(key, value))
    return value


def tag_map(
    props: Mapping[str, Any],
    key: str,
    errors: list[str],
    rule: Callable[[str, Mapping[str, str]], list[str]] = contract.tags_errors,
) -> dict[str, str]:
    """A map of tags checked with `rule(field, tags)` (default: the snapshot tags' rules)."""
    value = props.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(f"{key}: must be a map of tag keys to values")
        return {}
    tags = dict(value)
    errors.extend(rule(key, tags))
    return tags


def iso_timestamp(value: object) -> float | None:
    """An ISO 8601 time of the API ('2026-11-28T07:00:01Z', or with an offset) as a POSIX
    timestamp; None for anything else."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def removal_policy_of(props: Mapping[str, Any] | None) -> str:
    """The removal policy of a snapshot or copy alone, for Delete: a Delete must not fail because
    some other property no longer passes validation. Anything but an exact 'destroy' keeps it."""
    value = (props or {}).get(contract.Prop.REMOVAL_POLICY)
    return contract.RemovalPolicy.DESTROY if value == contract.RemovalPolicy.DESTROY else contract.RemovalPolicy.RETAIN


def cluster_arn_list(payload: Mapping[str, Any], key: str, home: Home, errors: list[str]) -> tuple[str, ...]:
    """A list of cluster ARNs of the function's account and region (a scheduled input's)."""
    value = payload.get(key, [])
    if not isinstance(value, list) or not all(isinstance(arn, str) for arn in value):
        errors.append(f"{key}: must be a list of cluster ARNs")
        return ()
    for index, arn in enumerate(value):
        where = f"{key}[{index}]"
        errors.extend(
            contract.cluster_arn_errors(where, arn)
            or contract.cluster_location_errors(
                where, arn, partition=home.partition, region=home.region, account=home.account
            )
        )
    return tuple(dict.fromkeys(value))


def tag_selection_list(payload: Mapping[str, Any], key: str, errors: list[str]) -> tuple[dict[str, str], ...]:
    """A list of tag maps: a cluster is selected when it carries every tag of one of them."""
    value = payload.get(key, [])
    if not isinstance(value, list):
        errors.append(f"{key}: must be a list of tag maps")
        return ()
    selections = []
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping) or not entry:
            errors.append(f"{where}: must be a map of at least one tag key to its value")
            continue
        selections.append(tag_map({where: entry}, where, errors, contract.tag_entry_errors))
    return tuple(selections)


def scheduled_input(
    payload: Any, event_key: str, known: frozenset[str], version: int
) -> tuple[Mapping[str, Any], list[str], datetime]:
    """What every scheduled input is checked for first: an object of known members, of the
    version this handler reads, with the occurrence's time (EventBridge Scheduler's
    <aws.scheduler.scheduled-time>). Returns the input, the errors so far and the time (the
    epoch when it is broken). An input that is not an object fails at once."""
    if not isinstance(payload, Mapping):
        raise InvalidProperties([f"{event_key}: must be an object (got {type(payload).__name__})"])
    errors: list[str] = []
    unknown = sorted(str(key)[:40] for key in set(payload) - known)
    if unknown:
        errors.append(f"unknown members {', '.join(unknown[:5])}: expected only {', '.join(sorted(known))}")
    member = contract.ScheduledInput
    found = payload.get(member.VERSION)
    if found != version:
        errors.append(
            f"{member.VERSION}: this handler reads version {version} (got {found!r}); "
            "deploy the stack again so that the schedule and its function match"
        )
    text = optional_str(payload, member.SCHEDULED_TIME, errors) or ""
    try:
        scheduled = contract.scheduled_time_of(text)
    except ValueError as error:
        errors.append(
            f"{member.SCHEDULED_TIME}: {error} (EventBridge Scheduler's {contract.SCHEDULED_TIME_PLACEHOLDER})"
        )
        scheduled = datetime.fromtimestamp(0, UTC)
    return payload, errors, scheduled
