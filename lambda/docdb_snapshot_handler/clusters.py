"""Reading elastic clusters: by name (a cluster the stack defines, before it changes) or by ARN."""

from __future__ import annotations

from typing import Any

from .api import Api, ApiError
from .once import Failed
from .snapshots import explain

# Statuses the cluster leaves by itself: a snapshot refused meanwhile is waited for.
PASSING_STATUSES = frozenset(
    {"CREATING", "UPDATING", "MODIFYING", "MAINTENANCE", "SPLITTING", "MERGING", "STARTING", "COPYING"}
)


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

    def busy_reason(self, cluster_arn: str) -> str:
        """What the cluster is doing while the service refuses a snapshot, for the log and the
        Reason. Raises Failed when waiting is pointless: the cluster is gone, or in a status
        that only someone's action ends (stopped, its key or network broken)."""
        try:
            cluster = self.get(cluster_arn)
        except Failed as error:
            # A Reason must not fail for lack of a detail (an SCP may deny GetCluster).
            return f"its status could not be read ({str(error)[:120]})"
        if cluster is None:
            raise Failed(f"Cluster {cluster_arn} no longer exists, so no snapshot can be taken of it")
        status = str(cluster.get("status"))
        if status == "ACTIVE":
            return "the cluster was ACTIVE (another snapshot of it was in progress)"
        if status in PASSING_STATUSES:
            return f"the cluster was {status}"
        raise Failed(
            f"Cluster {cluster_arn} is {status}, which only an action of yours ends, so no snapshot can be "
            "taken. To fix: make it ACTIVE (start it if it is STOPPED; check its KMS key and network), then "
            "deploy again"
        )
