"""Integration test against a real AWS account (run by hand: `make integ`, needs credentials
and creates a billable elastic cluster for about an hour).

Deploys the demo stack (a cluster with before-change, final and release snapshots), then asserts
through the docdb-elastic API that the release snapshot exists and is ACTIVE and that its
cluster is ACTIVE; integ-runner then destroys the stack, which takes the final snapshot.
CI only checks that this app synthesizes and matches its committed snapshot."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest

from app import ProtectedClusterDemoStack

app = cdk.App()
stack = ProtectedClusterDemoStack(app, "DocDbElasticSnapshotInteg")
integ = IntegTest(app, "ProtectedClusterInteg", test_cases=[stack], diff_assets=True)
integ.assertions.aws_api_call("DocDBElastic", "getClusterSnapshot", {"snapshotArn": stack.release.snapshot_arn}).expect(
    ExpectedResult.object_like({"snapshot": {"status": "ACTIVE", "snapshotType": "MANUAL"}})
)
integ.assertions.aws_api_call("DocDBElastic", "getCluster", {"clusterArn": stack.cluster.attr_cluster_arn}).expect(
    ExpectedResult.object_like({"cluster": {"status": "ACTIVE"}})
)
app.synth()
