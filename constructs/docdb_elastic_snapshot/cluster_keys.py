"""The KMS key of a cluster, as far as it can be known at synth time, to scope KMS grants to it.

Returns the key ARNs to grant on: an empty list when the cluster uses the AWS owned key (no
``kms_key_id``: the service needs no KMS permission of the caller), None when the key cannot
be told at synth time (an alias, or a token of unknown shape): then any key, only through
docdb-elastic in the stack's region.
"""

from __future__ import annotations

import re

from aws_cdk import Stack, Token
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_kms as kms

_KEY_ARN = re.compile(r"^arn:[\w-]+:kms:[\w-]+:\d{12}:key/[\w-]+$")
_KEY_ID = re.compile(r"^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def cluster_key_arns(cluster: docdbelastic.CfnCluster) -> list[str] | None:
    stack = Stack.of(cluster)
    key_id = cluster.kms_key_id
    if not key_id:
        return []
    if not Token.is_unresolved(key_id):
        if _KEY_ARN.match(key_id):
            return [key_id]
        if _KEY_ID.match(key_id):
            return [stack.format_arn(service="kms", resource="key", resource_name=key_id)]
        return None  # an alias: the key behind it is only known at deploy time
    resolved = stack.resolve(key_id)
    if isinstance(resolved, dict) and resolved.get("Fn::GetAtt", [None, None])[1] == "Arn":
        return [key_id]  # key.key_arn
    # A Ref may name a parameter or anything else: only a key's Ref is its key id.
    if isinstance(resolved, dict) and "Ref" in resolved and _is_key_logical_id(stack, resolved["Ref"]):
        return [stack.format_arn(service="kms", resource="key", resource_name=key_id)]
    return None


def _is_key_logical_id(stack: Stack, logical_id: str) -> bool:
    for child in stack.node.find_all():
        if isinstance(child, kms.CfnKey) and stack.resolve(child.logical_id) == logical_id:
            return True
    return False
