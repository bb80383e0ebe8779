"""The manual snapshot quota at synth time: what each construct keeps of each cluster at steady
state, summed per cluster by the stack, and a warning (naming the constructs, the count and the
quota) where the sum passes the quota of the context key docdb-elastic-snapshot:manualSnapshotQuota."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_events as events
from aws_cdk.assertions import Annotations, Match

from docdb_elastic_snapshot import (
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterCopyAction,
    ElasticClusterFromSnapshot,
    ElasticClusterSnapshot,
    SnapshotBeforeChange,
)
from docdb_elastic_snapshot.backup_rule import points_per_cluster
from docdb_snapshot_handler import contract
from synth_support import ENV, ORDERS

SNAPSHOT = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster-snapshot/0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DAY = 86400


def stack_with(context: dict[str, Any] | None = None) -> cdk.Stack:
    return cdk.Stack(cdk.App(context=context or {}), "Orders", env=ENV)


def quota_warnings(stack: cdk.Stack) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("manual snapshots"))
    return [str(entry.entry.data) for entry in found]


def cluster(stack: cdk.Stack) -> docdbelastic.CfnCluster:
    return docdbelastic.CfnCluster(
        stack, "Cluster", cluster_name="orders", admin_user_name="admin", shard_capacity=2, shard_count=1,
        auth_type="SECRET_ARN", admin_user_password="arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
    )  # fmt: skip


# --- the arithmetic ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "days", "most"),
    [
        ("cron(0 5 * * ? *)", 35, 35),  # daily()
        ("cron(0 5 ? * SAT *)", 90, 13),  # weekly(): 13 Saturdays within 90 days
        ("cron(0 5 1 * ? *)", 365, 12),  # monthly1_year(): the 1st a year earlier has expired
        ("cron(0 5 1 * ? *)", 7 * 365, 84),  # monthly7_year()
        ("cron(15 3 ? * MON-FRI *)", 7, 5),
        ("cron(0 */6 * * ? *)", 2, 8),
        ("rate(1 day)", 7, 7),
        ("rate(12 hours)", 3, 6),
        ("rate(5 days)", 7, 2),
    ],
)
def test_the_most_occurrences_within_delete_after(expression, days, most):
    # GIVEN a schedule and a delete_after, WHEN counted, THEN the points not yet expired at an occurrence
    assert contract.most_occurrences_within(expression, days * DAY) == most


def test_the_count_follows_the_calendar_for_every_cron_feature():
    # GIVEN the last day of each month (L), WHEN counted over a year, THEN 12, not 365
    assert contract.most_occurrences_within("cron(0 5 L * ? *)", 365 * DAY) == 12
    # AND the second Tuesday of each month, over 90 days: four where one falls on the 14th and the
    # fourth on the 8th, 84 days later; over 83 days never more than three
    assert contract.most_occurrences_within("cron(0 5 ? * 3#2 *)", 90 * DAY) == 4
    assert contract.most_occurrences_within("cron(0 5 ? * 3#2 *)", 83 * DAY) == 3
    # AND an hourly rule over ten years, counted exactly
    assert contract.most_occurrences_within("cron(0 * * * ? *)", 3650 * DAY) == 3650 * 24


def test_an_expression_the_grammar_refuses_is_not_counted():
    with pytest.raises(ValueError, match="six fields"):
        contract.most_occurrences_within("cron(0 5 * * *)", 2 * DAY)


def test_points_kept_is_the_smaller_bound_and_none_without_retention():
    assert contract.points_kept(keep_last=7, delete_after_seconds=35 * DAY, most_within=35) == 7
    assert contract.points_kept(keep_last=None, delete_after_seconds=35 * DAY, most_within=35) == 35
    assert contract.points_kept(keep_last=None, delete_after_seconds=None, most_within=None) is None


def test_each_preset_keeps_the_count_its_docstring_gives():
    presets = {
        ElasticClusterBackupRule.daily: 35,
        ElasticClusterBackupRule.weekly: 13,
        ElasticClusterBackupRule.monthly1_year: 12,
        ElasticClusterBackupRule.monthly7_year: 84,
    }
    for preset, count in presets.items():
        ((_, kept, _),) = points_per_cluster(preset())
        assert kept == count
        assert f"{count} recovery points of each cluster" in " ".join((preset.__doc__ or "").split())
    assert "raised quota" in " ".join((ElasticClusterBackupRule.monthly7_year.__doc__ or "").split())


# --- the stack's warnings ------------------------------------------------------------------------
def test_a_plan_over_the_quota_warns_naming_the_plan_its_rules_the_count_and_the_quota():
    # GIVEN daily() and monthly7_year() for one cluster by ARN
    stack = stack_with()
    plan = ElasticClusterBackupPlan(
        stack, "Plan", rules=[ElasticClusterBackupRule.daily(), ElasticClusterBackupRule.monthly7_year()]
    )
    plan.add_selection("Orders", clusters=[ORDERS])
    # WHEN synthesized, THEN one warning names the cluster, the rules, 119 and the quota of 20
    (warning,) = quota_warnings(stack)
    assert ORDERS in warning and "119 manual snapshots" in warning and "quota of 20" in warning
    assert "Orders/Plan rule daily keeps 35" in warning and "Orders/Plan rule monthly7year keeps 84" in warning
    assert contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY in warning and "Service Quotas" in warning


def test_a_before_change_snapshot_and_a_plan_on_one_cluster_are_summed():
    # GIVEN a CfnCluster protected by SnapshotBeforeChange (retain_last 10) and a plan keeping 14
    stack = stack_with()
    orders = cluster(stack)
    SnapshotBeforeChange(stack, "BeforeChange", cluster=orders, retain_last=10)
    rule = ElasticClusterBackupRule(
        rule_name="hourly", schedule_expression=events.Schedule.rate(Duration.hours(1)), keep_last=14
    )
    ElasticClusterBackupPlan(stack, "Plan", rules=[rule]).add_selection("Orders", clusters=[orders])
    # WHEN synthesized, THEN the warning names both constructs and the sum, 24, over 20
    (warning,) = quota_warnings(stack)
    assert "orders (Orders/Cluster): 24 manual snapshots" in warning
    assert "Orders/BeforeChange keeps 10 (retain_last)" in warning and "Orders/Plan rule hourly keeps 14" in warning


def test_no_warning_with_the_quota_raised_in_context():
    # GIVEN the same sum of 24, and the context key at 50
    stack = stack_with({contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY: 50})
    orders = cluster(stack)
    SnapshotBeforeChange(stack, "BeforeChange", cluster=orders, retain_last=10)
    rule = ElasticClusterBackupRule(
        rule_name="hourly", schedule_expression=events.Schedule.rate(Duration.hours(1)), keep_last=14
    )
    ElasticClusterBackupPlan(stack, "Plan", rules=[rule]).add_selection("Orders", clusters=[orders])
    # WHEN synthesized, THEN no quota warning
    assert quota_warnings(stack) == []


def test_the_readme_plan_fits_the_default_quota_for_one_cluster():
    # GIVEN a week of dailies and a year of monthlies (7 + 12), selected by ARN and by tag
    stack = stack_with()
    plan = ElasticClusterBackupPlan(
        stack,
        "Plan",
        rules=[
            ElasticClusterBackupRule.daily(delete_after=Duration.days(7)),
            ElasticClusterBackupRule.monthly1_year(),
        ],
    )
    plan.add_selection("Orders", clusters=[ORDERS])
    plan.add_selection("Gold", tags={"backup": "gold"})
    # WHEN synthesized, THEN it keeps 19 of each cluster and nothing warns
    assert plan.points_per_cluster() == 19
    assert quota_warnings(stack) == []


def test_a_plan_by_tag_gives_its_count_per_cluster_copies_included():
    # GIVEN a plan selecting by tag whose rule keeps 14 points and 14 copies of each cluster
    stack = stack_with()
    rule = ElasticClusterBackupRule.daily(
        delete_after=Duration.days(14), copy_actions=[ElasticClusterCopyAction(delete_after=Duration.days(14))]
    )
    ElasticClusterBackupPlan(stack, "Plan", rules=[rule]).add_selection("Gold", tags={"backup": "gold"})
    # WHEN synthesized, THEN the warning is per tagged cluster, with the count of each part
    (warning,) = quota_warnings(stack)
    assert warning.startswith("each cluster tagged backup=gold: Orders/Plan keeps 28")
    assert "rule daily: 14" in warning and "rule daily copy_actions[0]: 14" in warning


def test_snapshots_without_retention_count_as_at_least_one_each():
    # GIVEN 21 ElasticClusterSnapshots of one cluster, none with retain_last
    stack = stack_with()
    for index in range(21):
        ElasticClusterSnapshot(stack, f"Snapshot{index}", cluster_arn=ORDERS)
    # WHEN synthesized, THEN "at least 21"
    (warning,) = quota_warnings(stack)
    assert "at least 21 manual snapshots" in warning


def test_a_quota_in_context_that_is_not_a_positive_number_is_an_error_naming_the_key():
    stack = stack_with({contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY: "lots"})
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=ORDERS, retain_last=2)
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("manualSnapshotQuota"))
    assert errors and "positive whole number" in str(errors[0].entry.data)


def test_copies_of_a_constructs_snapshots_count_against_that_cluster():
    # GIVEN SnapshotBeforeChange keeping 12 of a cluster, and a copy of each keeping 9
    from docdb_elastic_snapshot import ElasticClusterSnapshotCopy

    stack = stack_with()
    orders = cluster(stack)
    before = SnapshotBeforeChange(stack, "BeforeChange", cluster=orders, retain_last=12)
    ElasticClusterSnapshotCopy(stack, "Copy", source_snapshot_arn=before.snapshot_arn, retain_last=9)
    # WHEN synthesized, THEN one warning for the cluster: 21 over 20, the copy named with its count
    (warning,) = quota_warnings(stack)
    assert "orders (Orders/Cluster): 21 manual snapshots" in warning
    assert "Orders/Copy keeps 9 (retain_last)" in warning


def test_clusters_that_fit_one_by_one_warn_when_together_they_pass_the_regions_quota():
    # GIVEN two clusters of the region, each with 12 kept: each fits, together 24 do not
    stack = stack_with()
    other = ORDERS.replace("0f1e2d3c", "aaaaaaaa")
    ElasticClusterSnapshot(stack, "Orders", cluster_arn=ORDERS, retain_last=12)
    ElasticClusterSnapshot(stack, "Other", cluster_arn=other, retain_last=12)
    # WHEN synthesized, THEN one warning for the region's total, naming both clusters
    (warning,) = quota_warnings(stack)
    assert warning.startswith("the stack's 2 clusters together: 24 manual snapshots")
    assert f"{ORDERS} 12" in warning and f"{other} 12" in warning
    # AND with 10 each (20, the quota itself), nothing warns
    fits = stack_with()
    ElasticClusterSnapshot(fits, "Orders", cluster_arn=ORDERS, retain_last=10)
    ElasticClusterSnapshot(fits, "Other", cluster_arn=other, retain_last=10)
    assert quota_warnings(fits) == []


def test_a_restored_cluster_counts_its_final_and_pre_update_snapshots_with_what_protects_it():
    # GIVEN a cluster restored by the stack (a final snapshot, and one more with every update in
    # place, by default) that a plan keeping 20 also protects
    stack = stack_with()
    restored = ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=SNAPSHOT)
    rule = ElasticClusterBackupRule(
        rule_name="hourly", schedule_expression=events.Schedule.rate(Duration.hours(1)), keep_last=20
    )
    ElasticClusterBackupPlan(stack, "Plan", rules=[rule]).add_selection("Restored", clusters=[restored.cluster_arn])
    # WHEN synthesized, THEN one warning names the restored cluster: at least 21 over 20
    (warning,) = quota_warnings(stack)
    assert warning.startswith("the restored cluster (Orders/Restored): at least 21 manual snapshots")
    assert "Orders/Restored keeps at least 1 (the final snapshot" in warning and "snapshot_before_update" in warning
    # AND one with removal_policy DESTROY and no snapshot before updates keeps none: nothing warns
    fits = stack_with()
    bare = ElasticClusterFromSnapshot(
        fits, "Restored", snapshot_arn=SNAPSHOT, removal_policy=RemovalPolicy.DESTROY, snapshot_before_update=False
    )
    ElasticClusterBackupPlan(fits, "Plan", rules=[rule]).add_selection("Restored", clusters=[bare.cluster_arn])
    assert quota_warnings(fits) == []
