"""Whatever arrives, exactly one answer goes back, and nothing secret is logged."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from docdb_snapshot_handler import entrypoint, logs
from standins.docdb_elastic import DocDbElasticStandIn, Fault
from standins.events import cfn_event
from standins.lambda_context import FakeLambdaContext
from standins.response_receiver import SECRET_QUERY

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster(docdb: DocDbElasticStandIn) -> str:
    docdb.snapshot_delay = 0.0
    return docdb.add_cluster("orders")


@pytest.mark.parametrize(
    "broken",
    [
        {"RequestType": "Dance"},
        {"RequestType": None},
        {"StackId": None},
        {"LogicalResourceId": 42},
        {"ResourceProperties": ["ClusterArn"]},
        {"ResourceProperties": None},
    ],
    ids=["unknown-type", "no-type", "no-stack", "bad-logical-id", "props-not-object", "no-props"],
)
def test_a_malformed_event_is_answered_once_with_failed(broken, cluster, docdb, receiver):
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    event.update(broken)
    event = {k: v for k, v in event.items() if v is not None}
    entrypoint.handler(event, FakeLambdaContext())
    (answer,) = receiver.responses_for(event["ResponseURL"])
    assert answer["Status"] == "FAILED" and answer["PhysicalResourceId"] and answer["Reason"]
    assert docdb.calls == []


def test_an_event_without_a_response_url_is_logged_and_nothing_else_happens(docdb, caplog):
    entrypoint.handler({"RequestType": "Create"}, FakeLambdaContext())
    assert docdb.calls == []
    messages = [record.getMessage() for record in caplog.records]
    assert any("Malformed CloudFormation event" in m for m in messages), messages
    assert any("no response can be sent" in m for m in messages), messages


def test_no_region_fails_the_resource_with_a_reason_instead_of_crashing(cluster, receiver, aws_env):
    # GIVEN a fresh interpreter whose environment has no region (import-time state is new)
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    runtime = REPO / "tests" / "standins" / "lambda_runtime.py"
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            str(runtime),
            str(REPO / "lambda"),
            sysconfig.get_paths()["purelib"],
            "docdb_snapshot_handler.entrypoint.handler",
        ],
        input=json.dumps({"event": event}),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    (answer,) = receiver.responses_for(event["ResponseURL"])
    assert answer["Status"] == "FAILED" and "no AWS region" in answer["Reason"]


def test_an_invocation_out_of_time_that_cannot_hand_over_answers_once_before_it_ends(cluster, docdb, receiver):
    # GIVEN a slow snapshot, faults, and an invocation with 18 s left whose hand-over to a new
    # invocation fails (nothing listens at the Lambda endpoint)
    docdb.snapshot_delay = 600
    docdb.inject("GetClusterSnapshot", Fault.throttle(), Fault.slow(0.5))
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    context = FakeLambdaContext(budget_seconds=18)
    entrypoint.handler(event, context)
    # THEN exactly one FAILED answer says so, with time to spare
    (answer,) = receiver.responses_for(event["ResponseURL"])
    assert answer["Status"] == "FAILED" and "could not continue in a new invocation" in answer["Reason"]
    assert context.get_remaining_time_in_millis() > 10_000


def test_at_debug_level_on_every_logger_no_line_carries_the_presigned_url(cluster, docdb, receiver):
    # GIVEN Lambda's root handler set up as at import, and every logger at DEBUG
    root = logging.getLogger()
    stream = io.StringIO()
    lambda_handler = logging.StreamHandler(stream)
    root.addHandler(lambda_handler)
    logs.setup()
    loggers = [root] + [logging.getLogger(n) for n in ("botocore", "boto3", "urllib3", "crhelper")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        # WHEN a Create with retries, a failed answer and a Delete are handled
        docdb.inject("CreateClusterSnapshot", Fault.throttle(retry_after=0))
        receiver.statuses.append(503)
        create = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
        entrypoint.handler(create, FakeLambdaContext())
        delete = cfn_event("Delete", receiver.new_url(), {"ClusterArn": cluster}, physical_id="none")
        entrypoint.handler(delete, FakeLambdaContext())
    finally:
        root.removeHandler(lambda_handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    # THEN there were DEBUG lines from botocore and crhelper, each a JSON object, none secret
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"botocore", "crhelper"} <= {line["logger"].split(".")[0] for line in lines}
    assert all({"aws_request_id", "logical_resource_id", "request_type"} <= set(line) for line in lines)
    assert {line["cfn_request_id"] for line in lines} == {create["RequestId"], delete["RequestId"]}
    for event in (create, delete):
        assert event["ResponseURL"].split("?", 1)[1] not in text
    assert SECRET_QUERY not in text and "X-Amz-Signature" not in text
