"""The project's own Node.js (package.json's `node` devDependency, in node_modules/.bin): what jsii
and the CDK CLI run on in every test, as `make` runs them, whatever Node.js the machine has.

No aws_cdk import here: importing aws_cdk starts jsii's Node.js process, so the PATH must be
set before that (tests/conftest.py calls `use_local_node()` before any other import)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

NODE_BIN = Path(__file__).resolve().parent.parent / "node_modules" / ".bin"


def tool_path(path: str | None = None) -> str:
    """`path` (default: this process's PATH) with the project's Node.js first, then this
    interpreter's virtualenv (app commands are `python3 app.py`)."""
    first = [str(NODE_BIN), str(Path(sys.executable).parent)]
    rest = [p for p in (os.environ.get("PATH", "") if path is None else path).split(os.pathsep) if p not in first]
    return os.pathsep.join(first + rest)


def use_local_node() -> None:
    """This process and every subprocess it starts run jsii on the project's Node.js."""
    os.environ["PATH"] = tool_path()
