"""ElasticClusterSnapshotCopy: a snapshot copied by the stack in its region (under another key,
or a manual copy of an automated snapshot), and CopyDestination for FinalSnapshot's copy_to.

AWS copies elastic cluster snapshots only within the same region and account
(contract.COPIES_STAY_IN_REGION): any other region is refused at synth time, or by the handler
before any call when the stack's region is unknown at synth time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack

from constructs import Construct
from docdb_snapshot_handler import contract
from docdb_snapshot_handler.contract import CopyAttr, CopyProp, Prop

from .resource import DEFAULT_TIMEOUT, SnapshotResource
from .snapshot_quota import SnapshotQuotaBudget
from .validation import SUPPORTED_REMOVAL_POLICIES, common_errors, copy_props_errors, reject_invalid


@dataclass(frozen=True, kw_only=True)
class CopyDestination:
    """How FinalSnapshot copies the final snapshot: in the stack's region, under another key.

    :param kms_key_id: ARN or id of a KMS key of the stack's region for the copy (a copy under a
        second key stays restorable if the cluster's key is disabled or deleted). Default: None,
        the source's key (a manual copy).
    :param region: the copy's region. Default: None, the stack's region, the only one AWS
        copies elastic cluster snapshots within; any other is refused with that reason.
    """

    kms_key_id: str | None = None
    region: str | None = None


class ElasticClusterSnapshotCopy(SnapshotResource):
    """Copies a DocumentDB elastic cluster snapshot in its region, under another KMS key or as a
    manual copy of an automated snapshot, when the stack creates this resource, and again
    whenever the source or the key changes; waits until the copy is ACTIVE.

    A copy under a second key stays restorable if the cluster's key is disabled or scheduled for
    deletion; a manual copy of an automated snapshot outlives the cluster and its 1-35 days. AWS
    copies elastic cluster snapshots only within the same region and account, so the copy is
    made in the stack's region: another region or account is refused with that reason.

    :param source_snapshot_arn: ARN of the snapshot to copy (a literal or a token, such as another
        construct's ``snapshot_arn``), of the stack's region and account. An empty value (a
        protection that took no snapshot) makes no copy; ``skipped_reason`` says so.
    :param destination_region: the copy's region. Default: None, the stack's region, the only one
        AWS allows; any other is refused (at synth time, or by the handler before any call when
        the stack's region is unknown at synth time).
    :param kms_key_id: ARN or id of a KMS key of the stack's region for the copy. Default: None,
        the source's key.
    :param copy_tags: give the copy the source's tags (besides ``tags``). Default: False.
    :param tags: tags of the copy, at most 48. Default: none.
    :param snapshot_name_prefix: prefix of the copies' names, at most 41 characters. Default:
        the stack name and construct id, sanitised.
    :param retain_last: after each new copy is ACTIVE, delete the oldest copies this construct
        made beyond this many (recognised by its owner tag). Default: None, keep all.
    :param wait_for_completion: answer CloudFormation only once the copy is ACTIVE. Default: True.
        The source is always awaited (bounded) until it is ACTIVE: only then can it be copied.
    :param timeout: longest wait for the source and the copy together, 30 seconds to 60 minutes.
        Default: 60 minutes.
    :param removal_policy: RETAIN keeps the copy when the resource is deleted; DESTROY deletes it.
        Default: RemovalPolicy.RETAIN.
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

        # Lean: a default (the stack's region, source's key, no tag copy, waiting, retained) is
        # left out. A region given is written, so that the handler can refuse it where the stack's
        # region is unknown at synth time.
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
            retain_last=None,  # its grants are the copy's own, below
            deletion_policy=removal_policy,
            resource_type=contract.COPY_RESOURCE_TYPE,
        )
        self._provider.allow_copies(
            resource,
            source_snapshot_arn=source_snapshot_arn,
            delete=removal_policy == RemovalPolicy.DESTROY or retain_last is not None,
            read_source_tags=copy_tags,
        )
        if source_snapshot_arn:  # an empty source makes no copy
            SnapshotQuotaBudget.of(self).keeps_copies(source_snapshot_arn, self, retain_last)

    @property
    def source_snapshot_arn(self) -> str:
        """The snapshot that was copied."""
        return self._attribute(CopyAttr.SOURCE_SNAPSHOT_ARN)

    @property
    def region(self) -> str:
        """The copy's region."""
        return self._attribute(CopyAttr.REGION)
