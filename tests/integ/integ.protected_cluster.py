"""Integration test against a real AWS account (run by hand: `make integ`, needs credentials
and creates a billable elastic cluster for about an hour).

Deploys the demo stack (a cluster with before-change, final and release snapshots, copies to the
DR region) plus a copy of the release snapshot to the DR region, then asserts through the
docdb-elastic API that the release snapshot exists and is ACTIVE and that its cluster is ACTIVE,
and through the copy's attributes (read by the handler from the DR region's API) that the copy is
ACTIVE there. `make integ` then destroys the stack: the copy is deleted in the DR region
(DESTROY), the final snapshot is taken and copied to the DR region (both retained: delete them by
hand). CI only checks that this app synthesizes and matches its committed snapshot."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk
from aws_cdk.integ_tests_alpha import ActualResult, ExpectedResult, IntegTest

from app import DEFAULT_DR_REGION, ProtectedClusterDemoStack
from docdb_elastic_snapshot import ElasticClusterSnapshotCopy

app = cdk.App()
stack = ProtectedClusterDemoStack(app, "DocDbElasticSnapshotInteg")
dr_region = app.node.try_get_context("demoDrRegion") or DEFAULT_DR_REGION
release_copy = ElasticClusterSnapshotCopy(
    stack,
    "ReleaseDrCopy",
    source_snapshot_arn=stack.release.snapshot_arn,
    destination_region=dr_region,
    removal_policy=cdk.RemovalPolicy.DESTROY,
)
integ = IntegTest(app, "ProtectedClusterInteg", test_cases=[stack], diff_assets=True)
integ.assertions.aws_api_call("DocDBElastic", "getClusterSnapshot", {"snapshotArn": stack.release.snapshot_arn}).expect(
    ExpectedResult.object_like({"snapshot": {"status": "ACTIVE", "snapshotType": "MANUAL"}})
)
integ.assertions.aws_api_call("DocDBElastic", "getCluster", {"clusterArn": stack.cluster.attr_cluster_arn}).expect(
    ExpectedResult.object_like({"cluster": {"status": "ACTIVE"}})
)
copy_resource = release_copy.node.find_child("Resource")
assert isinstance(copy_resource, cdk.CustomResource)
for attribute, expected in (("Status", "ACTIVE"), ("Region", dr_region)):
    integ.assertions.expect(
        f"ReleaseDrCopy{attribute}",
        ExpectedResult.exact(expected),
        ActualResult.from_custom_resource(copy_resource, attribute),
    )
app.synth()
