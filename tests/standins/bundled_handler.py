"""Drive a synthesized template's custom resources as CloudFormation would: events built from
the template's properties, the bundled asset's handler run in a fresh process per event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
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
        # What each invocation wrote on stdout (EMF lines, then the runtime's own line).
        self.outputs: list[str] = []

    def event(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any],
        old: dict[str, Any] | None = None,
        physical_id: str | None = None,
        resource_type: str = "Custom::DocDbElasticClusterSnapshot",
    ) -> dict[str, Any]:
        """A CloudFormation request with a fresh RequestId and ResponseURL."""
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": FUNCTION_ARN,
            "ResponseURL": self.receiver.new_url(),
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/DocDbElasticStack/e2e",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }
        if old is not None:
            event["OldResourceProperties"] = old
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        return event

    def start(self, event: dict[str, Any]) -> subprocess.Popen[str]:
        """Invoke in a fresh process (a Lambda execution environment of its own), not waiting."""
        process = subprocess.Popen(
            [sys.executable, "-S", str(RUNTIME), str(self.asset), sysconfig.get_paths()["purelib"], HANDLER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        assert process.stdin is not None
        process.stdin.write(json.dumps({"event": event}))
        process.stdin.close()
        process.stdin = None  # written and closed: communicate() only reads from here on
        return process

    def finish(self, process: subprocess.Popen[str]) -> None:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        self.logs.append(stderr)
        self.outputs.append(stdout)
        loaded = json.loads(stdout.strip().splitlines()[-1])
        assert loaded["handler_file"].startswith(str(self.asset)), loaded
        assert loaded["crhelper_file"].startswith(str(self.asset)), loaded

    def send(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any],
        old: dict[str, Any] | None = None,
        physical_id: str | None = None,
        resource_type: str = "Custom::DocDbElasticClusterSnapshot",
    ) -> dict[str, Any]:
        event = self.event(request_type, logical_id, properties, old, physical_id, resource_type)
        self.finish(self.start(event))
        (response,) = self.receiver.responses_for(event["ResponseURL"])
        return response

    def deliver_overlapping(self, event: dict[str, Any], offsets: list[float]) -> list[dict[str, Any]]:
        """Deliver one event several times, each in its own process, started `offsets` seconds
        after the first (as Lambda's at-least-once delivery may); every answer it got."""
        started = time.monotonic()
        processes = []
        for offset in sorted(offsets):
            time.sleep(max(0.0, started + offset - time.monotonic()))
            processes.append(self.start(event))
        for process in processes:
            self.finish(process)
        return self.receiver.responses_for(event["ResponseURL"])
