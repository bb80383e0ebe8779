"""The recovery report (`docdb-elastic-backup report`), run in-process and as the installed console
script, against the stand-ins: a real boto3 reads the docdb-elastic and Scheduler stand-ins, whose
schedules carry the inputs our constructs write."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from docdb_snapshot_handler import contract
from report_support import (
    DAY,
    NOW,
    PLAN,
    TEST,
    TODAY,
    backup_input,
    by_name,
    record,
    recovery_point,
    report_json,
    restore_test_input,
    run,
)
from standins.docdb_elastic import REGION, DocDbElasticStandIn
from standins.scheduler import SchedulerStandIn


def test_a_protected_cluster_with_fresh_recovery_points_is_healthy(docdb, scheduler, capsys):
    # GIVEN a daily rule naming the cluster, two of its recovery points, a snapshot taken by hand
    # and the service's automated one (the newest)
    orders = docdb.add_cluster("orders")
    scheduler.add_schedule("OrdersStack-Plan-daily", backup_input(clusters=(orders,)))
    recovery_point(docdb, orders, TODAY - timedelta(days=1))
    recovery_point(docdb, orders, TODAY)
    docdb.add_snapshot(orders, "orders-by-hand")
    newest = docdb.add_snapshot(orders, "rds:orders-2026-11-28", snapshot_type="AUTOMATED")
    # WHEN the report is asked for as JSON
    code, document, err = report_json(capsys)
    # THEN nothing is wrong
    assert (code, err, document["problems"]) == (0, "", 0)
    assert document["region"] == "us-east-1" and document["generatedAt"] == "2026-11-28T12:00:00Z"
    (cluster,) = document["clusters"]
    assert cluster["clusterArn"] == orders and cluster["status"] == "ACTIVE" and cluster["problems"] == []
    # AND the rule protecting it, its recovery points, and the newest point of any kind are there
    assert cluster["protectedBy"] == [{"plan": PLAN, "rule": "daily", "schedule": "default/OrdersStack-Plan-daily"}]
    assert cluster["recoveryPointsPerRule"] == {f"{PLAN}/daily": 2}
    assert cluster["copiesPerRegion"] == {}
    assert cluster["newestRecoveryPoint"] == {
        "snapshotArn": newest,
        "snapshotName": "rds:orders-2026-11-28",
        "type": "AUTOMATED",
        "createdAt": "2026-11-28T07:00:04Z",
        "ageSeconds": 5 * 3600 - 4,
    }
    assert cluster["lastRestoreTest"] is None
    # AND it was read with List* and Get* calls only: one listing of clusters, one per snapshot
    # type of the cluster, and one of the region's manual snapshots (for the quota)
    assert {call.operation for call in docdb.calls} == {"ListClusters", "ListClusterSnapshots"}
    assert len(docdb.calls_to("ListClusters")) == 1 and len(docdb.calls_to("ListClusterSnapshots")) == 3
    assert {call.operation for call in scheduler.calls} == {"ListSchedules", "GetSchedule"}


def test_an_overdue_rule_exits_1_naming_the_cluster_and_the_rule(docdb, scheduler, capsys):
    # GIVEN a daily and a weekly rule over tagged clusters: billing's newest daily point is 3 days old
    # (a daily rule allows a day and its hour of start window), its weekly one as old but in time
    orders = docdb.add_cluster("orders", tags={"backup": "gold"})
    billing = docdb.add_cluster("billing", tags={"backup": "gold"})
    scheduler.add_schedule("daily", backup_input(tags={"backup": "gold"}))
    scheduler.add_schedule("weekly", backup_input("weekly", tags={"backup": "gold"}, interval=7 * DAY))
    recovery_point(docdb, orders, TODAY)
    recovery_point(docdb, orders, TODAY - timedelta(days=3), rule="weekly")
    recovery_point(docdb, billing, TODAY - timedelta(days=3))
    recovery_point(docdb, billing, TODAY - timedelta(days=3), rule="weekly")
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN it fails, and billing's entry names the rule and how late it is
    assert code == 1 and document["problems"] == 1
    clusters = by_name(document)
    assert clusters["billing"]["problems"] == [
        f"newest recovery point of {PLAN}/daily is 3d 7h old (the rule allows 1d 1h)"
    ]
    assert clusters["orders"]["problems"] == []
    assert clusters["billing"]["recoveryPointsPerRule"] == {f"{PLAN}/daily": 1, f"{PLAN}/weekly": 1}


def test_a_rule_without_any_recovery_point_is_a_problem_once_its_first_is_due(docdb, scheduler, capsys):
    # GIVEN a rule made in January and one made an hour ago, neither with a recovery point of orders
    orders = docdb.add_cluster("orders")
    scheduler.add_schedule("old", backup_input("old", clusters=(orders,)))
    scheduler.add_schedule("new", backup_input("new", clusters=(orders,)), created=NOW - timedelta(hours=1))
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN only the old rule is overdue
    assert code == 1
    assert by_name(document)["orders"]["problems"] == [f"no recovery point of {PLAN}/old (the rule allows 1d 1h)"]
    assert by_name(document)["orders"]["recoveryPointsPerRule"] == {f"{PLAN}/new": 0, f"{PLAN}/old": 0}


def test_copies_are_counted_per_rule_apart_from_the_recovery_points_they_copy(docdb, scheduler, capsys):
    # GIVEN a rule copying its points under another key (its input names no region: the plan's
    # own), with two copies beside the two points, a copy of another rule and a stranger's snapshot
    orders = docdb.add_cluster("orders")
    scheduler.add_schedule("daily", backup_input(clusters=(orders,), copies=(None,)))
    for scheduled in (TODAY - timedelta(days=1), TODAY):
        recovery_point(docdb, orders, scheduled)
        recovery_point(docdb, orders, scheduled, region=REGION)
    recovery_point(docdb, orders, TODAY, rule="monthly", region=REGION)
    docdb.add_snapshot(orders, "hand-made-copy")
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN the rule's points and its copies are counted each on their own
    assert code == 0
    (cluster,) = document["clusters"]
    assert cluster["recoveryPointsPerRule"] == {f"{PLAN}/daily": 2}
    assert cluster["copiesPerRegion"] == {f"{PLAN}/daily/{REGION}": 2}
    # AND no other region was read
    assert {call.region for call in docdb.calls} == {REGION}


def test_an_input_written_before_copies_stayed_in_their_region_still_counts_the_copies_it_names(
    docdb, scheduler, capsys
):
    # GIVEN a rule whose input (of an earlier version) names another region for its copies
    orders = docdb.add_cluster("orders")
    scheduler.add_schedule("daily", backup_input(clusters=(orders,), copies=("us-west-2",)))
    recovery_point(docdb, orders, TODAY)
    recovery_point(docdb, orders, TODAY, region="us-west-2")
    # WHEN the report is made, THEN what is there is counted, with one listing of that region
    code, document, _ = report_json(capsys)
    assert code == 0
    assert document["clusters"][0]["copiesPerRegion"] == {f"{PLAN}/daily/us-west-2": 1}
    listings = docdb.calls_to("ListClusterSnapshots")
    assert [call.region for call in listings if call.region != REGION] == ["us-west-2"]


def test_a_cluster_is_selected_by_carrying_every_tag_of_one_selection(docdb, scheduler, capsys):
    # GIVEN a rule selecting gold tier-1 clusters, and listings one item a page
    docdb.page_size_cap = scheduler.page_size_cap = 1
    orders = docdb.add_cluster("orders", tags={"backup": "gold", "tier": "1", "team": "shop"})
    docdb.add_cluster("billing", tags={"backup": "gold"})
    scheduler.add_schedule("daily", backup_input(tags={"backup": "gold", "tier": "1"}))
    scheduler.add_schedule("someone-elses", {"detail": "not ours"})
    recovery_point(docdb, orders, TODAY)
    recovery_point(docdb, orders, TODAY - timedelta(days=1))
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN orders is protected and billing, which lacks a tag, is not
    assert code == 0
    clusters = by_name(document)
    assert [rule["rule"] for rule in clusters["orders"]["protectedBy"]] == ["daily"]
    assert clusters["orders"]["recoveryPointsPerRule"] == {f"{PLAN}/daily": 2}
    assert clusters["billing"]["protectedBy"] == [] and clusters["billing"]["problems"] == []
    # AND every page was read: both schedules, both clusters' tags once each
    assert len(scheduler.calls_to("GetSchedule")) == 2
    assert sorted(call.params["resourceArn"] for call in docdb.calls_to("ListTagsForResource")) == sorted(
        [orders, clusters["billing"]["clusterArn"]]
    )


def test_unprotected_clusters_are_listed_without_problems(docdb, scheduler, capsys):
    # GIVEN no backup plan at all; one cluster with an automated snapshot, one with none
    orders = docdb.add_cluster("orders")
    docdb.add_cluster("scratch", status="STOPPED")
    docdb.add_snapshot(orders, "rds:orders-2026-11-28", snapshot_type="AUTOMATED")
    scheduler.add_schedule("not-json", "this input is not JSON")
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN both are listed, unprotected, and nothing fails
    assert code == 0 and document["problems"] == 0
    clusters = by_name(document)
    assert clusters["orders"]["protectedBy"] == [] and clusters["orders"]["problems"] == []
    assert clusters["orders"]["newestRecoveryPoint"]["type"] == "AUTOMATED"
    assert clusters["scratch"]["status"] == "STOPPED" and clusters["scratch"]["newestRecoveryPoint"] is None
    assert clusters["scratch"]["recoveryPointsPerRule"] == {} and clusters["scratch"]["lastRestoreTest"] is None


@pytest.fixture
def tested(docdb: DocDbElasticStandIn, scheduler: SchedulerStandIn) -> dict[str, str]:
    """Gold clusters with fresh daily points, selected by a restore test; billing is not tested."""
    orders = docdb.add_cluster("orders", tags={"backup": "gold"})
    billing = docdb.add_cluster("billing", tags={"backup": "silver"})
    scheduler.add_schedule("daily", backup_input(tags={"backup": "gold"}))
    scheduler.add_schedule("drill", restore_test_input({"backup": "gold"}))
    recovery_point(docdb, orders, TODAY - timedelta(days=7), tags=record(TODAY - timedelta(days=7), "succeeded", 900))
    docdb.add_snapshot(billing, "billing-by-hand")
    return {"orders": orders, "billing": billing}


def test_a_failed_last_restore_test_exits_1(docdb, tested, capsys):
    # GIVEN an older point whose test succeeded, and a newer one whose test (the last) failed
    orders = tested["orders"]
    recovery_point(docdb, orders, TODAY - timedelta(days=1), tags=record(TODAY - timedelta(days=1), "failed"))
    recovery_point(docdb, orders, TODAY)
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN it fails on the restore test alone
    assert code == 1 and document["problems"] == 1
    cluster = by_name(document)["orders"]
    assert cluster["lastRestoreTest"] == {
        "test": TEST,
        "scheduledTime": "2026-11-27T05:00:00Z",
        "outcome": "failed",
        "restoreSeconds": None,
    }
    assert cluster["problems"] == [f"last restore test {TEST} (2026-11-27 05:00Z) failed"]
    # AND only the tested cluster's points had their tags read, newest first, up to the last record
    read = [call.params["resourceArn"] for call in docdb.calls_to("ListTagsForResource")]
    points = [arn for arn in read if ":cluster-snapshot/" in arn]
    assert [docdb.snapshots[arn].name for arn in points] == [
        contract.recovery_point_name(PLAN, "daily", TODAY, orders),
        contract.recovery_point_name(PLAN, "daily", TODAY - timedelta(days=1), orders),
    ]


def test_a_succeeded_restore_test_reports_its_time_to_active(docdb, tested, capsys):
    # GIVEN only the fixture's test, which succeeded a week ago (the cluster's newest point is untested)
    recovery_point(docdb, tested["orders"], TODAY)
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN all is well and the test's time to ACTIVE is there
    assert code == 0
    assert by_name(document)["orders"]["lastRestoreTest"] == {
        "test": TEST,
        "scheduledTime": "2026-11-21T05:00:00Z",
        "outcome": "succeeded",
        "restoreSeconds": 900,
    }
    assert by_name(document)["billing"]["lastRestoreTest"] is None


def test_a_restore_test_recorded_on_the_cluster_is_read_there(docdb, tested, capsys):
    # GIVEN a newer test of an automated point that refused its tag, recorded on the cluster
    # instead (naming the point), and the fixture's older record on a manual point
    orders = tested["orders"]
    point = docdb.add_snapshot(orders, "rds:orders-automated", snapshot_type="AUTOMATED")
    value = contract.restore_test_record(TODAY - timedelta(days=1), "failed")
    docdb.clusters[orders].tags[contract.restore_test_claim_key(TEST)] = contract.restore_test_cluster_record(
        value, point
    )
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN the newer record, the cluster's, is the last test
    assert code == 1
    assert by_name(document)["orders"]["lastRestoreTest"]["scheduledTime"] == "2026-11-27T05:00:00Z"
    assert by_name(document)["orders"]["lastRestoreTest"]["outcome"] == "failed"


def test_a_restore_test_of_clusters_named_by_arn_is_read_on_the_cluster_too(docdb, scheduler, capsys):
    # GIVEN a rule and a restore test that select the cluster by ARN (no selection by tag), and the
    # test's record on the cluster, of an automated point that refused its tag
    orders = docdb.add_cluster("orders")
    scheduler.add_schedule("daily", backup_input(clusters=(orders,)))
    scheduler.add_schedule("drill", restore_test_input(clusters=(orders,)))
    recovery_point(docdb, orders, TODAY)
    point = docdb.add_snapshot(orders, "rds:orders-automated", snapshot_type="AUTOMATED")
    value = contract.restore_test_record(TODAY - timedelta(days=1), "succeeded", 600)
    docdb.clusters[orders].tags[contract.restore_test_claim_key(TEST)] = contract.restore_test_cluster_record(
        value, point
    )
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN the cluster's tags were read for the record, and it is the last test
    assert code == 0
    assert by_name(document)["orders"]["lastRestoreTest"] == {
        "test": TEST,
        "scheduledTime": "2026-11-27T05:00:00Z",
        "outcome": "succeeded",
        "restoreSeconds": 600,
    }


@pytest.mark.parametrize(
    ("started", "outcome", "code"),
    [
        (NOW - timedelta(hours=2), "restoring", 0),
        (NOW - timedelta(seconds=contract.RESTORE_TEST_RESTORE_WAIT_MAX_SECONDS, hours=25), "failed", 1),
    ],
    ids=["still-running", "never-finished"],
)
def test_a_restore_test_still_restoring_long_after_its_wait_counts_as_failed(
    docdb, tested, capsys, started, outcome, code
):
    # GIVEN the last test's record says "restoring", since `started`
    scheduled = started.replace(minute=0)
    recovery_point(docdb, tested["orders"], TODAY, tags=record(scheduled, "restoring"))
    # WHEN the report is made
    exit_code, document, _ = report_json(capsys)
    # THEN a run past the latest a run can conclude (a late start, the longest restore wait, the
    # validation window, the hand-overs) did not finish: it failed
    cluster = by_name(document)["orders"]
    assert (exit_code, cluster["lastRestoreTest"]["outcome"]) == (code, outcome)
    if outcome == "failed":
        assert cluster["problems"] == [
            f"last restore test {TEST} ({scheduled:%Y-%m-%d %H:%M}Z) failed: the run did not finish"
        ]


def test_a_terminal_gets_a_table_with_the_problems_highlighted(docdb, scheduler, capsys, monkeypatch):
    # GIVEN an overdue cluster, a healthy one, and stdout taken for a wide terminal
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "220")
    orders = docdb.add_cluster("orders", tags={"backup": "gold"})
    billing = docdb.add_cluster("billing", tags={"backup": "gold"})
    scheduler.add_schedule("daily", backup_input(tags={"backup": "gold"}, copies=(None,)))
    recovery_point(docdb, orders, TODAY)
    recovery_point(docdb, orders, TODAY, region=REGION)
    recovery_point(docdb, billing, TODAY - timedelta(days=3))
    # WHEN the report is asked for without --json
    code = run()
    out = capsys.readouterr().out
    # THEN a table shows every cluster, the rules and the problem in red, and a summary line
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert code == 1
    assert "\x1b[" in out and not text.lstrip().startswith("{")
    assert "orders" in text and "billing" in text and f"{PLAN}/daily" in text
    assert f"copies in {REGION}: 1" in text
    assert "is 3d 7h old (the rule allows 1d 1h)" in text
    assert "2 clusters, 2 protected: 1 problem in 1 cluster" in text
    assert "\x1b[1;31mbilling" in out


def test_a_pipe_gets_json_without_asking(docdb, scheduler, capsys):
    # GIVEN stdout that is not a terminal (pytest's capture)
    docdb.add_cluster("orders")
    # WHEN the report is asked for without --json
    code = run()
    # THEN it is JSON
    assert code == 0 and by_name(json.loads(capsys.readouterr().out))["orders"]["problems"] == []


def test_the_installed_console_script_prints_the_report(docdb, scheduler):
    # GIVEN the console script `make setup` installs next to this interpreter, and one cluster
    script = Path(sys.executable).parent / "docdb-elastic-backup"
    assert script.exists(), f"{script} is missing: run make setup (pip install --no-deps -e .)"
    docdb.add_cluster("orders")
    # WHEN it is run, with its output going to a pipe, where no Node.js is on the PATH (the
    # report never imports aws_cdk, whose jsii runtime would start one)
    result = subprocess.run(
        [str(script), "report", "--region", "us-east-1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": str(Path(sys.executable).parent)},
    )
    # THEN it exits 0 with the JSON report
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [cluster["clusterName"] for cluster in document["clusters"]] == ["orders"]


def test_the_report_reads_what_the_constructs_deploy_and_the_handler_records(docdb, scheduler, quick_polls, capsys):
    # GIVEN a stack synthesized with a backup plan (daily, copied under another key) and a restore test,
    # whose schedules are deployed as the template says
    import aws_cdk as cdk
    from aws_cdk import aws_events as events
    from aws_cdk.assertions import Template

    from docdb_elastic_snapshot import (
        ElasticClusterBackupPlan,
        ElasticClusterBackupRule,
        ElasticClusterCopyAction,
        ElasticClusterRestoreTest,
    )
    from docdb_snapshot_handler import entrypoint
    from iam_lifecycles import COPY_KEY_ARN
    from iam_template import ENV, resolve
    from iam_template import cluster as orders_cluster
    from standins.lambda_context import FakeLambdaContext
    from synth_support import recommended_app

    stack = cdk.Stack(recommended_app(), "OrdersStack", env=ENV)
    cluster = orders_cluster(stack)
    plan = ElasticClusterBackupPlan(
        stack,
        "Plan",
        rules=[
            ElasticClusterBackupRule.daily(
                copy_actions=[ElasticClusterCopyAction(kms_key_id=COPY_KEY_ARN, keep_last=3)]
            )
        ],
    )
    plan.add_selection("Orders", clusters=[cluster])
    ElasticClusterRestoreTest(
        stack,
        "Drill",
        schedule_expression=events.Schedule.cron(hour="6", minute="0"),
        clusters=[cluster],
        subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
    )
    template = Template.from_stack(stack).to_json()
    inputs = {
        logical_id: resolve(template, resource["Properties"]["Target"]["Input"])
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Scheduler::Schedule"
    }
    for logical_id, text in inputs.items():
        scheduler.add_schedule(logical_id, text)
    orders = docdb.add_cluster("orders")
    docdb.restore_delay = 0.2
    docdb.copy_delay = 0.0  # ACTIVE at once: the report counts only ACTIVE copies
    # WHEN each schedule's occurrence of the day runs through the handler (the backup at 05:00,
    # the restore test at 06:00), and the report is made at noon
    for text in inputs.values():
        scheduled = TODAY if contract.BACKUP_EVENT_KEY in text else TODAY + timedelta(hours=1)
        event = json.loads(text.replace(contract.SCHEDULED_TIME_PLACEHOLDER, f"{scheduled:%Y-%m-%dT%H:%M:%SZ}"))
        with time_machine.travel(scheduled + timedelta(minutes=1), tick=True):
            entrypoint.handler(event, FakeLambdaContext())
    capsys.readouterr()
    code, document, err = report_json(capsys)
    # THEN the report finds the plan's rule, its recovery point and its copy, and the test's success
    assert (code, err) == (0, "")
    report = by_name(document)["orders"]
    assert report["clusterArn"] == orders and report["problems"] == []
    assert [(p["plan"], p["rule"]) for p in report["protectedBy"]] == [(plan.backup_plan_name, "daily")]
    assert report["recoveryPointsPerRule"] == {f"{plan.backup_plan_name}/daily": 1}
    assert report["copiesPerRegion"] == {f"{plan.backup_plan_name}/daily/{REGION}": 1}
    assert report["lastRestoreTest"]["test"] == "OrdersStack-Drill"
    assert report["lastRestoreTest"]["outcome"] == "succeeded"
    assert report["lastRestoreTest"]["scheduledTime"] == f"{TODAY + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"


def test_a_schedule_input_of_another_version_is_not_read(docdb, scheduler, capsys):
    # GIVEN a rule's schedule written by a newer library (another input version) and no other
    orders = docdb.add_cluster("orders")
    newer = backup_input(clusters=(orders,))
    newer[contract.BACKUP_EVENT_KEY][contract.BackupInput.VERSION] = contract.BACKUP_INPUT_VERSION + 1
    scheduler.add_schedule("OrdersStack-Plan-daily", newer)
    # WHEN the report is made
    code, document, _ = report_json(capsys)
    # THEN the cluster is listed as not protected rather than judged by rules it cannot read
    assert code == 0 and by_name(document)["orders"]["protectedBy"] == []
