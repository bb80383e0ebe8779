"""Fixtures of the handler tests: delivering a backup rule's scheduled occurrences, and the Lambda
stand-in that runs continued invocations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from docdb_snapshot_handler import contract, dispatch, entrypoint
from emf import emf_lines, spec_errors
from standins.docdb_elastic import DocDbElasticStandIn
from standins.lambda_context import FakeLambdaContext
from standins.lambda_service import LambdaStandIn

REPO = Path(__file__).resolve().parents[2]
# Each continued invocation gets 20 s, 15 s of which are kept for the answer: 5 s of waiting.
CONTINUED_INVOCATION_SECONDS = 20.0


@pytest.fixture
def lambda_service(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaStandIn]:
    """The Lambda Invoke API: each continuation runs like Lambda runs it, in a fresh process."""
    with LambdaStandIn(
        REPO / "lambda", "docdb_snapshot_handler.entrypoint.handler", {}, CONTINUED_INVOCATION_SECONDS
    ) as service:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", service.endpoint)
        service.env = {"AWS_ENDPOINT_URL_LAMBDA": service.endpoint}
        entrypoint._lambda_client = None  # a client made by an earlier test points elsewhere
        yield service
        entrypoint._lambda_client = None


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
