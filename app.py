#!/usr/bin/env python3
"""Sample app, three independent stacks:

- DocDbElasticSnapshotStack snapshots an existing cluster (-c clusterArn=...) on every deploy
  that changes it.
- DocDbElasticProtectedClusterDemo creates a cluster of its own (VPC, security group, admin
  password in Secrets Manager) with every protection: a snapshot before each change (keeping
  the last few), a final snapshot on delete or replacement, and a release snapshot; the
  before-change snapshots and the final snapshot are also copied under a second KMS key (elastic
  snapshots are copied within their region and account only); a backup plan (daily, and monthly
  with a copy under that key) protects it between deploys.
- DocDbElasticRestoreDrill restores the newest snapshot of an existing cluster (-c clusterArn=...)
  and reports how long it took (the restore drill: `make drill CLUSTER_ARN=...`).
- DocDbElasticBackupGuard, only with -c guardTargetIds=ou-...,...: the organization's service
  control policy that keeps the recovery points out of everyone's reach (docs/guard.md). It goes
  to the management account, so it is not in a plain `cdk synth`.

    make synth                                         # all three stacks, no AWS account needed
    make deploy CLUSTER_ARN=arn:aws:docdb-elastic:...  # the existing-cluster stack
    make deploy STACK=DocDbElasticProtectedClusterDemo # the demo (creates a billable cluster)
"""

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm

from constructs import Construct
from docdb_elastic_snapshot import (
    ClusterNotActive,
    CopyDestination,
    ElasticClusterBackupGuard,
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

# Obviously not a real cluster: `cdk synth` works out of the box, a deploy fails fast on it.
PLACEHOLDER_CLUSTER_ARN = "arn:aws:docdb-elastic:us-east-1:111111111111:cluster/placeholder-pass-clusterArn-context"


class ExistingClusterSnapshotStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, cluster_arn: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        snapshot = ElasticClusterSnapshot(
            self,
            "Snapshot",
            cluster_arn=cluster_arn,
            tags={"created-by": "docdb-elastic-snapshot-sample"},
            # Change the value (-c snapshotTrigger=...) to take a new snapshot on the next deploy.
            trigger=self.node.try_get_context("snapshotTrigger"),
            # Large clusters take long: wait up to CloudFormation's limit (the default).
            timeout=Duration.minutes(60),
        )
        cdk.CfnOutput(self, "SnapshotArn", value=snapshot.snapshot_arn)
        cdk.CfnOutput(self, "SnapshotName", value=snapshot.snapshot_name)


class ProtectedClusterDemoStack(cdk.Stack):
    """A cluster with every protection. Context knobs, to try the protections out:
    demoClusterName (renaming replaces the cluster), demoShardCount (a change in place),
    beforeChangeRetainLast (how many before-change snapshots to keep), releaseTrigger,
    copyRetainLast (how many before-change copies to keep)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        context = self.node.try_get_context
        vpc_cidr = "10.20.0.0/16"
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(vpc_cidr),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="cluster", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH)
            ),
        )
        security_group = ec2.SecurityGroup(
            self, "ClusterSecurityGroup", vpc=vpc, description="DocumentDB elastic cluster", allow_all_outbound=False
        )
        security_group.add_ingress_rule(ec2.Peer.ipv4(vpc_cidr), ec2.Port.tcp(27017), "MongoDB clients in the VPC")
        admin_password = secretsmanager.Secret(
            self,
            "AdminPassword",
            description="Admin password of the demo DocumentDB elastic cluster",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_characters="\"@/\\ '", password_length=32
            ),
        )
        cdk.Validations.of(admin_password).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="Demo cluster: rotating an elastic cluster's admin password needs a rotation "
                "function of its own, which this sample does not ship; rotate it by hand.",
            )
        )

        self.cluster = docdbelastic.CfnCluster(
            self,
            "Cluster",
            cluster_name=context("demoClusterName") or "orders-demo",
            admin_user_name="orders_admin",
            auth_type="PLAIN_TEXT",
            # A dynamic reference: CloudFormation reads the secret at deploy time, so the
            # password is never in the template.
            admin_user_password=admin_password.secret_value.unsafe_unwrap(),
            shard_capacity=2,
            shard_count=int(context("demoShardCount") or 1),
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
            vpc_security_group_ids=[security_group.security_group_id],
            backup_retention_period=7,
            preferred_backup_window="02:00-02:30",
            preferred_maintenance_window="sun:03:00-sun:03:30",
        )

        self.before_change = before_change = SnapshotBeforeChange(
            self,
            "BeforeChange",
            cluster=self.cluster,
            retain_last=int(context("beforeChangeRetainLast") or 2),
            tags={"protection": "before-change"},
            on_cluster_not_active=ClusterNotActive.FAIL,
        )
        # A second key: if the cluster's key is disabled or scheduled for deletion, its snapshots
        # cannot be restored, but copies under this key can. Retained with the stack's copies.
        self.copy_key = copy_key = kms.Key(
            self, "CopyKey", description="Copies of the demo cluster's snapshots", enable_key_rotation=True
        )
        self.final = final = FinalSnapshot(
            self,
            "Final",
            cluster=self.cluster,
            tags={"protection": "final"},
            # The cluster is deleted only once its final snapshot and its copy are ACTIVE.
            copy_to=[CopyDestination(kms_key_id=copy_key.key_arn)],
        )
        # Each before-change snapshot, copied under the second key; the last few copies are kept.
        self.before_change_copy = before_change_copy = ElasticClusterSnapshotCopy(
            self,
            "BeforeChangeCopy",
            source_snapshot_arn=before_change.snapshot_arn,
            kms_key_id=copy_key.key_arn,
            retain_last=int(context("copyRetainLast") or 2),
            tags={"protection": "before-change-copy"},
        )
        self.release = release = ElasticClusterSnapshot(
            self,
            "Release",
            cluster_arn=self.cluster.attr_cluster_arn,
            trigger=context("releaseTrigger"),
            retain_last=int(context("releaseRetainLast") or 2),
            tags={"protection": "release"},
        )
        # Between deploys: a daily backup kept a week, and the last three monthly ones with the
        # newest one's copy under the second key; also every cluster of the account and region
        # tagged backup=gold. The cluster's manual snapshots come to 19 at steady state (2 before
        # change, 2 of their copies, 2 release, the final one and its copy, 7 daily, 3 monthly,
        # 1 copy), within the account's default quota of 20 per region; keeping more needs a
        # raised quota (docs/backup-plan.md, "The manual snapshot quota").
        self.backup_plan = ElasticClusterBackupPlan(
            self,
            "BackupPlan",
            rules=[
                ElasticClusterBackupRule.daily(delete_after=Duration.days(7)),
                ElasticClusterBackupRule.monthly1_year(
                    keep_last=3,
                    copy_actions=[ElasticClusterCopyAction(kms_key_id=copy_key.key_arn, keep_last=1)],
                ),
            ],
        )
        self.backup_plan.add_selection("DemoCluster", clusters=[self.cluster])
        self.backup_plan.add_selection("Gold", tags={"backup": "gold"})
        # Once a month, the cluster's newest recovery point restored into a temporary cluster in
        # the same subnets, timed until ACTIVE and deleted: RestoreSeconds and
        # RecoveryPointAgeSeconds in CloudWatch, and `docdb-elastic-backup report` shows the result.
        self.restore_test = ElasticClusterRestoreTest(
            self,
            "RestoreTest",
            schedule_expression=events.Schedule.cron(day="15", hour="5", minute="0"),
            clusters=[self.cluster],
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
            vpc_security_group_ids=[security_group.security_group_id],
            max_restore_time=Duration.hours(1),
        )

        cdk.CfnOutput(self, "ClusterArn", value=self.cluster.attr_cluster_arn)
        cdk.CfnOutput(self, "ClusterEndpoint", value=self.cluster.attr_cluster_endpoint)
        cdk.CfnOutput(self, "AdminPasswordSecretArn", value=admin_password.secret_arn)
        cdk.CfnOutput(self, "BeforeChangeSnapshotArn", value=before_change.snapshot_arn)
        cdk.CfnOutput(self, "BeforeChangeSkippedReason", value=before_change.skipped_reason)
        cdk.CfnOutput(self, "FinalSnapshotNote", value=final.skipped_reason)
        cdk.CfnOutput(self, "ReleaseSnapshotArn", value=release.snapshot_arn)
        cdk.CfnOutput(self, "BeforeChangeCopyArn", value=before_change_copy.snapshot_arn)


class RestoreDrillStack(cdk.Stack):
    """The restore drill: restore the newest snapshot (manual or automated) of a cluster, see it
    ACTIVE, report the recovery time; DESTROY, so tearing the stack down leaves nothing behind.
    A new `drill_id` (context drillId) restores again on the next deploy."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_cluster_arn: str | None = None,
        source_cluster_arn_parameter: str | None = None,
        drill_id: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if source_cluster_arn_parameter:
            # Read at deploy time (a pipeline stage cannot reference another stage's resources).
            source_cluster_arn = ssm.StringParameter.value_for_string_parameter(self, source_cluster_arn_parameter)
        self.restored = restored = ElasticClusterFromSnapshot(
            self,
            "Restored",
            source_cluster_arn=source_cluster_arn,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            tags={"purpose": "restore-drill"},
            trigger=drill_id,
        )
        self.restore_seconds = cdk.CfnOutput(self, "RestoreSeconds", value=restored.restore_seconds)
        self.snapshot_arn = cdk.CfnOutput(self, "SnapshotArn", value=restored.snapshot_arn)
        self.cluster_endpoint = cdk.CfnOutput(self, "ClusterEndpoint", value=restored.cluster_endpoint)


class BackupGuardStack(cdk.Stack):
    """The organization's guard (deploy it in the management account): -c guardTargetIds=... (roots,
    OUs or account ids, comma-separated), -c guardBreakGlassRoleArns=..., -c guardProtectedKeyArns=...
    (comma-separated too)."""

    def __init__(self, scope: Construct, construct_id: str, *, target_ids: list[str], **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        listed = self.node.try_get_context
        self.guard = ElasticClusterBackupGuard(
            self,
            "Guard",
            target_ids=target_ids,
            break_glass_role_arns=_listed(listed("guardBreakGlassRoleArns")),
            protected_key_arns=_listed(listed("guardProtectedKeyArns")),
        )
        cdk.CfnOutput(self, "PolicyId", value=self.guard.policy_id)


def _listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def build_guard(app: cdk.App) -> BackupGuardStack | None:
    """Only when -c guardTargetIds=... is given: a plain synth or deploy never touches the organization."""
    target_ids = _listed(app.node.try_get_context("guardTargetIds"))
    return BackupGuardStack(app, "DocDbElasticBackupGuard", target_ids=target_ids) if target_ids else None


def _env_of(cluster_arn: str) -> cdk.Environment | None:
    """A cluster's own account and region: snapshots and restores happen there."""
    arn_parts = cluster_arn.split(":")
    return cdk.Environment(account=arn_parts[4], region=arn_parts[3]) if len(arn_parts) > 4 else None


def build_drill(app: cdk.App) -> RestoreDrillStack:
    cluster_arn = app.node.try_get_context("clusterArn") or PLACEHOLDER_CLUSTER_ARN
    return RestoreDrillStack(
        app,
        "DocDbElasticRestoreDrill",
        source_cluster_arn=cluster_arn,
        drill_id=app.node.try_get_context("drillId"),
        env=_env_of(cluster_arn),
    )


def build_demo(app: cdk.App) -> cdk.Stack:
    return ProtectedClusterDemoStack(app, "DocDbElasticProtectedClusterDemo")


def build(app: cdk.App) -> cdk.Stack:
    cluster_arn = app.node.try_get_context("clusterArn") or PLACEHOLDER_CLUSTER_ARN
    arn_parts = cluster_arn.split(":")
    return ExistingClusterSnapshotStack(
        app,
        "DocDbElasticSnapshotStack",
        cluster_arn=cluster_arn,
        # The snapshot is taken in the cluster's own account and region, so the stack goes there.
        env=cdk.Environment(account=arn_parts[4], region=arn_parts[3]) if len(arn_parts) > 4 else None,
    )


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    build_demo(app)
    build_drill(app)
    build_guard(app)
    app.synth()
