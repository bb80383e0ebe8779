"""Scheduled occurrences of a restore test (ElasticClusterRestoreTest), delivered as EventBridge
Scheduler delivers them (at least once: twice, overlapping, late), against the stand-ins: the
docdb-elastic API, and the Lambda API for the validation function and continued invocations."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from docdb_snapshot_handler import contract, entrypoint
from emf import emf_lines
from standins.docdb_elastic import DocDbElasticStandIn, Fault
from standins.events import restore_test_event
from standins.invoke import at_once
from standins.lambda_context import FakeLambdaContext

TEST = "OrdersStack-Drill"
AT = datetime(2026, 12, 15, 5, 0, tzinfo=UTC)
CLAIM = contract.restore_test_claim_key(TEST)
M = contract.RestoreTestMetric


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def metric(documents: list[dict[str, Any]], name: str, cluster: str | None = None) -> float:
    return sum(
        float(document.get(name, 0)) for document in documents if cluster is None or document.get("Cluster") == cluster
    )


def restores(docdb: DocDbElasticStandIn) -> list[dict[str, Any]]:
    return [call.params for call in docdb.calls_to("RestoreClusterFromSnapshot")]


def temporary_clusters(docdb: DocDbElasticStandIn) -> list[str]:
    return [c.name for c in docdb.clusters.values() if c.tags.get(contract.RESTORE_TEST_TAG_KEY) == TEST]


def records(docdb: DocDbElasticStandIn, cluster_arn: str) -> dict[str, str]:
    """The test's record of each recovery point of the cluster that has one (point name to
    '<occurrence> <outcome>', leaving out the seconds to ACTIVE, which depend on the machine): on
    the point, or, where the point refused the tag, on the cluster, naming the point last."""
    found = {
        s.name: " ".join(s.tags[CLAIM].split(" ")[:2])
        for s in docdb.snapshots.values()
        if s.cluster_arn == cluster_arn and CLAIM in s.tags
    }
    on_cluster = docdb.clusters[cluster_arn].tags.get(CLAIM, "").split(" ")
    point = next((s for s in docdb.snapshots.values() if s.arn.endswith("/" + on_cluster[-1])), None)
    if point is not None:
        found[point.name] = " ".join(on_cluster[:2])
    return found


@pytest.fixture
def gold(docdb: DocDbElasticStandIn) -> str:
    """A cluster selected by the fixture's tag selection, with recovery points of both types."""
    docdb.restore_delay = 0.4
    docdb.delete_delay = 60.0  # a deleted temporary cluster stays visible, DELETING
    arn = docdb.add_cluster("orders", tags={"backup": "gold"})
    docdb.add_snapshot(arn, "orders-manual-old")
    docdb.add_snapshot(arn, "rds:orders-automated", snapshot_type="AUTOMATED")
    return arn


def test_the_newest_active_point_is_restored_timed_and_deleted(docdb, deliver, gold):
    # GIVEN, besides the cluster's older points, a newer one still CREATING and another cluster's newest
    other = docdb.add_cluster("billing")
    docdb.add_snapshot(gold, "orders-by-hand-in-progress", creating_for=600)
    docdb.add_snapshot(other, "billing-newest")
    # WHEN the test's occurrence is delivered
    documents = deliver(restore_test_event(iso(AT)))
    # THEN the newest ACTIVE point of the cluster (the automated one) was restored, once, where asked
    (request,) = restores(docdb)
    newest = next(s for s in docdb.snapshots.values() if s.name == "rds:orders-automated")
    assert request["snapshotArn"] == newest.arn
    assert request["clusterName"] == contract.temporary_cluster_name(TEST, AT, gold)
    assert request["subnetIds"] == ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
    assert request["vpcSecurityGroupIds"] == ["sg-0a1b2c3d4e5f60718"]
    assert request["tags"][contract.RESTORE_TEST_TAG_KEY] == TEST
    assert request["tags"][contract.REQUEST_TAG_KEY] == contract.restore_test_token(TEST, AT, gold)
    # AND the temporary cluster was deleted once ACTIVE (validation window 0)
    (deleted,) = [call.params["clusterArn"] for call in docdb.calls_to("DeleteCluster")]
    assert (docdb.clusters[deleted].name, docdb.clusters[deleted].status) == (request["clusterName"], "DELETING")
    # AND the recovery point carries the occurrence's outcome and time to ACTIVE
    assert records(docdb, gold) == {"rds:orders-automated": f"{AT:%Y-%m-%dT%H:%MZ} succeeded"}
    # AND the numbers, per cluster: one success, the restore's seconds, the point's age at restore
    assert metric(documents, M.SUCCEEDED, "orders") == 1
    assert metric(documents, M.FAILED, "orders") == 0
    assert 0.3 <= metric(documents, M.RESTORE_SECONDS, "orders") < 30
    age = metric(documents, M.RECOVERY_POINT_AGE_SECONDS, "orders")
    assert 16 * 86400 < age < 17 * 86400  # created 2026-11-28, restored 2026-12-15 05:01
    (document,) = [d for d in documents if M.SUCCEEDED in d]
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Cluster"], ["RestoreTest"]]


def test_only_the_chosen_types_are_restored(docdb, deliver, gold):
    # GIVEN a test of manual recovery points only
    # WHEN its occurrence is delivered
    deliver(restore_test_event(iso(AT), RecoveryPointTypes=["MANUAL"]))
    # THEN the older manual point was restored, not the newer automated one
    (request,) = restores(docdb)
    assert docdb.snapshots[request["snapshotArn"]].name == "orders-manual-old"


@pytest.mark.usefixtures("automated_tagging")
def test_a_redelivered_occurrence_restores_nothing_even_after_the_first_has_finished(docdb, deliver, gold):
    # GIVEN an occurrence that was tested and whose temporary cluster is gone
    deliver(restore_test_event(iso(AT)))
    docdb.delete_delay = 0.0
    for cluster in list(docdb.clusters.values()):
        if cluster.status == "DELETING":
            del docdb.clusters[cluster.arn]
    assert temporary_clusters(docdb) == []
    # WHEN EventBridge delivers it again an hour later, after a newer recovery point appeared
    docdb.add_snapshot(gold, "orders-newer")
    documents = deliver(restore_test_event(iso(AT), attempt=2), at=AT + timedelta(hours=1))
    # THEN nothing was restored again, and nothing was counted twice
    assert len(restores(docdb)) == 1
    assert metric(documents, M.SUCCEEDED) == 0 and metric(documents, M.FAILED) == 0


@pytest.mark.usefixtures("automated_tagging", "taken_name")
def test_two_overlapping_deliveries_restore_once_and_count_once(docdb, quick_polls, gold, capsys):
    # GIVEN restores that answer slowly, so that two deliveries of one occurrence overlap
    docdb.latency["RestoreClusterFromSnapshot"] = 0.3
    event = restore_test_event(iso(AT))
    # WHEN both run at once
    with time_machine.travel(AT + timedelta(minutes=1), tick=True):
        errors = at_once(event)
    # THEN both succeeded and one cluster was restored (the service refused the second's name)
    assert errors == []
    names = {params["clusterName"] for params in restores(docdb)}
    assert names == {contract.temporary_cluster_name(TEST, AT, gold)}
    assert len([c for c in docdb.clusters.values() if c.name in names]) == 1
    # AND the test was recorded and counted once, whichever delivery concluded it, and the
    # cluster deleted (the other delivery only made sure of it)
    assert list(records(docdb, gold).values()) == [f"{AT:%Y-%m-%dT%H:%MZ} succeeded"]
    documents = emf_lines(capsys.readouterr().out)
    assert metric(documents, M.SUCCEEDED, "orders") == 1 and metric(documents, M.FAILED) == 0
    (deletion,) = docdb.calls_to("DeleteCluster")
    assert docdb.clusters[deletion.params["clusterArn"]].name in names


def test_a_failed_restore_fails_the_test_and_deletes_its_cluster(docdb, deliver, gold, caplog):
    # GIVEN restores that end in a failed status (the subnets no longer exist)
    docdb.restore_final_status = "INVALID_SUBNET_ID"
    # WHEN the occurrence is delivered
    documents = deliver(restore_test_event(iso(AT)))
    # THEN the test failed with the status named, its cluster was deleted, and the point says so
    assert metric(documents, M.FAILED, "orders") == 1 and metric(documents, M.SUCCEEDED, "orders") == 0
    assert len(docdb.calls_to("DeleteCluster")) == 1
    assert list(records(docdb, gold).values()) == [f"{AT:%Y-%m-%dT%H:%MZ} failed"]
    (record,) = [r for r in caplog.records if getattr(r, "outcome", "") == "failed"]
    assert "INVALID_SUBNET_ID" in record.reason


def test_a_cluster_without_a_recovery_point_fails_without_a_restore(docdb, deliver, caplog):
    # GIVEN a selected cluster that has only a point still being created
    arn = docdb.add_cluster("fresh", tags={"backup": "gold"})
    docdb.add_snapshot(arn, "first", creating_for=600)
    # WHEN the occurrence is delivered
    documents = deliver(restore_test_event(iso(AT)))
    # THEN nothing was restored and the failure names why
    assert restores(docdb) == []
    assert metric(documents, M.FAILED, "fresh") == 1
    (record,) = [r for r in caplog.records if getattr(r, "outcome", "") == "failed"]
    assert "no ACTIVE MANUAL or AUTOMATED recovery point" in record.reason


def test_the_validation_function_gets_the_endpoint_and_its_failure_fails_the_test(
    docdb, deliver, gold, lambda_service, caplog
):
    # GIVEN a validation function that finds the restored data wrong
    seen: list[dict[str, Any]] = []

    def validate(event: dict[str, Any]) -> None:
        seen.append(event)
        raise AssertionError("orders collection is empty")

    lambda_service.functions["validate-orders"] = validate
    function = "arn:aws:lambda:us-east-1:123456789012:function:validate-orders"
    # WHEN the occurrence is delivered
    documents = deliver(restore_test_event(iso(AT), ValidationFunction=function))
    # THEN the function got the temporary cluster's endpoint, once
    (event,) = seen
    name = contract.temporary_cluster_name(TEST, AT, gold)
    assert event["clusterEndpoint"] == f"{name}.cluster.docdb-elastic.amazonaws.com"
    assert event["sourceClusterArn"] == gold and event["restoreTest"] == TEST
    # AND the test failed with the function's words, and the temporary cluster was deleted
    assert metric(documents, M.FAILED, "orders") == 1 and metric(documents, M.SUCCEEDED, "orders") == 0
    (record,) = [r for r in caplog.records if getattr(r, "outcome", "") == "failed"]
    assert "orders collection is empty" in record.reason
    assert len(docdb.calls_to("DeleteCluster")) == 1
    assert list(records(docdb, gold).values()) == [f"{AT:%Y-%m-%dT%H:%MZ} failed"]


def test_a_validated_cluster_is_kept_for_the_validation_window(docdb, deliver, gold, lambda_service):
    # GIVEN a validation function that passes, and a 2-second validation window
    lambda_service.functions["validate-orders"] = lambda event: {"documents": 12}
    function = "arn:aws:lambda:us-east-1:123456789012:function:validate-orders"
    # WHEN the occurrence is delivered
    documents = deliver(restore_test_event(iso(AT), ValidationFunction=function, ValidationWindowSeconds=2))
    # THEN the test succeeded, and the cluster was deleted no sooner than 2 s after it was ACTIVE
    assert metric(documents, M.SUCCEEDED, "orders") == 1
    (deletion,) = docdb.calls_to("DeleteCluster")
    (restore,) = docdb.calls_to("RestoreClusterFromSnapshot")
    assert deletion.at - restore.at >= 0.4 + 2


def test_a_run_that_died_is_cleaned_up_by_the_next_occurrence(docdb, quick_polls, gold, lambda_service, capsys):
    # GIVEN a run that restored, then could not continue (Lambda refused its next invocation)
    lambda_service.refuse_with = (500, "ServiceException")
    with time_machine.travel(AT + timedelta(minutes=1), tick=True):
        with pytest.raises(Exception):  # noqa: B017 - the occurrence fails, as Lambda would see it
            # 16 s, 15 of which are kept for the answer: it hands over at once
            entrypoint.handler(restore_test_event(iso(AT)), FakeLambdaContext(budget_seconds=16))
    (left,) = temporary_clusters(docdb)
    assert list(records(docdb, gold).values()) == [f"{AT:%Y-%m-%dT%H:%MZ} restoring"]
    time.sleep(0.5)  # the abandoned restore becomes ACTIVE
    lambda_service.refuse_with = None
    capsys.readouterr()
    # WHEN the next month's occurrence runs
    later = AT + timedelta(days=31)
    with time_machine.travel(later + timedelta(minutes=1), tick=True):
        entrypoint.handler(restore_test_event(iso(later)), FakeLambdaContext())
    # THEN the abandoned cluster was deleted, its occurrence recorded and counted as failed
    deleted = {docdb_call.params["clusterArn"] for docdb_call in docdb.calls_to("DeleteCluster")}
    abandoned = next(arn for arn, c in docdb.clusters.items() if c.name == left)
    assert abandoned in deleted
    # AND the new occurrence tested the cluster as usual, and left nothing behind
    assert len(restores(docdb)) == 2
    assert list(records(docdb, gold).values()) == [f"{later:%Y-%m-%dT%H:%MZ} succeeded"]
    assert all(c.status == "DELETING" for c in docdb.clusters.values() if c.name.startswith("ordersstack-drill-"))
    out = capsys.readouterr().out
    assert f'"{M.FAILED}":1.0' in out and f'"{M.SUCCEEDED}":1.0' in out


@pytest.mark.usefixtures("taken_name")
def test_lambdas_retry_of_a_delivery_that_died_after_restoring_takes_the_test_over(
    docdb, quick_polls, gold, lambda_service, capsys
):
    # GIVEN a delivery that restored, then died handing over (Lambda refused its next invocation)
    lambda_service.refuse_with = (500, "ServiceException")
    event = restore_test_event(iso(AT))
    first = FakeLambdaContext(budget_seconds=16)
    with time_machine.travel(AT + timedelta(minutes=1), tick=True):
        with pytest.raises(Exception):  # noqa: B017 - the invocation fails, as Lambda would see it
            entrypoint.handler(event, first)
    (made,) = temporary_clusters(docdb)
    lambda_service.refuse_with = None
    capsys.readouterr()
    # WHEN a duplicate delivery of the occurrence (another request) arrives two minutes later
    with time_machine.travel(AT + timedelta(minutes=3), tick=True):
        entrypoint.handler(event, FakeLambdaContext())
    # THEN it leaves the test to the invocation that restored it: nothing deleted, nothing counted
    assert docdb.calls_to("DeleteCluster") == [] and emf_lines(capsys.readouterr().out) == []
    # WHEN Lambda retries the failed invocation (the same request id) a minute after that
    retry = FakeLambdaContext()
    retry.aws_request_id = first.aws_request_id
    with time_machine.travel(AT + timedelta(minutes=4), tick=True):
        entrypoint.handler(event, retry)
    # THEN the retry restored nothing new (its restore was refused: the name was taken by its own
    # earlier attempt), drove the test to its end and deleted the cluster
    assert temporary_clusters(docdb) == [made] and len(restores(docdb)) == 3
    (deletion,) = docdb.calls_to("DeleteCluster")
    assert docdb.clusters[deletion.params["clusterArn"]].name == made
    assert list(records(docdb, gold).values()) == [f"{AT:%Y-%m-%dT%H:%MZ} succeeded"]
    # AND counted it once, timed from the cluster's creation (three minutes before it was seen ACTIVE)
    documents = emf_lines(capsys.readouterr().out)
    assert metric(documents, M.SUCCEEDED, "orders") == 1
    assert 170 < metric(documents, M.RESTORE_SECONDS, "orders") < 210


def test_a_run_that_died_between_its_record_and_its_deletion_is_cleaned_up_by_a_redelivery(
    docdb, quick_polls, gold, capsys
):
    # GIVEN a run that recorded and counted its outcome, but whose DeleteCluster was refused, and
    # which then died handing over (no Lambda answers its next invocation)
    docdb.restore_delay = 0.0
    docdb.inject("DeleteCluster", Fault(403, "AccessDeniedException", "not authorized to perform DeleteCluster"))
    with time_machine.travel(AT + timedelta(minutes=1), tick=True):
        with pytest.raises(Exception):  # noqa: B017 - the invocation fails, as Lambda would see it
            entrypoint.handler(restore_test_event(iso(AT)), FakeLambdaContext(budget_seconds=16))
    assert metric(emf_lines(capsys.readouterr().out), M.SUCCEEDED, "orders") == 1
    (left,) = [c for c in docdb.clusters.values() if c.name == contract.temporary_cluster_name(TEST, AT, gold)]
    assert left.status == "ACTIVE"
    docdb.reset_calls()
    # WHEN the occurrence is delivered again
    with time_machine.travel(AT + timedelta(minutes=10), tick=True):
        entrypoint.handler(restore_test_event(iso(AT), attempt=2), FakeLambdaContext())
    # THEN it restores and counts nothing, and deletes the cluster that was left
    assert restores(docdb) == [] and metric(emf_lines(capsys.readouterr().out), M.SUCCEEDED) == 0
    assert [c.params["clusterArn"] for c in docdb.calls_to("DeleteCluster")] == [left.arn]


def test_other_clusters_are_never_deleted(docdb, deliver, gold):
    # GIVEN clusters the test did not make: one named like its temporary clusters but untagged, one
    # of another restore test, one of this test's that is not yet expired; and IAM that refuses
    # DeleteCluster on a cluster without this test's tag (the role's aws:ResourceTag condition)
    docdb.cluster_delete_requires_tag = (contract.RESTORE_TEST_TAG_KEY, TEST)
    lookalike = docdb.add_cluster("ordersstack-drill-202601010000-000000000000")
    other_test = docdb.add_cluster(
        "ordersstack-drill-202611150500-111111111111",
        tags={
            contract.RESTORE_TEST_TAG_KEY: "Other-Drill",
            contract.RESTORE_TEST_EXPIRES_TAG_KEY: "2026-01-01T00:00:00Z",
        },
    )
    running = docdb.add_cluster(
        "ordersstack-drill-202612150400-222222222222",
        tags={contract.RESTORE_TEST_TAG_KEY: TEST, contract.RESTORE_TEST_EXPIRES_TAG_KEY: "2026-12-15T20:00:00Z"},
    )
    # WHEN an occurrence runs
    documents = deliver(restore_test_event(iso(AT)))
    # THEN only its own temporary cluster was deleted; the others are untouched
    assert metric(documents, M.SUCCEEDED, "orders") == 1
    (deleted,) = [call.params["clusterArn"] for call in docdb.calls_to("DeleteCluster")]
    assert deleted not in (lookalike, other_test, running)
    for arn in (lookalike, other_test, running, gold):
        assert docdb.clusters[arn].status == "ACTIVE"


@pytest.mark.usefixtures("taken_name")
def test_a_cluster_squatting_the_temporary_name_is_not_adopted(docdb, deliver, gold, caplog):
    # GIVEN someone else's cluster holding the name this occurrence gives its temporary cluster
    squatter = docdb.add_cluster(contract.temporary_cluster_name(TEST, AT, gold))
    # WHEN the occurrence is delivered
    documents = deliver(restore_test_event(iso(AT)))
    # THEN the test failed, naming the cluster, which was neither used nor deleted
    assert metric(documents, M.FAILED, "orders") == 1
    (record,) = [r for r in caplog.records if getattr(r, "outcome", "") == "failed"]
    assert "not created by this request" in record.reason
    assert docdb.calls_to("DeleteCluster") == [] and docdb.clusters[squatter].status == "ACTIVE"


def test_a_late_occurrence_restores_nothing_and_counts_as_failed(docdb, deliver, gold):
    # WHEN the occurrence arrives 7 hours late
    documents = deliver(restore_test_event(iso(AT)), at=AT + timedelta(hours=7))
    # THEN nothing was asked of the service, and the test's failure count says so
    assert docdb.calls == []
    assert metric(documents, M.FAILED) == 1 and documents[0]["RestoreTest"] == TEST


def test_an_invalid_input_does_nothing_and_names_every_broken_member(docdb, deliver, caplog):
    # GIVEN a schedule input broken in several ways
    event = restore_test_event(iso(AT), SubnetIds=["subnet-x"], ShardCapacity=3, RecoveryPointTypes=["WEEKLY"])
    # WHEN it is delivered
    documents = deliver(event)
    # THEN no API call was made, the log names each member, and the failure is counted
    assert docdb.calls == []
    (record,) = [r for r in caplog.records if r.getMessage().startswith("invalid scheduled input")]
    assert {error.split(":")[0] for error in record.errors} >= {"SubnetIds", "ShardCapacity", "RecoveryPointTypes"}
    assert metric(documents, M.FAILED) == 1
