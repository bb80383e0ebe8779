"""Integration test against a real AWS account (run by hand: `make integ`, needs credentials
and creates a billable elastic cluster for about an hour).

Deploys the demo stack (a cluster with before-change, final and release snapshots, copies under
a second KMS key) plus a copy of the release snapshot under that key, then asserts through the
docdb-elastic API that the release snapshot exists and is ACTIVE and that its cluster is ACTIVE,
and through the API and the copy's attributes that the copy is ACTIVE, under the second key, in
the stack's region (elastic snapshots are copied within their region and account only). `make
integ` then destroys the stack: the copy is deleted (DESTROY), the final snapshot is taken and
copied under the key (both retained, with the key: delete them by hand). CI only checks that
this app synthesizes and matches its committed snapshot."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk
from aws_cdk.integ_tests_alpha import ActualResult, ExpectedResult, IntegTest

from app import ProtectedClusterDemoStack
from docdb_elastic_snapshot import ElasticClusterSnapshotCopy

app = cdk.App()
stack = ProtectedClusterDemoStack(app, "DocDbElasticSnapshotInteg")
release_copy = ElasticClusterSnapshotCopy(
    stack,
    "ReleaseCopy",
    source_snapshot_arn=stack.release.snapshot_arn,
    kms_key_id=stack.copy_key.key_arn,
    removal_policy=cdk.RemovalPolicy.DESTROY,
)
integ = IntegTest(app, "ProtectedClusterInteg", test_cases=[stack], diff_assets=True)
integ.assertions.aws_api_call("DocDBElastic", "getClusterSnapshot", {"snapshotArn": stack.release.snapshot_arn}).expect(
    ExpectedResult.object_like({"snapshot": {"status": "ACTIVE", "snapshotType": "MANUAL"}})
)
integ.assertions.aws_api_call("DocDBElastic", "getCluster", {"clusterArn": stack.cluster.attr_cluster_arn}).expect(
    ExpectedResult.object_like({"cluster": {"status": "ACTIVE"}})
)
integ.assertions.aws_api_call("DocDBElastic", "getClusterSnapshot", {"snapshotArn": release_copy.snapshot_arn}).expect(
    ExpectedResult.object_like(
        {"snapshot": {"status": "ACTIVE", "snapshotType": "MANUAL", "kmsKeyId": stack.copy_key.key_arn}}
    )
)
copy_resource = release_copy.node.find_child("Resource")
assert isinstance(copy_resource, cdk.CustomResource)
for attribute, expected in (("Status", "ACTIVE"), ("Region", stack.region)):
    integ.assertions.expect(
        f"ReleaseCopy{attribute}",
        ExpectedResult.exact(expected),
        ActualResult.from_custom_resource(copy_resource, attribute),
    )
app.synth()
