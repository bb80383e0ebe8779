"""The CDK Pipelines example and the real-account integration test synthesize (CI cannot
deploy them)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

from aws_cdk.assertions import Template

from docdb_snapshot_handler.contract import RESOURCE_TYPE, RESTORE_RESOURCE_TYPE, Prop, RestoreProp
from synth_support import REPO, cdk_synth, recommended_app

INTEG = REPO / "tests" / "integ" / "integ.protected_cluster.py"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pipeline_stage_snapshots_its_cluster_before_each_change():
    # GIVEN the pipeline example
    app = recommended_app()
    pipeline_stack = load(REPO / "examples" / "pipeline_app.py", "pipeline_app").build(app)
    # WHEN it is synthesized
    assembly = app.synth()
    # THEN the pipeline deploys the stage, whose cluster waits for its before-change snapshot
    pipeline = json.dumps(assembly.get_stack_by_name("OrdersPipeline").template)
    assert "AWS::CodePipeline::Pipeline" in pipeline and "OrdersData" in pipeline
    stage_stack = pipeline_stack.stage.data
    template = Template.from_stack(stage_stack).to_json()
    cluster_id = stage_stack.resolve(stage_stack.cluster.logical_id)
    before_id = stage_stack.resolve(stage_stack.before_change.resource.logical_id)
    assert before_id in template["Resources"][cluster_id]["DependsOn"]
    modes = sorted(
        r["Properties"].get(Prop.MODE, "snapshot") for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE
    )
    assert modes == ["before-change", "final", "snapshot"]


def test_the_pipeline_runs_a_restore_drill_after_production_and_tears_it_down():
    # GIVEN the pipeline example, synthesized
    app = recommended_app()
    pipeline_stack = load(REPO / "examples" / "pipeline_app.py", "pipeline_app_drill").build(app)
    assembly = app.synth()
    pipeline = assembly.get_stack_by_name("OrdersPipeline").template
    (codepipeline,) = [r for r in pipeline["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    stages = [stage["Name"] for stage in codepipeline["Properties"]["Stages"]]
    # THEN the drill stage comes after production, and its post step reads the outputs
    assert stages.index("RestoreDrill") > stages.index("Prod")
    drill_stage = next(s for s in codepipeline["Properties"]["Stages"] if s["Name"] == "RestoreDrill")
    assert any("ReportAndTearDown" in action["Name"] for action in drill_stage["Actions"])
    # AND the drill stack restores the newest snapshot of the cluster named in SSM, with DESTROY
    drill = Template.from_stack(pipeline_stack.drill.drill).to_json()
    (restore,) = [r for r in drill["Resources"].values() if r["Type"] == RESTORE_RESOURCE_TYPE]
    assert restore["Properties"][RestoreProp.REMOVAL_POLICY] == "destroy"
    assert "Ref" in restore["Properties"][RestoreProp.SOURCE_CLUSTER_ARN]
    assert {"RestoreSeconds", "SnapshotArn", "ClusterEndpoint"} <= set(drill["Outputs"])


def test_the_drill_report_reads_the_recovery_time_from_the_deploy_outputs(tmp_path: Path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {"DocDbElasticRestoreDrill": {"RestoreSeconds": "742", "SnapshotArn": "arn:x", "ClusterEndpoint": "e"}}
        )
    )
    report = load(REPO / "examples" / "restore_drill_app.py", "restore_drill_app").report(str(outputs))
    assert "742 s" in report and "arn:x" in report


ASSET_HASH = re.compile(r"[0-9a-f]{64}")
SALT = re.compile(r'"salt":\s*"[0-9]+"')
# integ-tests-alpha names an equality assertion's output with a digest that includes the salt.
EQUALS_OUTPUT = re.compile(r'("AssertionResultsEqualsAssertion[A-Za-z0-9]*?)[0-9a-f]{32}"')


def normalised(text: str) -> object:
    """A template with asset hashes and the assertions' per-synth salt (and what it names) blanked: the snapshot
    pins resources, not handler bytes or the time of synthesis."""
    text = EQUALS_OUTPUT.sub(r'\1<salted>"', SALT.sub('"salt": "<salt>"', text))
    return json.loads(ASSET_HASH.sub("<asset-hash>", text))


def test_the_integration_test_synthesizes_with_its_assertions(tmp_path: Path):
    # GIVEN the integration test app, synthesized as `make integ` deploys it
    cdk_synth(tmp_path / "out", app="python3 tests/integ/integ.protected_cluster.py")
    names = {p.name for p in (tmp_path / "out").glob("*.template.json")}
    assert "DocDbElasticSnapshotInteg.template.json" in names
    assertions = [n for n in names if n.startswith("ProtectedClusterIntegDefaultTestDeployAssert")]
    assert assertions, names
    text = (tmp_path / "out" / assertions[0]).read_text()
    assert "getClusterSnapshot" in text and "ACTIVE" in text
    # AND it matches the committed snapshot (refresh it with `make integ-snapshot`)
    snapshot = REPO / "tests" / "integ" / "integ.protected_cluster.py.snapshot"
    committed = {p.name for p in snapshot.glob("*.template.json")}
    assert committed == names
    for name in committed:
        assert normalised((tmp_path / "out" / name).read_text()) == normalised((snapshot / name).read_text()), name
