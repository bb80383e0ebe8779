"""checkov (pinned, in its own virtualenv made by the Makefile, offline) on synthesized
templates: ours by default vs the AwsCustomResource peer, and ours with every provider option.
The failed check ids are compared with the expected sets below, which docs/iam.md repeats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import CfnElement, Stack, aws_lambda
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from constructs import Construct
from docdb_elastic_snapshot import (
    ElasticClusterBackupPlan,
    ElasticClusterBackupRule,
    ElasticClusterCopyAction,
    ElasticClusterRestoreTest,
    ElasticClusterSnapshot,
    ProviderOptions,
    SnapshotProvider,
)
from local_node import tool_path
from synth_support import REPO, recommended_app

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
CLUSTER = "arn:aws:docdb-elastic:us-east-1:111111111111:cluster/placeholder-pass-clusterArn-context"

#: 115 reserved concurrency, 116 dead-letter queue, 117 VPC: the peer fails them too.
#: 158 log group KMS key: our function has a log group of its own (with a retention), the
#: peer's has none; a KMS key costs money, so it is an option.
EXPECTED_DEFAULT = {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_158"}
EXPECTED_PEER = {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
#: A DLQ would hold the failed event, and with it the presigned ResponseURL (see docs/iam.md).
EXPECTED_CONFIGURED = {"CKV_AWS_116"}


def checkov(template: Path) -> list[dict[str, Any]]:
    """Failed checks of one template; --skip-download and a dead proxy keep it offline."""
    if not CHECKOV.exists():
        raise RuntimeError(f"{CHECKOV} is missing: run the tests with `make test`, which installs it")
    dead = "http://127.0.0.1:9"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "BC_SKIP_MAPPING": "TRUE",
        "HTTPS_PROXY": dead,
        "HTTP_PROXY": dead,
    }
    args = [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "--skip-download"]
    result = subprocess.run(
        [*args, "--quiet", "--compact", "-o", "json"], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return [check for r in reports for check in r.get("results", {}).get("failed_checks", [])]


def synth_script(script: Path, outdir: Path) -> Path:
    """A benchmark app, synthesized the way `make bench` does (CDK_OUTDIR instead of cdk.out)."""
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "PATH": tool_path()}
    subprocess.run([sys.executable, str(script)], check=True, cwd=REPO, env=env, capture_output=True, timeout=300)
    return outdir / "DocDbElasticSnapshotStack.template.json"


def logical_ids(*scopes: Construct) -> set[str]:
    """Logical ids of every CloudFormation resource under the scopes."""
    return {
        Stack.of(child).resolve(child.logical_id)
        for scope in scopes
        for child in scope.node.find_all()
        if isinstance(child, CfnElement)
    }


def failed_ids(checks: list[dict[str, Any]], only: set[str] | None = None) -> set[str]:
    return {c["check_id"] for c in checks if only is None or c["resource"].split(".", 1)[1] in only}


@pytest.fixture(scope="module")
def default_and_peer(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], set[str]]:
    ours = synth_script(REPO / "benchmarks" / "ours_app.py", tmp_path_factory.mktemp("ours"))
    peer = synth_script(REPO / "benchmarks" / "acr_app.py", tmp_path_factory.mktemp("peer"))
    return failed_ids(checkov(ours)), failed_ids(checkov(peer))


def test_the_default_stack_fails_only_what_the_peer_fails_and_the_log_group_key(default_and_peer):
    # GIVEN one snapshot with every default, and the same stack with AwsCustomResource
    ours, peer = default_and_peer
    # THEN checkov finds in ours only what it finds in the peer, and CKV_AWS_158
    assert peer == EXPECTED_PEER
    assert ours == EXPECTED_DEFAULT
    assert ours - peer == {"CKV_AWS_158"}


def configured_stack(outdir: Path) -> tuple[Path, set[str]]:
    app = recommended_app(outdir=str(outdir))
    stack = cdk.Stack(app, "ConfiguredStack", env=cdk.Environment(account="111111111111", region="us-east-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    SnapshotProvider.configure(
        stack,
        ProviderOptions(
            log_group_encryption_key=kms.Key(stack, "LogKey", enable_key_rotation=True),
            log_retention=logs.RetentionDays.THREE_MONTHS,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[ec2.SecurityGroup(stack, "HandlerSecurityGroup", vpc=vpc)],
            reserved_concurrent_executions=5,
            tracing=aws_lambda.Tracing.ACTIVE,
            memory_size=512,
        ),
    )
    snapshot = ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=CLUSTER, snapshot_name="sample-snapshot")
    app.synth()
    return outdir / "ConfiguredStack.template.json", logical_ids(SnapshotProvider.of(stack), snapshot)


def test_with_every_provider_option_only_the_dead_letter_queue_check_remains(tmp_path: Path):
    # GIVEN a stack whose provider has every option set
    template, ours = configured_stack(tmp_path)
    # WHEN checkov scans it, THEN the provider and the snapshot fail only CKV_AWS_116 (the
    # VPC's own custom resource, which the CDK adds, is not ours)
    assert failed_ids(checkov(template), ours) == EXPECTED_CONFIGURED


def test_a_backup_plan_adds_no_finding(tmp_path: Path):
    # GIVEN a stack with a backup plan (rules with copies, selections by ARN and tag, alarms)
    app = recommended_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "PlanStack", env=cdk.Environment(account="111111111111", region="us-east-1"))
    plan = ElasticClusterBackupPlan(
        stack,
        "Plan",
        alarm_topic=sns.Topic(stack, "Alarms", enforce_ssl=True, master_key=kms.Key(stack, "TopicKey")),
        rules=[
            ElasticClusterBackupRule.daily(),
            ElasticClusterBackupRule.monthly7_year(copy_actions=[ElasticClusterCopyAction(keep_last=12)]),
        ],
    )
    plan.add_selection("Orders", clusters=[CLUSTER])
    plan.add_selection("Gold", tags={"backup": "gold"})
    app.synth()
    # WHEN checkov scans it, THEN nothing of the plan fails a check
    assert failed_ids(checkov(tmp_path / "PlanStack.template.json"), logical_ids(plan)) == set()


def test_a_restore_test_adds_no_finding(tmp_path: Path):
    # GIVEN a stack with a restore test (selection by ARN and tag, a validation function, alarms)
    app = recommended_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "DrillStack", env=cdk.Environment(account="111111111111", region="us-east-1"))
    drill = ElasticClusterRestoreTest(
        stack,
        "Drill",
        schedule_expression=events.Schedule.cron(day="15", hour="5", minute="0"),
        clusters=[CLUSTER],
        tags={"backup": "gold"},
        subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        vpc_security_group_ids=["sg-0a1b2c3d4e5f60718"],
        validation_function=aws_lambda.Function.from_function_name(stack, "Validate", "validate-orders"),
        max_restore_time=cdk.Duration.hours(1),
        alarm_topic=sns.Topic(stack, "Alarms", enforce_ssl=True, master_key=kms.Key(stack, "TopicKey")),
    )
    app.synth()
    # WHEN checkov scans it, THEN nothing of the restore test fails a check
    assert failed_ids(checkov(tmp_path / "DrillStack.template.json"), logical_ids(drill)) == set()
