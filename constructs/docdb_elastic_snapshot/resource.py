"""What every snapshot construct shares: the custom resource on the stack's provider, and its
attributes as typed properties."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import CfnDeletionPolicy, CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Token

from constructs import Construct
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import Attr, Prop

from .provider import SnapshotProvider

# CloudFormation waits a minute longer than the handler may wait (the handler answers a minute
# before CloudFormation's own one-hour limit when the timeout is an hour).
DEFAULT_TIMEOUT = Duration.seconds(contract.TIMEOUT_MAX_SECONDS)


def service_timeout_for(timeout: Duration) -> Duration:
    return Duration.seconds(
        min(whole_seconds(timeout) + contract.ANSWER_MARGIN_SECONDS, contract.CLOUDFORMATION_MAX_WAIT_SECONDS)
    )


def default_name_prefix(
    stack_name: str,
    construct_id: str,
    max_length: int = contract.SNAPSHOT_NAME_PREFIX_MAX_LENGTH,
    fallback: str = "snapshot",
) -> str:
    """A valid name (prefix) from the stack name and construct id: letters, digits, single
    hyphens, first a letter (else `fallback` first), at most `max_length` characters."""
    base = construct_id if Token.is_unresolved(stack_name) else f"{stack_name}-{construct_id}"
    prefix = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9]", "-", base)).strip("-")
    if not prefix or not prefix[0].isalpha():
        prefix = f"{fallback}-" + prefix
    return prefix[:max_length].rstrip("-")


def whole_seconds(duration: Duration) -> int:
    return int(duration.to_milliseconds() // 1000)


class SnapshotResource(Construct):
    """Base of the snapshot constructs: subclasses validate their props, then call _create."""

    _resource: CustomResource

    def _create(
        self,
        properties: Mapping[str, object],
        *,
        timeout: Duration,
        tags: Mapping[str, str] | None,
        retain_last: int | None,
        deletion_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        resource_type: str = contract.RESOURCE_TYPE,
    ) -> CustomResource:
        # Lean: a property equal to the handler's default is left out (the handler applies it).
        props: dict[str, object] = {key: value for key, value in properties.items() if value is not None}
        if whole_seconds(timeout) != contract.TIMEOUT_MAX_SECONDS:
            props[Prop.TIMEOUT_SECONDS] = whole_seconds(timeout)
        if tags:
            props[Prop.TAGS] = dict(tags)
        if retain_last is not None:
            props[Prop.RETAIN_LAST] = retain_last
            # Identifies this construct instance (with the stack id, at deploy time): retention
            # prunes only snapshots tagged with it.
            props[Prop.OWNER] = self.node.path
        timeout_is_default = whole_seconds(timeout) == contract.TIMEOUT_MAX_SECONDS
        provider = SnapshotProvider.of(self)
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=resource_type,
            properties=props,
            removal_policy=deletion_policy,
            # CloudFormation's own default is its one-hour ceiling.
            service_timeout=None if timeout_is_default else service_timeout_for(timeout),
        )
        # An update may answer with a new physical id, which CloudFormation treats as a
        # replacement: never let that delete anything.
        cfn = self._resource.node.default_child
        assert isinstance(cfn, CfnResource)
        cfn.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
        if retain_last is not None:
            provider.allow_deletion(self._resource)
        provider.allow_long_waits(self._resource, waits_on_delete=properties.get(Prop.MODE) == contract.Mode.FINAL)
        return self._resource

    @property
    def _provider(self) -> SnapshotProvider:
        return SnapshotProvider.of(self)

    @property
    def _default_prefix(self) -> str:
        return default_name_prefix(Stack.of(self).stack_name, self.node.id)

    @property
    def resource(self) -> CfnResource:
        """The underlying CloudFormation resource (for dependencies and overrides)."""
        cfn = self._resource.node.default_child
        assert isinstance(cfn, CfnResource)
        return cfn

    def _attribute(self, name: str) -> str:
        return self._resource.get_att_string(name)

    @property
    def snapshot_arn(self) -> str:
        """ARN of the snapshot taken by the latest create or update ('' when none was taken)."""
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

    @property
    def skipped_reason(self) -> str:
        """Why no snapshot was taken ('' when one was): first deploy, cluster not ACTIVE..."""
        return self._attribute(Attr.SKIPPED_REASON)
