"""The recovery report's failures (`docdb-elastic-backup report`): exit code 2, one line on
standard error that says what to do, calling nothing it need not; with --json that line is one
JSON object, `{"error": {"kind", "message", "exitCode"}}`, and the exit code is the same."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docdb_elastic_snapshot.report import cli, gather
from report_support import NO_CREDENTIALS, backup_input, run
from standins.docdb_elastic import Fault


def json_error(err: str) -> dict[str, Any]:
    """Standard error of a --json run: exactly one line, one JSON object holding only the error."""
    assert err.endswith("\n") and err.count("\n") == 1, err
    document = json.loads(err)
    assert set(document) == {"error"} and set(document["error"]) == {"kind", "message", "exitCode"}, document
    return dict(document["error"])


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere: no environment variables, empty config files, no instance metadata."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    for key in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    for key, name in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials")):
        (tmp_path / name).write_text("")
        monkeypatch.setenv(key, str(tmp_path / name))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_missing_credentials_exit_2_with_one_clear_line(docdb, scheduler, capsys, no_credentials):
    # GIVEN no credentials anywhere, and a cluster
    docdb.add_cluster("orders")
    # WHEN the report is asked for
    code = run()
    # THEN it says what to do, in one line, and calls nothing
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err == f"docdb-elastic-backup: {NO_CREDENTIALS}\n"
    assert docdb.calls == [] and scheduler.calls == []


def test_with_json_missing_credentials_are_one_json_object_and_still_exit_2(docdb, scheduler, capsys, no_credentials):
    # GIVEN no credentials anywhere
    # WHEN the report is asked for as JSON
    code = run("--json")
    # THEN standard error is one JSON object with the same message, and the exit code is still 2
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert json_error(out.err) == {"kind": "no-credentials", "message": NO_CREDENTIALS, "exitCode": 2}
    assert docdb.calls == [] and scheduler.calls == []


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("docdb", "ListClusters", "docdb-elastic:ListClusters"),
        ("docdb", "ListClusterSnapshots", "docdb-elastic:ListClusterSnapshots"),
        ("scheduler", "GetSchedule", "scheduler:GetSchedule"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_access_denied_names_the_refused_action_and_the_permissions_needed(
    docdb, scheduler, capsys, service, operation, action, as_json
):
    # GIVEN a protected cluster, and an identity not allowed `operation`
    orders = docdb.add_cluster("orders")
    scheduler.add_schedule("daily", backup_input(clusters=(orders,)))
    denied = f"User: arn:aws:iam::123456789012:user/reader is not authorized to perform: {action}"
    if service == "docdb":
        docdb.inject(operation, Fault(403, "AccessDeniedException", denied))
    else:
        scheduler.denied.add(operation)
    # WHEN the report is asked for (as text, or as JSON)
    code = run("--json") if as_json else run()
    # THEN it fails with the action named and the whole read-only policy listed, in one line, and no report
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    if as_json:
        error = json_error(out.err)
        assert (error["kind"], error["exitCode"]) == ("access-denied", 2)
        message = error["message"]
    else:
        assert out.err.startswith("docdb-elastic-backup: ") and out.err.count("\n") == 1
        message = out.err
    assert f"access denied: {action} was refused" in message
    assert ", ".join(gather.REQUIRED_PERMISSIONS) in message


def unreachable(monkeypatch: pytest.MonkeyPatch) -> str:
    """A docdb-elastic endpoint where nothing listens (a port just freed), and no retries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DOCDB_ELASTIC", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return endpoint


def test_an_endpoint_that_cannot_be_reached_exits_2(docdb, scheduler, capsys, monkeypatch):
    # GIVEN a docdb-elastic endpoint where nothing listens
    endpoint = unreachable(monkeypatch)
    # WHEN the report is asked for
    code = run()
    # THEN it says which endpoint it could not reach
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err.startswith(f"docdb-elastic-backup: could not reach {endpoint}/clusters")


def test_with_json_an_endpoint_that_cannot_be_reached_is_a_json_error(docdb, scheduler, capsys, monkeypatch):
    # GIVEN a docdb-elastic endpoint where nothing listens
    endpoint = unreachable(monkeypatch)
    # WHEN the report is asked for as JSON
    code = run("--json")
    # THEN the error is JSON, naming the endpoint, and the exit code 2
    out = capsys.readouterr()
    error = json_error(out.err)
    assert code == 2 and out.out == ""
    assert (error["kind"], error["exitCode"]) == ("unreachable", 2)
    assert error["message"].startswith(f"could not reach {endpoint}/clusters")


def test_usage_errors_exit_2(capsys):
    # GIVEN no command, or an option the report does not have
    # WHEN the tool is run with them
    # THEN argparse's usage is printed and the exit code is 2
    assert cli.main([]) == 2
    assert cli.main(["report", "--regoin", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert "usage: docdb-elastic-backup" in err and "error: unrecognized arguments: --regoin us-east-1" in err


def test_with_json_a_usage_error_is_a_json_error_with_the_usage(capsys):
    # GIVEN an option the report does not have, next to --json
    # WHEN the tool is run with them
    code = cli.main(["report", "--json", "--regoin", "us-east-1"])
    # THEN the exit code is 2 and standard error one JSON object naming the argument and the usage
    out = capsys.readouterr()
    error = json_error(out.err)
    assert code == 2 and out.out == ""
    assert (error["kind"], error["exitCode"]) == ("usage", 2)
    assert "unrecognized arguments: --regoin us-east-1" in error["message"]
    assert "usage: docdb-elastic-backup" in error["message"]


def test_an_unknown_profile_exits_2(docdb, scheduler, capsys):
    # GIVEN AWS config files without the profile asked for
    # WHEN the report is asked for with it (as text, then as JSON)
    code = run("--profile", "no-such-profile")
    text = capsys.readouterr().err
    json_code = run("--profile", "no-such-profile", "--json")
    error = json_error(capsys.readouterr().err)
    # THEN it says so both ways, with exit code 2, and calls nothing
    assert code == json_code == 2 and docdb.calls == []
    assert "the AWS profile 'no-such-profile' is not in the AWS config files" in text
    assert error["kind"] == "unknown-profile" and "'no-such-profile'" in error["message"]


def test_the_installed_console_script_exits_2_with_a_json_error(tmp_path: Path):
    # GIVEN the console script, and a process without credentials or a region
    script = Path(sys.executable).parent / "docdb-elastic-backup"
    assert script.exists(), f"{script} is missing: run make setup (pip install --no-deps -e .)"
    (tmp_path / "empty").write_text("")
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "empty"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "empty"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # WHEN it is run with --json
    result = subprocess.run(
        [str(script), "report", "--region", "us-east-1", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    # THEN the process exits 2, with nothing on standard output and the error as JSON
    assert result.returncode == 2 and result.stdout == ""
    assert json_error(result.stderr)["kind"] == "no-credentials"
