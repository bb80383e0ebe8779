"""Apps configured like the sample app, and access to its synthesized templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from local_node import tool_path

REPO = Path(__file__).resolve().parent.parent
#: The account and region of the construct tests' stacks, and a cluster of theirs by ARN.
ENV = cdk.Environment(account="123456789012", region="us-east-1")
ORDERS = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def recommended_app(**kwargs: object) -> cdk.App:
    """An App with the feature flags of cdk.json, so tests see what users' apps produce."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return cdk.App(context=context, **kwargs)


CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"


def cdk_synth(outdir: Path, app: str | None = None, **context: str) -> Path:
    """Synthesize the sample app (or `app`) with the project's own CDK CLI, as `make synth` does."""
    if not CDK_CLI.exists():
        raise RuntimeError(f"{CDK_CLI} is missing: run the tests with `make test`, which installs it")
    env = {
        **os.environ,
        # The CLI and the app's jsii on the project's Node.js; the app command is `python3 app.py`:
        # this interpreter's virtualenv next.
        "PATH": tool_path(),
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    args = [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(outdir)]
    if app:
        args += ["--app", app]
    for key, value in context.items():
        args += ["--context", f"{key}={value}"]
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"cdk synth failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return outdir


def templates(outdir: Path) -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(outdir.glob("*.template.json"))}


def asset_dir_of_function(outdir: Path, template: dict[str, Any]) -> Path:
    """The staged asset directory of the (single) Lambda function in a template."""
    functions = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == "docdb_snapshot_handler.entrypoint.handler"
    ]
    assert len(functions) == 1, functions
    asset_hash = functions[0]["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_hash}"


def synth_demo(outdir: Path, **context: str) -> dict[str, Any]:
    """The demo stack exactly as app.py builds it, with the given context knobs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sample_app_for_demo", REPO / "app.py")
    assert spec and spec.loader
    sample_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample_app)
    app = recommended_app(outdir=str(outdir))
    for key, value in {"beforeChangeRetainLast": "1", **context}.items():
        app.node.set_context(key, value)
    sample_app.build_demo(app)
    app.synth()
    return templates(outdir)["DocDbElasticProtectedClusterDemo.template.json"]


def cfn_lint(files: list[str]) -> subprocess.CompletedProcess[str]:
    """cfn-lint on synthesized templates, as users run it. W3005: the redundant DependsOn that
    CDK itself emits for a function's role."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--ignore-checks", "W3005", "--", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_nag_and_cfn_lint_clean(tmp_path: Path, build: Callable[[cdk.Stack], None], env: cdk.Environment) -> None:
    """A user's app with what `build` adds to its stack, environment-agnostic and pinned to `env`:
    no cdk-nag (AwsSolutions) finding, and cfn-lint silent on its templates."""
    from cdk_nag import AwsSolutionsChecks

    for pinned in (None, env):
        outdir = tmp_path / ("agnostic" if pinned is None else "pinned")
        app = recommended_app(outdir=str(outdir))
        build(cdk.Stack(app, "OrdersStack", env=pinned))
        pack = AwsSolutionsChecks(app)
        cdk.Validations.of(app).add_plugins(pack)
        app.synth()
        report = pack.validate_scope(app)
        assert report.success, [
            (v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations
        ]
        result = cfn_lint([str(p) for p in outdir.glob("*.template.json")])
        assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def validation_function(stack: cdk.Stack, construct_id: str = "Validate") -> cdk.aws_lambda.Function:
    """A user's restore-test validation function (inline code: the synth needs no asset)."""
    return cdk.aws_lambda.Function(
        stack,
        construct_id,
        runtime=cdk.aws_lambda.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=cdk.aws_lambda.Code.from_inline("def handler(event, context):\n    return {'ok': True}\n"),
    )
