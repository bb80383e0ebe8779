"""The sample app's existing-cluster stack written out on its own (app.py also imports what its
demo stack needs), so that `make bench` compares `cdk synth` of the same stack with
ElasticClusterSnapshot and with AwsCustomResource (acr_app.py)."""

import aws_cdk as cdk

from docdb_elastic_snapshot import ElasticClusterSnapshot

CLUSTER_ARN = "arn:aws:docdb-elastic:us-east-1:111111111111:cluster/placeholder-pass-clusterArn-context"

app = cdk.App()
stack = cdk.Stack(app, "DocDbElasticSnapshotStack", env=cdk.Environment(account="111111111111", region="us-east-1"))
snapshot = ElasticClusterSnapshot(stack, "Snapshot", cluster_arn=CLUSTER_ARN, snapshot_name="sample-snapshot")
cdk.CfnOutput(stack, "SnapshotArn", value=snapshot.snapshot_arn)
app.synth()
