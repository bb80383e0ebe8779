"""EventBridge Scheduler's grammar at synth time (issue 23, item 5): what CreateSchedule would refuse
fails in the construct with one InvalidPropsError naming schedule_expression and the rule; a
backup rule runs at most hourly (AWS Backup's shortest frequency), a restore test at most daily;
a delete_after shorter than the rule's interval warns."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from docdb_elastic_snapshot import (
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterCopyAction,
    ElasticClusterRestoreTest,
    InvalidPropsError,
)
from docdb_snapshot_handler import contract
from synth_support import ENV, ORDERS, recommended_app

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
GROUPS = ["sg-0a1b2c3d4e5f60718"]
WARNING_ID = "docdb-elastic-snapshot:delete-after-shorter-than-interval"


def stack() -> cdk.Stack:
    app = recommended_app()
    # These plans keep more than the default quota of 20 manual snapshots (test_snapshot_quota.py
    # checks that warning): a raised quota leaves only the warnings about schedules.
    app.node.set_context(contract.MANUAL_SNAPSHOT_QUOTA_CONTEXT_KEY, 1000)
    return cdk.Stack(app, "OrdersStack", env=ENV)


def backup_rule_errors(schedule: events.Schedule) -> list[str]:
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterBackupPlan(
            stack(), "Plan", rules=[ElasticClusterBackupRule(rule_name="r", schedule_expression=schedule)]
        )
    return list(raised.value.errors)


def restore_test_errors(schedule: events.Schedule) -> list[str]:
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterRestoreTest(
            stack(),
            "Drill",
            schedule_expression=schedule,
            clusters=[ORDERS],
            subnet_ids=SUBNETS,
            vpc_security_group_ids=GROUPS,
        )
    return list(raised.value.errors)


# expression, the rule broken (as the error says it)
MALFORMED = [
    ("cron(0 5 * * *)", "cron() takes six fields, not 5"),
    ("cron(0 25 * * ? *)", "hours takes 0-23, not '25'"),
    ("rate(1 days)", "rate(): the unit is singular for 1 and plural otherwise: rate(1 day)"),
    ("cron(0 5 * * MON *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 5 ? * MON/2 *)", "day-of-week takes no /"),
    ("at(2027-01-01T05:00:00)", "at() is a one-time schedule"),
]


@pytest.mark.parametrize(("expression", "rule"), MALFORMED)
def test_a_malformed_expression_is_refused_by_a_backup_rule_and_a_restore_test(expression: str, rule: str):
    # GIVEN an expression CreateSchedule would refuse
    schedule = events.Schedule.expression(expression)
    # WHEN a backup rule or a restore test is given it
    # THEN each refuses it with one error naming the field, the expression and the rule
    for errors, field in ((backup_rule_errors(schedule), "rules[0].schedule_expression"),
                          (restore_test_errors(schedule), "schedule_expression")):  # fmt: skip
        assert len(errors) == 1 and errors[0].startswith(f"{field}: {expression!r}: {rule}"), errors


@pytest.mark.parametrize(
    ("schedule", "closest"),
    [
        (events.Schedule.rate(Duration.minutes(30)), "30 minutes"),
        (events.Schedule.cron(minute="0/15"), "15 minutes"),
        (events.Schedule.cron(minute="0,30", hour="5"), "30 minutes"),
    ],
)
def test_a_backup_rule_runs_at_most_hourly(schedule: events.Schedule, closest: str):
    # GIVEN a valid expression with occurrences closer than an hour
    # THEN the rule is refused: AWS Backup's shortest frequency
    assert backup_rule_errors(schedule) == [
        f"rules[0].schedule_expression: {schedule.expression_string!r} has occurrences {closest} apart; "
        "AWS Backup runs a rule, at most one every 1 hour"
    ]


@pytest.mark.parametrize(
    "schedule",
    [
        events.Schedule.rate(Duration.hours(12)),
        events.Schedule.cron(minute="0", hour="5,17"),
        events.Schedule.cron(minute="0", hour="*/6", week_day="SUN"),
    ],
)
def test_a_restore_test_runs_at_most_daily(schedule: events.Schedule):
    errors = restore_test_errors(schedule)
    assert len(errors) == 1 and errors[0].startswith(f"schedule_expression: {schedule.expression_string!r} has")
    assert errors[0].endswith("a restore test runs, at most one every 1 day")


def test_the_schedule_is_one_error_among_the_rules_others():
    # GIVEN a rule that breaks the grammar and two other rules
    with pytest.raises(InvalidPropsError) as raised:
        ElasticClusterBackupPlan(
            stack(),
            "Plan",
            rules=[
                ElasticClusterBackupRule(
                    rule_name="Daily--",
                    schedule_expression=events.Schedule.expression("cron(0 25 * * ? *)"),
                    keep_last=0,
                )
            ],
        )
    # THEN one InvalidPropsError holds all three, the schedule's among them
    fields = {error.split(":")[0] for error in raised.value.errors}
    assert fields == {"rules[0].rule_name", "rules[0].schedule_expression", "rules[0].keep_last"}


def test_a_schedule_known_only_at_deploy_time_is_refused():
    token = cdk.Token.as_string(cdk.Fn.ref("AWS::NoValue"))
    assert backup_rule_errors(events.Schedule.expression(token)) == [
        "rules[0].schedule_expression: must be known at synth time (its grammar and frequency are checked before deploy)"
    ]


def plan_with(rules: list[ElasticClusterBackupRule], topic: bool = False) -> cdk.Stack:
    made = stack()
    plan = ElasticClusterBackupPlan(
        made, "Plan", rules=rules, alarm_topic=sns.Topic(made, "Topic", enforce_ssl=True) if topic else None
    )
    plan.add_selection("Orders", clusters=[ORDERS])
    return made


def expressions_of(template: dict[str, Any]) -> dict[str, str]:
    return {
        props["Properties"]["Description"].rsplit(" ", 1)[-1]: props["Properties"]["ScheduleExpression"]
        for props in template["Resources"].values()
        if props["Type"] == "AWS::Scheduler::Schedule"
    }


def test_valid_expressions_and_the_presets_synthesize_as_given():
    # GIVEN the valid expressions and the presets, each a rule of one plan
    valid = {
        "weekdays": "cron(15 3 ? * MON-FRI *)",
        "first": "cron(0 4 1 * ? *)",
        "days": "rate(1 day)",
        "halfdays": "rate(12 hours)",
        "hours": "rate(1 hour)",
        "lastfriday": "cron(0 5 ? * 6L *)",
    }
    rules = [
        ElasticClusterBackupRule(rule_name=name, schedule_expression=events.Schedule.expression(text), keep_last=3)
        for name, text in valid.items()
    ]
    presets = [
        ElasticClusterBackupRule.daily(),
        ElasticClusterBackupRule.weekly(),
        ElasticClusterBackupRule.monthly1_year(),
        ElasticClusterBackupRule.monthly7_year(),
    ]
    made = plan_with(rules + presets)
    # WHEN synthesized
    template = Template.from_stack(made).to_json()
    # THEN each rule's schedule carries its expression, the presets' own among them
    assert expressions_of(template) == {
        **valid,
        "daily": "cron(0 5 * * ? *)",
        "weekly": "cron(0 5 ? * SAT *)",
        "monthly1year": "cron(0 5 1 * ? *)",
        "monthly7year": "cron(0 5 1 * ? *)",
    }
    # AND none of them warns
    Annotations.from_stack(made).has_no_warning("*", Match.any_value())


def test_a_delete_after_shorter_than_the_interval_warns_naming_it_the_interval_and_the_gap():
    # GIVEN a weekly rule kept 2 days, with a copy kept 3 days, and a daily rule kept 35 days
    weekly = ElasticClusterBackupRule.weekly(
        delete_after=Duration.days(2),
        copy_actions=[ElasticClusterCopyAction(kms_key_id=KEY, delete_after=Duration.days(3))],
    )
    made = plan_with([ElasticClusterBackupRule.daily(), weekly])
    # WHEN synthesized
    warnings = Annotations.from_stack(made).find_warning("*", Match.any_value())
    texts = sorted(str(w.entry.data) for w in warnings)
    # THEN two warnings, the weekly rule's and its copy's, each naming its delete_after, the
    # interval and the gap; the daily rule's 35 days warn nothing
    assert len(texts) == 2, texts
    copy, rule = texts
    assert rule.startswith(
        "rules[1].delete_after: 2 days is shorter than the rule's interval (7 days between occurrences of "
        "cron(0 5 ? * SAT *)): kept that long, no recovery point of this rule would cover 5 days in every 7 days."
    )
    assert "Give delete_after at least 7 days." in rule
    assert copy.startswith("rules[1].copy_actions[0].delete_after: 3 days is shorter than the rule's interval")
    assert "no copy of this rule would cover 4 days in every 7 days" in copy
    assert all(WARNING_ID in w.entry.data for w in warnings)


def test_an_irregular_schedule_warns_at_its_longest_gap():
    # GIVEN weekdays at 03:15, kept 2 days: Friday's point lapses before Monday's occurrence
    rule = ElasticClusterBackupRule(
        rule_name="weekdays",
        schedule_expression=events.Schedule.cron(minute="15", hour="3", week_day="MON-FRI"),
        delete_after=Duration.days(2),
    )
    texts = [str(w.entry.data) for w in Annotations.from_stack(plan_with([rule])).find_warning("*", Match.any_value())]
    # THEN the warning names the three days from Friday to Monday, and the one day uncovered
    assert len(texts) == 1 and "(3 days between occurrences" in texts[0]
    assert "would cover 1 day in every 3 days" in texts[0]


def test_the_recovery_point_age_alarm_allows_the_exact_interval():
    # GIVEN a rule every six hours by cron (before, any cron with an hour step counted as hourly)
    rule = ElasticClusterBackupRule(
        rule_name="sixhourly", schedule_expression=events.Schedule.cron(minute="0", hour="*/6"), keep_last=4
    )
    template = Template.from_stack(plan_with([rule], topic=True)).to_json()
    ages = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == contract.PlanMetric.NEWEST_RECOVERY_POINT_AGE_SECONDS
    ]
    # THEN the newest point may be six hours plus the start window old before the alarm
    assert [a["Threshold"] for a in ages] == [6 * 3600 + 3600]


def test_a_restore_test_at_most_daily_synthesizes():
    made = stack()
    ElasticClusterRestoreTest(
        made,
        "Drill",
        schedule_expression=events.Schedule.rate(Duration.days(1)),
        clusters=[ORDERS],
        subnet_ids=SUBNETS,
        vpc_security_group_ids=GROUPS,
    )
    schedules = Template.from_stack(made).find_resources("AWS::Scheduler::Schedule")
    assert [s["Properties"]["ScheduleExpression"] for s in schedules.values()] == ["rate(1 day)"]
