"""End to end: the sample app's template and bundled asset, run in a fresh process against the
loopback stand-ins, through create, update and delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from docdb_snapshot_handler.contract import RESOURCE_TYPE, Attr, Prop
from standins.docdb_elastic import DocDbElasticStandIn, cluster_arn_for
from standins.response_receiver import SECRET_QUERY, ResponseReceiver
from synth_support import asset_dir_of_function, templates

RUNTIME = Path(__file__).resolve().parent.parent / "standins" / "lambda_runtime.py"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:DocDbElasticSnapshotProvider"


def as_cloudformation_sends(value: Any) -> Any:
    """CloudFormation hands custom resources every scalar as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"}:  # the ServiceToken, resolved at deploy time
            return FUNCTION_ARN
        return {key: as_cloudformation_sends(item) for key, item in value.items()}
    return value


class DeployedApp:
    """The synthesized sample app, driven as CloudFormation would drive it."""

    def __init__(self, outdir: Path, receiver: ResponseReceiver, aws_env: dict[str, str]) -> None:
        self.template = templates(outdir)["DocDbElasticSnapshotStack.template.json"]
        self.asset = asset_dir_of_function(outdir, self.template)
        (function,) = [r for r in self.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
        self.handler = function["Properties"]["Handler"]
        self.logical_id, resource = next(
            (k, r) for k, r in self.template["Resources"].items() if r["Type"] == RESOURCE_TYPE)
        self.properties = as_cloudformation_sends(resource["Properties"])
        self.receiver = receiver
        self.env = {**os.environ, **aws_env}
        self.logs: list[str] = []

    def send(self, request_type: str, properties: dict[str, Any], old: dict[str, Any] | None = None,
             physical_id: str | None = None) -> dict[str, Any]:
        url = self.receiver.new_url()
        event: dict[str, Any] = {
            "RequestType": request_type, "ServiceToken": FUNCTION_ARN, "ResponseURL": url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/DocDbElasticSnapshotStack/e2e",
            "RequestId": f"e2e-{len(self.logs)}-{request_type}", "LogicalResourceId": self.logical_id,
            "ResourceType": RESOURCE_TYPE, "ResourceProperties": properties,
        }
        if old is not None:
            event["OldResourceProperties"] = old
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        result = subprocess.run(
            [sys.executable, "-S", str(RUNTIME), str(self.asset), sysconfig.get_paths()["purelib"], self.handler],
            input=json.dumps({"event": event}), capture_output=True, text=True, timeout=120, env=self.env,
        )
        assert result.returncode == 0, result.stderr
        self.logs.append(result.stderr)
        loaded = json.loads(result.stdout.strip().splitlines()[-1])
        assert loaded["handler_file"].startswith(str(self.asset)), loaded
        assert loaded["crhelper_file"].startswith(str(self.asset)), loaded
        (response,) = self.receiver.responses_for(url)
        return response


@pytest.fixture
def deployed(standin_synth: Path, receiver: ResponseReceiver, aws_env: dict[str, str]) -> DeployedApp:
    return DeployedApp(standin_synth, receiver, aws_env)


def test_create_update_delete_of_the_sample_stack_with_the_bundled_handler(deployed, docdb: DocDbElasticStandIn):
    # GIVEN the stand-in holds the cluster the sample app was synthesized for
    cluster = docdb.add_cluster("orders")
    assert deployed.properties[Prop.CLUSTER_ARN] == cluster == cluster_arn_for("orders")
    docdb.snapshot_delay = 1.0

    # WHEN CloudFormation creates the stack, THEN one ACTIVE snapshot is taken, tagged as in app.py
    created = deployed.send("Create", deployed.properties)
    assert created["Status"] == "SUCCESS", created["Reason"]
    first = created["PhysicalResourceId"]
    assert created["Data"][Attr.SNAPSHOT_ARN] == first and created["Data"][Attr.STATUS] == "ACTIVE"
    assert docdb.snapshots[first].tags["created-by"] == "docdb-elastic-snapshot-sample"

    # WHEN the trigger changes (cdk deploy -c snapshotTrigger=2), THEN a second snapshot is taken
    changed = {**deployed.properties, Prop.TRIGGER: "2"}
    updated = deployed.send("Update", changed, old=deployed.properties, physical_id=first)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    second = updated["PhysicalResourceId"]
    assert second != first and set(docdb.snapshots) == {first, second}

    # WHEN the stack is deleted (default RETAIN), THEN both snapshots remain
    deleted = deployed.send("Delete", changed, physical_id=second)
    assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == second
    assert set(docdb.snapshots) == {first, second}
    assert [c.operation for c in docdb.calls].count("CreateClusterSnapshot") == 2

    # AND every log line is JSON, and none carries the presigned ResponseURL credential
    lines = [json.loads(line) for log in deployed.logs for line in log.splitlines()]
    assert {line["request_type"] for line in lines} == {"Create", "Update", "Delete"}
    assert not any(SECRET_QUERY in log for log in deployed.logs)


def test_a_bad_property_fails_the_bundled_handler_without_any_api_call(deployed, docdb: DocDbElasticStandIn):
    docdb.add_cluster("orders")
    response = deployed.send("Create", {**deployed.properties, Prop.TIMEOUT_SECONDS: "forever"})
    assert response["Status"] == "FAILED" and "TimeoutSeconds" in response["Reason"]
    assert docdb.calls == []
