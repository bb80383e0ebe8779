"""Fault injection: transient faults are absorbed, permanent ones fail fast with a useful Reason.

Most sequences run through dispatch.create_or_update with a real boto3 client against the
loopback stand-in and a fast retry policy (milliseconds instead of seconds between attempts);
a few go through the whole Lambda entry point with the production policy.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from docdb_snapshot_handler import dispatch
from docdb_snapshot_handler.api import Api, ApiError, RetryPolicy
from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from docdb_snapshot_handler.request import Services
from docdb_snapshot_handler.snapshots import SnapshotFailed
from standins.docdb_elastic import DocDbElasticStandIn, Fault
from standins.events import cfn_event
from standins.lambda_context import FakeLambdaContext
from standins.response_receiver import ResponseReceiver

FAST = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)

TRANSIENT = {
    "throttle": lambda: Fault.throttle(),
    "throttle-retry-after-0": lambda: Fault.throttle(retry_after=0),
    "internal-500": Fault.internal,
    "connection-reset": Fault.connection_reset,
    "slow-0.3s": lambda: Fault.slow(0.3),
}
# Every call a Create makes with a generated name, in order.
CREATE_PATH = ("CreateClusterSnapshot", "GetClusterSnapshot")


def client(read_timeout: float = 10) -> Any:
    config = _CLIENT_CONFIG.merge(Config(read_timeout=read_timeout))
    return boto3.client("docdb-elastic", config=config)


def create(
    cluster: str, receiver: ResponseReceiver, factory=client, policy=FAST, budget=900.0, **props: Any
) -> tuple[str, dict[str, str]]:
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, **props})
    services = Services(client_factory=factory, retry_policy=policy)
    return dispatch.create_or_update(event, FakeLambdaContext(budget), services)


@pytest.fixture
def cluster(docdb: DocDbElasticStandIn) -> str:
    # Snapshots are ACTIVE at once, so no poll is made, unless a test polls on purpose.
    docdb.snapshot_delay = 0.0
    return docdb.add_cluster("orders")


@pytest.mark.parametrize("operation", CREATE_PATH)
@pytest.mark.parametrize("kind", sorted(TRANSIENT))
def test_five_consecutive_transient_faults_on_any_call_still_give_one_snapshot(
    operation, kind, cluster, docdb, receiver
):
    docdb.snapshot_delay = 0.2 if operation == "GetClusterSnapshot" else 0.0
    # GIVEN the next five calls of one operation fail transiently
    docdb.inject(operation, *(TRANSIENT[kind]() for _ in range(5)))
    # WHEN a snapshot is taken
    arn, data = create(cluster, receiver)
    # THEN it succeeds, with exactly one snapshot; a failed call was made again each time
    assert data["Status"] == "ACTIVE" and list(docdb.snapshots) == [arn]
    answered_slowly = kind.startswith("slow")
    assert len(docdb.calls_to(operation)) >= (1 if answered_slowly else 6)


def test_a_mixed_sequence_of_faults_is_absorbed(cluster, docdb, receiver):
    docdb.inject(
        "CreateClusterSnapshot",
        Fault.throttle(),
        Fault.internal(),
        Fault.connection_reset(),
        Fault.throttle(retry_after=0),
        Fault(503, "ServiceUnavailable"),
        Fault(502, "BadGateway"),
    )
    arn, _ = create(cluster, receiver)
    assert list(docdb.snapshots) == [arn] and len(docdb.calls_to("CreateClusterSnapshot")) == 7


def test_a_response_slower_than_the_read_timeout_is_retried(cluster, docdb, receiver):
    docdb.snapshot_delay = 0.2
    docdb.inject("GetClusterSnapshot", Fault.slow(1.5))
    arn, data = create(cluster, receiver, factory=lambda: client(read_timeout=0.5))
    assert data["Status"] == "ACTIVE" and list(docdb.snapshots) == [arn]


@pytest.mark.parametrize("kind", sorted(TRANSIENT))
def test_delete_absorbs_transient_faults(kind, cluster, docdb, receiver):
    arn, _ = create(cluster, receiver, RemovalPolicy="destroy")
    docdb.inject("DeleteClusterSnapshot", *(TRANSIENT[kind]() for _ in range(5)))
    event = cfn_event(
        "Delete", receiver.new_url(), {"ClusterArn": cluster, "RemovalPolicy": "destroy"}, physical_id=arn
    )
    assert dispatch.delete(event, FakeLambdaContext(), Services(client, retry_policy=FAST)) == arn
    assert docdb.snapshots == {}


def test_retry_after_is_honoured(cluster, docdb, aws_env):
    # GIVEN a throttle that asks for 3 seconds, then one that names none
    docdb.inject("ListClusterSnapshots", Fault.throttle(retry_after=3), Fault.throttle())
    waits: list[float] = []
    api = Api(
        client(),
        deadline=time.monotonic() + 60,
        policy=RetryPolicy(base_delay=0.5, max_delay=8),
        sleep=waits.append,
        jitter=lambda low, high: high,
    )
    # WHEN the call is made, THEN it waits as asked, then backs off exponentially
    api.call("ListClusterSnapshots", clusterArn=cluster)
    assert waits == [3.0, 1.0]


def test_backoff_is_capped_and_jittered(cluster, docdb, aws_env):
    docdb.inject("ListClusterSnapshots", *(Fault.internal() for _ in range(7)))
    ceilings: list[float] = []

    def jitter(low: float, high: float) -> float:
        ceilings.append(high)
        return low

    Api(
        client(), time.monotonic() + 60, RetryPolicy(base_delay=0.5, max_delay=4), sleep=lambda _: None, jitter=jitter
    ).call("ListClusterSnapshots", clusterArn=cluster)
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_a_retry_after_beyond_the_deadline_fails_at_once(cluster, docdb, aws_env):
    docdb.inject("ListClusterSnapshots", Fault.throttle(retry_after=120))
    waits: list[float] = []
    with pytest.raises(ApiError) as raised:
        Api(client(), time.monotonic() + 30, sleep=waits.append).call("ListClusterSnapshots", clusterArn=cluster)
    assert raised.value.code == "ThrottlingException" and waits == []


PERMANENT = [
    (Fault(403, "AccessDeniedException", "not authorized"), "docdb-elastic:CreateClusterSnapshot"),
    (Fault(404, "ResourceNotFoundException", "no such cluster"), "check cluster_arn"),
    (Fault(402, "ServiceQuotaExceededException", "quota"), "Service Quotas"),
    (Fault(400, "ValidationException", "bad input"), "check snapshot_name and tags"),
]


@pytest.mark.parametrize(("fault", "advice"), PERMANENT, ids=[f.code for f, _ in PERMANENT])
def test_a_permanent_error_fails_at_once_naming_error_cluster_and_remedy(fault, advice, cluster, docdb, receiver):
    docdb.inject("CreateClusterSnapshot", fault)
    with pytest.raises(SnapshotFailed) as raised:
        create(cluster, receiver, policy=RetryPolicy())
    reason = str(raised.value)
    assert fault.code in reason and cluster in reason and advice in reason, reason
    assert len(docdb.calls_to("CreateClusterSnapshot")) == 1  # no retry on 4xx other than 429


@pytest.mark.parametrize("fault", [Fault.throttle, Fault.internal], ids=["429", "500"])
def test_a_transient_error_that_never_ends_fails_after_bounded_attempts(fault, cluster, docdb, receiver):
    docdb.inject("CreateClusterSnapshot", *(fault() for _ in range(FAST.max_attempts)))
    with pytest.raises(SnapshotFailed) as raised:
        create(cluster, receiver)
    assert f"after {FAST.max_attempts} attempts" in str(raised.value)
    assert fault().code in str(raised.value) and "deploy again later" in str(raised.value)
    assert docdb.snapshots == {}


def test_the_entry_point_absorbs_faults_with_the_production_policy(cluster, docdb, receiver):
    # GIVEN faults on every call of a Create, and a ResponseURL that first answers 503
    for operation in CREATE_PATH:
        docdb.inject(operation, Fault.throttle(), Fault.internal(), Fault.connection_reset())
    receiver.statuses.append(503)
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    from docdb_snapshot_handler import entrypoint

    entrypoint.handler(event, FakeLambdaContext())
    # THEN exactly one SUCCESS reached CloudFormation, for the one snapshot
    (response,) = receiver.responses_for(event["ResponseURL"])
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert list(docdb.snapshots) == [response["PhysicalResourceId"]]


def test_a_malformed_service_answer_fails_as_an_unexpected_error(cluster, docdb, receiver):
    docdb.inject("CreateClusterSnapshot", Fault.malformed())
    event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster})
    from docdb_snapshot_handler import entrypoint

    entrypoint.handler(event, FakeLambdaContext())
    (response,) = receiver.responses_for(event["ResponseURL"])
    assert response["Status"] == "FAILED" and response["PhysicalResourceId"]
    assert response["Reason"].startswith("Unexpected error in the snapshot handler (KeyError")
