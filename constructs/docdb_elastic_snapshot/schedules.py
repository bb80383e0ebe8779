"""What the scheduled constructs (ElasticClusterBackupPlan, ElasticClusterRestoreTest) share: the
EventBridge Scheduler schedule that invokes the provider function, its role, the checks of a
selection of clusters, and an alarm to an SNS topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from aws_cdk import Duration, IResolvable, Stack, TimeZone, Token, aws_lambda
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns

from constructs import Construct
from docdb_snapshot_handler import contract

from .role_limits import check_role_limits

# EventBridge Scheduler's most retries; each stays within the schedule's MaximumEventAge.
MAX_RETRY_ATTEMPTS = 185


def interval_seconds(schedule: events.Schedule) -> int:
    """The longest gap between two occurrences of a valid schedule: the age the newest recovery
    point may reach before the plan's alarm."""
    return int(contract.longest_interval(schedule.expression_string).total_seconds())


def schedule_expression_errors(field: str, schedule: object, at_most_every: timedelta, why: str) -> list[str]:
    """A recurring schedule in EventBridge Scheduler's grammar (contract.schedule_grammar), its
    occurrences at least `at_most_every` apart (`why` says whose limit that is)."""
    if not isinstance(schedule, events.Schedule):
        return [f"{field}: must be an aws_events.Schedule (cron or rate)"]
    text = schedule.expression_string
    if Token.is_unresolved(text):
        return [f"{field}: must be known at synth time (its grammar and frequency are checked before deploy)"]
    errors = contract.schedule_expression_errors(field, text)
    if not errors and (closest := contract.shortest_interval(text)) < at_most_every:
        errors.append(
            f"{field}: {text!r} has occurrences {contract.interval_text(closest)} apart; {why}, at most one "
            f"every {contract.interval_text(at_most_every)}"
        )
    return errors


def whole_seconds_in(field: str, duration: Duration, errors: list[str]) -> int:
    """A duration's seconds; an error when it holds a fraction of one."""
    millis = duration.to_milliseconds()
    if millis % 1000:
        errors.append(f"{field}: must be a whole number of seconds")
    return int(millis // 1000)


def scheduler_role(scope: Construct, function: aws_lambda.IFunction, description: str) -> iam.Role:
    """The role EventBridge Scheduler assumes to invoke the function (only from this account)."""
    role = iam.Role(
        scope,
        "SchedulerRole",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}
        ),
        description=description,
        # ElasticClusterBackupGuard lets the library's roles, and only them, invoke the provider.
        path=contract.LIBRARY_ROLE_PATH,
    )
    role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn]))
    check_role_limits(role)
    return role


def function_schedule(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    schedule: events.Schedule,
    timezone: TimeZone | None,
    function: aws_lambda.IFunction,
    role: iam.Role,
    payload: str | IResolvable,
    max_event_age_seconds: int,
) -> scheduler.CfnSchedule:
    """A schedule that invokes `function` with `payload` (in UTC unless `timezone` is given),
    retried within `max_event_age_seconds`."""
    made = scheduler.CfnSchedule(
        scope,
        construct_id,
        description=description,
        flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
        schedule_expression=schedule.expression_string,
        schedule_expression_timezone=timezone.timezone_name if timezone is not None else "Etc/UTC",
        state="ENABLED",
        target=scheduler.CfnSchedule.TargetProperty(
            arn=function.function_arn,
            role_arn=role.role_arn,
            input=payload,  # type: ignore[arg-type]
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_event_age_in_seconds=max(60, min(max_event_age_seconds, 86400)),
                maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
            ),
        ),
    )
    made.node.add_dependency(role)
    return made


def selection_errors(
    stack: Stack,
    where: str,
    clusters: Sequence[str | docdbelastic.CfnCluster] | None,
    tags: Mapping[str, str] | None,
) -> tuple[list[str], list[str], dict[str, str]]:
    """Checks of a selection of clusters (by ARN or CfnCluster, and by tags); returns the errors,
    the ARNs and the tags. `where` prefixes each field's name ("" for a construct's own props)."""

    def at(field: str) -> str:
        return f"{where}.{field}" if where else field

    errors: list[str] = []
    arns = [c.attr_cluster_arn if isinstance(c, docdbelastic.CfnCluster) else c for c in clusters or ()]
    for index, arn in enumerate(arns):
        if not isinstance(arn, str):
            errors.append(f"{at('clusters')}[{index}]: must be a cluster ARN or a CfnCluster")
        elif not Token.is_unresolved(arn):
            known = {
                k: v for k, v in (("region", stack.region), ("account", stack.account)) if not Token.is_unresolved(v)
            }
            errors.extend(
                contract.cluster_arn_errors(f"{at('clusters')}[{index}]", arn)
                or contract.cluster_location_errors(f"{at('clusters')}[{index}]", arn, **known)
            )
    tag_map = dict(tags or {})
    if tags is not None and not tag_map:
        errors.append(f"{at('tags')}: give at least one tag (an empty map would select every cluster)")
    if any(Token.is_unresolved(k) for k in tag_map):
        errors.append(f"{at('tags')}: tag keys must be literal (they name IAM condition keys)")
    errors.extend(contract.tag_entry_errors(at("tags"), tag_map))
    if not arns and not tag_map:
        errors.append(f"{where or 'clusters, tags'}: give clusters or tags")
    return errors, arns, tag_map


def sns_alarm(
    scope: Construct,
    construct_id: str,
    metric: cloudwatch.IMetric,
    topic: sns.ITopic,
    *,
    threshold: float,
    description: str,
    missing: cloudwatch.TreatMissingData,
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
) -> cloudwatch.Alarm:
    """An alarm on one evaluation period of `metric`, notifying `topic`."""
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=comparison,
        treat_missing_data=missing,
        alarm_description=description,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return alarm
