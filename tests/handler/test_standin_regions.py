"""The stand-in's regions, as the copy tests rely on them: a client sees only its own region
(its SigV4 scope), except CopyClusterSnapshot's source; names are unique per region."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from standins.docdb_elastic import REGION, DocDbElasticStandIn


def client(region: str):
    return boto3.client("docdb-elastic", region_name=region, config=_CLIENT_CONFIG)


def test_a_snapshot_is_found_only_by_a_client_of_its_region_but_copied_from_any(docdb: DocDbElasticStandIn):
    source = docdb.add_snapshot(docdb.add_cluster("orders"), "orders-1")
    assert client(REGION).get_cluster_snapshot(snapshotArn=source)["snapshot"]["status"] == "ACTIVE"
    with pytest.raises(ClientError) as raised:
        client("us-west-2").get_cluster_snapshot(snapshotArn=source)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert client("us-west-2").list_cluster_snapshots()["snapshots"] == []
    copy = client("us-west-2").copy_cluster_snapshot(snapshotArn=source, targetSnapshotName="orders-1")["snapshot"]
    assert copy["snapshotArn"].split(":")[3] == "us-west-2"
    # the same name again in the destination is refused; in a third region it is free
    with pytest.raises(ClientError) as raised:
        client("us-west-2").copy_cluster_snapshot(snapshotArn=source, targetSnapshotName="ORDERS-1")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    client("eu-west-1").copy_cluster_snapshot(snapshotArn=source, targetSnapshotName="orders-1")


def test_a_region_not_enabled_refuses_every_request(docdb: DocDbElasticStandIn):
    docdb.disabled_regions.add("ap-east-1")
    with pytest.raises(ClientError) as raised:
        client("ap-east-1").list_cluster_snapshots()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert client(REGION).list_cluster_snapshots()["snapshots"] == []
