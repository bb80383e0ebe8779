"""The stacks of the IAM tests and their templates as CloudFormation deploys them in the
stand-in's account and region: the environment and the cluster "orders"; intrinsics in IAM
statements resolved, parameters at their defaults, the IAM statements of the stack, and what a
schedule delivers."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_docdbelastic as docdbelastic

from docdb_snapshot_handler.contract import SCHEDULED_TIME_PLACEHOLDER
from standins.docdb_elastic import ACCOUNT, REGION, cluster_arn_for
from standins.lambda_context import FakeLambdaContext

ENV = cdk.Environment(account=ACCOUNT, region=REGION)


def cluster(
    stack: cdk.Stack, name: str = "orders", construct_id: str = "Cluster", **props: Any
) -> docdbelastic.CfnCluster:
    return docdbelastic.CfnCluster(
        stack,
        construct_id,
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
        if value["Ref"] in template.get("Parameters", {}):
            return template["Parameters"][value["Ref"]]["Default"]  # deployed with its default
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


#: Where the library's grants are: inline policies, and the managed policies of backup plans and
#: restore tests.
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def statements(template: dict[str, Any], policies: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Every IAM statement of the stack (of the `policies` given by logical id), resolved, with
    Action and Resource as lists."""
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in POLICY_TYPES or (policies is not None and logical_id not in policies):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            statement = resolve(template, statement)
            for key in ("Action", "Resource"):
                if isinstance(statement[key], str):
                    statement[key] = [statement[key]]
            found.append(statement)
    return found


def resolve_parameters(template: dict[str, Any], value: Any) -> Any:
    """A template's {"Ref": parameter} as CloudFormation deploys it without a value: its default."""
    parameters = template.get("Parameters", {})
    if isinstance(value, list):
        return [resolve_parameters(template, item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]["Default"]
    return {key: resolve_parameters(template, item) for key, item in value.items()}


def schedule_input(template: dict[str, Any], scheduled: datetime) -> dict[str, Any]:
    """What the template's one schedule delivers at `scheduled`, as EventBridge Scheduler fills it in."""
    (schedule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    text = resolve(template, schedule["Properties"]["Target"]["Input"])
    return dict(json.loads(text.replace(SCHEDULED_TIME_PLACEHOLDER, scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"))))
