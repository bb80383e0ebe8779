"""IAM policy evaluation, as the IAM User Guide describes it, for the tests of the guard's service
control policy: an explicit Deny in any policy wins, then an Allow, else the implicit deny.

What it implements, each from the guide (tests/iam/test_policy_evaluator.py checks it against
the guide's own examples):
- Action/NotAction: wildcards, case-insensitive ("The prefix and the action name are case
  insensitive");
- Resource/NotResource and the ARN operators: each of the six colon-delimited parts matched
  separately, '*' and '?' within a part;
- conditions: operators AND, keys of one operator AND, values of one key OR (NOR for a negated
  operator); condition key names case-insensitive;
- a key missing from the request: false, but true for a negated operator; true with ...IfExists;
- Null; Bool; ForAnyValue (false with no value) and ForAllValues (true with no value).
An operator it does not know raises, so no condition is ever passed by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = str | bool | Sequence[str]

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"

#: What a deny-list SCP stands on: AWS's FullAWSAccess policy, attached by default.
FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, Value] = field(default_factory=dict)


def evaluate(policies: Sequence[Mapping[str, Any]], request: Request) -> str:
    context = {key.lower(): value for key, value in request.context.items()}
    effects = [
        statement["Effect"]
        for policy in policies
        for statement in _statements(policy)
        if _applies(statement, request, context)
    ]
    if "Deny" in effects:
        return EXPLICIT_DENY
    return ALLOW if "Allow" in effects else IMPLICIT_DENY


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy["Statement"]
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | bool) else list(value)


def _applies(statement: Mapping[str, Any], request: Request, context: Mapping[str, Value]) -> bool:
    if "Action" in statement:
        matched = any(_wildcard(p, request.action, ignore_case=True) for p in _as_list(statement["Action"]))
    else:
        matched = not any(_wildcard(p, request.action, ignore_case=True) for p in _as_list(statement["NotAction"]))
    if not matched:
        return False
    if "Resource" in statement:
        matched = any(arn_like(p, request.resource) for p in _as_list(statement["Resource"]))
    else:
        matched = not any(arn_like(p, request.resource) for p in _as_list(statement["NotResource"]))
    return matched and all(
        _condition(operator, key.lower(), _as_list(values), context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, values in keys.items()
    )


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def arn_like(pattern: str, arn: str) -> bool:
    """ArnLike (and the Resource element): '*' alone matches anything; otherwise each of the six
    colon-delimited parts separately (the last keeps its colons)."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    return len(wanted) == len(actual) == 6 and all(_wildcard(w, a) for w, a in zip(wanted, actual, strict=True))


def _string_equals(policy: str, value: str) -> bool:
    return policy == value


def _string_equals_ignore_case(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _string_like(policy: str, value: str) -> bool:
    return _wildcard(policy, value)


def _bool(policy: str, value: str) -> bool:
    return str(policy).lower() == str(value).lower()


# operator -> (match one policy value against one request value, negated)
_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
    "Bool": (_bool, False),
}


def _condition(operator: str, key: str, policy_values: list[Any], context: Mapping[str, Value]) -> bool:
    present = key in context
    if operator == "Null":
        (wanted,) = policy_values
        return (not present) == (str(wanted).lower() == "true")
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    if name not in _OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise ValueError(f"the evaluator does not know the condition operator {operator!r}")
    match, negated = _OPERATORS[name]

    def matches(value: str) -> bool:
        hit = any(match(str(p), str(value)) for p in policy_values)
        return not hit if negated else hit

    if qualifier:
        values = [] if not present else _as_list(context[key])
        if qualifier == "ForAllValues":
            return all(matches(v) for v in values)
        return any(matches(v) for v in values)
    if not present:
        return if_exists or negated
    value = context[key]
    if not isinstance(value, str | bool):
        raise ValueError(f"{key} is multivalued in the request: a condition on it needs ForAnyValue or ForAllValues")
    return matches(str(value))
