"""A backup plan's rules and copy actions, in the vocabulary of ``aws_cdk.aws_backup``
(BackupPlanRule, BackupPlanCopyActionProps), checked with the handler's own rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from aws_cdk import Duration, TimeZone, Token
from aws_cdk import aws_events as events

from docdb_snapshot_handler import contract

from .schedules import interval_seconds, schedule_expression_errors, whole_seconds_in
from .validation import copy_destinations_errors

DEFAULT_START_WINDOW = Duration.hours(1)
# AWS Backup's shortest frequency ("as frequently as hourly"), which a plan in its vocabulary keeps.
BACKUP_AT_MOST_EVERY = timedelta(hours=1)


@dataclass(frozen=True, kw_only=True)
class ElasticClusterCopyAction:
    """A copy of each recovery point of a rule in the stack's region, under another KMS key (a
    recovery point stays restorable if the cluster's key is disabled or deleted), with retention
    of its own. AWS copies elastic cluster snapshots only within their region and account.

    :param kms_key_id: a KMS key ARN or key id of the stack's region. Default: None, the source's
        key.
    :param destination_region: the region of the copies. Default: None, the stack's region, the
        only one AWS allows; any other is refused with that reason.
    :param delete_after: delete a copy this long after its occurrence (at least one day).
        Default: None.
    :param keep_last: keep only this many newest copies per cluster (1-1000). Default: None.
        Neither ``delete_after`` nor ``keep_last``: copies are kept forever.
    """

    kms_key_id: str | None = None
    destination_region: str | None = None
    delete_after: Duration | None = None
    keep_last: int | None = None


@dataclass(frozen=True)
class ElasticClusterBackupRule:
    """One schedule of a backup plan, with its retention and copies.

    :param rule_name: unique in the plan; 1-30 letters, digits and hyphens, first a letter. It
        starts the name of every recovery point of the rule.
    :param schedule_expression: when to back up: ``events.Schedule.cron(...)`` or ``.rate(...)``
        in EventBridge Scheduler's grammar (six cron fields, one of day-of-month and day-of-week
        ``?``), at most hourly (AWS Backup's shortest frequency).
    :param schedule_expression_timezone: the time zone of a cron schedule. Default: UTC.
    :param start_window: an occurrence delivered later than this after its scheduled time takes
        no recovery point and is reported as missed; a busy cluster is retried within it.
        1 minute to 24 hours. Default: 1 hour.
    :param delete_after: delete each recovery point this long after its occurrence (at least one
        day; shorter than the longest gap between occurrences warns). Default: None.
    :param keep_last: keep only this many newest recovery points per cluster (1-1000).
        Default: None. Neither ``delete_after`` nor ``keep_last``: kept forever.
    :param recovery_point_tags: tags of every recovery point (and copy). Default: none.
    :param copy_actions: a copy of each recovery point in the stack's region, under another key
        (at most one action). Default: none.
    """

    rule_name: str
    schedule_expression: events.Schedule
    schedule_expression_timezone: TimeZone | None = None
    start_window: Duration = DEFAULT_START_WINDOW
    delete_after: Duration | None = None
    keep_last: int | None = None
    recovery_point_tags: Mapping[str, str] = field(default_factory=dict)
    copy_actions: Sequence[ElasticClusterCopyAction] = ()

    # --- presets, as aws_backup.BackupPlanRule's (05:00 UTC) ------------------------------------
    @classmethod
    def daily(cls, rule_name: str = "daily", **overrides: object) -> ElasticClusterBackupRule:
        """Every day at 05:00 UTC, kept 35 days: 35 recovery points of each cluster at steady state
        (more than the account's default quota of 20 manual snapshots per region, with room for
        nothing else: lower ``delete_after`` or raise the quota)."""
        return cls._preset(rule_name, events.Schedule.cron(hour="5", minute="0"), Duration.days(35), overrides)

    @classmethod
    def weekly(cls, rule_name: str = "weekly", **overrides: object) -> ElasticClusterBackupRule:
        """Saturdays at 05:00 UTC, kept 3 months (90 days): 13 recovery points of each cluster at
        steady state."""
        schedule = events.Schedule.cron(week_day="SAT", hour="5", minute="0")
        return cls._preset(rule_name, schedule, Duration.days(90), overrides)

    @classmethod
    def monthly1_year(cls, rule_name: str = "monthly1year", **overrides: object) -> ElasticClusterBackupRule:
        """The 1st of every month at 05:00 UTC, kept one year: 12 recovery points of each cluster at
        steady state."""
        schedule = events.Schedule.cron(day="1", hour="5", minute="0")
        return cls._preset(rule_name, schedule, Duration.days(365), overrides)

    @classmethod
    def monthly7_year(cls, rule_name: str = "monthly7year", **overrides: object) -> ElasticClusterBackupRule:
        """The 1st of every month at 05:00 UTC, kept seven years: 84 recovery points of each
        cluster at steady state, over the account's default quota of 20 manual snapshots per
        region: it needs a raised quota (Service Quotas, and the context key
        ``docdb-elastic-snapshot:manualSnapshotQuota``)."""
        schedule = events.Schedule.cron(day="1", hour="5", minute="0")
        return cls._preset(rule_name, schedule, Duration.days(365 * 7), overrides)

    @classmethod
    def _preset(
        cls, rule_name: str, schedule: events.Schedule, delete_after: Duration, overrides: Mapping[str, object]
    ) -> ElasticClusterBackupRule:
        props: dict[str, object] = {"schedule_expression": schedule, "delete_after": delete_after, **overrides}
        return cls(rule_name=rule_name, **props)  # type: ignore[arg-type]


def _literal(value: str | None) -> bool:
    return value is not None and not Token.is_unresolved(value)


def rule_errors(index: int, rule: ElasticClusterBackupRule, home_region: str = "") -> list[str]:
    """Every rule the rule breaks, each naming its field; copies in `home_region`, the stack's
    (when known at synth time)."""
    where = f"rules[{index}]"
    errors = contract.rule_name_errors(f"{where}.rule_name", rule.rule_name)
    errors.extend(
        schedule_expression_errors(
            f"{where}.schedule_expression", rule.schedule_expression, BACKUP_AT_MOST_EVERY, "AWS Backup runs a rule"
        )
    )
    window = whole_seconds_in(f"{where}.start_window", rule.start_window, errors)
    errors.extend(contract.start_window_errors(f"{where}.start_window", window))
    if rule.delete_after is not None:
        seconds = whole_seconds_in(f"{where}.delete_after", rule.delete_after, errors)
        errors.extend(contract.delete_after_errors(f"{where}.delete_after", seconds))
    if rule.keep_last is not None:
        errors.extend(contract.keep_last_errors(f"{where}.keep_last", rule.keep_last))
    tags = dict(rule.recovery_point_tags)
    errors.extend(contract.backup_tag_count_errors(f"{where}.recovery_point_tags", len(tags)))
    literal = {k: v for k, v in tags.items() if _literal(k) and _literal(v)}
    errors.extend(contract.tag_entry_errors(f"{where}.recovery_point_tags", literal))
    errors.extend(
        copy_destinations_errors(
            f"{where}.copy_actions",
            [(a.destination_region, a.kms_key_id) for a in rule.copy_actions],
            home_region,
            ("destination_region", "kms_key_id"),
        )
    )
    for number, action in enumerate(rule.copy_actions):
        at = f"{where}.copy_actions[{number}]"
        if action.delete_after is not None:
            seconds = whole_seconds_in(f"{at}.delete_after", action.delete_after, errors)
            errors.extend(contract.delete_after_errors(f"{at}.delete_after", seconds))
        if action.keep_last is not None:
            errors.extend(contract.keep_last_errors(f"{at}.keep_last", action.keep_last))
    return errors


def rule_warnings(index: int, rule: ElasticClusterBackupRule) -> list[str]:
    """A valid rule's likely mistakes: a delete_after (the rule's, or a copy action's) shorter than
    the longest gap between its occurrences."""
    expression = rule.schedule_expression.expression_string
    interval = contract.longest_interval(expression)
    retentions = [(f"rules[{index}].delete_after", "recovery point", rule.delete_after)]
    retentions += [
        (f"rules[{index}].copy_actions[{n}].delete_after", "copy", action.delete_after)
        for n, action in enumerate(rule.copy_actions)
    ]
    warnings = []
    for where, what, delete_after in retentions:
        if delete_after is None or timedelta(seconds=delete_after.to_seconds()) >= interval:
            continue
        kept, every = timedelta(seconds=delete_after.to_seconds()), contract.interval_text(interval)
        warnings.append(
            f"{where}: {contract.interval_text(kept)} is shorter than the rule's interval ({every} between "
            f"occurrences of {expression}): kept that long, no {what} of this rule would cover "
            f"{contract.interval_text(interval - kept)} in every {every}. Points are pruned when the rule "
            f"next runs, so each is kept {every} rather than {contract.interval_text(kept)}, and an "
            f"occurrence that makes none deletes the last one. Give delete_after at least {every}."
        )
    return warnings


def rule_input(rule: ElasticClusterBackupRule, plan_name: str) -> dict[str, object]:
    """The rule's part of its schedule's input (the handler's BackupInput members)."""
    member = contract.BackupInput
    body: dict[str, object] = {
        member.VERSION: contract.BACKUP_INPUT_VERSION,
        member.PLAN: plan_name,
        member.RULE: rule.rule_name,
        member.SCHEDULED_TIME: contract.SCHEDULED_TIME_PLACEHOLDER,
        member.START_WINDOW_SECONDS: int(rule.start_window.to_seconds()),
        member.INTERVAL_SECONDS: interval_seconds(rule.schedule_expression),
    }
    if rule.delete_after is not None:
        body[member.DELETE_AFTER_SECONDS] = int(rule.delete_after.to_seconds())
    if rule.keep_last is not None:
        body[member.KEEP_LAST] = rule.keep_last
    if rule.recovery_point_tags:
        body[member.RECOVERY_POINT_TAGS] = dict(rule.recovery_point_tags)
    copies = []
    for action in rule.copy_actions:
        # A region given is written, so that the handler can refuse it where the stack's region
        # is unknown at synth time.
        copy: dict[str, object] = {}
        if action.destination_region is not None:
            copy[contract.CopyActionKey.REGION] = action.destination_region
        if action.kms_key_id is not None:
            copy[contract.CopyActionKey.KMS_KEY_ID] = action.kms_key_id
        if action.delete_after is not None:
            copy[contract.CopyActionKey.DELETE_AFTER_SECONDS] = int(action.delete_after.to_seconds())
        if action.keep_last is not None:
            copy[contract.CopyActionKey.KEEP_LAST] = action.keep_last
        copies.append(copy)
    if copies:
        body[member.COPIES] = copies
    return body


def _points(schedule: events.Schedule, keep_last: int | None, delete_after: Duration | None) -> tuple[int | None, str]:
    seconds = None if delete_after is None else int(delete_after.to_seconds())
    most = None
    if seconds is not None:
        try:
            most = contract.most_occurrences_within(schedule.expression_string, seconds)
        except ValueError:
            # Unreadable at synth (an expression given by a token): counted as if hourly, the
            # most often a rule may run, so the budget is never short.
            most = contract.occurrences_within(seconds, 3600)
    count = contract.points_kept(keep_last=keep_last, delete_after_seconds=seconds, most_within=most)
    reasons = []
    if keep_last is not None:
        reasons.append(f"keep_last {keep_last}")
    if seconds is not None:
        reasons.append(f"delete_after of {seconds // 86400} days spans at most {most} occurrences")
    return count, ", ".join(reasons) or "no retention: kept forever"


def points_per_cluster(rule: ElasticClusterBackupRule) -> list[tuple[str, int | None, str]]:
    """What the rule keeps of each cluster at steady state: (what, count or None when kept
    forever, why) for its recovery points and for each copy action's copies."""
    count, why = _points(rule.schedule_expression, rule.keep_last, rule.delete_after)
    kept = [(f"rule {rule.rule_name}", count, why)]
    for number, action in enumerate(rule.copy_actions):
        copies, why = _points(rule.schedule_expression, action.keep_last, action.delete_after)
        kept.append((f"rule {rule.rule_name} copy_actions[{number}]", copies, why))
    return kept
