"""The baseline for cold start: the least a Lambda handler can do for a snapshot custom
resource — one boto3 client, one CreateClusterSnapshot, one PUT to the ResponseURL. No
validation, no waiting, no retries, no idempotency."""

import json
import urllib.request

import boto3

client = boto3.client("docdb-elastic")


def handler(event, context):
    props = event["ResourceProperties"]
    snapshot = client.create_cluster_snapshot(
        clusterArn=props["ClusterArn"], snapshotName=props["SnapshotNamePrefix"] + "-" + event["RequestId"][:8]
    )["snapshot"]
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "PhysicalResourceId": snapshot["snapshotArn"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {},
        }
    ).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(request, timeout=10).close()
