"""Shared loopback stand-ins: the docdb-elastic API and CloudFormation's ResponseURL."""

from __future__ import annotations

from local_node import use_local_node

# Before anything imports aws_cdk (whose import starts jsii's Node.js): the project's Node.js first.
use_local_node()

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docdb_snapshot_handler import entrypoint
from standins.docdb_elastic import REGION, DocDbElasticStandIn, StandInServer, cluster_arn_for
from standins.lambda_service import LambdaStandIn
from standins.response_receiver import ResponseReceiver
from synth_support import cdk_synth


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandInServer]:
    with StandInServer() as server:
        yield server


@pytest.fixture(scope="session")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResponseReceiver]:
    with ResponseReceiver(tmp_path_factory.mktemp("ca")) as server:
        yield server


@pytest.fixture(scope="session")
def aws_env(standin_server: StandInServer, receiver: ResponseReceiver) -> Iterator[dict[str, str]]:
    """What the Lambda environment provides, pointed at the loopback stand-ins."""
    env = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "AKIDTESTINGONLY",
        "AWS_SECRET_ACCESS_KEY": "testing-only-secret",
        "AWS_ENDPOINT_URL_DOCDB_ELASTIC": standin_server.endpoint,
        # Nothing listens here: a test that needs Lambda starts its stand-in (test_long_waits).
        "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9",
        "SSL_CERT_FILE": str(receiver.ca_file),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
            patch.delenv(key, raising=False)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        yield env


@pytest.fixture
def docdb(standin_server: StandInServer, aws_env: dict[str, str]) -> DocDbElasticStandIn:
    service = standin_server.service
    service.reset()
    service.snapshot_delay = 0.3
    return service


# --- readings of AWS (docs/aws-limits.md, "Readings of AWS") --------------------------------
# Each undocumented reading is a parametrised fixture: a test that depends on one asks for it and
# runs under each answer; the others run once, under the documented readings (the defaults).


def _reading(fixture_name: str, member: str, answers: dict[str, object], doc: str) -> Any:
    """A fixture that runs its test once per answer (id: value) of `docdb.readings.<member>`."""

    @pytest.fixture(name=fixture_name, params=list(answers.values()), ids=list(answers))
    def reading(request: pytest.FixtureRequest, docdb: DocDbElasticStandIn) -> object:
        setattr(docdb.readings, member, request.param)
        return request.param

    reading.__doc__ = doc
    return reading


taken_name = _reading(
    "taken_name",
    "taken_name_status",
    {"taken-name-409": 409, "taken-name-400": 400},
    "A create whose name is taken: ConflictException (409), or ValidationException (400).",
)
automated_tagging = _reading(
    "automated_tagging",
    "automated_snapshots_taggable",
    {"automated-taggable": True, "automated-untaggable": False},
    "Whether an automated snapshot accepts TagResource.",
)
update_fields = _reading(
    "update_fields",
    "one_field_per_update",
    {"update-many-fields": False, "update-one-field": True},
    "Whether UpdateCluster takes several members per call, or refuses more than one.",
)
snapshot_names = _reading(
    "snapshot_names",
    "lowercase_snapshot_names",
    {"snapshot-names-as-written": False, "snapshot-names-lowercase": True},
    "Snapshot names stored as written, or lowercase as cluster names are.",
)
quota_order = _reading(
    "quota_order",
    "quota_checked_before_name",
    {"name-checked-first": False, "quota-checked-first": True},
    "At the quota, a create whose name is taken: refused for the name, or for the quota.",
)
snapshot_deleting = _reading(
    "snapshot_deleting",
    "snapshot_deleting_seconds",
    {"deleted-gone-at-once": 0.0, "deleted-counted-while-deleting": 0.3},
    "A deleted snapshot gone at once, or DELETING (listed, and counted against the quota) a while.",
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def placeholder_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdk synth` of the sample app exactly as a new user runs it: no context at all."""
    return cdk_synth(tmp_path_factory.mktemp("cdk-out-placeholder"))


@pytest.fixture(scope="session")
def standin_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdk synth` of the sample app pointed at the stand-in's cluster."""
    return cdk_synth(tmp_path_factory.mktemp("cdk-out-standin"), clusterArn=cluster_arn_for("orders"))


@pytest.fixture
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler polls every 20 ms instead of every 2 s (or more): the stand-in's clusters and
    snapshots settle in real time, and a restore waits on several of them."""
    quick = dataclasses.replace(entrypoint._SERVICES, sleep=lambda seconds: time.sleep(min(seconds, 0.02)))
    monkeypatch.setattr(entrypoint, "_SERVICES", quick)


# The slow set: end-to-end runs, fresh environments and subprocess synths, long real waits.
# `make test-fast` leaves them out; `make test` (and CI) runs everything.
SLOW = (
    "tests/e2e/",
    "tests/package/test_wheel.py",
    "tests/package/test_min_cdk.py",
    "tests/scanners/",
    "tests/app/",
    "tests/construct/test_handler_asset.py",
    "tests/handler/test_long_waits.py",
    "tests/handler/test_restore_faults_and_waits.py",
    "tests/handler/test_backup_plan_year.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        if str(Path(str(item.path)).relative_to(root)).startswith(SLOW):
            item.add_marker(pytest.mark.slow)


# Each continued invocation gets 20 s, 15 s of which are kept for the answer: 5 s of waiting.
CONTINUED_INVOCATION_SECONDS = 20.0


@pytest.fixture
def lambda_service(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaStandIn]:
    """The Lambda Invoke API: each continuation runs like Lambda runs it, in a fresh process."""
    with LambdaStandIn(
        Path(__file__).resolve().parent.parent / "lambda",
        "docdb_snapshot_handler.entrypoint.handler",
        {},
        CONTINUED_INVOCATION_SECONDS,
    ) as service:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", service.endpoint)
        service.env = {"AWS_ENDPOINT_URL_LAMBDA": service.endpoint}
        entrypoint._lambda_client = None  # a client made by an earlier test points elsewhere
        yield service
        entrypoint._lambda_client = None
