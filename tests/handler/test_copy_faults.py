"""Copies against the service's refusals and faults: each refusal explained with what to do,
bursts of transient faults on any call absorbed (one copy still), a permanent error not retried."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from copy_support import KEY, PREFIX, copy_event, the_copies
from docdb_snapshot_handler import dispatch
from docdb_snapshot_handler.api import RetryPolicy
from docdb_snapshot_handler.contract import REQUEST_TAG_KEY, Attr
from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from docdb_snapshot_handler.once import Failed, request_token
from docdb_snapshot_handler.request import Services
from docdb_snapshot_handler.snapshots import generate_snapshot_name
from standins.docdb_elastic import REGION, Fault
from standins.invoke import answer
from standins.lambda_context import FakeLambdaContext

FAST = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)


def client_in(region: str) -> Any:
    return boto3.client("docdb-elastic", region_name=region, config=_CLIENT_CONFIG)


def services(policy: RetryPolicy = FAST) -> Services:
    return Services(client_factory=lambda: client_in(REGION), retry_policy=policy)


# --- failures the service reports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        ("missing-source", ["does not exist in this account and region", "source_snapshot_arn"]),
        ("unusable-key", [KEY, "is disabled", "key policy"]),
        ("quota", ["ServiceQuotaExceededException", "snapshots in this region", "retain_last"]),
        ("name-taken", ["already exists", "not created by this request", "snapshot_name_prefix"]),
    ],
)
def test_service_refusals_fail_with_a_reason_that_says_what_to_do(arrange, expected, docdb, receiver):
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("orders")
    source = docdb.add_snapshot(cluster, "orders-release")
    props: dict[str, Any] = {"SourceSnapshotArn": source}
    event = copy_event("Create", receiver.new_url(), props)
    if arrange == "missing-source":
        props["SourceSnapshotArn"] = source.replace(source[-6:], "ffffff")
    elif arrange == "unusable-key":
        props["KmsKeyId"] = KEY
        docdb.kms_key_errors[KEY] = (400, "ValidationException", f"KMS key {KEY} is disabled")
    elif arrange == "quota":
        docdb.inject("CopyClusterSnapshot", Fault(402, "ServiceQuotaExceededException", "quota"))
    elif arrange == "name-taken":
        token = request_token(event["StackId"], event["LogicalResourceId"], event["RequestId"])
        docdb.add_snapshot(cluster, generate_snapshot_name(PREFIX, token), tags={REQUEST_TAG_KEY: "other"})
    event["ResourceProperties"].update(props)
    response = answer(receiver, event)
    assert response["Status"] == "FAILED"
    for text in expected:
        assert text in response["Reason"], (text, response["Reason"])
    assert the_copies(docdb, REGION) == {}


@pytest.mark.parametrize(
    "operation", ["GetClusterSnapshot", "CopyClusterSnapshot", "ListClusterSnapshots", "ListTagsForResource"]
)
@pytest.mark.parametrize("fault", [Fault.throttle, Fault.internal])
def test_bursts_of_transient_faults_on_any_call_still_give_one_copy(operation, fault, source, docdb, receiver):
    # GIVEN retention (so every call of the path is made), and four faults in a row on one call
    docdb.add_snapshot(docdb.snapshots[source].cluster_arn, "by-hand")
    docdb.inject(operation, *(fault() for _ in range(4)))
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "RetainLast": "1"})
    arn, data = dispatch.create_or_update(event, FakeLambdaContext(), services())
    assert data[Attr.STATUS] == "ACTIVE" and list(the_copies(docdb, REGION)) == [arn]
    assert len(docdb.calls_to(operation)) >= 5


def test_a_fault_burst_on_delete_with_destroy_is_absorbed(source, docdb, receiver):
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "KmsKeyId": KEY})
    arn, _ = dispatch.create_or_update(event, FakeLambdaContext(), services())
    docdb.inject("DeleteClusterSnapshot", Fault.throttle(), Fault.internal(), Fault.throttle())
    delete = copy_event(
        "Delete", receiver.new_url(), {"SourceSnapshotArn": source, "RemovalPolicy": "destroy"}, physical_id=arn
    )
    assert dispatch.delete(delete, FakeLambdaContext(), services()) == arn
    assert the_copies(docdb, REGION) == {}


def test_a_permanent_error_is_not_retried(source, docdb, receiver):
    docdb.inject("CopyClusterSnapshot", Fault(403, "AccessDeniedException", "not authorized"))
    event = copy_event("Create", receiver.new_url(), {"SourceSnapshotArn": source, "KmsKeyId": KEY})
    with pytest.raises(Failed) as raised:
        dispatch.create_or_update(event, FakeLambdaContext(), services())
    assert "AccessDeniedException" in str(raised.value) and "service control policies" in str(raised.value)
    assert len(docdb.calls_to("CopyClusterSnapshot")) == 1
