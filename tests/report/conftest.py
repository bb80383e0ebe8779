"""Fixtures of the report tests: the EventBridge Scheduler stand-in, next to the docdb-elastic one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from standins.scheduler import SchedulerServer, SchedulerStandIn


@pytest.fixture(scope="session")
def scheduler_server() -> Iterator[SchedulerServer]:
    with SchedulerServer() as server:
        yield server


@pytest.fixture
def scheduler(
    scheduler_server: SchedulerServer, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> SchedulerStandIn:
    """The Scheduler API, empty, where boto3's scheduler clients call it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SCHEDULER", scheduler_server.endpoint)
    service = scheduler_server.service
    service.reset()
    return service
