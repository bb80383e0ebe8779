"""Typed view of the restore resource's ResourceProperties (strings, as CloudFormation sends
them), checked against the contract before any API call; every broken rule at once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ... import contract
from ...contract import RestoreProp
from ...parsing import (
    Home,
    InvalidProperties,
    boolean,
    choice,
    optional_str,
    parse_timeout,
    properties_of,
    tag_map,
    whole_number,
)


@dataclass(frozen=True)
class RestoreProperties:
    snapshot_arn: str | None = None
    source_cluster_arn: str | None = None
    cluster_name: str | None = None
    cluster_name_prefix: str | None = None
    subnet_ids: tuple[str, ...] | None = None
    vpc_security_group_ids: tuple[str, ...] | None = None
    shard_capacity: int | None = None
    shard_instance_count: int | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    backup_retention_period: int | None = None
    preferred_backup_window: str | None = None
    preferred_maintenance_window: str | None = None
    snapshot_before_update: bool = True
    removal_policy: str = contract.ClusterRemovalPolicy.SNAPSHOT
    trigger: str | None = None
    timeout_seconds: int = contract.TIMEOUT_MAX_SECONDS

    def name_for(self, token: str) -> str:
        """The cluster's name: the exact one, or generated from the prefix and the request."""
        if self.cluster_name:
            return self.cluster_name.lower()
        return contract.generated_cluster_name(self.cluster_name_prefix or "restored", token)

    def identity(self) -> str:
        """What the cluster was restored as; a change of any of these needs a new cluster."""
        parts = (self.snapshot_arn, self.source_cluster_arn, (self.cluster_name or "").lower(), self.kms_key_id)
        text = "|".join(str(part or "") for part in (*parts, self.trigger))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def settings(self) -> dict[str, Any]:
        """The UpdateCluster members these properties ask for (None: keep what the cluster has)."""
        wanted: dict[str, Any] = {
            "shardCapacity": self.shard_capacity,
            "shardInstanceCount": self.shard_instance_count,
            "subnetIds": list(self.subnet_ids) if self.subnet_ids is not None else None,
            "vpcSecurityGroupIds": (
                list(self.vpc_security_group_ids) if self.vpc_security_group_ids is not None else None
            ),
            **self.backup_settings(),
        }
        return {key: value for key, value in wanted.items() if value is not None}

    def backup_settings(self) -> dict[str, Any]:
        """What RestoreClusterFromSnapshot cannot set: applied with UpdateCluster afterwards."""
        wanted = {
            "backupRetentionPeriod": self.backup_retention_period,
            "preferredBackupWindow": self.preferred_backup_window,
            "preferredMaintenanceWindow": self.preferred_maintenance_window,
        }
        return {key: value for key, value in wanted.items() if value is not None}


def _ids(props: Mapping[str, Any], key: str, pattern: str, what: str, errors: list[str]) -> tuple[str, ...] | None:
    value = props.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        errors.append(f"{key}: must be a list of {what} IDs")
        return None
    errors.extend(contract.id_list_errors(key, value, pattern, what))
    return tuple(str(item) for item in value)


def _arn(props: Mapping[str, Any], key: str, rule: Any, home: Home, errors: list[str]) -> str | None:
    value = optional_str(props, key, errors)
    if value is not None:
        problems = rule(key, value)
        if not problems and key == RestoreProp.SOURCE_CLUSTER_ARN:
            problems = contract.cluster_location_errors(
                key, value, partition=home.partition, region=home.region, account=home.account
            )
        errors.extend(problems)
    return value


def parse_restore_properties(props: Mapping[str, Any] | None, home: Home | None = None) -> RestoreProperties:
    """Parse and validate; raise InvalidProperties listing every broken rule."""
    home = home or Home()
    errors: list[str] = []
    props = properties_of(props, contract.RESTORE_PROPS, errors)

    snapshot_arn = _arn(props, RestoreProp.SNAPSHOT_ARN, contract.snapshot_arn_errors, home, errors)
    source = _arn(props, RestoreProp.SOURCE_CLUSTER_ARN, contract.cluster_arn_errors, home, errors)
    errors.extend(
        contract.snapshot_source_errors(
            props.get(RestoreProp.SNAPSHOT_ARN),
            props.get(RestoreProp.SOURCE_CLUSTER_ARN),
            (RestoreProp.SNAPSHOT_ARN, RestoreProp.SOURCE_CLUSTER_ARN),
        )
    )
    name = optional_str(props, RestoreProp.CLUSTER_NAME, errors)
    prefix = optional_str(props, RestoreProp.CLUSTER_NAME_PREFIX, errors)
    if name is not None:
        errors.extend(contract.cluster_name_errors(RestoreProp.CLUSTER_NAME, name))
    if prefix is not None:
        errors.extend(contract.cluster_name_prefix_errors(RestoreProp.CLUSTER_NAME_PREFIX, prefix))
    if name is not None and prefix is not None:
        errors.append(f"{RestoreProp.CLUSTER_NAME} and {RestoreProp.CLUSTER_NAME_PREFIX}: give one or the other")

    capacity = whole_number(props, RestoreProp.SHARD_CAPACITY, errors, what="a whole number")
    if capacity is not None:
        errors.extend(contract.shard_capacity_errors(RestoreProp.SHARD_CAPACITY, capacity))
    instances = whole_number(props, RestoreProp.SHARD_INSTANCE_COUNT, errors, what="a whole number")
    if instances is not None:
        errors.extend(contract.shard_instance_count_errors(RestoreProp.SHARD_INSTANCE_COUNT, instances))
    retention = whole_number(props, RestoreProp.BACKUP_RETENTION_PERIOD, errors, what="a whole number")
    if retention is not None:
        errors.extend(contract.backup_retention_period_errors(RestoreProp.BACKUP_RETENTION_PERIOD, retention))
    backup_window = optional_str(props, RestoreProp.PREFERRED_BACKUP_WINDOW, errors)
    if backup_window is not None:
        errors.extend(contract.preferred_backup_window_errors(RestoreProp.PREFERRED_BACKUP_WINDOW, backup_window))
    maintenance = optional_str(props, RestoreProp.PREFERRED_MAINTENANCE_WINDOW, errors)
    if maintenance is not None:
        errors.extend(
            contract.preferred_maintenance_window_errors(RestoreProp.PREFERRED_MAINTENANCE_WINDOW, maintenance)
        )
    kms_key_id = optional_str(props, RestoreProp.KMS_KEY_ID, errors)
    if kms_key_id is not None:
        errors.extend(contract.kms_key_id_errors(RestoreProp.KMS_KEY_ID, kms_key_id))

    timeout = parse_timeout(props, RestoreProp.TIMEOUT_SECONDS, errors)

    parsed = RestoreProperties(
        snapshot_arn=snapshot_arn,
        source_cluster_arn=source,
        cluster_name=name,
        cluster_name_prefix=prefix,
        subnet_ids=_ids(props, RestoreProp.SUBNET_IDS, contract.SUBNET_ID_PATTERN, "subnet", errors),
        vpc_security_group_ids=_ids(
            props, RestoreProp.VPC_SECURITY_GROUP_IDS, contract.SECURITY_GROUP_ID_PATTERN, "security group", errors
        ),
        shard_capacity=capacity,
        shard_instance_count=instances,
        kms_key_id=kms_key_id,
        tags=tag_map(props, RestoreProp.TAGS, errors, contract.cluster_tags_errors),
        backup_retention_period=retention,
        preferred_backup_window=backup_window,
        preferred_maintenance_window=maintenance,
        snapshot_before_update=boolean(props, RestoreProp.SNAPSHOT_BEFORE_UPDATE, True, errors),
        removal_policy=choice(props, RestoreProp.REMOVAL_POLICY, contract.CLUSTER_REMOVAL_POLICIES, errors),
        trigger=optional_str(props, RestoreProp.TRIGGER, errors),
        timeout_seconds=timeout,
    )
    if errors:
        raise InvalidProperties(errors)
    return parsed


def cluster_removal_policy_of(props: Mapping[str, Any] | None) -> str:
    """The removal policy alone, for Delete (which must not fail on another property). Anything
    unreadable keeps the data: it counts as the default, a final snapshot."""
    value = (props or {}).get(RestoreProp.REMOVAL_POLICY, contract.ClusterRemovalPolicy.SNAPSHOT)
    return str(value) if value in contract.CLUSTER_REMOVAL_POLICIES else contract.ClusterRemovalPolicy.SNAPSHOT
