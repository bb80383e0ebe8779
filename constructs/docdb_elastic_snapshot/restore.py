"""ElasticClusterFromSnapshot: a DocumentDB elastic cluster restored from a snapshot, declaratively."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2

from constructs import Construct
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import ClusterAttr, RestoreProp

from .provider import SnapshotProvider
from .resource import DEFAULT_TIMEOUT, service_timeout_for
from .snapshot_quota import Kept, SnapshotQuotaBudget
from .validation import id_list_errors, reject_invalid

REMOVAL_POLICIES = {
    RemovalPolicy.SNAPSHOT: contract.ClusterRemovalPolicy.SNAPSHOT,
    RemovalPolicy.DESTROY: contract.ClusterRemovalPolicy.DESTROY,
    RemovalPolicy.RETAIN: contract.ClusterRemovalPolicy.RETAIN,
}


def _literal(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and Token.is_unresolved(value))


def default_cluster_name_prefix(stack_name: str, construct_id: str) -> str:
    """A valid prefix from the stack name and construct id, in lowercase as the service stores
    names; the handler appends a part derived from the request (unique per restore)."""
    base = construct_id if Token.is_unresolved(stack_name) else f"{stack_name}-{construct_id}"
    prefix = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]", "-", base.lower())).strip("-")
    if not prefix or not prefix[0].isalpha():
        prefix = "restored-" + prefix
    return prefix[: contract.CLUSTER_NAME_PREFIX_MAX_LENGTH].rstrip("-")


def _number_errors(field: str, value: object, rule: object) -> list[str]:
    if value is None or (isinstance(value, (int, float)) and Token.is_unresolved(value)):
        return []
    if not isinstance(value, int) or isinstance(value, bool):
        return [f"{field}: must be a whole number (got {value!r})"]
    assert callable(rule)
    errors: list[str] = rule(field, value)
    return errors


def restore_props_errors(
    stack: Stack,
    *,
    snapshot_arn: str | None,
    source_cluster_arn: str | None,
    cluster_name: str | None,
    subnet_ids: Sequence[str] | None,
    vpc_security_group_ids: Sequence[str] | None,
    vpc: ec2.IVpc | None,
    vpc_subnets: ec2.SubnetSelection | None,
    security_groups: Sequence[ec2.ISecurityGroup] | None,
    shard_capacity: int | None,
    shard_instance_count: int | None,
    kms_key_id: str | None,
    tags: Mapping[str, str] | None,
    backup_retention_period: int | None,
    preferred_backup_window: str | None,
    preferred_maintenance_window: str | None,
    removal_policy: RemovalPolicy,
    timeout: Duration,
) -> list[str]:
    """Every broken rule among the literal props, with the handler's own rules."""
    errors = contract.snapshot_source_errors(snapshot_arn, source_cluster_arn, ("snapshot_arn", "source_cluster_arn"))
    if _literal(snapshot_arn):
        errors += contract.snapshot_arn_errors("snapshot_arn", str(snapshot_arn))
    if _literal(source_cluster_arn):
        arn_errors = contract.cluster_arn_errors("source_cluster_arn", str(source_cluster_arn))
        known = {k: v for k, v in (("region", stack.region), ("account", stack.account)) if _literal(v)}
        errors += arn_errors or contract.cluster_location_errors("source_cluster_arn", str(source_cluster_arn), **known)
    if _literal(cluster_name):
        errors += contract.cluster_name_errors("cluster_name", str(cluster_name))
    if subnet_ids is not None and (vpc is not None or vpc_subnets is not None):
        errors.append("subnet_ids and vpc/vpc_subnets: give one or the other, not both")
    if vpc_subnets is not None and vpc is None:
        errors.append("vpc_subnets: needs vpc")
    if vpc_security_group_ids is not None and security_groups is not None:
        errors.append("vpc_security_group_ids and security_groups: give one or the other, not both")
    for field, ids, pattern, what in (
        ("subnet_ids", subnet_ids, contract.SUBNET_ID_PATTERN, "subnet"),
        ("vpc_security_group_ids", vpc_security_group_ids, contract.SECURITY_GROUP_ID_PATTERN, "security group"),
    ):
        errors += id_list_errors(field, ids, pattern, what)
    errors += _number_errors("shard_capacity", shard_capacity, contract.shard_capacity_errors)
    errors += _number_errors("shard_instance_count", shard_instance_count, contract.shard_instance_count_errors)
    errors += _number_errors(
        "backup_retention_period", backup_retention_period, contract.backup_retention_period_errors
    )
    if _literal(preferred_backup_window):
        errors += contract.preferred_backup_window_errors("preferred_backup_window", str(preferred_backup_window))
    if _literal(preferred_maintenance_window):
        errors += contract.preferred_maintenance_window_errors(
            "preferred_maintenance_window", str(preferred_maintenance_window)
        )
    if _literal(kms_key_id):
        errors += contract.kms_key_id_errors("kms_key_id", str(kms_key_id))
    if tags:
        literal_tags = {k: v for k, v in tags.items() if _literal(k) and _literal(v)}
        # Entries with tokens are checked at deploy time; the count is known now.
        errors += contract.cluster_tag_count_errors("tags", len(tags))
        errors += contract.tag_entry_errors("tags", literal_tags)
    if removal_policy not in REMOVAL_POLICIES:
        errors.append(f"removal_policy: must be RemovalPolicy.SNAPSHOT, DESTROY or RETAIN (got {removal_policy})")
    millis = timeout.to_milliseconds()
    if millis % 1000:
        errors.append(f"timeout: must be a whole number of seconds (got {millis / 1000} seconds)")
    errors += contract.timeout_errors("timeout", int(millis // 1000))
    return errors


@jsii.implements(ec2.IConnectable)
class ElasticClusterFromSnapshot(Construct):
    """A DocumentDB elastic cluster restored from a snapshot by the stack, with in-place updates
    that snapshot it first and a removal policy like the CDK's own databases.

    :param snapshot_arn: the snapshot to restore (a literal or a token). Give this or
        ``source_cluster_arn``.
    :param source_cluster_arn: restore the newest ACTIVE snapshot (manual or automated) of this
        cluster, chosen at deploy time.
    :param cluster_name: exact name of the new cluster. Default: generated from the stack name,
        the construct id and the request, so a replacement gets a new name.
    :param subnet_ids: subnets of the cluster. Or ``vpc`` (and ``vpc_subnets``). Default: the
        snapshot's.
    :param vpc_security_group_ids: security groups. Or ``security_groups``. Default: the
        snapshot's, or a new security group when ``vpc`` is given.
    :param shard_capacity: vCPUs per shard (2, 4, 8, 16, 32, 64). Default: the snapshot's.
    :param shard_instance_count: instances per shard (1-16). Default: the snapshot's.
    :param kms_key_id: KMS key of the new cluster. Default: the AWS owned key.
    :param tags: tags of the cluster (and of its pre-update and final snapshots), at most 47.
    :param backup_retention_period: days of automated backups (1-35), set after the restore.
    :param preferred_backup_window: ``hh24:mi-hh24:mi`` UTC, at least 30 minutes.
    :param preferred_maintenance_window: ``ddd:hh24:mi-ddd:hh24:mi`` UTC, at least 30 minutes.
    :param snapshot_before_update: snapshot the cluster (and wait until ACTIVE) before an update
        in place. Default: True.
    :param removal_policy: SNAPSHOT (default: a final snapshot, then delete), DESTROY or RETAIN.
    :param trigger: changing it restores a new cluster (a replacement).
    :param timeout: longest wait for each request, 30 seconds to 60 minutes. Default: 60 minutes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        snapshot_arn: str | None = None,
        source_cluster_arn: str | None = None,
        cluster_name: str | None = None,
        subnet_ids: Sequence[str] | None = None,
        vpc_security_group_ids: Sequence[str] | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        shard_capacity: int | None = None,
        shard_instance_count: int | None = None,
        kms_key_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        backup_retention_period: int | None = None,
        preferred_backup_window: str | None = None,
        preferred_maintenance_window: str | None = None,
        snapshot_before_update: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.SNAPSHOT,
        trigger: str | None = None,
        timeout: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or DEFAULT_TIMEOUT
        stack = Stack.of(self)
        errors = restore_props_errors(
            stack,
            snapshot_arn=snapshot_arn,
            source_cluster_arn=source_cluster_arn,
            cluster_name=cluster_name,
            subnet_ids=subnet_ids,
            vpc_security_group_ids=vpc_security_group_ids,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            shard_capacity=shard_capacity,
            shard_instance_count=shard_instance_count,
            kms_key_id=kms_key_id,
            tags=tags,
            backup_retention_period=backup_retention_period,
            preferred_backup_window=preferred_backup_window,
            preferred_maintenance_window=preferred_maintenance_window,
            removal_policy=removal_policy,
            timeout=timeout,
        )
        reject_invalid(self, errors)

        self._connections: ec2.Connections | None = None
        if vpc is not None:
            selection = vpc_subnets or ec2.SubnetSelection()
            subnet_ids = vpc.select_subnets(
                availability_zones=selection.availability_zones,
                one_per_az=selection.one_per_az,
                subnet_filters=selection.subnet_filters,
                subnet_group_name=selection.subnet_group_name,
                subnets=selection.subnets,
                subnet_type=selection.subnet_type,
            ).subnet_ids
            if security_groups is None and vpc_security_group_ids is None:
                security_groups = [
                    ec2.SecurityGroup(
                        self,
                        "SecurityGroup",
                        vpc=vpc,
                        description=f"DocumentDB elastic cluster restored by {self.node.path}",
                        allow_all_outbound=False,
                    )
                ]
        if vpc_security_group_ids is not None:
            security_groups = [
                ec2.SecurityGroup.from_security_group_id(self, f"ImportedSecurityGroup{index}", group_id)
                for index, group_id in enumerate(vpc_security_group_ids)
            ]
        if security_groups:
            self._connections = ec2.Connections(
                security_groups=list(security_groups), default_port=ec2.Port.tcp(contract.DEFAULT_PORT)
            )

        timeout_is_default = timeout.to_milliseconds() == contract.TIMEOUT_MAX_SECONDS * 1000
        # Lean: a property at its default is left out; the handler applies the default.
        properties: dict[str, object] = {
            RestoreProp.SNAPSHOT_ARN: snapshot_arn,
            RestoreProp.SOURCE_CLUSTER_ARN: source_cluster_arn,
            RestoreProp.CLUSTER_NAME: cluster_name,
            RestoreProp.CLUSTER_NAME_PREFIX: (
                None if cluster_name is not None else default_cluster_name_prefix(stack.stack_name, construct_id)
            ),
            RestoreProp.SUBNET_IDS: list(subnet_ids) if subnet_ids is not None else None,
            RestoreProp.VPC_SECURITY_GROUP_IDS: (
                [group.security_group_id for group in security_groups] if security_groups else None
            ),
            RestoreProp.SHARD_CAPACITY: shard_capacity,
            RestoreProp.SHARD_INSTANCE_COUNT: shard_instance_count,
            RestoreProp.KMS_KEY_ID: kms_key_id,
            RestoreProp.TAGS: dict(tags) if tags else None,
            RestoreProp.BACKUP_RETENTION_PERIOD: backup_retention_period,
            RestoreProp.PREFERRED_BACKUP_WINDOW: preferred_backup_window,
            RestoreProp.PREFERRED_MAINTENANCE_WINDOW: preferred_maintenance_window,
            RestoreProp.SNAPSHOT_BEFORE_UPDATE: None if snapshot_before_update else False,
            RestoreProp.REMOVAL_POLICY: (
                None if removal_policy == RemovalPolicy.SNAPSHOT else REMOVAL_POLICIES[removal_policy]
            ),
            RestoreProp.TRIGGER: trigger,
            RestoreProp.TIMEOUT_SECONDS: None if timeout_is_default else int(timeout.to_milliseconds() // 1000),
        }
        provider = SnapshotProvider.of(self)
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=contract.RESTORE_RESOURCE_TYPE,
            properties={key: value for key, value in properties.items() if value is not None},
            # SNAPSHOT and DESTROY: CloudFormation must send Delete, and the handler takes the final
            # snapshot (or not). Both apply to replacements too (UpdateReplacePolicy).
            removal_policy=RemovalPolicy.RETAIN if removal_policy == RemovalPolicy.RETAIN else RemovalPolicy.DESTROY,
            # CloudFormation's own default is its one-hour ceiling.
            service_timeout=None if timeout_is_default else service_timeout_for(timeout),
        )
        provider.allow_restores(
            self._resource,
            snapshot_arn,
            # Any Delete CloudFormation sends may carry an earlier SNAPSHOT policy (a replacement
            # deletes the old resource with its old properties), so only RETAIN, which CloudFormation
            # never sends a Delete for, rules out the final snapshot.
            takes_snapshots=snapshot_before_update or removal_policy != RemovalPolicy.RETAIN,
            deletes=removal_policy != RemovalPolicy.RETAIN,
        )
        # A Delete waits (final snapshot, deletion): the grant must outlive it.
        provider.allow_long_waits(self._resource, waits_on_delete=True)
        # Never pruned: the final snapshot (one more with every replacement) and one snapshot per
        # update in place.
        final = removal_policy == RemovalPolicy.SNAPSHOT
        if final or snapshot_before_update:
            why = " and ".join(
                part
                for part, kept_by in (
                    ("the final snapshot, one more with every replacement (removal_policy SNAPSHOT)", final),
                    ("one more with every update in place (snapshot_before_update)", snapshot_before_update),
                )
                if kept_by
            )
            SnapshotQuotaBudget.of(self).keeps(
                self.cluster_arn,
                Kept(self.node.path, 1 if final else 0, why, grows=True),
                label=f"the restored cluster ({self.node.path})",
            )

    @property
    def resource(self) -> CfnResource:
        """The underlying CloudFormation resource (for dependencies and overrides)."""
        cfn = self._resource.node.default_child
        assert isinstance(cfn, CfnResource)
        return cfn

    @property
    def connections(self) -> ec2.Connections:
        """The cluster's security groups, default port 27017: ``restored.connections.allow_default_port_from(app)``.
        Available when ``vpc``, ``security_groups`` or ``vpc_security_group_ids`` is given."""
        if self._connections is None:
            raise ValueError(
                f"{self.node.path}: connections needs the cluster's security groups: give vpc, security_groups "
                "or vpc_security_group_ids"
            )
        return self._connections

    def _attribute(self, name: str) -> str:
        return self._resource.get_att_string(name)

    @property
    def cluster_arn(self) -> str:
        """ARN of the restored cluster (also the PhysicalResourceId)."""
        return self._attribute(ClusterAttr.CLUSTER_ARN)

    @property
    def cluster_endpoint(self) -> str:
        return self._attribute(ClusterAttr.CLUSTER_ENDPOINT)

    @property
    def cluster_name(self) -> str:
        return self._attribute(ClusterAttr.CLUSTER_NAME)

    @property
    def cluster_status(self) -> str:
        """ACTIVE once the restore (or update) is done."""
        return self._attribute(ClusterAttr.STATUS)

    @property
    def snapshot_arn(self) -> str:
        """The snapshot actually restored from (with source_cluster_arn: the one chosen)."""
        return self._attribute(ClusterAttr.SNAPSHOT_ARN)

    @property
    def restore_seconds(self) -> str:
        """Seconds from the RestoreClusterFromSnapshot call to ACTIVE, a whole number: the
        recovery time. Empty after an update in place."""
        return self._attribute(ClusterAttr.RESTORE_SECONDS)
