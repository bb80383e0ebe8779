"""The report's headroom under the account's quota of manual snapshots per region: every manual
snapshot of the region counts (ours, copies, anyone's, whatever its status), against
--snapshot-quota or AWS's default of 20, and 90% or more is a problem (exit 1)."""

from __future__ import annotations

import json
import re

from docdb_snapshot_handler import contract
from report_support import TODAY, backup_input, recovery_point, report_json, run
from standins.docdb_elastic import REGION


def manual_snapshots(docdb, cluster: str, count: int, prefix: str = "by-hand") -> None:
    for index in range(count):
        docdb.add_snapshot(cluster, f"{prefix}-{index}")


def test_the_region_s_manual_snapshots_are_shown_against_the_default_quota(docdb, scheduler, capsys):
    # GIVEN 17 manual snapshots of two clusters (one a plan's point), and an automated one
    orders = docdb.add_cluster("orders")
    billing = docdb.add_cluster("billing")
    scheduler.add_schedule("OrdersStack-Plan-daily", backup_input(clusters=(orders,)))
    recovery_point(docdb, orders, TODAY)
    manual_snapshots(docdb, orders, 10)
    manual_snapshots(docdb, billing, 6, prefix="billing")
    docdb.add_snapshot(orders, "rds:orders-2026-11-28", snapshot_type="AUTOMATED")
    # WHEN the report is asked for without --snapshot-quota
    code, document, _ = report_json(capsys)
    # THEN the region's 17 manual snapshots are 85% of the default quota: shown, not a problem
    assert document["snapshotQuota"] == [
        {
            "region": REGION,
            "manualSnapshots": 17,
            "quota": contract.MANUAL_SNAPSHOT_QUOTA_DEFAULT,
            "quotaSource": "default",
            "percent": 85,
            "problem": None,
        }
    ]
    assert code == 0 and document["problems"] == 0


def test_ninety_percent_of_the_quota_is_a_problem_and_exits_1(docdb, scheduler, capsys):
    # GIVEN 18 manual snapshots in the region (one still CREATING), of a cluster nobody protects
    orders = docdb.add_cluster("orders")
    manual_snapshots(docdb, orders, 17)
    docdb.add_snapshot(orders, "still-creating", creating_for=600)
    # WHEN the report is asked for
    code, document, _ = report_json(capsys)
    # THEN 18 of 20 is 90%: a problem naming the count, the quota and what to do; exit 1
    (use,) = document["snapshotQuota"]
    assert (use["manualSnapshots"], use["percent"]) == (18, 90)
    assert "18 manual snapshots in us-east-1, 90% of the default quota of 20" in use["problem"]
    assert "Service Quotas" in use["problem"] and "--snapshot-quota" in use["problem"]
    assert code == 1 and document["problems"] == 1


def test_a_raised_quota_given_on_the_command_line_is_used_and_named(docdb, scheduler, capsys):
    # GIVEN the same 18 manual snapshots, and a quota of 100 raised in Service Quotas
    orders = docdb.add_cluster("orders")
    manual_snapshots(docdb, orders, 18)
    # WHEN the report is given --snapshot-quota 100
    code = run("--json", "--snapshot-quota", "100")
    document = json.loads(capsys.readouterr().out)
    # THEN 18% of the quota given, no problem
    (use,) = document["snapshotQuota"]
    assert (use["quota"], use["quotaSource"], use["percent"], use["problem"]) == (100, "given", 18, None)
    assert code == 0


def test_the_table_says_the_default_quota_and_flags_the_region(docdb, scheduler, capsys, monkeypatch):
    # GIVEN 19 manual snapshots and a terminal
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "220")
    orders = docdb.add_cluster("orders")
    manual_snapshots(docdb, orders, 19)
    # WHEN the report is asked for without --json
    code = run()
    text = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    # THEN a line gives the count against "the default quota", flagged, and the summary says so
    assert "Manual snapshots in us-east-1: 19 of the default quota, 20 (95%)" in text
    assert "at 90% or more" in text and "manual snapshots near the quota in us-east-1" in text
    assert code == 1


def test_a_quota_that_is_not_a_positive_number_is_a_usage_error(capsys):
    for bad in ("0", "-3", "twenty"):
        assert run("--snapshot-quota", bad) == 2
        assert "--snapshot-quota: must be a positive whole number" in capsys.readouterr().err
