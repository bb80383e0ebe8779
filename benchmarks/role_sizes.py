#!/usr/bin/env python3
"""IAM figures of every role the library creates, for the stacks issue 23 names: the demo stack,
every construct of the README in one stack, that plus 20 and plus 150 snapshots of as many more
clusters. Inline characters per role (limit 10,240), the largest managed policy (6,144) and the
managed policies attached (10), as ``role_limits`` counts them (resolved, no whitespace,
references at their longest). Prints a Markdown table; asserts nothing."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO), str(REPO / "constructs")]

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_iam as iam  # noqa: E402

from docdb_elastic_snapshot.role_limits import role_figures  # noqa: E402
from every_construct import every_construct, more_snapshots  # noqa: E402
from iam_lifecycles import ENV  # noqa: E402
from synth_support import recommended_app  # noqa: E402


def demo() -> cdk.Stack:
    import app as sample_app  # app.py at the root of the repository

    app = recommended_app()
    app.node.set_context("beforeChangeRetainLast", "1")
    return sample_app.build_demo(app)


def everything(extra: int) -> cdk.Stack:
    stack = cdk.Stack(recommended_app(), f"Everything{extra}", env=ENV)
    every_construct(stack)
    more_snapshots(stack, extra)
    return stack


def rows(name: str, stack: cdk.Stack) -> list[str]:
    found = []
    for role in (c for c in stack.node.find_all() if isinstance(c, iam.Role) and "FlowLog" not in c.node.path):
        inline, managed, count = role_figures(role)
        largest = max((size for _, size in managed), default=0)
        found.append(f"| {name} | {role.node.path.split('/', 1)[1]} | {inline:,} | {largest:,} | {count} |")
    return found


def main() -> None:
    print(
        "| stack | role | inline characters (≤ 10,240) | largest managed policy (≤ 6,144) | managed policies (≤ 10) |"
    )
    print("|---|---|---:|---:|---:|")
    for line in rows("demo (app.py)", demo()):
        print(line)
    for extra in (0, 20, 150):
        for line in rows(f"every construct + {extra} snapshots", everything(extra)):
            print(line)


if __name__ == "__main__":
    main()
