"""The package as other teams get it: a wheel installed outside the repository, used by an app
of their own, finds its handler code through the installed package."""

from __future__ import annotations

import email.parser
import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from local_node import tool_path
from synth_support import REPO

USER_APP = """
import aws_cdk as cdk
from aws_cdk import aws_docdbelastic as docdbelastic
import docdb_elastic_snapshot, docdb_snapshot_handler
from docdb_elastic_snapshot import (
    ClusterNotActive, ElasticClusterFromSnapshot, ElasticClusterSnapshot, ElasticClusterSnapshotCopy, FinalSnapshot,
    SnapshotBeforeChange,
)

app = cdk.App(outdir="cdk.out")
stack = cdk.Stack(app, "UserStack")
cluster = docdbelastic.CfnCluster(stack, "Cluster", cluster_name="orders", admin_user_name="admin",
    auth_type="PLAIN_TEXT", admin_user_password="{{resolve:secretsmanager:pw}}", shard_capacity=2, shard_count=1)
SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster, retain_last=3, on_cluster_not_active=ClusterNotActive.SKIP)
FinalSnapshot(stack, "Final", cluster=cluster)
release = ElasticClusterSnapshot(stack, "Release", cluster_arn=cluster.attr_cluster_arn, tags={"team": "data"})
ElasticClusterSnapshotCopy(stack, "Copy", source_snapshot_arn=release.snapshot_arn, retain_last=3)
ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=release.snapshot_arn)
app.synth()
print(docdb_elastic_snapshot.__file__)
print(docdb_snapshot_handler.__file__)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(outdir), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = outdir.glob("docdb_elastic_snapshot-*.whl")
    return built


def test_the_wheel_holds_both_packages_and_their_type_markers(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    assert "docdb_elastic_snapshot/py.typed" in names and "docdb_snapshot_handler/py.typed" in names
    assert "docdb_snapshot_handler/entrypoint.py" in names and "docdb_elastic_snapshot/protections.py" in names
    assert not any(name.startswith(("tests/", "constructs/", "lambda/")) for name in names)
    # Every source module, subpackages included (each must be listed in pyproject.toml)
    sources = {
        str(path.relative_to(root))
        for root in (REPO / "lambda", REPO / "constructs")
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources - set(names) == set()


def test_the_wheels_summary_and_keywords_say_what_the_package_does_now(wheel: Path):
    # GIVEN the wheel's metadata, as a package index shows it
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = email.parser.HeaderParser().parsestr(archive.read(metadata).decode())
    summary, keywords = headers["Summary"], set(headers["Keywords"].split(","))
    # THEN the summary names every kind of protection the README's constructs give, the service
    # and the CDK, and not only snapshots from a stack
    for kind in ("snapshots", "before a change", "final", "copies", "restores", "backup plans", "restore tests"):
        assert kind in summary, kind
    assert "Amazon DocumentDB elastic clusters" in summary and summary.startswith("AWS CDK constructs")
    assert "from a stack" not in summary and "\n" not in summary
    # AND the keywords are the words people search for it by
    assert {"aws-cdk", "documentdb", "docdb-elastic", "snapshot", "backup", "restore"} <= keywords


def test_an_app_outside_the_repository_synthesizes_with_the_installed_wheel(wheel: Path, tmp_path: Path):
    # GIVEN a fresh virtualenv with the wheel installed, and the dependencies (not this project)
    # of the test environment made visible to it
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    app_dir = tmp_path / "user-app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(USER_APP)
    # WHEN the user's app is synthesized from its own directory
    result = subprocess.run(
        [str(python), "app.py"],
        cwd=app_dir,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": tool_path(), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    # THEN the packages came from the installed wheel, not from the repository
    library_file, handler_file = result.stdout.strip().splitlines()[-2:]
    assert library_file.startswith(str(site)) and handler_file.startswith(str(site))
    # AND the asset holds the handler and crhelper
    template = json.loads((app_dir / "cdk.out" / "UserStack.template.json").read_text())
    (function,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("docdb_snapshot_handler")
    ]
    asset = app_dir / "cdk.out" / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    files = {str(p.relative_to(asset)) for p in asset.rglob("*.py")}
    assert {"docdb_snapshot_handler/entrypoint.py", "crhelper/resource_helper.py"} <= files
    modes = sorted(
        r["Properties"].get("Mode", "snapshot")
        for r in template["Resources"].values()
        if r["Type"] == "Custom::DocDbElasticClusterSnapshot"
    )
    assert modes == ["before-change", "final", "snapshot"]
    # AND the copy and the restore are there, as custom resources of their own types
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"Custom::DocDbElasticClusterSnapshotCopy", "Custom::DocDbElasticClusterFromSnapshot"} <= types
