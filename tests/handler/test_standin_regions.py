"""The stand-in's regions, as the copy tests rely on them: a client sees only its own region
(its SigV4 scope), CopyClusterSnapshot's source included, as AWS documents copies of elastic
snapshots ("within the same region and within the same account"); names are unique per region."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from docdb_snapshot_handler.entrypoint import _CLIENT_CONFIG
from standins.docdb_elastic import REGION, DocDbElasticStandIn


def client(region: str):
    return boto3.client("docdb-elastic", region_name=region, config=_CLIENT_CONFIG)


def test_a_snapshot_is_found_and_copied_only_by_a_client_of_its_region(docdb: DocDbElasticStandIn):
    source = docdb.add_snapshot(docdb.add_cluster("orders"), "orders-1")
    assert client(REGION).get_cluster_snapshot(snapshotArn=source)["snapshot"]["status"] == "ACTIVE"
    with pytest.raises(ClientError) as raised:
        client("us-west-2").get_cluster_snapshot(snapshotArn=source)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert client("us-west-2").list_cluster_snapshots()["snapshots"] == []
    # a client of another region cannot copy it: the source is not there
    with pytest.raises(ClientError) as raised:
        client("us-west-2").copy_cluster_snapshot(snapshotArn=source, targetSnapshotName="orders-2")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert docdb.snapshots_in("us-west-2") == {}
    copy = client(REGION).copy_cluster_snapshot(snapshotArn=source, targetSnapshotName="orders-2")["snapshot"]
    assert copy["snapshotArn"].split(":")[3] == REGION
    # the same name again is refused, whatever its case
    with pytest.raises(ClientError) as raised:
        client(REGION).copy_cluster_snapshot(snapshotArn=source, targetSnapshotName="ORDERS-2")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_a_region_not_enabled_refuses_every_request(docdb: DocDbElasticStandIn):
    docdb.disabled_regions.add("ap-east-1")
    with pytest.raises(ClientError) as raised:
        client("ap-east-1").list_cluster_snapshots()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert client(REGION).list_cluster_snapshots()["snapshots"] == []
