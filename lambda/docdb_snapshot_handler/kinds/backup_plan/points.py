"""A rule's recovery points of each cluster (or their copies), recognised by name from one
listing of the region, and which of them its retention deletes.

Retention and making room at the quota ask the same question (which points the rule deletes
after this occurrence), so they share one answer: `due`. Room is made only from what retention
would delete anyway, so a point that would otherwise be kept is never deleted for the quota.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ... import contract
from ...api import ApiError
from ...once import Failed
from ...snapshots import ACTIVE, Snapshots, explain

logger = logging.getLogger(__name__)


@dataclass
class Point:
    """A recovery point of the rule, from the listing or just made."""

    scheduled: datetime
    arn: str
    name: str
    status: str


def listed(snapshots: Snapshots, plan: str, rule: str, region: str | None) -> dict[str, list[Point]]:
    """This rule's recovery points (or its copies to `region`) in the listing of every manual
    snapshot of the client's region, by cluster: the name proves whose and when."""
    points: dict[str, list[Point]] = {}
    params: dict[str, Any] = {"snapshotType": "manual", "maxResults": 100}
    while True:
        try:
            page = snapshots.api.call("ListClusterSnapshots", **params)
        except ApiError as error:
            raise explain(error, "the region's manual snapshots") from error
        for summary in page.get("snapshots", []):
            name, cluster_arn = str(summary.get("snapshotName", "")), str(summary.get("clusterArn", ""))
            if not name.lower().startswith(rule.lower() + "-"):
                continue
            scheduled = contract.recovery_point_time(plan, rule, name, cluster_arn, region)
            if scheduled is not None:
                point = Point(scheduled, str(summary["snapshotArn"]), name, str(summary.get("status", "")))
                points.setdefault(cluster_arn, []).append(point)
        if not page.get("nextToken"):
            return points
        params["nextToken"] = page["nextToken"]


def due(
    points: list[Point], scheduled: datetime, delete_after: int | None, keep_last: int | None, *, own: bool
) -> list[Point]:
    """The ACTIVE points retention deletes after the occurrence of `scheduled`: past `delete_after`
    (from their scheduled time to this occurrence's) or beyond the newest `keep_last`, counting
    this occurrence's own point among them when `own` (it is made, or about to be); never this
    occurrence's own. Oldest first."""
    if delete_after is None and keep_last is None:
        return []
    others = sorted((p for p in points if p.scheduled != scheduled), key=lambda p: p.scheduled, reverse=True)
    found = []
    # The occurrence's own point, when counted, is the newest: index 0. A cluster whose point was
    # not made keeps `keep_last` of its older ones.
    for index, point in enumerate(others, start=1 if own else 0):
        expired = delete_after is not None and point.scheduled + timedelta(seconds=delete_after) <= scheduled
        excess = keep_last is not None and index >= keep_last
        if (expired or excess) and point.status == ACTIVE:
            found.append(point)
    return found[::-1]


def made(points: list[Point], scheduled: datetime) -> bool:
    """Whether the occurrence of `scheduled` has its point among `points`."""
    return any(point.scheduled == scheduled for point in points)


def delete(snapshots: Snapshots, point: Point, cluster_arn: str, why: str) -> bool:
    """DeleteClusterSnapshot of one of the rule's points; False if it could not be deleted (one
    already gone, deleted by an overlapping delivery, is not counted either)."""
    try:
        snapshots.api.call("DeleteClusterSnapshot", snapshotArn=point.arn)
    except ApiError as error:
        if error.code != "ResourceNotFoundException":
            logger.error(
                "recovery point could not be deleted",
                extra={"snapshot_arn": point.arn, "cluster_arn": cluster_arn, "error": str(error), "why": why},
            )
        return False
    logger.info("recovery point deleted", extra={"snapshot_arn": point.arn, "cluster_arn": cluster_arn, "why": why})
    return True


def retain(
    snapshots: Snapshots,
    points: dict[str, list[Point]],
    scheduled: datetime,
    delete_after: int | None,
    keep_last: int | None,
) -> int:
    """Delete, per cluster, the points `due` (counting the occurrence's own where it was made);
    the number deleted."""
    deleted = 0
    for cluster_arn, cluster_points in points.items():
        for point in due(cluster_points, scheduled, delete_after, keep_last, own=made(cluster_points, scheduled)):
            if delete(snapshots, point, cluster_arn, "expired"):
                deleted += 1
                cluster_points.remove(point)
    return deleted


def room(
    points: dict[str, list[Point]],
    cluster_arn: str,
    scheduled: datetime,
    delete_after: int | None,
    keep_last: int | None,
) -> list[tuple[str, Point]]:
    """The points that may be deleted to make room for `cluster_arn`'s point of this occurrence
    (the rule's own, due anyway: nobody else's snapshot), in order: first those retention
    deletes whatever becomes of that point (its own, then any other cluster's), last the one of
    its own that goes only once that point is made (keep_last reached): deleted last, as it would
    be lost if the request still met the quota."""
    own = points.get(cluster_arn, [])
    anyway = due(own, scheduled, delete_after, keep_last, own=made(own, scheduled))
    once_made = [p for p in due(own, scheduled, delete_after, keep_last, own=True) if p not in anyway]
    others = [
        (arn, point)
        for arn, cluster_points in points.items()
        if arn != cluster_arn
        for point in due(cluster_points, scheduled, delete_after, keep_last, own=made(cluster_points, scheduled))
    ]
    return (
        [(cluster_arn, p) for p in anyway]
        + sorted(others, key=lambda pair: pair[1].scheduled)
        + [(cluster_arn, p) for p in once_made]
    )


@dataclass
class Wait:
    """How long a deleted point may take to be gone: polled every `poll` seconds until `until`."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    until: float
    poll: float


def make_room(
    snapshots: Snapshots,
    listing: dict[str, list[Point]],
    cluster_arn: str,
    scheduled: datetime,
    delete_after: int | None,
    keep_last: int | None,
    wait: Wait,
) -> bool:
    """Delete the first of `room` that can be deleted, and wait (a while) until it is gone: whether
    a snapshot being deleted still counts against the quota is undocumented. False: none could."""
    for owner, point in room(listing, cluster_arn, scheduled, delete_after, keep_last):
        listing[owner].remove(point)
        if delete(snapshots, point, owner, f"making room at the manual snapshot quota for {cluster_arn}"):
            while wait.clock() < wait.until:
                try:
                    if snapshots.find_by_arn(point.arn) is None:
                        break
                except Failed:
                    break  # asking again is the test that matters
                wait.sleep(wait.poll)
            return True
    return False
