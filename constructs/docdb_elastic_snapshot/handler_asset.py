"""The Lambda asset, built without Docker: the handler package and crhelper, nothing else.

boto3 comes from the Lambda runtime. Both packages are found through the import system, so the
asset is the same whether this library runs from a checkout or from an installed wheel. Only
.py sources (and crhelper's licence files) are copied: no __pycache__, no stubs, so the asset
hash changes exactly when the handler code or the crhelper version changes.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aws_cdk import aws_lambda

HANDLER_PACKAGE = "docdb_snapshot_handler"
HANDLER_ENTRY_POINT = f"{HANDLER_PACKAGE}.entrypoint.handler"
_BUNDLED_PACKAGES = (HANDLER_PACKAGE, "crhelper")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed; it is needed for the Lambda asset")
    return Path(next(iter(spec.submodule_search_locations)))


def _sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def _licence_files(distribution: str) -> Iterator[tuple[str, Path]]:
    files = importlib.metadata.distribution(distribution).files or []
    for file in files:
        if Path(str(file)).name in ("LICENSE", "NOTICE"):
            yield Path(str(file)).name, Path(str(file.locate()))


@functools.cache
def asset_directory() -> Path:
    """Stage the asset once per process; CDK copies it into the cloud assembly at synth."""
    staging = Path(tempfile.mkdtemp(prefix="docdb-elastic-snapshot-handler-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    for package in _BUNDLED_PACKAGES:
        source = _package_dir(package)
        for path in _sources(source):
            target = staging / package / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for name, path in _licence_files("crhelper"):
        shutil.copyfile(path, staging / "crhelper" / name)
    return staging


def handler_code() -> aws_lambda.Code:
    return aws_lambda.Code.from_asset(str(asset_directory()))
