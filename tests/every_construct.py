"""Every construct of the README in one stack, and more snapshots: the stacks IAM's limits are
measured on (tests/construct/test_role_limits.py, benchmarks/role_sizes.py)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_kms as kms

from docdb_elastic_snapshot import (
    CopyDestination,
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterCopyAction,
    ElasticClusterFromSnapshot,
    ElasticClusterRestoreTest,
    ElasticClusterSnapshot,
    ElasticClusterSnapshotCopy,
    FinalSnapshot,
    SnapshotBeforeChange,
)
from standins.docdb_elastic import cluster_arn_for

COPY_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def every_construct(stack: cdk.Stack) -> None:
    """Every construct of the README in one stack, each with its options."""
    key = kms.Key(stack, "ClusterKey", enable_key_rotation=True)
    cluster = docdbelastic.CfnCluster(
        stack, "Cluster", cluster_name="orders", admin_user_name="admin", auth_type="PLAIN_TEXT",
        admin_user_password="{{resolve:secretsmanager:pw}}", shard_capacity=2, shard_count=1, kms_key_id=key.key_arn,
    )  # fmt: skip
    before = SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster, retain_last=5)
    FinalSnapshot(stack, "Final", cluster=cluster, copy_to=[CopyDestination(kms_key_id=COPY_KEY)])
    release = ElasticClusterSnapshot(stack, "Release", cluster_arn=cluster.attr_cluster_arn, retain_last=3, kms_key=key)
    ElasticClusterSnapshot(stack, "Existing", cluster_arn=cluster_arn_for("billing"))
    ElasticClusterSnapshotCopy(
        stack, "KeyCopy", source_snapshot_arn=before.snapshot_arn, kms_key_id=COPY_KEY, retain_last=5
    )
    ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=release.snapshot_arn)
    ElasticClusterFromSnapshot(stack, "Drill", source_cluster_arn=cluster.attr_cluster_arn)
    plan = ElasticClusterBackupPlan(
        stack, "Plan",
        rules=[ElasticClusterBackupRule.daily(), ElasticClusterBackupRule.monthly1_year(
            copy_actions=[ElasticClusterCopyAction(kms_key_id=COPY_KEY, keep_last=3)])],
    )  # fmt: skip
    plan.add_selection("Cluster", clusters=[cluster])
    plan.add_selection("Gold", tags={"backup": "gold"})
    ElasticClusterRestoreTest(
        stack, "RestoreTest", schedule_expression=cdk.aws_events.Schedule.cron(day="15", hour="5", minute="0"),
        clusters=[cluster], subnet_ids=["subnet-0a1b2c3d4e5f60718"], vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
    )  # fmt: skip


def more_snapshots(stack: cdk.Stack, count: int) -> None:
    """Snapshots of `count` more existing clusters."""
    for index in range(count):
        ElasticClusterSnapshot(stack, f"More{index}", cluster_arn=cluster_arn_for(f"more-{index}"))
