"""What the report tests share: the schedule inputs our constructs write, recovery points and
restore-test records as the handler leaves them, and the report run in-process at a fixed time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from docdb_elastic_snapshot.report import cli
from docdb_snapshot_handler import contract
from standins.docdb_elastic import DocDbElasticStandIn

PLAN = "OrdersStack-Plan"
TEST = "OrdersStack-Drill"
DAY = 24 * 60 * 60
# The stand-in's snapshots are created from 2026-11-28T07:00:01Z on, a second apart.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TODAY = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
NO_CREDENTIALS = (
    "No AWS credentials found: configure them (aws configure, AWS_PROFILE, or environment variables) and run again"
)


def backup_input(
    rule: str = "daily",
    clusters: tuple[str, ...] = (),
    tags: dict[str, str] | None = None,
    copies: tuple[str | None, ...] = (),
    interval: int = DAY,
) -> dict[str, Any]:
    """A rule's schedule input, as ElasticClusterBackupPlan writes it; `copies`: each copy action's
    Region (None: not written, as the construct does unless it is given)."""
    member, copy = contract.BackupInput, contract.CopyActionKey
    return {
        contract.BACKUP_EVENT_KEY: {
            member.VERSION: contract.BACKUP_INPUT_VERSION,
            member.PLAN: PLAN,
            member.RULE: rule,
            member.SCHEDULED_TIME: contract.SCHEDULED_TIME_PLACEHOLDER,
            member.START_WINDOW_SECONDS: 3600,
            member.INTERVAL_SECONDS: interval,
            member.DELETE_AFTER_SECONDS: 35 * DAY,
            member.COPIES: [
                {**({copy.REGION: region} if region else {}), copy.DELETE_AFTER_SECONDS: 35 * DAY} for region in copies
            ],
            member.CLUSTERS: list(clusters),
            member.TAG_SELECTIONS: [tags] if tags else [],
        }
    }


def restore_test_input(tags: dict[str, str] | None = None, clusters: tuple[str, ...] = ()) -> dict[str, Any]:
    """A restore test's schedule input, selecting clusters by `tags` and/or by ARN (`clusters`)."""
    member = contract.RestoreTestInput
    return {
        contract.RESTORE_TEST_EVENT_KEY: {
            member.VERSION: contract.RESTORE_TEST_INPUT_VERSION,
            member.TEST: TEST,
            member.SCHEDULED_TIME: contract.SCHEDULED_TIME_PLACEHOLDER,
            member.CLUSTERS: list(clusters),
            member.TAG_SELECTIONS: [tags] if tags else [],
            member.SUBNET_IDS: ["subnet-0a1b2c3d4e5f60718"],
            member.VPC_SECURITY_GROUP_IDS: ["sg-0a1b2c3d4e5f60718"],
            member.RECOVERY_POINT_TYPES: ["MANUAL", "AUTOMATED"],
            member.VALIDATION_WINDOW_SECONDS: 0,
        }
    }


def recovery_point(
    docdb: DocDbElasticStandIn,
    cluster_arn: str,
    scheduled: datetime,
    rule: str = "daily",
    region: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """A rule's recovery point of a cluster (or its copy to `region`), named as the handler names it."""
    name = contract.recovery_point_name(PLAN, rule, scheduled, cluster_arn, region)
    return docdb.add_snapshot(cluster_arn, name, tags=tags, region=region)


def record(scheduled: datetime, outcome: str, seconds: int | None = None) -> dict[str, str]:
    return {contract.restore_test_claim_key(TEST): contract.restore_test_record(scheduled, outcome, seconds)}


def run(*args: str) -> int:
    with time_machine.travel(NOW, tick=False):
        return cli.main(["report", "--region", "us-east-1", *args])


def report_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code = run("--json")
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cluster["clusterName"]: cluster for cluster in document["clusters"]}
