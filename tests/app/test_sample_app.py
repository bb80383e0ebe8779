"""The sample app as users meet it: `cdk synth` out of the box, cfn-lint and cdk-nag clean."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import aws_cdk as cdk
from aws_cdk import RemovalPolicy
from cdk_nag import AwsSolutionsChecks

from docdb_elastic_snapshot import ElasticClusterSnapshot
from docdb_snapshot_handler.contract import (
    COPY_RESOURCE_TYPE,
    RESOURCE_TYPE,
    RESTORE_RESOURCE_TYPE,
    CopyProp,
    Prop,
    RestoreProp,
)
from synth_support import REPO, cfn_lint, recommended_app, templates


def sample_app_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_app", REPO / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cdk_synth_works_out_of_the_box_with_a_clearly_named_placeholder(placeholder_synth: Path):
    # GIVEN `cdk synth` with no context (placeholder_synth)
    template = templates(placeholder_synth)["DocDbElasticSnapshotStack.template.json"]
    # THEN the stack snapshots the placeholder cluster and outputs the snapshot's ARN
    (snapshot,) = [r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE]
    assert "placeholder" in snapshot["Properties"][Prop.CLUSTER_ARN]
    assert snapshot["Properties"][Prop.CLUSTER_ARN] == sample_app_module().PLACEHOLDER_CLUSTER_ARN
    snapshot_id = next(k for k, r in template["Resources"].items() if r["Type"] == RESOURCE_TYPE)
    assert template["Outputs"]["SnapshotArn"]["Value"] == {"Fn::GetAtt": [snapshot_id, "SnapshotArn"]}


def test_cfn_lint_finds_nothing_in_the_synthesized_templates(placeholder_synth: Path, standin_synth: Path):
    files = [str(p) for d in (placeholder_synth, standin_synth) for p in d.glob("*.template.json")]
    assert len(files) == 6  # the existing-cluster stack, the demo and the restore drill, twice
    result = cfn_lint(files)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def nag_clean(app: cdk.App) -> None:
    """Synthesize with the AwsSolutions checks added by the user, who acknowledges nothing."""
    pack = AwsSolutionsChecks(app)
    cdk.Validations.of(app).add_plugins(pack)
    app.synth()  # raises on any unacknowledged finding
    report = pack.validate_scope(app)
    assert report.success, [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]


def test_the_sample_app_passes_cdk_nag_aws_solutions():
    app = recommended_app()
    sample_app_module().build(app)
    nag_clean(app)


def test_the_demo_stack_passes_cdk_nag_aws_solutions():
    app = recommended_app()
    sample_app_module().build_demo(app)
    nag_clean(app)


def test_the_demo_has_every_protection_and_outputs(placeholder_synth: Path):
    template = templates(placeholder_synth)["DocDbElasticProtectedClusterDemo.template.json"]
    modes = sorted(
        r["Properties"].get(Prop.MODE, "snapshot") for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE
    )
    assert modes == ["before-change", "final", "snapshot"]
    types = {r["Type"] for r in template["Resources"].values()}
    assert {
        "AWS::EC2::VPC",
        "AWS::EC2::SecurityGroup",
        "AWS::SecretsManager::Secret",
        "AWS::DocDBElastic::Cluster",
        "AWS::EC2::FlowLog",
    } <= types
    assert {"ClusterArn", "BeforeChangeSnapshotArn", "ReleaseSnapshotArn"} <= set(template["Outputs"])
    assert "SecretString" not in json.dumps(template["Outputs"])


def regions_named(template: dict) -> set[str]:
    """Every region code the template names, but in CDK's own CDKMetadataAvailable condition
    (the regions where CDK's metadata resource exists, not ours)."""
    ours = {k: v for k, v in template.items() if k != "Conditions"}
    ours["Conditions"] = {k: v for k, v in template.get("Conditions", {}).items() if k != "CDKMetadataAvailable"}
    return set(re.findall(r"\b[a-z]{2}(?:-gov)?-[a-z]+-[0-9]\b", json.dumps(ours)))


def test_the_demo_and_the_integration_test_name_no_region_at_all(placeholder_synth: Path):
    # GIVEN the demo stack as synthesized, and the integration test's committed snapshot
    demo = templates(placeholder_synth)["DocDbElasticProtectedClusterDemo.template.json"]
    integ = REPO / "tests" / "integ" / "integ.protected_cluster.py.snapshot"
    snapshots = [json.loads(p.read_text()) for p in integ.glob("*.template.json")]
    # THEN none names a region: every copy is in the stack's own (AWS::Region)
    assert len(snapshots) == 2
    for template in (demo, *snapshots):
        assert regions_named(template) == set()
    # AND the demo copies under its own second key
    (copy,) = [r for r in demo["Resources"].values() if r["Type"] == COPY_RESOURCE_TYPE]
    (key_id,) = [k for k, r in demo["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    assert copy["Properties"][CopyProp.KMS_KEY_ID] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert CopyProp.DESTINATION_REGION not in copy["Properties"]


def test_a_users_app_using_every_option_passes_cdk_nag_without_acknowledging_anything():
    for env in (None, cdk.Environment(account="123456789012", region="eu-west-1")):
        app = recommended_app()
        stack = cdk.Stack(app, "UserStack", env=env)
        cluster = cdk.CfnParameter(stack, "ClusterArn").value_as_string
        ElasticClusterSnapshot(stack, "Plain", cluster_arn=cluster)
        ElasticClusterSnapshot(stack, "Tagged", cluster_arn=cluster, tags={"team": "data"}, trigger="1")
        ElasticClusterSnapshot(
            stack, "Destroyed", cluster_arn=cluster, removal_policy=RemovalPolicy.DESTROY, wait_for_completion=False
        )
        nag_clean(app)


def test_the_construct_acknowledges_only_its_own_findings_each_with_a_specific_reason():
    app = recommended_app()
    sample_app_module().build(app)
    acknowledgments = [
        entry.data
        for node in app.node.find_all()
        for entry in node.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    rules = {rule.removeprefix("Annotation::"): reason for data in acknowledgments for rule, reason in data.items()}
    assert set(rules) == {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:aws:docdb-elastic:us-east-1:111111111111:cluster-snapshot/*]",
    }
    assert "ListClusterSnapshots" in rules["AwsSolutions-IAM5[Resource::*]"]
    assert all(len(reason) > 80 for reason in rules.values())


def test_the_restore_drill_stack_restores_the_newest_snapshot_with_destroy_and_outputs(placeholder_synth: Path):
    # GIVEN `cdk synth` with no context
    template = templates(placeholder_synth)["DocDbElasticRestoreDrill.template.json"]
    # THEN the drill restores the newest snapshot of the placeholder cluster, deleted without a
    # final snapshot, and outputs what the drill reports
    (restore,) = [r for r in template["Resources"].values() if r["Type"] == RESTORE_RESOURCE_TYPE]
    assert restore["Properties"][RestoreProp.SOURCE_CLUSTER_ARN] == sample_app_module().PLACEHOLDER_CLUSTER_ARN
    assert restore["Properties"][RestoreProp.REMOVAL_POLICY] == "destroy" and restore["DeletionPolicy"] == "Delete"
    assert {"RestoreSeconds", "SnapshotArn", "ClusterEndpoint"} <= set(template["Outputs"])


def test_the_restore_drill_passes_cdk_nag_aws_solutions():
    app = recommended_app()
    sample_app_module().build_drill(app)
    nag_clean(app)
