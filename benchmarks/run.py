#!/usr/bin/env python3
"""`make bench`: ElasticClusterSnapshot side by side with its peers, on this machine, in one run.
Prints Markdown tables; asserts nothing (these machines are shared and noisy). See benchmarks/README.md."""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "lambda"), str(REPO / "constructs")]
# jsii on the project's Node.js (node_modules/.bin), as `make bench` runs it.
os.environ["PATH"] = os.pathsep.join([str(REPO / "node_modules" / ".bin"), os.environ.get("PATH", "")])
os.environ["LOG_LEVEL"] = "WARNING"

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_docdbelastic as docdbelastic  # noqa: E402
from aws_cdk import custom_resources as cr  # noqa: E402

from docdb_elastic_snapshot import ElasticClusterSnapshot  # noqa: E402
from standins.docdb_elastic import REGION, StandInServer  # noqa: E402
from standins.events import cfn_event  # noqa: E402
from standins.lambda_context import FakeLambdaContext  # noqa: E402
from standins.response_receiver import ResponseReceiver  # noqa: E402
from synth_support import CDK_CLI, asset_dir_of_function, recommended_app  # noqa: E402

CLUSTER = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
RUNTIME = REPO / "tests" / "standins" / "lambda_runtime.py"
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
# BENCH_ONLY=1,3 runs only those sections (1 template, 2 asset, 3 cold start, 4 readiness, 5 synth,
# 6 a backup occurrence over 200 clusters).
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))


def wanted(section: str) -> bool:
    return not ONLY or section in ONLY


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    sys.stdout.flush()


def cluster(index: int) -> str:
    """A cluster of its own for each snapshot, as stacks that protect several clusters have."""
    return CLUSTER[: -len(f"{index:04d}")] + f"{index:04d}"


def add_ours(stack: cdk.Stack, index: int) -> None:
    ElasticClusterSnapshot(stack, f"S{index}", cluster_arn=cluster(index))


def add_aws_custom_resource(stack: cdk.Stack, index: int) -> None:
    cr.AwsCustomResource(
        stack,
        f"S{index}",
        on_create=cr.AwsSdkCall(
            service="DocDBElastic",
            action="createClusterSnapshot",
            parameters={"clusterArn": cluster(index), "snapshotName": f"snapshot-{index}"},
            physical_resource_id=cr.PhysicalResourceId.from_response("snapshot.snapshotArn"),
        ),
        policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[cluster(index)]),
        install_latest_aws_sdk=False,
    )


def add_native(stack: cdk.Stack, index: int) -> None:
    docdbelastic.CfnClusterSnapshot(stack, f"S{index}", cluster_arn=cluster(index), snapshot_name=f"snapshot-{index}")


PEERS = {
    "ElasticClusterSnapshot (ours)": add_ours,
    "AwsCustomResource": add_aws_custom_resource,
    "CfnClusterSnapshot (native)": add_native,
}


def synth(add, count: int, outdir: str | None = None) -> tuple[dict, cdk.App]:
    app = recommended_app(outdir=outdir) if outdir else recommended_app()
    stack = cdk.Stack(app, "Bench", env=cdk.Environment(account="123456789012", region="us-east-1"))
    for index in range(count):
        add(stack, index)
    return app.synth().get_stack_by_name("Bench").template, app


def template_sizes() -> None:
    rows = []
    for name, add in PEERS.items():
        measured = {}
        for count in (1, 21):
            template, _ = synth(add, count)
            measured[count] = (len(json.dumps(template, separators=(",", ":"))), len(template["Resources"]))
        (bytes1, res1), (bytes21, res21) = measured[1], measured[21]
        rows.append([name, bytes1, res1, bytes21, res21, round((bytes21 - bytes1) / 20), round((res21 - res1) / 20, 2)])
    table(
        "1. Template size (minified JSON; one cluster per snapshot; target for ours: ≤ 450 B per extra snapshot)",
        [
            "approach",
            "bytes, 1 snapshot",
            "resources, 1",
            "bytes, 21 snapshots",
            "resources, 21",
            "bytes per extra snapshot",
            "resources per extra snapshot",
        ],
        rows,
    )


def directory_size(path: Path) -> tuple[int, int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(path))
    return len(files), sum(p.stat().st_size for p in files), len(buffer.getvalue())


def asset_sizes(workdir: Path) -> Path:
    rows = []
    ours_out = workdir / "ours"
    template, _ = synth(add_ours, 1, str(ours_out))
    ours_asset = asset_dir_of_function(ours_out, template)
    rows.append(["ElasticClusterSnapshot (ours)", *directory_size(ours_asset)])
    acr_out = workdir / "acr"
    template, _ = synth(add_aws_custom_resource, 1, str(acr_out))
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    acr_asset = acr_out / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    rows.append(["AwsCustomResource", *directory_size(acr_asset)])
    table("2. Lambda asset", ["approach", "files", "bytes", "zipped bytes"], rows)
    return ours_asset


def run_runtime(asset: Path, handler: str, event: dict, warm_events: list[dict], env: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-S", str(RUNTIME), str(asset), sysconfig.get_paths()["purelib"], handler],
        input=json.dumps({"event": event, "warm_events": warm_events}),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return wall, json.loads(result.stdout.strip().splitlines()[-1])


def cold_start(ours_asset: Path, docdb, receiver: ResponseReceiver, env: dict) -> None:
    """Each repeat runs ours, then the bare handler, in fresh processes: alternation spreads the
    machine's noise over both alike."""
    docdb.snapshot_delay = 0.0
    cluster = docdb.add_cluster("bench")
    candidates = {
        "ours": (ours_asset, "docdb_snapshot_handler.entrypoint.handler"),
        "bare boto3": (REPO / "benchmarks", "bare_handler.handler"),
    }
    runs = {name: {"process": [], "import": [], "first": [], "warm": []} for name in candidates}

    def make() -> dict:
        return cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "SnapshotNamePrefix": "bench"})

    for _ in range(REPEATS):
        for name, (asset, handler) in candidates.items():
            wall, timing = run_runtime(asset, handler, make(), [], env)
            runs[name]["process"].append(wall)
            runs[name]["import"].append(timing["import_seconds"])
            runs[name]["first"].append(timing["invoke_seconds"])
        for name, (asset, handler) in candidates.items():
            _, timing = run_runtime(asset, handler, make(), [make() for _ in range(5)], env)
            runs[name]["warm"].append(statistics.median(timing["warm_invoke_seconds"]))
    ours = {k: statistics.median(v) for k, v in runs["ours"].items()}
    bare = {k: statistics.median(v) for k, v in runs["bare boto3"].items()}
    rows = []
    for key, label, target in (
        ("import", "import of the handler module", ""),
        ("first", "first invocation (Create answered)", ""),
        ("process", "whole fresh process (interpreter + import + Create)", "≤ 1.25"),
        ("warm", "warm invocation (Create answered)", "≤ 1.3"),
    ):
        rows.append(
            [label, f"{ours[key] * 1000:.0f}", f"{bare[key] * 1000:.0f}", f"{ours[key] / bare[key]:.2f}", target]
        )
    table(
        f"3. Handler cold start and warm invocation (median of {REPEATS} alternated runs, ms)",
        ["", "ours", "bare boto3 handler", "ratio", "target"],
        rows,
    )
    # Delete in RETAIN mode: no client, no call.
    from docdb_snapshot_handler import entrypoint

    times = []
    for _ in range(REPEATS):
        event = cfn_event(
            "Delete",
            receiver.new_url(),
            {"ClusterArn": cluster},
            physical_id="arn:aws:docdb-elastic:us-east-1:123456789012:cluster-snapshot/0123",
        )
        before = time.perf_counter()
        entrypoint.handler(event, FakeLambdaContext())
        times.append(time.perf_counter() - before)
    table(
        "3b. Delete in RETAIN mode, in-process (ms)",
        ["median", "max"],
        [[f"{statistics.median(times) * 1000:.1f}", f"{max(times) * 1000:.1f}"]],
    )


def readiness(docdb, receiver: ResponseReceiver) -> None:
    from docdb_snapshot_handler import entrypoint

    rows = []
    for delay in (2.0, 60.0):
        docdb.reset()
        docdb.snapshot_delay = delay
        cluster = docdb.add_cluster("bench")
        event = cfn_event("Create", receiver.new_url(), {"ClusterArn": cluster, "SnapshotNamePrefix": "bench"})
        entrypoint.handler(event, FakeLambdaContext())
        (received,) = receiver.received_for(event["ResponseURL"])
        (snapshot,) = docdb.snapshots.values()
        overhead = received.at - (snapshot.created + delay)
        calls = {
            op: len(docdb.calls_to(op))
            for op in ("ListClusterSnapshots", "CreateClusterSnapshot", "GetClusterSnapshot")
        }
        rows.append([f"{delay:.0f} s", f"{overhead:.2f}", calls["GetClusterSnapshot"], sum(calls.values())])
    table(
        "4. Readiness: ACTIVE to CloudFormation answered",
        ["snapshot takes", "overhead (s)", "GetClusterSnapshot calls", "all docdb-elastic calls"],
        rows,
    )


def restore_readiness(docdb, receiver: ResponseReceiver) -> None:
    """ElasticClusterFromSnapshot: from the restored cluster turning ACTIVE to CloudFormation's answer."""
    from docdb_snapshot_handler import entrypoint
    from docdb_snapshot_handler.contract import RestoreProp
    from standins.events import restore_event

    rows = []
    for delay in (2.0, 60.0):
        docdb.reset()
        docdb.restore_delay = delay
        source = docdb.add_cluster("bench")
        snapshot = docdb.add_snapshot(source, "bench-nightly")
        event = restore_event("Create", receiver.new_url(), {RestoreProp.SNAPSHOT_ARN: snapshot})
        entrypoint.handler(event, FakeLambdaContext())
        (received,) = receiver.received_for(event["ResponseURL"])
        (cluster,) = [c for c in docdb.clusters.values() if c.name != "bench"]
        gets = len(docdb.calls_to("GetCluster"))
        rows.append([f"{delay:.0f} s", f"{received.at - cluster.ready_at:.2f}", gets, len(docdb.calls)])
    table(
        "4b. Restore readiness: restored cluster ACTIVE to CloudFormation answered",
        ["restore takes", "overhead (s)", "GetCluster calls", "all docdb-elastic calls"],
        rows,
    )


def restore_test_readiness(docdb) -> None:
    """ElasticClusterRestoreTest: from the temporary cluster turning ACTIVE to the run seeing it
    (RestoreSeconds measured), then to the test concluded (validated, recorded, deleted)."""
    import contextlib
    from datetime import UTC, datetime

    from docdb_snapshot_handler import entrypoint
    from standins.events import restore_test_event

    rows = []
    for delay in (2.0, 60.0):
        docdb.reset()
        docdb.restore_delay = delay
        source = docdb.add_cluster("bench", tags={"backup": "gold"})
        docdb.add_snapshot(source, "bench-nightly")
        scheduled = datetime.now(UTC).replace(second=0, microsecond=0)
        output = io.StringIO()
        with contextlib.redirect_stdout(output):  # the EMF line, read below
            entrypoint.handler(restore_test_event(scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")), FakeLambdaContext())
        (cluster,) = [c for c in docdb.clusters.values() if c.name != "bench"]
        gets = [call for call in docdb.calls_to("GetCluster") if call.params["clusterArn"] == cluster.arn]
        seen = next(call.at for call in gets if call.at >= cluster.ready_at)
        (deleted,) = docdb.calls_to("DeleteCluster")
        measured = next(
            json.loads(line)["RestoreSeconds"] for line in output.getvalue().splitlines() if "RestoreSeconds" in line
        )
        rows.append(
            [
                f"{delay:.0f} s",
                f"{seen - cluster.ready_at:.2f}",
                f"{measured:.1f}",
                f"{deleted.at - cluster.ready_at:.2f}",
                len(gets),
                len(docdb.calls),
            ]
        )
    table(
        "4c. Restore test readiness: temporary cluster ACTIVE to measured, and to deleted",
        [
            "restore takes",
            "ACTIVE to seen (s)",
            "RestoreSeconds",
            "ACTIVE to deleted (s)",
            "GetCluster calls",
            "all docdb-elastic calls",
        ],
        rows,
    )


def synth_times(workdir: Path) -> None:
    if not CDK_CLI.exists():
        print("\n(5. skipped: the CDK CLI is not installed; run `make bench`)")
        return
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    rows = []
    for name, app in (
        ("sample stack with ElasticClusterSnapshot", "python3 benchmarks/ours_app.py"),
        ("same stack with AwsCustomResource", "python3 benchmarks/acr_app.py"),
    ):
        times = []
        for index in range(max(2, REPEATS // 2)):
            started = time.perf_counter()
            subprocess.run(
                [
                    str(CDK_CLI),
                    "synth",
                    "--quiet",
                    "--no-notices",
                    "--app",
                    app,
                    "-o",
                    str(workdir / f"synth-{name[:6]}-{index}"),
                ],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
            times.append(time.perf_counter() - started)
        rows.append([name, f"{statistics.median(times):.1f}", f"{min(times):.1f}"])
    table("5. `cdk synth` wall time (s)", ["app", "median", "best"], rows)


def backup_occurrence(docdb) -> None:
    """One backup rule occurrence over 200 tag-selected clusters, through the entry point: once
    when each cluster has none of the rule's points yet, and once at steady state (keep_last
    reached, so every cluster also loses its oldest point). Wall time and API calls per cluster."""
    import contextlib
    from datetime import UTC, datetime, timedelta

    import time_machine

    from docdb_snapshot_handler import entrypoint
    from standins.events import scheduled_event

    clusters = 200
    keep = 3
    rows = []
    docdb.reset()
    for index in range(clusters):
        docdb.add_cluster(f"bench-{index:03d}", tags={"backup": "gold"})
    first = datetime(2026, 1, 1, 3, tzinfo=UTC)
    occurrences = [first + timedelta(days=day) for day in range(keep + 1)]
    for number, scheduled in enumerate(occurrences, start=1):
        docdb.reset_calls()
        event = scheduled_event(scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"), KeepLast=keep, DeleteAfterSeconds=None)
        # Delivered a minute after its time (the wall clock moved), its EMF line kept off the table.
        with (
            time_machine.travel(scheduled + timedelta(minutes=1), tick=True),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            started = time.perf_counter()
            entrypoint.handler(event, FakeLambdaContext())
            seconds = time.perf_counter() - started
        if number in (1, keep + 1):
            calls = len(docdb.calls)
            deletes = len(docdb.calls_to("DeleteClusterSnapshot"))
            label = "first occurrence" if number == 1 else f"steady state (keep_last={keep})"
            rows.append([label, clusters, f"{seconds:.2f}", calls, f"{calls / clusters:.2f}", deletes])
    table(
        "6. One backup occurrence over 200 tag-selected clusters",
        ["occurrence", "clusters", "wall time (s)", "API calls", "calls per cluster", "deletions"],
        rows,
    )


def main() -> None:
    from importlib.metadata import version

    print(
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, aws-cdk-lib {version('aws-cdk-lib')}, "
        f"boto3 {version('boto3')}, crhelper {version('crhelper')}"
    )
    with tempfile.TemporaryDirectory() as work:
        workdir = Path(work)
        if wanted("1"):
            template_sizes()
        ours_asset = asset_sizes(workdir) if wanted("2") or wanted("3") else None
        with StandInServer() as server, ResponseReceiver(workdir) as receiver:
            env = {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "AKIDBENCH",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_ENDPOINT_URL_DOCDB_ELASTIC": server.endpoint,
                "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9",
                "SSL_CERT_FILE": str(receiver.ca_file),
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
            os.environ.update(env)
            if wanted("3"):
                cold_start(ours_asset, server.service, receiver, env)
            if wanted("4"):
                readiness(server.service, receiver)
                restore_readiness(server.service, receiver)
                restore_test_readiness(server.service)
            if wanted("6"):
                backup_occurrence(server.service)
        if wanted("5"):
            synth_times(workdir)


if __name__ == "__main__":
    main()
