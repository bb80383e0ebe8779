"""ElasticClusterBackupGuard as a construct: one service control policy with the given targets,
every broken prop in one InvalidPropsError, the 5,120-character quota checked at synth, cdk-nag and
cfn-lint clean; and the workload side: the provider's function and role tagged, every role the
library makes under its IAM path."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from docdb_elastic_snapshot import (
    ElasticClusterBackupGuard,
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterSnapshot,
    InvalidPropsError,
)
from docdb_elastic_snapshot.guard_policy import content_size
from docdb_snapshot_handler import contract
from iam_template import ENV
from iam_template import cluster as orders_cluster
from synth_support import assert_nag_and_cfn_lint_clean, recommended_app

BREAK_GLASS = "arn:aws:iam::111122223333:role/BreakGlass"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def organization_stack() -> cdk.Stack:
    return cdk.Stack(recommended_app(), "Organization")


def test_one_service_control_policy_attached_to_the_targets():
    # GIVEN a guard for an OU, an account and a root
    stack = organization_stack()
    guard = ElasticClusterBackupGuard(
        stack,
        "Guard",
        target_ids=["ou-abcd-12345678", "111122223333", "r-ab12"],
        break_glass_role_arns=[BREAK_GLASS],
        protected_key_arns=[KEY],
    )
    # THEN one AWS::Organizations::Policy of type SERVICE_CONTROL_POLICY, its content the document
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Organizations::Policy", 1)
    template.has_resource_properties(
        "AWS::Organizations::Policy",
        {
            "Type": "SERVICE_CONTROL_POLICY",
            "TargetIds": ["ou-abcd-12345678", "111122223333", "r-ab12"],
            "Content": guard.document,
            "Name": Match.any_value(),
        },
    )
    assert [s["Effect"] for s in guard.document["Statement"]] == ["Deny"] * 6
    # AND no resource besides it
    assert len(template.to_json()["Resources"]) == 1


def test_without_protected_keys_there_is_no_key_statement_and_without_break_glass_no_exemption_for_it():
    # GIVEN a guard with neither keys nor break-glass roles
    guard = ElasticClusterBackupGuard(organization_stack(), "Guard", target_ids=["r-ab12"])
    sids = [s["Sid"] for s in guard.document["Statement"]]
    # THEN no statement about keys, and the exemptions are the library's roles and the CDK's
    assert "DenyProtectedKeyChange" not in sids
    exempt = {s["Sid"]: s["Condition"]["ArnNotLike"]["aws:PrincipalArn"] for s in guard.document["Statement"]}
    assert exempt["DenyRecoveryPointDelete"] == [f"arn:*:iam::*:role{contract.LIBRARY_ROLE_PATH}*"]
    assert exempt["DenyProviderChange"] == ["arn:*:iam::*:role/cdk-*"]


def test_an_empty_deploy_role_list_leaves_provider_changes_to_break_glass_alone():
    guard = ElasticClusterBackupGuard(
        organization_stack(), "Guard", target_ids=["r-ab12"], deploy_role_arns=[], break_glass_role_arns=[BREAK_GLASS]
    )
    (change,) = [s for s in guard.document["Statement"] if s["Sid"] == "DenyLibraryRoleChange"]
    assert change["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [BREAK_GLASS]


def test_every_broken_prop_is_reported_at_once():
    # GIVEN props that break every rule
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterBackupGuard(
            organization_stack(),
            "Guard",
            target_ids=["ou-abcd", "11112222333", "r-ab12", "r-ab12"],
            break_glass_role_arns=["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::*:role/*"],
            deploy_role_arns=["arn:aws:iam::*:role/docdb-elastic-snapshot/x"],
            protected_key_arns=["alias/backup", KEY, KEY],
            policy_name="",
            description="d" * 513,
        )
    # THEN one error names each field and rule
    errors = raised.value.errors
    text = "\n".join(errors)
    assert "'ou-abcd' is not a root id" in text and "'11112222333' is not a root id" in text
    assert "each target once (repeated: r-ab12)" in text
    assert "break_glass_role_arns: 'arn:aws:iam::111122223333:user/alice' must be an IAM role ARN" in text
    assert "matches every role" in text
    assert "deploy_role_arns" in text and "under the library's own path" in text
    assert "protected_key_arns: 'alias/backup' must be a literal KMS key ARN" in text
    assert "protected_key_arns: each key once" in text
    assert "policy_name: must be 1 to 128" in text and "description: must be at most 512" in text
    assert len(errors) == 10


def test_at_least_one_target_is_required():
    with pytest.raises(InvalidPropsError, match="target_ids: give at least one root"):
        ElasticClusterBackupGuard(organization_stack(), "Guard", target_ids=[])


def test_a_token_role_arn_is_refused_because_the_size_is_checked_before_deploy():
    stack = organization_stack()
    role = cdk.CfnParameter(stack, "BreakGlass").value_as_string
    with pytest.raises(InvalidPropsError, match="break_glass_role_arns: must be literal ARNs"):
        ElasticClusterBackupGuard(stack, "Guard", target_ids=["r-ab12"], break_glass_role_arns=[role])


def test_a_token_target_is_accepted_as_it_does_not_change_the_content():
    stack = organization_stack()
    ou = cdk.CfnParameter(stack, "Ou").value_as_string
    ElasticClusterBackupGuard(stack, "Guard", target_ids=[ou])
    Template.from_stack(stack).has_resource_properties("AWS::Organizations::Policy", {"TargetIds": [{"Ref": "Ou"}]})


def test_content_over_the_service_control_policy_quota_fails_at_synth():
    # GIVEN break-glass roles that take the policy past 5,120 characters
    roles = [f"arn:aws:iam::111122223333:role/break-glass/responder-{n:03d}" for n in range(40)]
    # THEN an error with the size and the quota
    with pytest.raises(InvalidPropsError, match=r"the policy would be \d+ characters, over AWS Organizations' 5120"):
        ElasticClusterBackupGuard(organization_stack(), "Guard", target_ids=["r-ab12"], break_glass_role_arns=roles)


def test_the_size_counted_is_at_least_the_compact_content():
    # GIVEN a guard; THEN the size checked is never less than a compact serialisation of the content
    guard = ElasticClusterBackupGuard(
        organization_stack(),
        "Guard",
        target_ids=["r-ab12"],
        break_glass_role_arns=[BREAK_GLASS],
        protected_key_arns=[KEY],
    )
    compact = len(json.dumps(guard.document, separators=(",", ":")))
    assert compact < content_size(guard.document) <= contract.SCP_MAX_CHARACTERS
    # AND the largest guard a user is likely to give (five break-glass roles, ten keys) fits
    big = ElasticClusterBackupGuard(
        organization_stack(),
        "Big",
        target_ids=["r-ab12"],
        break_glass_role_arns=[f"arn:aws:iam::*:role/BreakGlass{n}" for n in range(5)],
        protected_key_arns=[KEY.replace("1234abcd", f"{n:04d}abcd") for n in range(10)],
    )
    assert content_size(big.document) <= contract.SCP_MAX_CHARACTERS


def test_the_guard_passes_cdk_nag_and_cfn_lint(tmp_path: Path):
    def build(stack: cdk.Stack) -> None:
        ElasticClusterBackupGuard(
            stack,
            "Guard",
            target_ids=["ou-abcd-12345678"],
            break_glass_role_arns=[BREAK_GLASS],
            protected_key_arns=[KEY],
        )

    assert_nag_and_cfn_lint_clean(tmp_path, build, cdk.Environment(account="999999999999", region="us-east-1"))


def test_the_provider_function_and_role_are_tagged_and_every_library_role_is_under_the_path():
    # GIVEN a workload stack with a snapshot and a backup plan
    stack = cdk.Stack(recommended_app(), "Orders", env=ENV)
    cluster = orders_cluster(stack)
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=cluster.attr_cluster_arn)
    plan = ElasticClusterBackupPlan(stack, "Plan", rules=[ElasticClusterBackupRule.daily()])
    plan.add_selection("Orders", clusters=[cluster])
    template = Template.from_stack(stack)
    # THEN every role (the provider's, the scheduler's) is under the library's path
    roles = template.find_resources("AWS::IAM::Role")
    assert len(roles) == 2
    assert {r["Properties"]["Path"] for r in roles.values()} == {contract.LIBRARY_ROLE_PATH}
    # AND the provider's function and role carry the provider tag
    tag = {"Key": contract.PROVIDER_TAG_KEY, "Value": contract.PROVIDER_TAG_VALUE}
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "docdb_snapshot_handler.entrypoint.handler", "Tags": Match.array_with([tag])},
    )
    tagged_roles = [r for r in roles.values() if tag in r["Properties"].get("Tags", [])]
    assert len(tagged_roles) == 1
    assert tagged_roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
