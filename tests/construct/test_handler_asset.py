"""The Lambda asset: bundled without Docker, only the handler and crhelper, reproducible."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import crhelper
import pytest

from local_node import tool_path
from synth_support import REPO, asset_dir_of_function, templates

# Synthesizes a one-snapshot stack in a fresh interpreter and prints the function's asset key;
# directories given as arguments come first on sys.path (a changed copy of a package).
SYNTH_ASSET_KEY = """
import sys
sys.path[:0] = sys.argv[1:]
import aws_cdk as cdk
from docdb_elastic_snapshot import ElasticClusterSnapshot
app = cdk.App()
stack = cdk.Stack(app, "S")
ElasticClusterSnapshot(stack, "A", cluster_arn="arn:aws:docdb-elastic:us-east-1:123456789012:cluster/x")
template = app.synth().get_stack_by_name("S").template
(function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
print(function["Properties"]["Code"]["S3Key"])
"""


def asset_key(*path_first: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SYNTH_ASSET_KEY, *map(str, path_first)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env={**os.environ, "PATH": tool_path()},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_asset_holds_the_handler_package_and_crhelper_and_nothing_else(placeholder_synth: Path):
    template = templates(placeholder_synth)["DocDbElasticSnapshotStack.template.json"]
    asset = asset_dir_of_function(placeholder_synth, template)
    files = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert {f.split("/")[0] for f in files} == {"docdb_snapshot_handler", "crhelper"}
    assert all(f.endswith(".py") or f in ("crhelper/LICENSE", "crhelper/NOTICE") for f in files), files
    assert "docdb_snapshot_handler/entrypoint.py" in files and "crhelper/resource_helper.py" in files
    # Every module of the handler package, subpackages included, and nothing else of it
    handler_root = REPO / "lambda"
    handler_sources = sorted(
        str(p.relative_to(handler_root))
        for p in (handler_root / "docdb_snapshot_handler").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert sorted(f for f in files if f.startswith("docdb_snapshot_handler/")) == handler_sources
    # Sources only (about 310 KB unzipped with every kind): a stray dependency or data
    # file would be megabytes. `make bench` reports the zipped size against the peers'.
    assert sum(p.stat().st_size for p in asset.rglob("*") if p.is_file()) < 400_000


def test_the_asset_hash_is_identical_across_fresh_synths():
    assert asset_key() == asset_key()


@pytest.mark.parametrize("package", ["handler", "crhelper"])
def test_the_asset_hash_changes_when_the_handler_or_crhelper_changes(package: str, tmp_path: Path):
    # GIVEN a copy of the package with one changed line (a new crhelper release, an edit)
    source = REPO / "lambda" / "docdb_snapshot_handler" if package == "handler" else Path(crhelper.__file__).parent
    copy = tmp_path / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "__init__.py").open("a") as init:
        init.write("\n# changed\n")
    # WHEN the stack is synthesized with the copy, THEN the asset key differs
    assert asset_key(tmp_path) != asset_key()
