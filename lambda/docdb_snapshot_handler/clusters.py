"""Reading elastic clusters: by name (a cluster the stack defines, before it changes) or by ARN."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from . import contract
from .api import Api, ApiError
from .once import Budget, Failed, Found, create_once, wait_for_status
from .parsing import iso_timestamp
from .snapshots import FAILED_STATUSES, explain

logger = logging.getLogger(__name__)

# Statuses the cluster leaves by itself: a snapshot refused meanwhile is waited for.
PASSING_STATUSES = frozenset(
    {"CREATING", "UPDATING", "MODIFYING", "MAINTENANCE", "SPLITTING", "MERGING", "STARTING", "COPYING"}
)


class Clusters:
    def __init__(self, api: Api) -> None:
        self.api = api

    def _all(self, subject: str) -> Iterator[dict[str, Any]]:
        """Every cluster of the function's account and region, page by page (`subject` names
        what they are read for, in an error)."""
        params: dict[str, Any] = {"maxResults": 100}
        while True:
            try:
                page = self.api.call("ListClusters", **params)
            except ApiError as error:
                raise explain(error, subject) from error
            yield from (dict(cluster) for cluster in page.get("clusters", []))
            if not page.get("nextToken"):
                return
            params["nextToken"] = page["nextToken"]

    def find(self, name: str) -> dict[str, Any] | None:
        """The cluster with this name in the function's account and region, if any. CreateCluster
        stores the name "as a lowercase string": a CfnCluster named Orders-Main is orders-main."""
        wanted = name.lower()
        return next((c for c in self._all(f"cluster {name}") if str(c.get("clusterName", "")).lower() == wanted), None)

    def listing(self) -> dict[str, dict[str, Any]]:
        """Every cluster of the function's account and region (ARN to summary)."""
        return {str(cluster["clusterArn"]): cluster for cluster in self._all("the region's clusters")}

    def select(
        self,
        explicit: Sequence[str],
        tag_selections: Sequence[Mapping[str, str]],
        listed: dict[str, dict[str, Any]] | None = None,
    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """A scheduled selection: the clusters (ARN to summary) named in `explicit` and every
        cluster of the region carrying all tags of one of `tag_selections` (one listing, plus one
        ListTagsForResource per cluster when selecting by tag); and those named that do not
        exist (ARN to why). `listed`: a listing already made."""
        listed = self.listing() if listed is None else listed
        selected = {arn: listed[arn] for arn in explicit if arn in listed}
        missing = "the cluster does not exist in this account and region"
        failures = {arn: missing for arn in explicit if arn not in listed}
        if tag_selections:
            for arn, summary in listed.items():
                if arn in selected:
                    continue
                try:
                    tags = self.api.call("ListTagsForResource", resourceArn=arn).get("tags", {})
                except ApiError as error:
                    if error.code != "ResourceNotFoundException":  # deleted since the listing
                        logger.error("cluster tags could not be read", extra={"cluster_arn": arn, "error": str(error)})
                    continue
                if contract.selected_by(arn, tags, (), tag_selections):
                    selected[arn] = summary
        return selected, failures

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


# --- Restored clusters: restore once per request, update, tag, delete, wait ----------------------

# Statuses a cluster reaches from CREATING or UPDATING that will not become ACTIVE on their own:
# the service's one status list, the same as for snapshots.
CLUSTER_FAILED_STATUSES = FAILED_STATUSES
GONE = "GONE"

CLUSTER_ADVICE = {
    "AccessDeniedException": (
        "the provider's role may not call docdb-elastic:{action} on {subject}: check service control "
        "policies and permissions boundaries (and, for an encrypted snapshot, the KMS key policy)"
    ),
    "ConflictException": "the cluster is busy or the name is taken; deploy again once it is ACTIVE",
    "InternalServerException": "the service kept failing; deploy again later",
    "ResourceNotFoundException": "{subject} does not exist in this account and region: check the ARN",
    "ServiceQuotaExceededException": (
        "an account quota (elastic clusters, shards or vCPUs) is reached: delete unused clusters or "
        "request a higher quota in Service Quotas"
    ),
    "ThrottlingException": "the API kept throttling; deploy again later",
    "ValidationException": "the API rejected the request: check the subnets, security groups, KMS key and shards",
}


def explain_cluster(error: ApiError, subject: str) -> Failed:
    advice = CLUSTER_ADVICE.get(error.code, "" if error.http_status else "the endpoint could not be reached")
    reason = error.failure(subject)
    if advice:
        reason += ". To fix: " + advice.format(action=error.operation, subject=subject)
    return Failed(reason)


class Starting(Failed):
    """DeleteCluster refused a stopped cluster, which AWS's stop/start page says "cannot be
    modified in any way. This includes deleting the cluster": a STOPPED one was started, a
    STOPPING or STARTING one is on its way; the deletion is to be made again once it is ACTIVE."""


def _failed_statuses(target: str) -> frozenset[str]:
    """The statuses in which a wait for `target` fails at once: none on the way to GONE; on the
    way to STOPPED, STOPPING is the way there."""
    if target == GONE:
        return frozenset()
    if target == "STOPPED":
        return CLUSTER_FAILED_STATUSES - {"STOPPED", "STOPPING"}
    return CLUSTER_FAILED_STATUSES


class RestoredClusters(Clusters):
    """The cluster calls of ElasticClusterFromSnapshot, on the shared once/wait primitive."""

    def _call(self, operation: str, subject: str, **params: Any) -> dict[str, Any]:
        try:
            return self.api.call(operation, **params)
        except ApiError as error:
            raise explain_cluster(error, subject) from error

    def tags(self, cluster_arn: str) -> dict[str, str]:
        tags: dict[str, str] = self._call("ListTagsForResource", cluster_arn, resourceArn=cluster_arn).get("tags", {})
        return tags

    def active_snapshots(
        self, cluster_arn: str, snapshot_types: Sequence[str] = ("manual", "automated")
    ) -> list[dict[str, Any]]:
        """The cluster's ACTIVE snapshots of these types (summaries), newest first by creation
        time: what it can be restored from."""
        found: list[dict[str, Any]] = []
        for snapshot_type in snapshot_types:
            params: dict[str, Any] = {"clusterArn": cluster_arn, "snapshotType": snapshot_type, "maxResults": 100}
            while True:
                page = self._call("ListClusterSnapshots", f"snapshots of {cluster_arn}", **params)
                found.extend(
                    dict(summary)
                    for summary in page.get("snapshots", [])
                    if summary.get("status") == "ACTIVE" and summary.get("clusterArn", cluster_arn) == cluster_arn
                )
                if not page.get("nextToken"):
                    break
                params["nextToken"] = page["nextToken"]
        return sorted(found, key=lambda s: iso_timestamp(s.get("snapshotCreationTime")) or 0.0, reverse=True)

    def newest_snapshot(self, cluster_arn: str) -> dict[str, Any] | None:
        """The newest ACTIVE snapshot of the cluster, manual or automated (by creation time)."""
        return next(iter(self.active_snapshots(cluster_arn)), None)

    def restore(
        self, request: dict[str, Any], token: str, budget: Budget, foreign_remedy: str
    ) -> tuple[dict[str, Any], bool]:
        """RestoreClusterFromSnapshot once per request (see once.create_once). Returns the
        cluster and whether this call restored it (False: an earlier delivery did; True also when
        this call's own retry found what its first attempt had restored)."""
        name = str(request["clusterName"])
        subject = f"cluster {name} from {request['snapshotArn']}"
        created = []

        def create() -> dict[str, Any]:
            try:
                cluster: dict[str, Any] = self.api.call("RestoreClusterFromSnapshot", **request)["cluster"]
            except ApiError as error:
                if error.attempts > 1:
                    # An earlier attempt of this very call failed in transit (a timeout, a 5xx)
                    # after the service had restored: what is found and adopted is ours.
                    created.append("")
                raise
            created.append(cluster["clusterArn"])
            logger.info("restore requested", extra={"cluster_arn": cluster.get("clusterArn")})
            return cluster

        def find() -> Found | None:
            cluster = self.find(name)
            if cluster is None:
                return None
            arn = str(cluster["clusterArn"])
            return Found(arn, self.tags(arn).get(contract.REQUEST_TAG_KEY))

        def adopt(arn: str) -> dict[str, Any]:
            cluster = self.get(arn)
            if cluster is None:
                raise Failed(f"Cluster {name} ({arn}) disappeared while it was being restored")
            return cluster

        cluster = create_once(
            create=create,
            find=find,
            adopt=adopt,
            token=token,
            budget=budget,
            what=f"A cluster named {name}",
            busy_reason=lambda: "the snapshot or the account was busy",
            foreign_remedy=foreign_remedy,
            explain=lambda error: explain_cluster(error, subject),
        )
        return cluster, bool(created)

    def update(self, cluster_arn: str, changes: dict[str, Any], client_token: str) -> dict[str, Any]:
        cluster: dict[str, Any] = self._call(
            "UpdateCluster", cluster_arn, clusterArn=cluster_arn, clientToken=client_token, **changes
        )["cluster"]
        logger.info("cluster update requested", extra={"cluster_arn": cluster_arn, "changed": sorted(changes)})
        return cluster

    def tag(self, cluster_arn: str, tags: dict[str, str]) -> None:
        if tags:
            self._call("TagResource", cluster_arn, resourceArn=cluster_arn, tags=tags)

    def untag(self, cluster_arn: str, keys: list[str]) -> None:
        if keys:
            self._call("UntagResource", cluster_arn, resourceArn=cluster_arn, tagKeys=keys)

    def start(self, cluster_arn: str) -> None:
        """StartCluster, so that a STOPPED cluster can be deleted (or snapshotted first); one
        already STARTING or ACTIVE is success."""
        try:
            self.api.call("StartCluster", clusterArn=cluster_arn)
        except ApiError as error:
            current = self.get(cluster_arn)
            if current is not None and current.get("status") in ("STARTING", "ACTIVE"):
                return
            raise explain_cluster(error, cluster_arn) from error
        logger.info("stopped cluster started, to be deleted", extra={"cluster_arn": cluster_arn})

    def delete(self, cluster_arn: str) -> None:
        """DeleteCluster; a cluster already gone (or already being deleted) is success. A STOPPED
        cluster is started and Starting raised: AWS deletes it only once it is running again (a
        STOPPING or STARTING one raises Starting too, for the caller to try again as it goes on)."""
        try:
            self.api.call("DeleteCluster", clusterArn=cluster_arn)
        except ApiError as error:
            if error.code == "ResourceNotFoundException":
                return
            current = self.get(cluster_arn)
            if current is None or current.get("status") == "DELETING":
                return
            status = current.get("status")
            if status in ("STOPPED", "STOPPING", "STARTING"):
                if status == "STOPPED":
                    self.start(cluster_arn)
                done = "it must be STOPPED, then started" if status == "STOPPING" else "it was started"
                raise Starting(
                    f"Cluster {cluster_arn} was {status}, and a stopped cluster cannot be deleted: "
                    f"{done}, and is deleted once ACTIVE"
                ) from error
            raise explain_cluster(error, cluster_arn) from error
        logger.info("cluster deletion requested", extra={"cluster_arn": cluster_arn})

    def wait_until(
        self,
        cluster: dict[str, Any],
        budget: Budget,
        elapsed: Callable[[], float],
        target: str = "ACTIVE",
        remedy: str = "raise the timeout prop",
        ends: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Any], int]:
        """Poll GetCluster until the status is `target` (GONE: the cluster no longer exists), or
        one of `ends`."""
        arn = str(cluster["clusterArn"])

        def fetch() -> dict[str, Any]:
            current = self.get(arn)
            return {"clusterArn": arn, "status": GONE} if current is None else current

        return wait_for_status(
            current=cluster,
            fetch=fetch,
            budget=budget,
            elapsed=elapsed,
            what=f"Cluster {cluster.get('clusterName', '')} ({arn})",
            target=target,
            failed_statuses=_failed_statuses(target),
            still_waiting_remedy=remedy,
            ends=ends,
        )
