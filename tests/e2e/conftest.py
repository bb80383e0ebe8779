"""The sample app's existing-cluster stack, ready to drive with its bundled handler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docdb_snapshot_handler.contract import RESOURCE_TYPE
from standins.bundled_handler import BundledHandler, as_cloudformation_sends
from standins.response_receiver import ResponseReceiver
from synth_support import templates


@pytest.fixture
def sample_stack(
    standin_synth: Path, receiver: ResponseReceiver, aws_env: dict[str, str]
) -> tuple[BundledHandler, str, dict[str, Any]]:
    """(its bundled handler, the snapshot's logical id, its properties as CloudFormation sends them)"""
    template = templates(standin_synth)["DocDbElasticSnapshotStack.template.json"]
    logical_id, resource = next((k, r) for k, r in template["Resources"].items() if r["Type"] == RESOURCE_TYPE)
    return (
        BundledHandler(standin_synth, template, receiver, aws_env),
        logical_id,
        as_cloudformation_sends(resource["Properties"]),
    )
