"""The sample app's existing-cluster stack, written with custom_resources.AwsCustomResource
instead of ElasticClusterSnapshot: the peer that `make bench` compares `cdk synth` time with."""

import aws_cdk as cdk
from aws_cdk import custom_resources as cr

CLUSTER_ARN = "arn:aws:docdb-elastic:us-east-1:111111111111:cluster/placeholder-pass-clusterArn-context"

app = cdk.App()
stack = cdk.Stack(app, "DocDbElasticSnapshotStack", env=cdk.Environment(account="111111111111", region="us-east-1"))
snapshot = cr.AwsCustomResource(
    stack,
    "Snapshot",
    on_create=cr.AwsSdkCall(
        service="DocDBElastic",
        action="createClusterSnapshot",
        parameters={"clusterArn": CLUSTER_ARN, "snapshotName": "sample-snapshot"},
        physical_resource_id=cr.PhysicalResourceId.from_response("snapshot.snapshotArn"),
    ),
    policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[CLUSTER_ARN]),
    install_latest_aws_sdk=False,
)
cdk.CfnOutput(stack, "SnapshotArn", value=snapshot.get_response_field("snapshot.snapshotArn"))
app.synth()
