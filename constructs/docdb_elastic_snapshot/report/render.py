"""The report for people (a rich table) and for programs (JSON)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from docdb_snapshot_handler import contract

from .gather import Finding, Point, QuotaUse, Report, TestResult, duration


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _point(point: Point | None, now: datetime) -> dict[str, Any] | None:
    if point is None:
        return None
    return {
        "snapshotArn": point.arn,
        "snapshotName": point.name,
        "type": point.type,
        "createdAt": _iso(point.created),
        "ageSeconds": None if point.created is None else int((now - point.created).total_seconds()),
    }


def _test(result: TestResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "test": result.test,
        "scheduledTime": _iso(result.scheduled),
        "outcome": result.outcome,
        "restoreSeconds": result.restore_seconds,
    }


def document(report: Report) -> dict[str, Any]:
    now = report.generated_at
    return {
        "region": report.region,
        "generatedAt": _iso(now),
        "clusters": [
            {
                "clusterArn": f.cluster_arn,
                "clusterName": f.cluster_name,
                "status": f.status,
                "protectedBy": [{"plan": r.plan, "rule": r.rule, "schedule": r.schedule} for r in f.protected_by],
                "newestRecoveryPoint": _point(f.newest, now),
                "recoveryPointsPerRule": f.points_per_rule,
                "copiesPerRegion": f.copies_per_region,
                "lastRestoreTest": _test(f.last_test),
                "problems": f.problems,
            }
            for f in report.clusters
        ],
        "snapshotQuota": [_quota(q) for q in report.quotas],
        "problems": report.problem_count,
    }


def _quota(use: QuotaUse) -> dict[str, Any]:
    return {
        "region": use.region,
        "manualSnapshots": use.manual_snapshots,
        "quota": use.quota,
        "quotaSource": "given" if use.quota_given else "default",
        "percent": round(100 * use.share),
        "problem": use.problem,
    }


def to_json(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"


# --- the table: Text objects throughout, so a name holding "[...]" is never read as markup -------


def _lines(*lines: Text | str) -> Text:
    return Text("\n").join(Text(line) if isinstance(line, str) else line for line in lines)


def _newest(point: Point | None, now: datetime) -> Text:
    if point is None:
        return Text("none", style="dim")
    age = "age unknown" if point.created is None else f"{duration(now - point.created)} old"
    return _lines(point.name, Text(f"{point.type.lower()}, {age}", style="dim"))


def _counts(finding: Finding) -> Text:
    if not finding.points_per_rule:
        return Text("-", style="dim")
    lines: list[Text | str] = []
    for label, count in finding.points_per_rule.items():
        lines.append(f"{label}: {count}")
        prefix = label + "/"
        lines += [
            Text(f"  copies in {key[len(prefix) :]}: {copies}", style="dim")
            for key, copies in finding.copies_per_region.items()
            if key.startswith(prefix)
        ]
    return _lines(*lines)


def _last_test(result: TestResult | None) -> Text:
    if result is None:
        return Text("never", style="dim")
    style = {"succeeded": "green", "failed": "bold red"}.get(result.outcome, "yellow")
    outcome = Text(result.outcome, style=style)
    if result.restore_seconds is not None:
        outcome.append(f", ACTIVE in {duration(timedelta(seconds=result.restore_seconds))}", style="default")
    return _lines(result.test, outcome, Text(result.scheduled.strftime("%Y-%m-%d %H:%MZ"), style="dim"))


def _row(finding: Finding, now: datetime) -> list[Text]:
    troubled = bool(finding.problems)
    name = Text(finding.cluster_name, style="bold red" if troubled else "bold")
    protected = (
        _lines(*(rule.label for rule in finding.protected_by))
        if finding.protected_by
        else Text("not protected", style="dim")
    )
    problems = (
        _lines(*(Text(problem, style="red") for problem in finding.problems))
        if troubled
        else Text("none", style="green")
    )
    return [
        _lines(name, Text(finding.status, style="dim")),
        protected,
        _newest(finding.newest, now),
        _counts(finding),
        _last_test(finding.last_test),
        problems,
    ]


def quota_line(use: QuotaUse) -> Text:
    counted = f"{use.manual_snapshots} of {use.which}, {use.quota} ({use.share:.0%})"
    text = Text(f"Manual snapshots in {use.region}: {counted}")
    if use.problem:
        text.append(f": at {contract.QUOTA_WARNING_SHARE:.0%} or more, new snapshots will soon fail", style="bold red")
    return text


def summary(report: Report) -> Text:
    clusters = len(report.clusters)
    protected = sum(1 for finding in report.clusters if finding.protected_by)
    troubled = sum(1 for finding in report.clusters if finding.problems)
    text = Text(f"{clusters} cluster{'s' if clusters != 1 else ''}, {protected} protected: ")
    count = sum(len(finding.problems) for finding in report.clusters)
    at_quota = [use.region for use in report.quotas if use.problem]
    parts = []
    if count:
        parts.append(f"{count} problem{'s' if count != 1 else ''} in {troubled} cluster{'s' if troubled != 1 else ''}")
    if at_quota:
        parts.append(f"manual snapshots near the quota in {', '.join(at_quota)}")
    if parts:
        text.append("; ".join(parts), style="bold red")
    else:
        text.append("no problems", style="bold green")
    return text


def table(report: Report, console: Console) -> None:
    now = report.generated_at
    grid = Table(
        title=f"DocumentDB elastic recovery report: {report.region}, {now:%Y-%m-%d %H:%M:%S}Z",
        show_lines=True,
        expand=False,
    )
    for heading in ("Cluster", "Protected by", "Newest recovery point", "Recovery points", "Last restore test"):
        grid.add_column(heading, overflow="fold")
    grid.add_column("Problems", overflow="fold", min_width=20)
    for finding in report.clusters:
        grid.add_row(*_row(finding, now))
    console.print(grid)
    for use in report.quotas:
        console.print(quota_line(use))
    console.print(summary(report))
