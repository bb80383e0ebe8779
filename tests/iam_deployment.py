"""CloudFormation's side of one custom resource of a synthesized template: its events, made
from the template as CloudFormation sends them, delivered to the handler in this process, and
what the handler made meanwhile."""

from __future__ import annotations

import uuid
from typing import Any

from docdb_snapshot_handler.contract import (
    COPY_RESOURCE_TYPE,
    REQUEST_TAG_KEY,
    RESOURCE_TYPE,
    RESTORE_RESOURCE_TYPE,
    Prop,
)
from iam_template import resolve_parameters
from standins.bundled_handler import as_cloudformation_sends
from standins.docdb_elastic import ACCOUNT, REGION, Cluster, DocDbElasticStandIn, Snapshot, cluster_arn_for
from standins.invoke import answer
from standins.lambda_context import FakeLambdaContext
from standins.response_receiver import ResponseReceiver

STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/IamStack/{uuid.uuid4()}"
#: The modes of lifecycles of the copy and restore resources (their own resource types).
COPY = "copy"
RESTORE = "restore"
RESOURCE_TYPES = {COPY: COPY_RESOURCE_TYPE, RESTORE: RESTORE_RESOURCE_TYPE}


class Deployment:
    """CloudFormation's side for one custom resource of a template."""

    def __init__(
        self,
        template: dict[str, Any],
        receiver: ResponseReceiver,
        mode: str,
        docdb: DocDbElasticStandIn,
        logical_id: str | None = None,
    ) -> None:
        """The resource `logical_id`, or the one resource of the mode's type and mode."""
        self.resource_type = RESOURCE_TYPES.get(mode, RESOURCE_TYPE)
        (self.logical_id,) = [
            k
            for k, r in template["Resources"].items()
            if r["Type"] == self.resource_type
            and (mode in RESOURCE_TYPES or r["Properties"].get(Prop.MODE, "snapshot") == mode)
            and k == (logical_id or k)
        ]
        # Parameters are deployed with their defaults.
        raw = resolve_parameters(template, template["Resources"][self.logical_id]["Properties"])
        self.properties = as_cloudformation_sends(raw, {})
        cluster_arns = {
            (k, "ClusterArn"): cluster_arn_for(r["Properties"]["ClusterName"])
            for k, r in template["Resources"].items()
            if r["Type"] == "AWS::DocDBElastic::Cluster"
        }
        self.properties = as_cloudformation_sends(raw, cluster_arns)
        self.receiver = receiver
        self.docdb = docdb
        #: Every snapshot the handler made (its request's tag), seen after each answer: also
        #: those deleted since (retention, DESTROY).
        self.made: dict[str, Snapshot] = {}
        #: Every cluster the handler restored (its request's tag), deleted since or not.
        self.restored: dict[str, Cluster] = {}
        self.physical_id: str | None = None
        self.applied: dict[str, Any] | None = None

    def send(self, request_type: str, changes: dict[str, Any] | None = None, *, again: dict[str, Any] | None = None):
        """One event (or `again`, an event already sent: a redelivery); its answer must be SUCCESS."""
        event = again or self._event(request_type, changes or {})
        result = answer(self.receiver, {**event, "ResponseURL": self.receiver.new_url()})
        assert result["Status"] == "SUCCESS", result["Reason"]
        self._record_what_was_made()
        self.physical_id, self.applied = result["PhysicalResourceId"], event["ResourceProperties"]
        return event

    def delete_replaced(self, physical_id: str | None, properties: dict[str, Any] | None) -> None:
        """After a replacement, CloudFormation's Delete of the old resource, with its old properties."""
        event = {**self._event("Delete", {}), "PhysicalResourceId": physical_id, "ResourceProperties": properties}
        result = answer(self.receiver, {**event, "ResponseURL": self.receiver.new_url()})
        assert result["Status"] == "SUCCESS", result["Reason"]
        self._record_what_was_made()

    def _record_what_was_made(self) -> None:
        self.made.update({a: s for a, s in self.docdb.snapshots.items() if REQUEST_TAG_KEY in s.tags})
        self.restored.update({a: c for a, c in self.docdb.clusters.items() if REQUEST_TAG_KEY in c.tags})

    def _event(self, request_type: str, changes: dict[str, Any]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": FakeLambdaContext.invoked_function_arn,
            "StackId": STACK_ID,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": self.logical_id,
            "ResourceType": self.resource_type,
            "ResourceProperties": {**(self.applied or self.properties), **changes},
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = self.physical_id
        if request_type == "Update":
            event["OldResourceProperties"] = self.applied
        return event
