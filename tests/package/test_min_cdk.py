"""The oldest aws-cdk-lib pyproject.toml accepts, as a new user would meet it: the wheel in the
Makefile's .venv-min-cdk (that aws-cdk-lib, the runtime requirements and cdk-nag), a user app
with every construct and every provider option, synthesized and cdk-nag clean."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from local_node import tool_path
from synth_support import REPO

MIN_CDK = re.search(r'"aws-cdk-lib>=([0-9.]+),', (REPO / "pyproject.toml").read_text()).group(1)  # type: ignore[union-attr]
PYTHON = REPO / ".venv-min-cdk" / "bin" / "python"

USER_APP = """
import aws_cdk as cdk
from aws_cdk import aws_docdbelastic as docdbelastic, aws_ec2 as ec2, aws_kms as kms, aws_lambda, aws_logs as logs
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks
from docdb_elastic_snapshot import (
    ClusterNotActive, CopyDestination, ElasticClusterBackupPlan, ElasticClusterBackupRule, ElasticClusterCopyAction,
    ElasticClusterFromSnapshot, ElasticClusterRestoreTest, ElasticClusterSnapshot, ElasticClusterSnapshotCopy,
    FinalSnapshot, ProviderOptions, SnapshotBeforeChange, SnapshotProvider,
)

app = cdk.App(outdir="cdk.out")
for name, configured in (("Plain", False), ("Configured", True)):
    stack = cdk.Stack(app, name)
    if configured:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
        cdk.Validations.of(vpc).acknowledge(cdk.Acknowledgment(id="AwsSolutions-VPC7", reason="the test's own VPC"))
        SnapshotProvider.configure(stack, ProviderOptions(
            log_group_encryption_key=kms.Key(stack, "LogKey", enable_key_rotation=True),
            log_retention=logs.RetentionDays.ONE_MONTH, vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            reserved_concurrent_executions=2, tracing=aws_lambda.Tracing.ACTIVE, memory_size=512))
    key = kms.Key(stack, "ClusterKey", enable_key_rotation=True)
    cluster = docdbelastic.CfnCluster(stack, "Cluster", cluster_name="orders", admin_user_name="admin",
        auth_type="PLAIN_TEXT", admin_user_password="{{resolve:secretsmanager:pw}}", shard_capacity=2,
        shard_count=1, kms_key_id=key.key_arn)
    SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster, retain_last=3,
        on_cluster_not_active=ClusterNotActive.SKIP)
    FinalSnapshot(stack, "Final", cluster=cluster,
        copy_to=[CopyDestination(kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab")])
    release = ElasticClusterSnapshot(stack, "Release", cluster_arn=cluster.attr_cluster_arn, retain_last=2,
        kms_key=key)
    ElasticClusterSnapshot(stack, "Once", cluster_arn=cluster.attr_cluster_arn, snapshot_name="once",
        removal_policy=cdk.RemovalPolicy.DESTROY)
    ElasticClusterSnapshotCopy(stack, "Copy", source_snapshot_arn=release.snapshot_arn,
        retain_last=2, removal_policy=cdk.RemovalPolicy.DESTROY)
    restored = ElasticClusterFromSnapshot(stack, "Restored", snapshot_arn=release.snapshot_arn,
        vpc=vpc if configured else None, tags={"purpose": "test"})
    if configured:
        clients = ec2.SecurityGroup(stack, "Clients", vpc=vpc)
        restored.connections.allow_default_port_from(clients, "the application's clients")
    ElasticClusterFromSnapshot(stack, "Drill", source_cluster_arn=cluster.attr_cluster_arn,
        removal_policy=cdk.RemovalPolicy.RETAIN, snapshot_before_update=False)
    plan = ElasticClusterBackupPlan(stack, "Plan", alarm_topic=sns.Topic(stack, "Alarms", enforce_ssl=True),
        rules=[ElasticClusterBackupRule.daily(), ElasticClusterBackupRule.monthly1_year(
            copy_actions=[ElasticClusterCopyAction(kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab", keep_last=3)])])
    plan.add_selection("Cluster", clusters=[cluster])
    plan.add_selection("Gold", tags={"backup": "gold"})
    ElasticClusterRestoreTest(stack, "RestoreTest",
        schedule_expression=cdk.aws_events.Schedule.cron(day="15", hour="5", minute="0"),
        clusters=[cluster], tags={"backup": "gold"}, subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"], max_restore_time=cdk.Duration.hours(1),
        validation_function=aws_lambda.Function.from_function_name(stack, "Validate", "validate-orders"),
        alarm_topic=sns.Topic(stack, "DrillAlarms", enforce_ssl=True))
pack = AwsSolutionsChecks(app)
report = pack.validate_scope(app)
assert report.success, [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
app.synth()
print("aws-cdk-lib", __import__("importlib.metadata").metadata.version("aws-cdk-lib"))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(outdir), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = outdir.glob("docdb_elastic_snapshot-*.whl")
    return built


def test_a_user_app_with_every_construct_synthesizes_with_the_declared_minimum_aws_cdk_lib(wheel, tmp_path):
    if not PYTHON.exists():
        raise RuntimeError(f"{PYTHON} is missing: run the tests with `make test`, which creates it")
    # GIVEN the wheel next to the oldest aws-cdk-lib we claim (and the declared requirements)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (tmp_path / "app.py").write_text(USER_APP)
    # WHEN a user app with every construct and option is synthesized with cdk-nag
    result = subprocess.run(
        [str(PYTHON), "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": tool_path(),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(target),
        },
    )
    # THEN it works, on exactly that version, without a finding
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == f"aws-cdk-lib {MIN_CDK}"
    assert {"Plain.template.json", "Configured.template.json"} <= {p.name for p in (tmp_path / "cdk.out").iterdir()}
