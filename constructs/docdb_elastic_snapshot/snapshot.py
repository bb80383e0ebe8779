"""ElasticClusterSnapshot: a snapshot of a DocumentDB elastic cluster, taken by the stack."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms

from constructs import Construct
from docdb_snapshot_handler.contract import Prop

from .resource import DEFAULT_TIMEOUT, SnapshotResource
from .snapshot_quota import SnapshotQuotaBudget
from .validation import (
    SUPPORTED_REMOVAL_POLICIES,
    common_errors,
    reject_invalid,
    snapshot_props_errors,
)


class ElasticClusterSnapshot(SnapshotResource):
    """Takes a snapshot of a DocumentDB elastic cluster when the stack creates this resource and
    a new one on every update of its properties; returns the snapshot's attributes.

    :param cluster_arn: ARN of the elastic cluster (a token is fine). It must be in the stack's
        account and region.
    :param snapshot_name: exact snapshot name. Default: None, a unique name is generated for each
        snapshot from ``snapshot_name_prefix``. An exact name can be used only once per cluster
        account and region, so updates that take a new snapshot need a generated name.
    :param snapshot_name_prefix: prefix of generated names, at most 41 characters. Default: the
        stack name and construct id, sanitised. Mutually exclusive with ``snapshot_name``.
    :param tags: tags of the snapshot, at most 48. Default: no tags.
    :param trigger: any string; changing it takes a new snapshot on the next deploy. Default:
        None, a snapshot only when another property changes.
    :param wait_for_completion: answer CloudFormation only once the snapshot is ACTIVE.
        Default: True.
    :param timeout: longest wait for ACTIVE, 30 seconds to 60 minutes.
        Default: 60 minutes. Waits longer than one Lambda invocation continue in a new one.
    :param removal_policy: RETAIN keeps the snapshot when the resource is deleted; DESTROY
        deletes it. Default: RemovalPolicy.RETAIN.
    :param retain_last: after each new snapshot is ACTIVE, delete the oldest snapshots this
        construct took beyond this many (recognised by its owner tag, never by name alone).
        Default: None, keep all.
    :param kms_key: the cluster's KMS key (a customer managed key), to scope the KMS
        permissions to it. Default: None, not known: KMS use of any key, but only through
        docdb-elastic in the stack's region (``kms:ViaService``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_arn: str,
        snapshot_name: str | None = None,
        snapshot_name_prefix: str | None = None,
        tags: Mapping[str, str] | None = None,
        trigger: str | None = None,
        wait_for_completion: bool = True,
        timeout: Duration | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        retain_last: int | None = None,
        kms_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or DEFAULT_TIMEOUT
        errors = snapshot_props_errors(
            Stack.of(self),
            cluster_arn=cluster_arn,
            snapshot_name=snapshot_name,
            snapshot_name_prefix=snapshot_name_prefix,
            retain_last=retain_last,
            removal_policy=removal_policy,
        ) + common_errors(
            snapshot_name_prefix=snapshot_name_prefix, tags=tags, timeout=timeout, retain_last=retain_last
        )
        reject_invalid(self, errors)

        properties: dict[str, object] = {
            Prop.CLUSTER_ARN: cluster_arn,
            Prop.WAIT_FOR_COMPLETION: None if wait_for_completion else False,
            Prop.REMOVAL_POLICY: (
                None if removal_policy == RemovalPolicy.RETAIN else SUPPORTED_REMOVAL_POLICIES[removal_policy]
            ),
        }
        if snapshot_name is not None:
            properties[Prop.SNAPSHOT_NAME] = snapshot_name
        else:
            properties[Prop.SNAPSHOT_NAME_PREFIX] = snapshot_name_prefix or self._default_prefix
        if trigger is not None:
            properties[Prop.TRIGGER] = trigger

        resource = self._create(
            properties, timeout=timeout, tags=tags, retain_last=retain_last, deletion_policy=removal_policy
        )
        self._provider.allow_snapshots_of(
            resource, cluster_arn, kms_key_arns=None if kms_key is None else [kms_key.key_arn]
        )
        if removal_policy == RemovalPolicy.DESTROY:
            self._provider.allow_deletion(resource)
        SnapshotQuotaBudget.of(self).keeps_retained(cluster_arn, self, retain_last, self.snapshot_arn)
