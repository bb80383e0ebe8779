"""Drive a synthesized template's custom resources as CloudFormation would: events built from
the template's properties, the bundled asset's handler run in a fresh process per event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path
from typing import Any

from .response_receiver import ResponseReceiver

RUNTIME = Path(__file__).resolve().parent / "lambda_runtime.py"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:DocDbElasticSnapshotProvider"
HANDLER = "docdb_snapshot_handler.entrypoint.handler"


def as_cloudformation_sends(value: Any, attributes: dict[tuple[str, str], str] | None = None) -> Any:
    """Resolve Fn::GetAtt from `attributes` (the function's ARN otherwise) and turn every scalar
    into the string CloudFormation hands custom resources."""
    attributes = attributes or {}
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"}:
            return attributes.get(tuple(value["Fn::GetAtt"]), FUNCTION_ARN)
        return {key: as_cloudformation_sends(item, attributes) for key, item in value.items()}
    if isinstance(value, list):
        return [as_cloudformation_sends(item, attributes) for item in value]
    return value


class BundledHandler:
    """The bundled handler of one synthesized template, invoked like Lambda invokes it."""

    def __init__(self, outdir: Path, template: dict[str, Any], receiver: ResponseReceiver, env: dict[str, str]) -> None:
        (function,) = [
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == HANDLER
        ]
        self.asset = outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
        self.receiver = receiver
        self.env = {**os.environ, **env}
        self.logs: list[str] = []

    def send(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any],
        old: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        url = self.receiver.new_url()
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": FUNCTION_ARN,
            "ResponseURL": url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/DocDbElasticStack/e2e",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": "Custom::DocDbElasticClusterSnapshot",
            "ResourceProperties": properties,
        }
        if old is not None:
            event["OldResourceProperties"] = old
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        result = subprocess.run(
            [sys.executable, "-S", str(RUNTIME), str(self.asset), sysconfig.get_paths()["purelib"], HANDLER],
            input=json.dumps({"event": event}),
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
        )
        assert result.returncode == 0, result.stderr
        self.logs.append(result.stderr)
        loaded = json.loads(result.stdout.strip().splitlines()[-1])
        assert loaded["handler_file"].startswith(str(self.asset)), loaded
        assert loaded["crhelper_file"].startswith(str(self.asset)), loaded
        (response,) = self.receiver.responses_for(url)
        return response
