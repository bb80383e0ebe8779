"""ElasticClusterRestoreTest: restores on a schedule. Each occurrence restores the newest ACTIVE
recovery point of each selected cluster into a temporary cluster, measures the time until it is
ACTIVE, has a function of yours validate it, and deletes it; metrics and alarms say how it went.

The schedule invokes the stack's provider function (the handler's kinds/restore_test); see
docs/restore-testing.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from aws_cdk import Duration, Stack, TimeZone, Token, aws_lambda
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from constructs import Construct
from docdb_snapshot_handler import contract

from .provider import SnapshotProvider
from .resource import default_name_prefix
from .scheduled_grants import RestoreTestGrants
from .schedules import (
    function_schedule,
    schedule_expression_errors,
    scheduler_role,
    selection_errors,
    sns_alarm,
    whole_seconds_in,
)
from .validation import id_list_errors, literal, reject_invalid

M = contract.RestoreTestMetric


class RecoveryPointType:
    """Which recovery points a restore test may restore (``recovery_point_types``)."""

    MANUAL = "MANUAL"
    AUTOMATED = "AUTOMATED"


def restore_test_errors(
    *,
    name: str,
    schedule_expression: object,
    subnet_ids: Sequence[str] | None,
    vpc_security_group_ids: Sequence[str] | None,
    shard_capacity: int | None,
    shard_instance_count: int | None,
    kms_key_id: str | None,
    validation_window: Duration,
    recovery_point_types: Sequence[str],
    max_restore_time: Duration | None,
) -> list[str]:
    """Every rule the props break, with the handler's own rules (the selection is checked by
    schedules.selection_errors)."""
    errors = [] if Token.is_unresolved(name) else contract.restore_test_name_errors("restore_test_name", name)
    # At most once a day: each occurrence restores a cluster per selected cluster (tens of minutes).
    errors += schedule_expression_errors(
        "schedule_expression", schedule_expression, timedelta(days=1), "a restore test runs"
    )
    for field, ids, pattern, what in (
        ("subnet_ids", subnet_ids, contract.SUBNET_ID_PATTERN, "subnet"),
        ("vpc_security_group_ids", vpc_security_group_ids, contract.SECURITY_GROUP_ID_PATTERN, "security group"),
    ):
        if ids is None:
            errors.append(f"{field}: is required (where the temporary clusters go)")
        else:
            errors.extend(id_list_errors(field, ids, pattern, what))
    if shard_capacity is not None and literal(shard_capacity):
        errors.extend(contract.shard_capacity_errors("shard_capacity", shard_capacity))
    if shard_instance_count is not None and literal(shard_instance_count):
        errors.extend(contract.shard_instance_count_errors("shard_instance_count", shard_instance_count))
    if kms_key_id is not None and literal(kms_key_id):
        errors.extend(contract.kms_key_id_errors("kms_key_id", kms_key_id))
    window = whole_seconds_in("validation_window", validation_window, errors)
    errors.extend(contract.validation_window_errors("validation_window", window))
    errors.extend(contract.recovery_point_types_errors("recovery_point_types", list(recovery_point_types)))
    if max_restore_time is not None and max_restore_time.to_seconds() < 60:
        errors.append("max_restore_time: must be at least 1 minute")
    return errors


class ElasticClusterRestoreTest(Construct):
    """Scheduled restore tests of DocumentDB elastic clusters: each occurrence restores the newest
    ACTIVE recovery point of each selected cluster into a temporary cluster, times it, validates
    it and deletes it.

    :param schedule_expression: when to test: ``events.Schedule.cron(...)`` or ``.rate(...)``, at
        most once a day.
    :param schedule_expression_timezone: the time zone of a cron schedule. Default: UTC.
    :param clusters: clusters to test, by ARN (a token is fine) or as ``CfnCluster``, in the
        stack's account and region. Default: none.
    :param tags: also test every elastic cluster of the stack's account and region that carries
        all these tags when an occurrence runs. Default: none. Give ``clusters`` or ``tags``.
    :param subnet_ids: the subnets of the temporary clusters.
    :param vpc_security_group_ids: the security groups of the temporary clusters (your validation
        function must be able to reach them).
    :param shard_capacity: vCPUs per shard of the temporary clusters (2, 4, 8, 16, 32 or 64).
        Default: the recovery point's.
    :param shard_instance_count: instances per shard of the temporary clusters (1-16).
        Default: the recovery point's.
    :param kms_key_id: the KMS key of the temporary clusters. Default: the recovery point's.
    :param validation_function: invoked synchronously once the temporary cluster is ACTIVE, with
        ``clusterEndpoint``, ``clusterArn``, ``clusterName``, ``adminUserName``,
        ``sourceClusterArn``, ``recoveryPointArn``, ``restoreTest`` and ``scheduledTime``; an
        error it returns (an exception) fails the test. It must answer within 9 minutes.
        Default: None, no validation (ACTIVE is success).
    :param validation_window: how long the temporary cluster is kept once ACTIVE and validated
        (0 to 24 hours). Default: 0, deleted at once.
    :param recovery_point_types: ``RecoveryPointType.MANUAL`` and/or ``AUTOMATED``: which
        snapshots may be restored. Default: both.
    :param max_restore_time: the alarm threshold on the time to ACTIVE. Default: None, no alarm
        on it.
    :param alarm_topic: an SNS topic for the alarms (a failed test; a restore slower than
        ``max_restore_time``). Default: None, no alarms.
    :param restore_test_name: names the temporary clusters (``<name>-<YYYYMMDDHHMM>-<digest>``),
        their tag, the record on each restored recovery point and the ``RestoreTest`` metric
        dimension; 1-30 letters, digits and hyphens, first a letter, unique in the app. Default:
        ``<stack name>-<construct id>``, sanitised (cut to 23 characters and a digest of the
        construct's path when longer).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedule_expression: events.Schedule,
        subnet_ids: Sequence[str],
        vpc_security_group_ids: Sequence[str],
        clusters: Sequence[str | docdbelastic.CfnCluster] | None = None,
        tags: Mapping[str, str] | None = None,
        schedule_expression_timezone: TimeZone | None = None,
        shard_capacity: int | None = None,
        shard_instance_count: int | None = None,
        kms_key_id: str | None = None,
        validation_function: aws_lambda.IFunction | None = None,
        validation_window: Duration | None = None,
        recovery_point_types: Sequence[str] | None = None,
        max_restore_time: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
        restore_test_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = restore_test_name or self._default_name(stack, construct_id)
        self.restore_test_name = name
        window = validation_window or Duration.seconds(0)
        types = list(recovery_point_types) if recovery_point_types is not None else list(contract.RECOVERY_POINT_TYPES)
        others = [
            c.node.path
            for c in self.node.root.node.find_all()
            if isinstance(c, ElasticClusterRestoreTest) and c is not self and c.restore_test_name == name
        ]
        errors = (
            [
                f"restore_test_name: {name!r} is already the name of {others[0]} (it names the clusters a test may "
                "delete: give each test its own)"
            ]
            if others
            else []
        )
        errors += restore_test_errors(
            name=name,
            schedule_expression=schedule_expression,
            subnet_ids=subnet_ids,
            vpc_security_group_ids=vpc_security_group_ids,
            shard_capacity=shard_capacity,
            shard_instance_count=shard_instance_count,
            kms_key_id=kms_key_id,
            validation_window=window,
            recovery_point_types=types,
            max_restore_time=max_restore_time,
        )
        selection, arns, tag_map = selection_errors(stack, "", clusters, tags)
        reject_invalid(self, selection + errors)
        self.alarms: list[cloudwatch.Alarm] = []
        provider = SnapshotProvider.of(self)
        self.role = scheduler_role(self, provider.function, f"EventBridge Scheduler invokes the restore test {name}")
        # A managed policy of its own, as a backup plan's (role_limits.py).
        policy = iam.ManagedPolicy(self, "Policy", roles=[provider.role], description=f"The restore test {name}'s runs")
        grants = RestoreTestGrants(provider, policy, name)
        if validation_function is not None:
            grants.allow_validation(validation_function)
        member = contract.RestoreTestInput
        body: dict[str, object] = {
            member.VERSION: contract.RESTORE_TEST_INPUT_VERSION,
            member.TEST: name,
            member.SCHEDULED_TIME: contract.SCHEDULED_TIME_PLACEHOLDER,
            member.SUBNET_IDS: list(subnet_ids),
            member.VPC_SECURITY_GROUP_IDS: list(vpc_security_group_ids),
            member.VALIDATION_WINDOW_SECONDS: int(window.to_seconds()),
            member.RECOVERY_POINT_TYPES: list(dict.fromkeys(types)),
        }
        optional = {
            member.CLUSTERS: list(dict.fromkeys(arns)) or None,
            member.TAG_SELECTIONS: [tag_map] if tag_map else None,
            member.SHARD_CAPACITY: shard_capacity,
            member.SHARD_INSTANCE_COUNT: shard_instance_count,
            member.KMS_KEY_ID: kms_key_id,
            member.VALIDATION_FUNCTION: validation_function.function_arn if validation_function else None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        self.schedule = function_schedule(
            self,
            "Schedule",
            description=f"Restore test {name}",
            schedule=schedule_expression,
            timezone=schedule_expression_timezone,
            function=provider.function,
            role=self.role,
            payload=stack.to_json_string({contract.RESTORE_TEST_EVENT_KEY: body}),
            max_event_age_seconds=contract.RESTORE_TEST_START_WINDOW_SECONDS,
        )
        grants.allow_schedule(self.schedule)
        if alarm_topic is not None:
            self.alarms.append(
                sns_alarm(
                    self,
                    "FailedAlarm",
                    self.metric_restore_tests_failed(),
                    alarm_topic,
                    threshold=1,
                    description=f"Restore test {name}: a cluster's restore or validation failed, or none could start",
                    missing=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
            if max_restore_time is not None:
                self.alarms.append(
                    sns_alarm(
                        self,
                        "SlowRestoreAlarm",
                        self.metric_restore_seconds(),
                        alarm_topic,
                        threshold=max_restore_time.to_seconds(),
                        description=(
                            f"Restore test {name}: a restore took longer than {int(max_restore_time.to_seconds())} s "
                            "to become ACTIVE"
                        ),
                        missing=cloudwatch.TreatMissingData.NOT_BREACHING,
                        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    )
                )

    def _default_name(self, stack: Stack, construct_id: str) -> str:
        """<stack name>-<construct id>; when that is too long, cut, with a digest of the
        construct's path so that two tests never share a name (and so each other's clusters)."""
        full = default_name_prefix(stack.stack_name, construct_id, 255, fallback="restore-test")
        limit = contract.RESTORE_TEST_NAME_MAX_LENGTH
        if len(full) <= limit:
            return full
        return f"{full[: limit - 7].rstrip('-')}-{self.node.addr[-6:]}"

    # --- metrics (the aws-cdk L2 convention) ---------------------------------------------------
    def metric(
        self, metric_name: str, cluster: str | docdbelastic.CfnCluster | None = None, **props: object
    ) -> cloudwatch.Metric:
        """A metric of the test (namespace DocDbElasticSnapshot): of one source cluster (dimension
        Cluster, its name, or a ``CfnCluster``), or over all of the test's clusters (dimension
        RestoreTest). Default statistic: Sum over 5 minutes. The name is lowercased, as AWS stores
        it and the handler publishes it; a token is used as it resolves."""
        if isinstance(cluster, docdbelastic.CfnCluster):
            cluster = cluster.cluster_name
        if cluster is not None and not Token.is_unresolved(cluster):
            cluster = cluster.lower()
        dimensions = {"RestoreTest": self.restore_test_name} if cluster is None else {"Cluster": cluster}
        options: dict[str, object] = {"statistic": "Sum", "period": Duration.minutes(5), **props}
        return cloudwatch.Metric(
            namespace=contract.METRIC_NAMESPACE,
            metric_name=metric_name,
            dimensions_map=dimensions,
            **options,  # type: ignore[arg-type]
        )

    def metric_restore_tests_succeeded(
        self, cluster: str | docdbelastic.CfnCluster | None = None, **props: object
    ) -> cloudwatch.Metric:
        return self.metric(M.SUCCEEDED, cluster, **props)

    def metric_restore_tests_failed(
        self, cluster: str | docdbelastic.CfnCluster | None = None, **props: object
    ) -> cloudwatch.Metric:
        return self.metric(M.FAILED, cluster, **props)

    def metric_restore_seconds(
        self, cluster: str | docdbelastic.CfnCluster | None = None, **props: object
    ) -> cloudwatch.Metric:
        """Seconds from the restore request until the temporary cluster was seen ACTIVE (Maximum)."""
        return self.metric(M.RESTORE_SECONDS, cluster, **{"statistic": "Maximum", **props})

    def metric_recovery_point_age(
        self, cluster: str | docdbelastic.CfnCluster | None = None, **props: object
    ) -> cloudwatch.Metric:
        """How old the restored recovery point was when its restore began (Maximum): the recovery
        point objective the test proved."""
        return self.metric(M.RECOVERY_POINT_AGE_SECONDS, cluster, **{"statistic": "Maximum", **props})
