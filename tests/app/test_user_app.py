"""The README's and the docs' examples run as written, and the user app they come from
(examples/user_app.py) synthesizes cdk-nag and cfn-lint clean, every role within IAM's limits.

Every Python block of README.md and docs/*.md is one of:
- lines of examples/user_app.py (every README block: its construct section is that app's lines),
  which the user app's synthesis then runs;
- run on its own in the namespace `doc_examples.prepared` provides (the names it assumes), in a
  stack of the user app's account and region, and synthesized;
- marked `<!-- example: not run: <why> -->` on the line before its fence, and counted here.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from doc_examples import USER_APP, Block, blocks_of, every_block, is_lines_of, load_user_app, run_in_prepared_namespace
from docdb_elastic_snapshot.role_limits import (
    MANAGED_POLICIES_PER_ROLE_QUOTA,
    MANAGED_POLICY_SIZE_QUOTA,
    ROLE_INLINE_POLICY_QUOTA,
    role_figures,
)
from synth_support import cdk_synth, cfn_lint, recommended_app, templates

BLOCKS = every_block()
APP_SOURCE = USER_APP.read_text()
README_BLOCKS = [b for b in BLOCKS if b.path == "README.md"]
DOCS_BLOCKS = [b for b in BLOCKS if b.path != "README.md"]
#: The blocks marked not to run, counted per file: a new mark must be added here too.
NOT_RUN_PER_FILE: dict[str, int] = {}


def names(blocks: list[Block]) -> list[str]:
    return [b.name for b in blocks]


def test_every_file_with_python_examples_is_read():
    # GIVEN the README and docs/*.md
    # THEN every construct example of the README is found, and every docs page's
    assert len(README_BLOCKS) >= 7, names(README_BLOCKS)
    assert {b.path for b in DOCS_BLOCKS} >= {
        "docs/backup-plan.md",
        "docs/copies.md",
        "docs/elastic-cluster-snapshot.md",
        "docs/guard.md",
        "docs/iam.md",
        "docs/protections.md",
        "docs/restore-testing.md",
        "docs/restore.md",
    }


def test_the_blocks_not_run_are_marked_and_counted():
    # GIVEN the blocks marked not to run
    marked = [b for b in BLOCKS if b.not_run is not None]
    # THEN they are the ones counted here, each with its reason, and none is in the README
    counted: dict[str, int] = {}
    for block in marked:
        counted[block.path] = counted.get(block.path, 0) + 1
        assert block.not_run, block.name
    assert counted == NOT_RUN_PER_FILE
    assert not [b for b in README_BLOCKS if b.not_run is not None]


def test_a_mark_leaves_out_the_next_block_only():
    # GIVEN a page with a marked block and an unmarked one
    page = textwrap.dedent(
        """\
        Text.

        <!-- example: not run: the shape of an event, not code -->
        ```python
        {"a": 1}
        ```

        ```python
        x = 1
        ```
        """
    )
    # WHEN its blocks are read
    first, second = blocks_of(page, "page.md")
    # THEN only the first is marked, with its reason, and each knows its line
    assert (first.not_run, first.line, first.code) == ("the shape of an event, not code", 4, '{"a": 1}\n')
    assert (second.not_run, second.line, second.code) == (None, 8, "x = 1\n")


def test_lines_of_the_app_match_as_a_whole_and_exactly():
    source = "def f(stack):\n    a = 1\n    b = g(\n        stack, x=2\n    )\n"
    # THEN consecutive lines match, indented as a whole; a changed argument or a gap does not
    assert is_lines_of("b = g(\n    stack, x=2\n)\n", source)
    assert not is_lines_of("b = g(\n    stack, y=2\n)\n", source)
    assert not is_lines_of("a = 1\n)\n", source)


@pytest.mark.parametrize("block", README_BLOCKS, ids=names(README_BLOCKS))
def test_every_readme_example_is_lines_of_the_user_app(block: Block):
    # GIVEN a construct example of the README
    # THEN it is lines of examples/user_app.py, as they stand there (the app's synthesis runs them)
    assert is_lines_of(block.code, APP_SOURCE), (
        f"{block.name}: not lines of examples/user_app.py; the README's examples are taken from it:\n{block.code}"
    )


RUN_BLOCKS = [b for b in DOCS_BLOCKS if b.not_run is None and not is_lines_of(b.code, APP_SOURCE)]


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=names(RUN_BLOCKS))
def test_every_docs_example_runs_and_synthesizes(block: Block, tmp_path: Path):
    # GIVEN a stack of the user app's account and region, and the names the docs assume
    user_app = load_user_app("user_app_for_docs")
    app = recommended_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "DocsStack", env=user_app.ORDERS_ENV)
    # WHEN the block runs as written, and the app is synthesized
    run_in_prepared_namespace(block, stack)
    app.synth()
    # THEN the stack synthesized (every construct's validation, IAM's limits among them, passed)
    assert "DocsStack.template.json" in templates(tmp_path)


def iam_figures(stacks: list[cdk.Stack]) -> dict[str, tuple[int, list[tuple[str, int]], int]]:
    return {c.node.path: role_figures(c) for s in stacks for c in s.node.find_all() if isinstance(c, iam.Role)}


def test_the_user_app_synthesizes_nag_and_cfn_lint_clean_with_every_role_within_iams_limits(tmp_path: Path):
    # GIVEN the user app, with cdk-nag's AwsSolutions checks as a user adds them
    user_app = load_user_app()
    app = recommended_app(outdir=str(tmp_path))
    stacks = user_app.build(app)
    pack = AwsSolutionsChecks(app)
    cdk.Validations.of(app).add_plugins(pack)
    # WHEN it is synthesized (the library's role checks fail app.synth() when a role is over)
    app.synth()
    # THEN cdk-nag finds nothing, and cfn-lint is silent on both templates
    report = pack.validate_scope(app)
    assert report.success, [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
    assert set(templates(tmp_path)) == {"OrdersStack.template.json", "BackupGuardStack.template.json"}
    result = cfn_lint([str(p) for p in tmp_path.glob("*.template.json")])
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
    # AND every role of the library is within IAM's limits, as IAM counts them
    figures = iam_figures(stacks)
    assert any("Provider" in path or "SnapshotProvider" in path for path in figures), list(figures)
    for path, (inline, managed, count) in figures.items():
        assert inline <= ROLE_INLINE_POLICY_QUOTA, (path, inline)
        assert all(size <= MANAGED_POLICY_SIZE_QUOTA for _, size in managed), (path, managed)
        assert count <= MANAGED_POLICIES_PER_ROLE_QUOTA, (path, count)


def test_the_user_app_synthesizes_with_the_cdk_cli_as_its_docstring_says(tmp_path: Path):
    # GIVEN the command of the app's docstring
    assert 'cdk synth --app "python3 examples/user_app.py"' in APP_SOURCE
    # WHEN the project's CDK CLI runs it
    cdk_synth(tmp_path / "out", app="python3 examples/user_app.py")
    # THEN both stacks are there, with the README's constructs' outputs and schedules, and the guard
    assembled = templates(tmp_path / "out")
    orders = assembled["OrdersStack.template.json"]
    assert {"SnapshotArn", "RestoreSeconds", "RestoreTestName"} <= set(orders["Outputs"])
    assert "AWS::Scheduler::Schedule" in {r["Type"] for r in orders["Resources"].values()}
    assert "AWS::Organizations::Policy" in json.dumps(assembled["BackupGuardStack.template.json"])
