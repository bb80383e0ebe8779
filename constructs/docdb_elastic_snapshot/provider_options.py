"""Options of a stack's snapshot provider, for organisations whose policies or scanners ask for
them (a VPC, an encrypted log group, capped concurrency, tracing). Set once per stack with
``SnapshotProvider.configure(stack, ProviderOptions(...))``, before the first construct."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda
from aws_cdk import aws_logs as logs

DEFAULT_MEMORY_SIZE = 256
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR


@dataclass(frozen=True)
class ProviderOptions:
    """How the provider's function and log group are deployed. Every default is the provider
    as it is without options.

    :param log_group_encryption_key: KMS key of the function's log group; its key policy must
        let ``logs.<region>.amazonaws.com`` use it. Default: None, CloudWatch Logs' own encryption.
    :param log_retention: retention of the function's log group. Default: one year.
    :param vpc: VPC to run the function in; it then needs a route to docdb-elastic, Lambda (long
        waits re-invoke the function), S3 (the ResponseURL) and, with a log group key, nothing
        more (see docs/iam.md). Default: None, no VPC.
    :param vpc_subnets: subnets of ``vpc`` for the function. Default: None, the VPC's private
        subnets (CDK's default selection). Needs ``vpc``.
    :param security_groups: security groups of the function. Default: None, a new group
        allowing all outbound traffic (CDK's default). Needs ``vpc``.
    :param reserved_concurrent_executions: reserved concurrency of the function, at least 1 (a
        long wait uses one execution at a time; redeliveries and parallel resources more).
        Default: None, unreserved.
    :param tracing: X-Ray tracing of the function. Default: None, disabled.
    :param memory_size: memory of the function in MB, 128 to 10240. Default: 256.
    """

    log_group_encryption_key: kms.IKey | None = None
    log_retention: logs.RetentionDays | None = None
    vpc: ec2.IVpc | None = None
    vpc_subnets: ec2.SubnetSelection | None = None
    security_groups: Sequence[ec2.ISecurityGroup] | None = None
    reserved_concurrent_executions: int | None = None
    tracing: aws_lambda.Tracing | None = None
    memory_size: int | None = None

    def errors(self) -> list[str]:
        """Every broken rule, each naming the option."""
        errors: list[str] = []
        if self.vpc is None:
            errors.extend(f"{name}: needs vpc" for name in ("vpc_subnets", "security_groups") if getattr(self, name))
        if self.reserved_concurrent_executions is not None and self.reserved_concurrent_executions < 1:
            errors.append(
                "reserved_concurrent_executions: must be at least 1 (0 would stop the function from "
                f"running; got {self.reserved_concurrent_executions})"
            )
        if self.memory_size is not None and not 128 <= self.memory_size <= 10240:
            errors.append(f"memory_size: must be between 128 and 10240 MB (got {self.memory_size})")
        return errors

    def describe(self) -> str:
        """The options that are set, readable in an error message."""
        parts = [
            f"{f.name}={_describe(getattr(self, f.name))}" for f in fields(self) if getattr(self, f.name) is not None
        ]
        return "ProviderOptions(" + ", ".join(parts) + ")"


def _describe(value: object) -> str:
    node = getattr(value, "node", None)
    if node is not None:
        return str(node.path)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_describe(item) for item in value) + "]"
    name = getattr(value, "name", None)
    return str(name) if isinstance(name, str) else repr(value)
