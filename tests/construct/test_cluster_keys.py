"""Which KMS key a protected cluster uses, as far as synth time can tell."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_docdbelastic as docdbelastic
from aws_cdk import aws_kms as kms

from docdb_elastic_snapshot.cluster_keys import cluster_key_arns

ENV = cdk.Environment(account="123456789012", region="us-east-1")
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def cluster_with(kms_key_id=None, make_key=False):
    stack = cdk.Stack(cdk.App(), "KeyStack", env=ENV)
    key = kms.Key(stack, "Key") if make_key else None
    value = kms_key_id(key) if callable(kms_key_id) else kms_key_id
    cluster = docdbelastic.CfnCluster(
        stack,
        "Cluster",
        cluster_name="orders",
        admin_user_name="admin",
        auth_type="PLAIN_TEXT",
        shard_capacity=2,
        shard_count=1,
        kms_key_id=value,
    )
    return stack, cluster


@pytest.mark.parametrize(
    ("kms_key_id", "expected"),
    [
        (None, []),  # AWS owned key: no KMS grant
        (f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}", [f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"]),
        (KEY_ID, "the key's ARN in the stack's partition, account and region"),
        ("alias/orders", None),  # the key behind an alias is known only at deploy time
    ],
)
def test_literal_key_ids(kms_key_id, expected):
    stack, cluster = cluster_with(kms_key_id)
    found = cluster_key_arns(cluster)
    if isinstance(expected, str):
        expected = [stack.resolve(stack.format_arn(service="kms", resource="key", resource_name=KEY_ID))]
    assert (found if found is None else [stack.resolve(a) for a in found]) == expected


def test_a_key_of_the_stack_is_named_by_its_arn_whether_given_as_arn_or_id():
    for given in (lambda key: key.key_arn, lambda key: key.key_id):
        stack, cluster = cluster_with(given, make_key=True)
        (arn,) = cluster_key_arns(cluster)
        assert "Key" in str(stack.resolve(arn)), stack.resolve(arn)


def test_a_parameter_is_not_a_key_it_could_name_anything():
    stack, cluster = cluster_with()
    cluster.kms_key_id = cdk.CfnParameter(stack, "KeyParam").value_as_string
    assert cluster_key_arns(cluster) is None
