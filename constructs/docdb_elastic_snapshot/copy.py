"""ElasticClusterSnapshotCopy: a snapshot copied to another region (or re-encrypted in the same
one) by the stack, and CopyDestination for FinalSnapshot's copy_to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack

from constructs import Construct
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import CopyAttr, CopyProp, Prop

from .resource import DEFAULT_TIMEOUT, SnapshotResource
from .validation import SUPPORTED_REMOVAL_POLICIES, common_errors, copy_props_errors, reject_invalid


@dataclass(frozen=True)
class CopyDestination:
    """Where FinalSnapshot copies the final snapshot.

    :param region: the destination region, such as ``us-west-2``.
    :param kms_key_id: ARN or id of a KMS key of that region for the copy. Default: None, the
        source's key (the API requires a key to copy a snapshot encrypted with a customer
        managed key to another region).
    """

    region: str
    kms_key_id: str | None = None


class ElasticClusterSnapshotCopy(SnapshotResource):
    """Copies a DocumentDB elastic cluster snapshot to another region (or re-encrypts it in the
    same one) when the stack creates this resource, and again whenever the source, the
    destination region or the key changes; waits until the copy is ACTIVE.

    :param source_snapshot_arn: ARN of the snapshot to copy (a literal or a token, such as another
        construct's ``snapshot_arn``). An empty value (a protection that took no snapshot) makes
        no copy; ``skipped_reason`` says so. A literal may be in any region of the stack's
        account; a token must name a snapshot of the stack's region (the role is granted there).
    :param destination_region: where the copy is made. Default: the stack's region.
    :param kms_key_id: ARN or id of a KMS key of the destination region. Default: None, the
        source's key; required by the API to copy a snapshot encrypted with a customer managed
        key to another region.
    :param copy_tags: give the copy the source's tags (besides ``tags``). Default: False.
    :param tags: tags of the copy, at most 48. Default: none.
    :param snapshot_name_prefix: prefix of the copies' names, at most 41 characters. Default:
        the stack name and construct id, sanitised.
    :param retain_last: after each new copy is ACTIVE, delete the oldest copies this construct
        made in the destination region beyond this many (recognised by its owner tag). Default:
        None, keep all.
    :param wait_for_completion: answer CloudFormation only once the copy is ACTIVE. Default: True.
        The source is always awaited (bounded) until it is ACTIVE: only then can it be copied.
    :param timeout: longest wait for the source and the copy together, 30 seconds to 60 minutes.
        Default: 60 minutes.
    :param removal_policy: RETAIN keeps the copy when the resource is deleted; DESTROY deletes it
        in its region. Default: RemovalPolicy.RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_snapshot_arn: str,
        destination_region: str | None = None,
        kms_key_id: str | None = None,
        copy_tags: bool = False,
        tags: Mapping[str, str] | None = None,
        snapshot_name_prefix: str | None = None,
        retain_last: int | None = None,
        wait_for_completion: bool = True,
        timeout: Duration | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or DEFAULT_TIMEOUT
        errors = copy_props_errors(
            Stack.of(self),
            source_snapshot_arn=source_snapshot_arn,
            destination_region=destination_region,
            kms_key_id=kms_key_id,
            retain_last=retain_last,
            wait_for_completion=wait_for_completion,
            removal_policy=removal_policy,
        ) + common_errors(
            snapshot_name_prefix=snapshot_name_prefix, tags=tags, timeout=timeout, retain_last=retain_last
        )
        if not isinstance(copy_tags, bool) or not isinstance(wait_for_completion, bool):
            errors.append("copy_tags and wait_for_completion: must be True or False")
        reject_invalid(self, errors)

        # Lean: a default (same region, source's key, no tag copy, waiting, retained) is left out.
        properties: dict[str, object] = {
            CopyProp.SOURCE_SNAPSHOT_ARN: source_snapshot_arn,
            Prop.SNAPSHOT_NAME_PREFIX: snapshot_name_prefix or self._default_prefix,
        }
        if destination_region is not None:
            properties[CopyProp.DESTINATION_REGION] = destination_region
        if kms_key_id is not None:
            properties[CopyProp.KMS_KEY_ID] = kms_key_id
        if copy_tags:
            properties[CopyProp.COPY_TAGS] = True
        if not wait_for_completion:
            properties[Prop.WAIT_FOR_COMPLETION] = False
        if removal_policy != RemovalPolicy.RETAIN:
            properties[Prop.REMOVAL_POLICY] = SUPPORTED_REMOVAL_POLICIES[removal_policy]
        if retain_last is not None:
            properties[Prop.RETAIN_LAST] = retain_last
            # Identifies this construct instance: retention prunes only copies tagged with it.
            properties[Prop.OWNER] = self.node.path

        resource = self._create(
            properties,
            timeout=timeout,
            tags=tags,
            retain_last=None,  # pruned in the destination: granted below, not in the stack's region
            deletion_policy=removal_policy,
            resource_type=contract.COPY_RESOURCE_TYPE,
        )
        self._provider.allow_copies(
            resource,
            source_snapshot_arn=source_snapshot_arn,
            destination_region=destination_region,
            kms_key_id=kms_key_id,
            delete=removal_policy == RemovalPolicy.DESTROY or retain_last is not None,
            read_source_tags=copy_tags,
        )

    @property
    def source_snapshot_arn(self) -> str:
        """The snapshot that was copied."""
        return self._attribute(CopyAttr.SOURCE_SNAPSHOT_ARN)

    @property
    def region(self) -> str:
        """The copy's region."""
        return self._attribute(CopyAttr.REGION)
