#!/usr/bin/env python3
"""Sample app: snapshot an existing DocumentDB elastic cluster on every deploy that changes it.

    make synth                                      # placeholder cluster, synthesizes anywhere
    make deploy CLUSTER_ARN=arn:aws:docdb-elastic:…  # a real cluster in your account and region
"""

import aws_cdk as cdk
from aws_cdk import Duration
from constructs import Construct

from docdb_elastic_snapshot import ElasticClusterSnapshot

# Obviously not a real cluster: `cdk synth` works out of the box, a deploy fails fast on it.
PLACEHOLDER_CLUSTER_ARN = (
    "arn:aws:docdb-elastic:us-east-1:111111111111:cluster/placeholder-pass-clusterArn-context"
)


class ExistingClusterSnapshotStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, cluster_arn: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        snapshot = ElasticClusterSnapshot(
            self,
            "Snapshot",
            cluster_arn=cluster_arn,
            tags={"created-by": "docdb-elastic-snapshot-sample"},
            # Change the value (-c snapshotTrigger=...) to take a new snapshot on the next deploy.
            trigger=self.node.try_get_context("snapshotTrigger"),
            timeout=Duration.minutes(14),
        )
        cdk.CfnOutput(self, "SnapshotArn", value=snapshot.snapshot_arn)
        cdk.CfnOutput(self, "SnapshotName", value=snapshot.snapshot_name)


def build(app: cdk.App) -> cdk.Stack:
    cluster_arn = app.node.try_get_context("clusterArn") or PLACEHOLDER_CLUSTER_ARN
    arn_parts = cluster_arn.split(":")
    return ExistingClusterSnapshotStack(
        app,
        "DocDbElasticSnapshotStack",
        cluster_arn=cluster_arn,
        # The snapshot is taken in the cluster's own account and region, so the stack goes there.
        env=cdk.Environment(account=arn_parts[4], region=arn_parts[3]) if len(arn_parts) > 4 else None,
    )


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
