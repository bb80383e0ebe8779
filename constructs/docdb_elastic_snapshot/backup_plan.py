"""ElasticClusterBackupPlan: scheduled backups of DocumentDB elastic clusters, with retention
beyond the 35 days of automated backups, copies under another key and selection by tag.

Each rule is an EventBridge Scheduler schedule invoking the stack's provider function (the same
function as the custom resources; the handler routes a scheduled event by its input). What an
occurrence does is in the handler's kinds/backup_plan; see docs/backup-plan.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jsii
from aws_cdk import Annotations, Duration, IStableStringProducer, Lazy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns

from constructs import Construct, IValidation
from docdb_snapshot_handler import contract

from .backup_rule import ElasticClusterBackupRule, points_per_cluster, rule_errors, rule_input, rule_warnings
from .provider import SnapshotProvider
from .resource import default_name_prefix
from .scheduled_grants import BackupPlanGrants
from .schedules import function_schedule, interval_seconds, scheduler_role, selection_errors, sns_alarm
from .snapshot_quota import Kept, SnapshotQuotaBudget, Subject
from .validation import InvalidPropsError, known_region, reject_invalid

# CloudWatch evaluates an alarm over at most one day.
_ALARM_PERIOD_MAX_SECONDS = 24 * 60 * 60
M = contract.PlanMetric


@dataclass(frozen=True)
class _Selection:
    construct_id: str
    clusters: tuple[str, ...]
    tags: Mapping[str, str]


class ElasticClusterBackupPlan(Construct):
    """A backup plan for DocumentDB elastic clusters: rules (schedules with retention and copies)
    and selections (clusters by ARN or by tag, evaluated at each occurrence).

    :param rules: the plan's rules; more with ``add_rule``. Default: none (at least one is needed
        before synthesis).
    :param backup_plan_name: the plan's name: the value of the ``docdb-elastic-snapshot:plan``
        tag on everything it makes and of the ``Plan`` metric dimension; 1-50 letters, digits
        and hyphens, first a letter. Changing it orphans the plan's existing recovery points
        (they are kept, never pruned again). Default: ``<stack name>-<construct id>``, sanitised.
    :param alarm_topic: an SNS topic for the plan's alarms (failures, missed occurrences, a
        recovery point older than its rule allows). Default: None, no alarms.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: Sequence[ElasticClusterBackupRule] | None = None,
        backup_plan_name: str | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = backup_plan_name or default_name_prefix(
            stack.stack_name, construct_id, contract.PLAN_NAME_MAX_LENGTH, fallback="plan"
        )
        errors = [] if Token.is_unresolved(name) else contract.plan_name_errors("backup_plan_name", name)
        reject_invalid(self, errors)
        self.backup_plan_name = name
        self._rules: list[ElasticClusterBackupRule] = []
        self._selections: list[_Selection] = []
        self._schedules: dict[str, scheduler.CfnSchedule] = {}
        self._alarm_topic = alarm_topic
        self.alarms: list[cloudwatch.Alarm] = []
        self._provider = SnapshotProvider.of(self)
        self.role = scheduler_role(
            self, self._provider.function, f"EventBridge Scheduler invokes the backup plan {name}"
        )
        # A managed policy of its own: off the provider role's 10,240 characters of inline policy
        # (role_limits.py), which the stack's snapshots share.
        self._policy = iam.ManagedPolicy(
            self, "Policy", roles=[self._provider.role], description=f"The backup plan {name}'s occurrences"
        )
        self._grants = BackupPlanGrants(self._provider, self._policy, name)
        for rule in rules or ():
            self.add_rule(rule)
        self.node.add_validation(_PlanComplete(self))
        SnapshotQuotaBudget.of(self).add_source(self._kept)

    # --- rules and selections --------------------------------------------------------------
    def add_rule(self, rule: ElasticClusterBackupRule) -> None:
        """Add a rule: its schedule, retention and copies. Rejected at once if invalid."""
        errors = rule_errors(len(self._rules), rule, known_region(Stack.of(self)))
        if any(existing.rule_name == rule.rule_name for existing in self._rules):
            errors.append(f"rules[{len(self._rules)}].rule_name: {rule.rule_name!r} is already a rule of this plan")
        reject_invalid(self, errors)
        for warning in rule_warnings(len(self._rules), rule):
            Annotations.of(self).add_warning_v2("docdb-elastic-snapshot:delete-after-shorter-than-interval", warning)
        self._rules.append(rule)
        schedule = self._schedule(rule)
        self._schedules[rule.rule_name] = schedule
        self._grants.allow_schedule(schedule)
        if rule.copy_actions:
            self._grants.allow_copies()
        if self._alarm_topic is not None:
            self._rule_alarms(rule)

    def add_selection(
        self,
        construct_id: str,
        *,
        clusters: Sequence[str | docdbelastic.CfnCluster] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Protect clusters with every rule of the plan.

        :param construct_id: names the selection (unique in the plan).
        :param clusters: elastic clusters by ARN (a token is fine) or as ``CfnCluster``. They
            must be in the stack's account and region. Default: none.
        :param tags: every elastic cluster of the stack's account and region carrying all these
            tags when an occurrence runs. Default: none. Give ``clusters`` or ``tags`` or both.
        """
        where = f"add_selection({construct_id!r})"
        errors, arns, tag_map = selection_errors(Stack.of(self), where, clusters, tags)
        if any(selection.construct_id == construct_id for selection in self._selections):
            errors.insert(0, f"{where}: a selection of this plan already has this id")
        reject_invalid(self, errors)
        self._selections.append(_Selection(construct_id, tuple(arns), tag_map))
        self._grants.allow_clusters(arns)
        if tag_map:
            self._grants.allow_tagged_clusters(tag_map)

    def points_per_cluster(self) -> int:
        """Manual snapshots the plan keeps of each selected cluster at steady state, over its rules
        and copies (a rule without retention counted once: it keeps one more each occurrence)."""
        return sum(count or 1 for rule in self._rules for _what, count, _why in points_per_cluster(rule))

    def _kept(self) -> list[tuple[Subject, Kept]]:
        kept = [
            Kept(f"{self.node.path} {what}", count or 1, why, grows=count is None)
            for rule in self._rules
            for what, count, why in points_per_cluster(rule)
        ]
        pairs: list[tuple[Subject, Kept]] = []
        for arn in dict.fromkeys(arn for selection in self._selections for arn in selection.clusters):
            pairs.extend((arn, k) for k in kept)
        total = Kept(
            self.node.path,
            self.points_per_cluster(),
            "; ".join(f"{k.owner.removeprefix(self.node.path + ' ')}: {k.count}" for k in kept),
            grows=any(k.grows for k in kept),
        )
        pairs.extend((dict(selection.tags), total) for selection in self._selections if selection.tags)
        return pairs

    # --- synthesis ----------------------------------------------------------------------------
    def _schedule(self, rule: ElasticClusterBackupRule) -> scheduler.CfnSchedule:
        return function_schedule(
            self,
            f"Schedule{re.sub(r'[^A-Za-z0-9]', '', rule.rule_name.title())}",
            description=f"Backup plan {self.backup_plan_name}, rule {rule.rule_name}",
            schedule=rule.schedule_expression,
            timezone=rule.schedule_expression_timezone,
            function=self._provider.function,
            role=self.role,
            # Lazy: selections may be added after the rule.
            payload=Lazy.string(_InputProducer(self, rule)),
            max_event_age_seconds=int(rule.start_window.to_seconds()),
        )

    def _input(self, rule: ElasticClusterBackupRule) -> dict[str, object]:
        body = rule_input(rule, self.backup_plan_name)
        clusters = list(dict.fromkeys(arn for selection in self._selections for arn in selection.clusters))
        tag_selections = [dict(selection.tags) for selection in self._selections if selection.tags]
        if clusters:
            body[contract.BackupInput.CLUSTERS] = clusters
        if tag_selections:
            body[contract.BackupInput.TAG_SELECTIONS] = tag_selections
        return {contract.BACKUP_EVENT_KEY: body}

    # --- metrics (the aws-cdk L2 convention) ---------------------------------------------------
    def metric(self, metric_name: str, rule_name: str | None = None, **props: object) -> cloudwatch.IMetric:
        """A metric of the plan (namespace DocDbElasticSnapshot, dimensions Plan and Rule): of one
        rule, or the sum over the rules added so far (missing data counted as 0). Default
        statistic: Sum over 5 minutes."""
        options: dict[str, object] = {"statistic": "Sum", "period": Duration.minutes(5), **props}
        rules = [rule_name] if rule_name is not None else [rule.rule_name for rule in self._rules]
        metrics = [
            cloudwatch.Metric(
                namespace=contract.METRIC_NAMESPACE,
                metric_name=metric_name,
                dimensions_map={"Plan": self.backup_plan_name, "Rule": name},
                **options,  # type: ignore[arg-type]
            )
            for name in rules
        ]
        if rule_name is not None or len(metrics) == 1:
            return metrics[0]
        using = {f"m{index}": metric for index, metric in enumerate(metrics)}
        return cloudwatch.MathExpression(
            expression="+".join(f"FILL({key},0)" for key in using),
            using_metrics=using,
            label=metric_name,
            period=options["period"],  # type: ignore[arg-type]
        )

    def metric_recovery_points_created(self, rule_name: str | None = None, **props: object) -> cloudwatch.IMetric:
        return self.metric(M.RECOVERY_POINTS_CREATED, rule_name, **props)

    def metric_recovery_points_failed(self, rule_name: str | None = None, **props: object) -> cloudwatch.IMetric:
        return self.metric(M.RECOVERY_POINTS_FAILED, rule_name, **props)

    def metric_recovery_points_deleted(self, rule_name: str | None = None, **props: object) -> cloudwatch.IMetric:
        return self.metric(M.RECOVERY_POINTS_DELETED, rule_name, **props)

    def metric_copies_created(self, rule_name: str | None = None, **props: object) -> cloudwatch.IMetric:
        return self.metric(M.COPIES_CREATED, rule_name, **props)

    def metric_occurrences_missed(self, rule_name: str | None = None, **props: object) -> cloudwatch.IMetric:
        return self.metric(M.OCCURRENCES_MISSED, rule_name, **props)

    def metric_newest_recovery_point_age(self, rule_name: str, **props: object) -> cloudwatch.IMetric:
        """Seconds since the oldest newest-recovery-point of the rule's clusters (Maximum)."""
        return self.metric(M.NEWEST_RECOVERY_POINT_AGE_SECONDS, rule_name, **{"statistic": "Maximum", **props})

    # --- alarms -----------------------------------------------------------------------------
    def _rule_alarms(self, rule: ElasticClusterBackupRule) -> None:
        """Per rule: failures, missed occurrences, and a newest recovery point older than the
        rule's interval plus its start window."""
        suffix = re.sub(r"[^A-Za-z0-9]", "", rule.rule_name.title())
        label = f"Backup plan {self.backup_plan_name}, rule {rule.rule_name}"
        self._alarm(
            f"FailuresAlarm{suffix}",
            self.metric_recovery_points_failed(rule.rule_name),
            threshold=1,
            description=f"{label}: a selected cluster got no recovery point, or a copy failed",
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self._alarm(
            f"MissedAlarm{suffix}",
            self.metric_occurrences_missed(rule.rule_name),
            threshold=1,
            description=f"{label}: an occurrence arrived after its start window and took nothing",
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        interval = interval_seconds(rule.schedule_expression)
        allowed = interval + int(rule.start_window.to_seconds())
        # A period with no data means no occurrence ran: breaching, when every period (at most
        # the one day CloudWatch allows) holds an occurrence; rules further apart alarm on data.
        period = min(_ALARM_PERIOD_MAX_SECONDS, -(-allowed // 60) * 60)
        self._alarm(
            f"RecoveryPointAgeAlarm{suffix}",
            self.metric_newest_recovery_point_age(rule.rule_name, period=Duration.seconds(period)),
            threshold=allowed,
            description=(
                f"{label}: a cluster's newest recovery point is older than the rule's interval plus its "
                f"start window ({allowed} s), or no occurrence ran"
            ),
            missing=(
                cloudwatch.TreatMissingData.BREACHING
                if interval <= period
                else cloudwatch.TreatMissingData.NOT_BREACHING
            ),
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        missing: cloudwatch.TreatMissingData,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> None:
        assert self._alarm_topic is not None
        alarm = sns_alarm(
            self,
            construct_id,
            metric,
            self._alarm_topic,
            threshold=threshold,
            description=description,
            missing=missing,
            comparison=comparison,
        )
        self.alarms.append(alarm)


@jsii.implements(IStableStringProducer)
class _InputProducer:
    def __init__(self, plan: ElasticClusterBackupPlan, rule: ElasticClusterBackupRule) -> None:
        self.plan = plan
        self.rule = rule

    def produce(self) -> str:
        return Stack.of(self.plan).to_json_string(self.plan._input(self.rule))


@jsii.implements(IValidation)
class _PlanComplete:
    """Before synthesis: the plan has a rule and a selection."""

    def __init__(self, plan: ElasticClusterBackupPlan) -> None:
        self.plan = plan

    def validate(self) -> list[str]:
        plan = self.plan
        errors = []
        if not plan._rules:
            errors.append("rules: a backup plan needs at least one rule (rules=[...] or add_rule)")
        if not plan._selections:
            errors.append("add_selection: a backup plan must select clusters (add_selection at least once)")
        return [str(InvalidPropsError(type(plan).__name__, plan.node.path, errors))] if errors else []
