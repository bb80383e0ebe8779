"""A complete user app with every construct of the README, each as the README shows it: the
README's examples are lines of this file (tests/app/test_user_app.py checks that, and that this
app synthesizes cdk-nag and cfn-lint clean with every role within IAM's limits).

Copy it, put in your account, region, cluster ARN, organizational unit and break-glass role, and:

    cdk synth --app "python3 examples/user_app.py"

Two stacks: `OrdersStack` in the account and region of the cluster (snapshots, copies, a
restore, a backup plan, a restore test), and `BackupGuardStack` in the organization's management
account (the service control policy; docs/guard.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App, CfnOutput, Duration, Environment, Stack, aws_lambda
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from docdb_elastic_snapshot import (
    CopyDestination,
    ElasticClusterBackupGuard,
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterFromSnapshot,
    ElasticClusterRestoreTest,
    ElasticClusterSnapshot,
    ElasticClusterSnapshotCopy,
    FinalSnapshot,
    SnapshotBeforeChange,
)

# Yours: the account and region of the cluster (the stack must be in both: snapshots, copies and
# restores stay in the cluster's region and account), the cluster, the release being deployed.
ORDERS_ENV = Environment(account="123456789012", region="us-east-1")
CLUSTER_ARN = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/0f4c2b1e-6a8d-4f3b-9c2e-5d7a1b3c9e8f"
RELEASE_VERSION = "2026.12.1"
VPC_CIDR = "10.20.0.0/16"
# The organization's management account (or the delegated administrator of its policies), and
# the role exempt from the guard; the organizational unit it guards is in guard_stack().
MANAGEMENT_ENV = Environment(account="111122223333", region="us-east-1")
BREAK_GLASS_ARN = "arn:aws:iam::111122223333:role/BreakGlass"


def workload(stack: Stack) -> dict[str, Any]:
    """What the stack has before it protects anything: a VPC, a security group, a cluster of its
    own (`CfnCluster`), a second KMS key for the copies, an SNS topic for the
    alarms, and the Lambda function that validates a restored cluster."""
    # Your network, by its ids (no lookup at synth): private subnets with a route to AWS's APIs
    # for your applications, isolated ones for the data.
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0a1b2c3d4e5f60718",
        vpc_cidr_block=VPC_CIDR,
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        isolated_subnet_ids=["subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60004"],
    )
    security_group = ec2.SecurityGroup(stack, "ClusterSecurityGroup", vpc=vpc, allow_all_outbound=False)
    security_group.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(27017), "clients in the VPC")
    subnet_ids = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
    cfn_cluster = docdbelastic.CfnCluster(
        stack,
        "OrdersCluster",
        cluster_name="orders",
        admin_user_name="orders_admin",
        auth_type="PLAIN_TEXT",
        admin_user_password="{{resolve:secretsmanager:orders-admin:SecretString:password}}",
        shard_capacity=2,
        shard_count=1,
        subnet_ids=subnet_ids,
        vpc_security_group_ids=[security_group.security_group_id],
    )
    return {
        "vpc": vpc,
        "subnet_ids": subnet_ids,
        "security_group_id": security_group.security_group_id,
        "cfn_cluster": cfn_cluster,
        # Copies go under this key: a snapshot outlives a disabled or deleted cluster key.
        "copy_key": kms.Key(
            stack, "SnapshotCopyKey", description="Copies of the orders snapshots", enable_key_rotation=True
        ),
        "topic": sns.Topic(stack, "BackupAlarms", enforce_ssl=True),
        "validate_orders": aws_lambda.Function.from_function_name(stack, "ValidateOrders", "validate-orders"),
    }


def protect(
    stack: Stack,
    *,
    cluster_arn: str,
    release_version: str,
    vpc: ec2.IVpc,
    subnet_ids: list[str],
    security_group_id: str,
    cfn_cluster: docdbelastic.CfnCluster,
    copy_key: kms.IKey,
    topic: sns.ITopic,
    validate_orders: aws_lambda.IFunction,
) -> None:
    """Every construct of the README's construct section, in the README's own lines."""
    snap = ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=cluster_arn, trigger=release_version)
    CfnOutput(stack, "SnapshotArn", value=snap.snapshot_arn)

    SnapshotBeforeChange(stack, "BeforeChange", cluster=cfn_cluster, retain_last=5)
    FinalSnapshot(stack, "Final", cluster=cfn_cluster, copy_to=[CopyDestination(kms_key_id=copy_key.key_arn)])

    ElasticClusterSnapshotCopy(
        stack, "KeyCopy", source_snapshot_arn=snap.snapshot_arn, kms_key_id=copy_key.key_arn, retain_last=5
    )

    restored = ElasticClusterFromSnapshot(stack, "Restored", source_cluster_arn=cluster_arn, vpc=vpc)
    CfnOutput(stack, "RestoreSeconds", value=restored.restore_seconds)

    plan = ElasticClusterBackupPlan(
        stack,
        "Plan",
        rules=[
            ElasticClusterBackupRule.daily(delete_after=Duration.days(7)),  # a week of dailies: 7 kept
            ElasticClusterBackupRule.monthly1_year(),  # a year of monthlies: 12 kept
        ],
        alarm_topic=topic,
    )
    plan.add_selection("Gold", tags={"backup": "gold"})

    drill = ElasticClusterRestoreTest(
        stack,
        "Drill",
        schedule_expression=events.Schedule.cron(day="15", hour="5", minute="0"),
        clusters=[cfn_cluster],  # and/or tags={"backup": "gold"}
        subnet_ids=subnet_ids,
        vpc_security_group_ids=[security_group_id],
        validation_function=validate_orders,  # optional; its error fails the test
        max_restore_time=Duration.hours(1),  # alarm threshold
        alarm_topic=topic,
    )
    CfnOutput(stack, "RestoreTestName", value=drill.restore_test_name)


def orders_stack(app: App) -> Stack:
    stack = Stack(app, "OrdersStack", env=ORDERS_ENV)
    protect(stack, cluster_arn=CLUSTER_ARN, release_version=RELEASE_VERSION, **workload(stack))
    return stack


def guard_stack(app: App) -> Stack:
    stack = Stack(app, "BackupGuardStack", env=MANAGEMENT_ENV)
    break_glass_arn = BREAK_GLASS_ARN
    ElasticClusterBackupGuard(stack, "Guard", target_ids=["ou-abcd-12345678"], break_glass_role_arns=[break_glass_arn])
    return stack


def build(app: App) -> list[Stack]:
    return [orders_stack(app), guard_stack(app)]


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
