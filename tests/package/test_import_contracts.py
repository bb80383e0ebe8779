"""The layering is enforced: `lint-imports` (run by `make lint`) fails on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # A wide terminal: one line per contract, ending in KEPT or BROKEN.
    env = {**os.environ, "PYTHONPATH": f"{root / 'lambda'}{os.pathsep}{root / 'constructs'}", "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, str(LINT_IMPORTS), str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_sources(tmp_path: Path) -> Path:
    for name in ("lambda", "constructs"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_sources_keep_every_import_contract(copy_of_sources: Path):
    # GIVEN the sources as they are; WHEN lint-imports checks them
    result = lint_imports(copy_of_sources)
    # THEN every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = [line.strip() for line in result.stdout.splitlines() if line.strip().endswith(("KEPT", "BROKEN"))]
    assert len(verdicts) == 5 and all(line.endswith("KEPT") for line in verdicts), result.stdout


@pytest.mark.parametrize(
    ("module", "added_import", "broken_contract"),
    [
        ("lambda/docdb_snapshot_handler/kinds/copy/lifecycle.py", "from ... import dispatch", "Handler layers"),
        ("lambda/docdb_snapshot_handler/kinds/copy/lifecycle.py", "from ..restore import lifecycle", "Kinds are peers"),
        ("lambda/docdb_snapshot_handler/once.py", "from . import snapshots", "No import cycles"),
        (
            "constructs/docdb_elastic_snapshot/copy.py",
            "from docdb_snapshot_handler import api",
            "The construct package",
        ),
    ],
)
def test_an_import_against_the_layering_fails_the_lint(
    copy_of_sources: Path, module: str, added_import: str, broken_contract: str
):
    # GIVEN a module that gains an import the layering forbids
    path = copy_of_sources / module
    path.write_text(path.read_text() + f"\n{added_import}  # noqa\n")
    # WHEN lint-imports checks the sources
    result = lint_imports(copy_of_sources)
    # THEN it fails, naming the contract that the import breaks
    assert result.returncode != 0, result.stdout
    verdicts = [line.strip() for line in result.stdout.splitlines() if line.strip().endswith(("KEPT", "BROKEN"))]
    assert any(line.startswith(broken_contract) and line.endswith("BROKEN") for line in verdicts), result.stdout
