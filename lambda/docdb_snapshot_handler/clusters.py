"""Reading elastic clusters: by name (a cluster the stack defines, before it changes) or by ARN."""

from __future__ import annotations

from typing import Any

from .api import Api, ApiError
from .snapshots import explain


class Clusters:
    def __init__(self, api: Api) -> None:
        self.api = api

    def find(self, name: str) -> dict[str, Any] | None:
        """The cluster with this name in the function's account and region, if any."""
        params: dict[str, Any] = {"maxResults": 100}
        while True:
            try:
                page = self.api.call("ListClusters", **params)
            except ApiError as error:
                raise explain(error, f"cluster {name}") from error
            for cluster in page.get("clusters", []):
                if cluster.get("clusterName") == name:
                    return dict(cluster)
            if not page.get("nextToken"):
                return None
            params["nextToken"] = page["nextToken"]

    def get(self, cluster_arn: str) -> dict[str, Any] | None:
        try:
            cluster: dict[str, Any] = self.api.call("GetCluster", clusterArn=cluster_arn)["cluster"]
        except ApiError as error:
            if error.code == "ResourceNotFoundException":
                return None
            raise explain(error, cluster_arn) from error
        return cluster

    def status_of(self, cluster_arn: str) -> str:
        """What the cluster is doing, for a Reason; never fails."""
        try:
            cluster = self.get(cluster_arn)
        except Exception as error:  # a Reason must not fail for lack of a detail
            return f"its status could not be read ({type(error).__name__})"
        return "it no longer exists" if cluster is None else f"the cluster was {cluster.get('status')}"
