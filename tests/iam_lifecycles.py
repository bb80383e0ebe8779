"""Every construct through its whole lifecycle against the stand-in, with the handler in this
process and events made from the synthesized template as CloudFormation would send them; and
the template's IAM statements with their intrinsics resolved the way CloudFormation would in
the stand-in's account and region."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import RemovalPolicy
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from docdb_elastic_snapshot import ElasticClusterSnapshot, FinalSnapshot, SnapshotBeforeChange
from docdb_snapshot_handler.contract import RESOURCE_TYPE, Prop
from standins.bundled_handler import as_cloudformation_sends
from standins.docdb_elastic import ACCOUNT, REGION, DocDbElasticStandIn, cluster_arn_for
from standins.invoke import answer
from standins.lambda_context import FakeLambdaContext
from standins.response_receiver import ResponseReceiver
from synth_support import recommended_app

ENV = cdk.Environment(account=ACCOUNT, region=REGION)
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/IamStack/{uuid.uuid4()}"


def cluster(stack: cdk.Stack, name: str = "orders", **props: Any) -> docdbelastic.CfnCluster:
    return docdbelastic.CfnCluster(
        stack,
        "Cluster",
        cluster_name=name,
        admin_user_name="admin",
        auth_type="PLAIN_TEXT",
        admin_user_password="{{resolve:secretsmanager:pw}}",
        shard_capacity=2,
        shard_count=1,
        **props,
    )


def resolve(template: dict[str, Any], value: Any) -> Any:
    """CloudFormation's part: intrinsics in IAM statements, in the stand-in's account."""
    resources = template["Resources"]
    if isinstance(value, list):
        return [resolve(template, item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(template, part)) for part in parts)
    if "Ref" in value:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com",
        }
        return pseudo.get(value["Ref"], value["Ref"])
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        kind = resources[logical_id]["Type"]
        if kind == "AWS::DocDBElastic::Cluster":
            return cluster_arn_for(resources[logical_id]["Properties"]["ClusterName"])
        if kind == "AWS::KMS::Key":
            return key_arn(logical_id)
        if kind == "AWS::Lambda::Function":
            return FakeLambdaContext.invoked_function_arn
        return f"arn:aws:{kind.split('::')[1].lower()}:{REGION}:{ACCOUNT}:{logical_id}/{attribute}"
    return {key: resolve(template, item) for key, item in value.items()}


def key_arn(logical_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical_id}"


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement of the stack, resolved, with Action and Resource as lists."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            statement = resolve(template, statement)
            for key in ("Action", "Resource"):
                if isinstance(statement[key], str):
                    statement[key] = [statement[key]]
            found.append(statement)
    return found


class Deployment:
    """CloudFormation's side for one custom resource of a template."""

    def __init__(self, template: dict[str, Any], receiver: ResponseReceiver, mode: str) -> None:
        (self.logical_id,) = [
            k
            for k, r in template["Resources"].items()
            if r["Type"] == RESOURCE_TYPE and r["Properties"].get(Prop.MODE, "snapshot") == mode
        ]
        raw = template["Resources"][self.logical_id]["Properties"]
        self.properties = as_cloudformation_sends(raw, {})
        cluster_ids = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::DocDBElastic::Cluster"]
        for cluster_id in cluster_ids:
            name = template["Resources"][cluster_id]["Properties"]["ClusterName"]
            self.properties = as_cloudformation_sends(raw, {(cluster_id, "ClusterArn"): cluster_arn_for(name)})
        self.receiver = receiver
        self.physical_id: str | None = None
        self.applied: dict[str, Any] | None = None

    def send(self, request_type: str, changes: dict[str, str] | None = None, *, again: dict[str, Any] | None = None):
        """One event (or `again`, an event already sent: a redelivery); its answer must be SUCCESS."""
        event = again or self._event(request_type, changes or {})
        result = answer(self.receiver, {**event, "ResponseURL": self.receiver.new_url()})
        assert result["Status"] == "SUCCESS", result["Reason"]
        self.physical_id, self.applied = result["PhysicalResourceId"], event["ResourceProperties"]
        return event

    def _event(self, request_type: str, changes: dict[str, str]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": FakeLambdaContext.invoked_function_arn,
            "StackId": STACK_ID,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": self.logical_id,
            "ResourceType": RESOURCE_TYPE,
            "ResourceProperties": {**(self.applied or self.properties), **changes},
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = self.physical_id
        if request_type == "Update":
            event["OldResourceProperties"] = self.applied
        return event


@dataclass(frozen=True)
class Lifecycle:
    """A stack with one construct, and what CloudFormation and the world do to it."""

    name: str
    build: Callable[[cdk.Stack], None]
    mode: str
    play: Callable[[Deployment, DocDbElasticStandIn], None]
    #: The KMS resources the grants must name: "*" (unknown key), none, or the stack's key.
    kms: str = "*"


def _snapshot(**props: Any) -> Callable[[cdk.Stack], None]:
    return lambda stack: ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=cluster_arn_for("orders"), **props)


def _create_redeliver_update_delete(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    first = deployment.send("Create")
    deployment.send("Create", again=first)  # Lambda's retry of the same event
    deployment.send("Update", {Prop.TRIGGER: "2"})
    busy_cluster(docdb)
    deployment.send("Update", {Prop.TRIGGER: "3"})
    deployment.send("Delete")


def busy_cluster(docdb: DocDbElasticStandIn) -> None:
    """Someone else's snapshot of the cluster in progress, which the service lets run alone: the
    next snapshot is waited out (and the cluster's status read, for the log and the Reason)."""
    docdb.one_snapshot_in_progress = True
    docdb.add_snapshot(cluster_arn_for("orders"), f"by-hand-{uuid.uuid4().hex[:8]}", creating_for=1.0)


def _create_when_busy_redeliver_delete(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    busy_cluster(docdb)
    deployment.send("Create", again=deployment.send("Create"))
    deployment.send("Delete")


def _before_change(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    deployment.send("Create")  # the cluster does not exist yet
    docdb.add_cluster("orders")
    busy_cluster(docdb)
    change = deployment.send("Update", {Prop.TRIGGER: "digest-2"})
    deployment.send("Update", again=change)
    deployment.send("Update", {Prop.TRIGGER: "digest-3"})  # retain_last=1 prunes
    deployment.send("Delete")


def _final(deployment: Deployment, docdb: DocDbElasticStandIn) -> None:
    docdb.add_cluster("orders")
    deployment.send("Create")
    docdb.add_cluster("orders-v2")  # a replacement: the Update snapshots the old cluster
    replaced = deployment.send("Update", {Prop.CLUSTER_ARN: cluster_arn_for("orders-v2")})
    deployment.send("Update", again=replaced)
    deployment.send("Delete")


def _with_key(stack: cdk.Stack) -> kms.Key:
    return kms.Key(stack, "ClusterKey", enable_key_rotation=True)


LIFECYCLES = [
    Lifecycle("snapshot, retained", _snapshot(), "snapshot", _create_redeliver_update_delete),
    Lifecycle(
        "snapshot, exact name, destroyed",
        _snapshot(snapshot_name="orders-once", removal_policy=RemovalPolicy.DESTROY),
        "snapshot",
        _create_when_busy_redeliver_delete,
    ),
    Lifecycle("snapshot, retain_last", _snapshot(retain_last=1), "snapshot", _create_redeliver_update_delete),
    Lifecycle(
        "snapshot, no wait",
        _snapshot(wait_for_completion=False),
        "snapshot",
        _create_when_busy_redeliver_delete,
    ),
    Lifecycle(
        "snapshot, customer managed key",
        lambda stack: _snapshot(kms_key=_with_key(stack))(stack),
        "snapshot",
        _create_redeliver_update_delete,
        kms="key",
    ),
    Lifecycle(
        "before change, AWS owned key",
        lambda stack: SnapshotBeforeChange(stack, "BeforeChange", cluster=cluster(stack), retain_last=1),
        "before-change",
        _before_change,
        kms="none",
    ),
    Lifecycle(
        "before change, customer managed key",
        lambda stack: SnapshotBeforeChange(
            stack, "BeforeChange", cluster=cluster(stack, kms_key_id=_with_key(stack).key_arn), retain_last=1
        ),
        "before-change",
        _before_change,
        kms="key",
    ),
    Lifecycle(
        "final, AWS owned key",
        lambda stack: FinalSnapshot(stack, "Final", cluster=cluster(stack)),
        "final",
        _final,
        kms="none",
    ),
    Lifecycle(
        "final, customer managed key",
        lambda stack: FinalSnapshot(stack, "Final", cluster=cluster(stack, kms_key_id=_with_key(stack).key_id)),
        "final",
        _final,
        kms="key",
    ),
]


def synth(lifecycle: Lifecycle) -> dict[str, Any]:
    stack = cdk.Stack(recommended_app(), "IamStack", env=ENV)
    lifecycle.build(stack)
    return Template.from_stack(stack).to_json()
