"""jsii and the CDK CLI run on a Node.js that jsii supports (22 or 24: its end-of-life banner for
Node.js 20 names them), installed by `make` from npm beside the CDK CLI: nothing global, no
silencing variable."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from local_node import NODE_BIN, tool_path
from synth_support import REPO

SUPPORTED_MAJORS = {22, 24}

SYNTH = """
import aws_cdk as cdk
from docdb_elastic_snapshot import ElasticClusterSnapshot

app = cdk.App(outdir=__import__("sys").argv[1])
stack = cdk.Stack(app, "OrdersStack")
ElasticClusterSnapshot(stack, "Snapshot", cluster_arn="arn:aws:docdb-elastic:us-east-1:123456789012:cluster/orders")
app.synth()
print("synthesized")
"""


def major(version: str) -> int:
    return int(version.strip().lstrip("v").split(".")[0])


def test_package_json_pins_a_supported_node_and_npm_installed_it():
    # GIVEN package.json's node devDependency
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"]["node"]
    # THEN it is a supported major, and node_modules/.bin/node is exactly that version
    assert major(pinned) in SUPPORTED_MAJORS, pinned
    installed = subprocess.run(
        [str(NODE_BIN / "node"), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert installed.stdout.strip() == f"v{pinned}"


def test_the_node_that_jsii_runs_in_the_tests_is_the_projects_own():
    # GIVEN the test process (jsii starts the `node` of PATH unless JSII_NODE names another)
    assert "JSII_NODE" not in os.environ
    node = shutil.which("node")
    # THEN it is the project's Node.js, of a supported major
    assert node is not None and os.path.samefile(node, NODE_BIN / "node"), node
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert major(version) in SUPPORTED_MAJORS, version


def test_a_synth_on_the_projects_node_prints_no_banner(tmp_path):
    # GIVEN an app with a construct of the library, run as `make synth` runs apps (the
    # project's Node.js first on PATH), with no silencing variable anywhere
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env["PATH"] = tool_path()
    # WHEN it synthesizes
    result = subprocess.run(
        [sys.executable, "-c", SYNTH, str(tmp_path)], capture_output=True, text=True, timeout=300, env=env, cwd=REPO
    )
    # THEN it works and jsii said nothing at all on standard error (no end-of-life banner)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("synthesized")
    assert result.stderr == ""
    assert (tmp_path / "OrdersStack.template.json").exists()


def test_no_file_of_the_project_silences_jsii():
    # GIVEN every file make, CI and the tests read
    files = [REPO / "Makefile", *(REPO / ".ci").iterdir(), *REPO.glob("tests/**/*.py"), *REPO.glob("benchmarks/*.py")]
    # THEN none sets jsii's silencing variable (the banner is avoided, not hidden)
    variable = "JSII_SILENCE_WARNING_" + "END_OF_LIFE_NODE_VERSION"
    assert [str(f) for f in files if variable in f.read_text()] == []


TOOL = re.compile(r"node_modules/\.bin/cdk |/bin/python (benchmarks|examples)/|/bin/python -m pytest")


def test_every_make_target_that_runs_jsii_or_the_cdk_cli_puts_the_projects_node_first():
    # GIVEN the commands make would run for each target that runs the CDK CLI, an app or the tests
    targets = ["synth", "diff", "deploy", "destroy", "drill", "integ", "integ-snapshot", "bench", "test", "test-fast"]
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *targets, "CLUSTER_ARN=arn:aws:docdb-elastic:us-east-1:1:cluster/x"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # THEN each such command starts with the PATH that has node_modules/.bin first
    script = result.stdout.replace("\\\n", " ")
    commands = [c.strip() for c in re.split(r"\n|\|\||&&|;|\{|\}", script) if TOOL.search(c)]
    assert len(commands) >= len(targets), result.stdout
    first = f'PATH="{REPO}/node_modules/.bin:'
    assert [c for c in commands if not c.startswith(first)] == []
