"""ElasticClusterSnapshot: a snapshot of a DocumentDB elastic cluster, taken by the stack."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import CfnDeletionPolicy, CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Token
from constructs import Construct
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import Attr, Prop

from .provider import SnapshotProvider
from .validation import SUPPORTED_REMOVAL_POLICIES, InvalidPropsError, validate_props

# CloudFormation waits this much longer than the handler may wait, for the cold start and the
# answer; with the longest timeout this equals the function's 15 minutes.
SERVICE_TIMEOUT_MARGIN = Duration.minutes(1)


def default_name_prefix(stack_name: str, construct_id: str) -> str:
    """A valid prefix from the stack name and construct id: letters, digits, single hyphens."""
    base = construct_id if Token.is_unresolved(stack_name) else f"{stack_name}-{construct_id}"
    prefix = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9]", "-", base)).strip("-")
    if not prefix or not prefix[0].isalpha():
        prefix = "snapshot-" + prefix
    return prefix[: contract.SNAPSHOT_NAME_PREFIX_MAX_LENGTH].rstrip("-")


class ElasticClusterSnapshot(Construct):
    """Takes a snapshot of a DocumentDB elastic cluster when the stack creates this resource and
    a new one on every update of its properties; returns the snapshot's attributes.

    :param cluster_arn: ARN of the elastic cluster (a token is fine). It must be in the stack's
        account and region.
    :param snapshot_name: exact snapshot name. Default: None, a unique name is generated for each
        snapshot from ``snapshot_name_prefix``. An exact name can be used only once per cluster
        account and region, so updates that take a new snapshot need a generated name.
    :param snapshot_name_prefix: prefix of generated names, at most 41 characters. Default: the
        stack name and construct id, sanitised. Mutually exclusive with ``snapshot_name``.
    :param tags: tags of the snapshot, at most 50. Default: no tags.
    :param trigger: any string; changing it takes a new snapshot on the next deploy. Default:
        None, a snapshot only when another property changes.
    :param wait_for_completion: answer CloudFormation only once the snapshot is ACTIVE.
        Default: True.
    :param timeout: longest wait for ACTIVE, 30 seconds to 14 minutes. Default: 14 minutes.
    :param removal_policy: RETAIN keeps the snapshot when the resource is deleted; DESTROY
        deletes it. Default: RemovalPolicy.RETAIN.
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
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        timeout = timeout or Duration.seconds(contract.TIMEOUT_MAX_SECONDS)
        errors = validate_props(
            stack,
            cluster_arn=cluster_arn,
            snapshot_name=snapshot_name,
            snapshot_name_prefix=snapshot_name_prefix,
            tags=tags,
            timeout=timeout,
            removal_policy=removal_policy,
        )
        if errors:
            raise InvalidPropsError(self.node.path, errors)

        properties: dict[str, object] = {
            Prop.CLUSTER_ARN: cluster_arn,
            Prop.WAIT_FOR_COMPLETION: wait_for_completion,
            Prop.TIMEOUT_SECONDS: int(timeout.to_milliseconds() // 1000),
            Prop.REMOVAL_POLICY: SUPPORTED_REMOVAL_POLICIES[removal_policy],
        }
        if snapshot_name is not None:
            properties[Prop.SNAPSHOT_NAME] = snapshot_name
        else:
            properties[Prop.SNAPSHOT_NAME_PREFIX] = snapshot_name_prefix or default_name_prefix(
                stack.stack_name, construct_id
            )
        if tags:
            properties[Prop.TAGS] = dict(tags)
        if trigger is not None:
            properties[Prop.TRIGGER] = trigger

        provider = SnapshotProvider.of(self)
        provider.allow_snapshots_of(cluster_arn)
        if removal_policy == RemovalPolicy.DESTROY:
            provider.allow_deletion()

        self._resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=contract.RESOURCE_TYPE,
            properties=properties,
            removal_policy=removal_policy,
            service_timeout=timeout.plus(SERVICE_TIMEOUT_MARGIN),
        )
        # An update answers with a new snapshot ARN, which CloudFormation treats as a
        # replacement: keep the previous snapshot whatever the removal policy.
        cfn = self._resource.node.default_child
        assert isinstance(cfn, CfnResource)
        cfn.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN

    def _attribute(self, name: str) -> str:
        return self._resource.get_att_string(name)

    @property
    def snapshot_arn(self) -> str:
        """ARN of the snapshot taken by the latest create or update."""
        return self._attribute(Attr.SNAPSHOT_ARN)

    @property
    def snapshot_name(self) -> str:
        return self._attribute(Attr.SNAPSHOT_NAME)

    @property
    def snapshot_status(self) -> str:
        """ACTIVE when waiting; CREATING when wait_for_completion is False."""
        return self._attribute(Attr.STATUS)

    @property
    def snapshot_creation_time(self) -> str:
        return self._attribute(Attr.SNAPSHOT_CREATION_TIME)

    @property
    def cluster_arn(self) -> str:
        return self._attribute(Attr.CLUSTER_ARN)

    @property
    def kms_key_id(self) -> str:
        return self._attribute(Attr.KMS_KEY_ID)

    @property
    def snapshot_type(self) -> str:
        return self._attribute(Attr.SNAPSHOT_TYPE)
