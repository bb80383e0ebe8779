"""The sample app's guard stack: absent from a plain `cdk synth`, made only with -c guardTargetIds,
cdk-nag and cfn-lint clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from synth_support import REPO, cdk_synth, cfn_lint, recommended_app, templates

GUARD_TEMPLATE = "DocDbElasticBackupGuard.template.json"


def test_a_plain_synth_has_no_guard(placeholder_synth: Path):
    # GIVEN `cdk synth` with no context; THEN no stack touches the organization
    assert GUARD_TEMPLATE not in templates(placeholder_synth)
    assert not any(
        r["Type"].startswith("AWS::Organizations::")
        for t in templates(placeholder_synth).values()
        for r in t["Resources"].values()
    )


def test_the_guard_stack_is_made_with_its_context_and_passes_cdk_nag_and_cfn_lint(tmp_path: Path):
    # GIVEN `cdk synth` with the guard's context
    out = cdk_synth(
        tmp_path / "out",
        guardTargetIds="ou-abcd-12345678, 111122223333",
        guardBreakGlassRoleArns="arn:aws:iam::111122223333:role/BreakGlass",
        guardProtectedKeyArns="arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    # THEN the guard's stack holds one SCP for both targets, and cfn-lint is silent on it
    template = templates(out)[GUARD_TEMPLATE]
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Organizations::Policy"]
    assert policy["Properties"]["TargetIds"] == ["ou-abcd-12345678", "111122223333"]
    assert "arn:aws:iam::111122223333:role/BreakGlass" in str(policy["Properties"]["Content"])
    result = cfn_lint([str(out / GUARD_TEMPLATE)])
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
    # AND with the AwsSolutions checks added by the user, nothing is found
    spec = importlib.util.spec_from_file_location("sample_app_for_guard", REPO / "app.py")
    assert spec and spec.loader
    sample_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample_app)
    app = recommended_app()
    app.node.set_context("guardTargetIds", "r-ab12")
    assert sample_app.build_guard(app) is not None
    pack = AwsSolutionsChecks(app)
    cdk.Validations.of(app).add_plugins(pack)
    app.synth()
    assert pack.validate_scope(app).success
