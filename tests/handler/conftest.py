"""Fixtures of the handler tests: delivering scheduled occurrences (a backup rule's, a restore
test's); a copy's source snapshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

from docdb_snapshot_handler import contract, dispatch, entrypoint
from emf import emf_lines, spec_errors
from standins.docdb_elastic import DocDbElasticStandIn
from standins.lambda_context import FakeLambdaContext


@pytest.fixture
def deliver(
    docdb: DocDbElasticStandIn, quick_polls: None, capsys: pytest.CaptureFixture[str]
) -> Callable[..., list[dict[str, Any]]]:
    """Deliver an occurrence's event at a wall-clock time (default: a minute after it was
    scheduled); return the EMF objects it wrote, each checked against the specification."""

    def run(event: dict[str, Any], at: datetime | None = None) -> list[dict[str, Any]]:
        key = dispatch.scheduled_kind(event)
        assert key is not None, "not a scheduled event"
        scheduled = contract.scheduled_time_of(event[key]["ScheduledTime"])
        with time_machine.travel(at or scheduled + timedelta(minutes=1), tick=True):
            entrypoint.handler(event, FakeLambdaContext())
        documents = emf_lines(capsys.readouterr().out)
        for document in documents:
            assert spec_errors(document) == [], document
        return documents

    return run


@pytest.fixture
def source(docdb: DocDbElasticStandIn) -> str:
    """An ACTIVE snapshot of a cluster of us-east-1, taken by someone."""
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    return docdb.add_snapshot(cluster, "orders-before-change", tags={"team": "data"})
