"""The Python code blocks of the README and docs/*.md, and the two ways a block is checked: as
lines of examples/user_app.py, or run in the namespace `prepared(stack)` below provides.

A block that is not meant to run says so in an HTML comment on the line before its fence,
`<!-- example: not run: <why> -->`, and tests/app/test_user_app.py counts it."""

from __future__ import annotations

import builtins
import importlib.util
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from docdb_elastic_snapshot import ElasticClusterSnapshot, SnapshotBeforeChange
from synth_support import REPO

USER_APP = REPO / "examples" / "user_app.py"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NOT_RUN_MARK = re.compile(r"<!--\s*example:\s*not run:\s*(?P<why>[^>]*?)\s*-->")
FENCE = re.compile(r"^```python[ \t]*\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)


@dataclass(frozen=True)
class Block:
    path: str  # relative to the repository
    line: int  # of the opening fence, 1-based
    code: str
    not_run: str | None  # why, when marked

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"


def blocks_of(text: str, path: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = NOT_RUN_MARK.search(before)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(path, line, match.group("code"), mark.group("why") if mark else None))
    return found


def every_block() -> list[Block]:
    return [b for doc in DOCS for b in blocks_of(doc.read_text(), str(doc.relative_to(REPO)))]


def is_lines_of(code: str, source: str) -> bool:
    """Whether `code` is a run of consecutive lines of `source`, indented there as a whole
    (the lines of a block inside a function body)."""
    wanted = textwrap.dedent(code).strip("\n").splitlines()
    lines = source.splitlines()
    for start in range(len(lines) - len(wanted) + 1):
        window = lines[start : start + len(wanted)]
        if window[0].strip() == wanted[0].strip() and textwrap.dedent("\n".join(window)).splitlines() == wanted:
            return True
    return False


def load_user_app(name: str = "user_app") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, USER_APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Namespace(dict[str, Any]):
    """A block's names: values, and constructs made when the block first reads them (a block that
    configures the provider must run before the stack's first snapshot construct)."""

    def __init__(self, values: dict[str, Any], on_use: dict[str, Callable[[], Any]]) -> None:
        super().__init__(values)
        self.on_use = on_use

    def __missing__(self, name: str) -> Any:
        if name not in self.on_use:
            raise KeyError(name)
        self[name] = value = self.on_use[name]()
        return value


def prepared(stack: Stack) -> Namespace:
    """The names the docs' examples assume, as examples/user_app.py makes them, in a stack of the
    cluster's account and region.

    From the user app: `stack`, `cluster_arn`, `release_version`, `vpc` (private and isolated
    subnets), `cfn_cluster` (also as `cluster`), `subnet_ids`, `security_group_id`, `copy_key`,
    `topic`, `validate_orders`, `break_glass_arn`. Besides: `app_security_group` and `handler_sg`
    (security groups of the VPC), `log_key` (a KMS key), `copy_key_arn` (a KMS key's ARN, a
    literal); made on first use: `snap` (an `ElasticClusterSnapshot` of `cluster_arn`),
    `before_change` (a `SnapshotBeforeChange` of `cfn_cluster`). Modules and
    classes the blocks use without importing them: `CfnOutput`, `Duration`, `RemovalPolicy`,
    `docdbelastic`, `ec2`, `events`, `kms`, `logs`."""
    user_app = load_user_app("user_app_prepared")
    given = user_app.workload(stack)
    values = {
        **given,
        "stack": stack,
        "cluster_arn": user_app.CLUSTER_ARN,
        "release_version": user_app.RELEASE_VERSION,
        "cluster": given["cfn_cluster"],
        "copy_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "break_glass_arn": user_app.BREAK_GLASS_ARN,
        "app_security_group": ec2.SecurityGroup(stack, "AppSecurityGroup", vpc=given["vpc"]),
        "handler_sg": ec2.SecurityGroup(stack, "HandlerSecurityGroup", vpc=given["vpc"]),
        "log_key": kms.Key(stack, "LogKey", enable_key_rotation=True),
        "CfnOutput": CfnOutput,
        "Duration": Duration,
        "RemovalPolicy": RemovalPolicy,
        "docdbelastic": docdbelastic,
        "ec2": ec2,
        "events": events,
        "kms": kms,
        "logs": logs,
    }
    return Namespace(
        values,
        {
            "snap": lambda: ElasticClusterSnapshot(stack, "PreparedSnapshot", cluster_arn=user_app.CLUSTER_ARN),
            "before_change": lambda: SnapshotBeforeChange(stack, "PreparedBeforeChange", cluster=given["cfn_cluster"]),
        },
    )


def run_in_prepared_namespace(block: Block, stack: Stack) -> Namespace:
    """Run a block as module-level code of its own, its free names looked up in `prepared`."""
    namespace = prepared(stack)
    exec(compile(block.code, block.name, "exec"), {"__builtins__": builtins}, namespace)
    return namespace
