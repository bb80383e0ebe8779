"""SnapshotProvider.configure: one set of ProviderOptions per stack, before the first construct."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from docdb_elastic_snapshot import ElasticClusterSnapshot, InvalidPropsError, ProviderOptions, SnapshotProvider
from synth_support import ENV, recommended_app

CLUSTER = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/orders"


def new_stack() -> cdk.Stack:
    return cdk.Stack(recommended_app(), "OptionsStack", env=ENV)


def every_option(stack: cdk.Stack) -> ProviderOptions:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    return ProviderOptions(
        log_group_encryption_key=kms.Key(stack, "LogKey", enable_key_rotation=True),
        log_retention=logs.RetentionDays.THREE_MONTHS,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[ec2.SecurityGroup(stack, "HandlerSecurityGroup", vpc=vpc)],
        reserved_concurrent_executions=5,
        tracing=aws_lambda.Tracing.ACTIVE,
        memory_size=512,
    )


def only(template: Template, resource_type: str) -> dict[str, Any]:
    """The provider's resource of that type (a VPC brings a function of the CDK's own)."""
    (found,) = [
        r
        for r in template.find_resources(resource_type).values()
        if r["Properties"].get("Handler", "docdb_snapshot_handler").startswith("docdb_snapshot_handler")
    ]
    return found["Properties"]


def test_without_options_the_provider_is_as_before_and_has_no_environment():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=CLUSTER)
    template = Template.from_stack(stack)
    function = only(template, "AWS::Lambda::Function")
    assert function["MemorySize"] == 256
    for absent in ("Environment", "VpcConfig", "ReservedConcurrentExecutions", "TracingConfig"):
        assert absent not in function, absent
    log_group = only(template, "AWS::Logs::LogGroup")
    assert log_group["RetentionInDays"] == 365 and "KmsKeyId" not in log_group


def test_every_option_reaches_the_function_and_its_log_group():
    # GIVEN a stack configured with every option before its first construct
    stack = new_stack()
    options = every_option(stack)
    SnapshotProvider.configure(stack, options)
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=CLUSTER)
    template = Template.from_stack(stack)
    # THEN the function and log group carry them
    function = only(template, "AWS::Lambda::Function")
    assert function["MemorySize"] == 512
    assert function["ReservedConcurrentExecutions"] == 5
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert len(function["VpcConfig"]["SubnetIds"]) == 2
    (security_group_id,) = [
        k for k, r in template.find_resources("AWS::EC2::SecurityGroup").items() if "HandlerSecurityGroup" in k
    ]
    assert function["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [security_group_id, "GroupId"]}]
    log_group = only(template, "AWS::Logs::LogGroup")
    assert log_group["RetentionInDays"] == 90
    assert log_group["KmsKeyId"] == {
        "Fn::GetAtt": [stack.resolve(options.log_group_encryption_key.node.default_child.logical_id), "Arn"]
    }


def test_configuring_twice_the_same_way_is_fine_and_differently_names_both():
    stack = new_stack()
    SnapshotProvider.configure(stack, ProviderOptions(memory_size=512))
    SnapshotProvider.configure(stack, ProviderOptions(memory_size=512))
    with pytest.raises(InvalidPropsError) as raised:
        SnapshotProvider.configure(stack, ProviderOptions(memory_size=1024))
    assert "ProviderOptions(memory_size=512)" in str(raised.value)
    assert "ProviderOptions(memory_size=1024)" in str(raised.value)


def test_configuring_after_the_first_construct_is_an_error_that_says_so():
    stack = new_stack()
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=CLUSTER)
    with pytest.raises(InvalidPropsError, match="must be called before the first snapshot construct"):
        SnapshotProvider.configure(stack, ProviderOptions(memory_size=512))


def test_every_invalid_option_is_reported_at_once():
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc")
    with pytest.raises(InvalidPropsError) as raised:
        SnapshotProvider.configure(
            stack,
            ProviderOptions(
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[ec2.SecurityGroup(stack, "Sg", vpc=vpc)],
                reserved_concurrent_executions=0,
                memory_size=64,
            ),
        )
    assert [e.split(":")[0] for e in raised.value.errors] == [
        "vpc_subnets",
        "security_groups",
        "reserved_concurrent_executions",
        "memory_size",
    ]


def test_a_stack_with_every_option_passes_cdk_nag_without_acknowledging_anything():
    app = recommended_app()
    stack = cdk.Stack(app, "OptionsStack", env=ENV)
    SnapshotProvider.configure(stack, every_option(stack))
    ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=CLUSTER)
    pack = AwsSolutionsChecks(app)
    report = pack.validate_scope(app)
    provider = [
        (v.rule_name, [r.construct_path for r in v.violating_resources])
        for v in report.violations
        if any("DocDbElasticSnapshotProvider" in r.construct_path for r in v.violating_resources)
    ]
    assert provider == []
