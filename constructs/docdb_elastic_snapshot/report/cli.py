"""docdb-elastic-backup report: the recovery report of a region, for people and for monitoring.

Exit codes: 0 nothing wrong; 1 a cluster's rule is overdue, its last restore test failed, or the
region's manual snapshots are at 90% of the quota or more; 2 the report could not be made (usage,
credentials, permissions, connection). Every failure to make it is one line on stderr that says
what to do, never a traceback; with --json, that line is one JSON object,
`{"error": {"kind", "message", "exitCode"}}`, so that a program asking for JSON reads its failures
as JSON too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from rich.console import Console

from docdb_snapshot_handler import contract

from . import gather, render

NO_CREDENTIALS = (
    "No AWS credentials found: configure them (aws configure, AWS_PROFILE, or environment variables) and run again"
)
_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
# What AWS answers when the credentials themselves are wrong, expired, or not for this region.
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
    }
)
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)
OK, PROBLEMS, FAILED = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="docdb-elastic-backup", description="Backups of Amazon DocumentDB elastic clusters.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="which clusters are protected, their newest recovery points and last restore tests",
        description=(
            "A read-only recovery report of one region. Exits 1 when a rule's newest recovery point of a "
            "cluster is older than the rule allows, a cluster's last restore test failed, or the region's "
            f"manual snapshots reach {contract.QUOTA_WARNING_SHARE:.0%} of the quota; 2 when the report could not "
            "be made. JSON when --json is given or stdout is not a terminal."
        ),
    )
    report.add_argument("--region", help="the AWS region (default: the profile's or AWS_REGION)")
    report.add_argument("--profile", help="a named profile of the AWS config (default: AWS_PROFILE or the default)")
    report.add_argument("--json", action="store_true", help="print JSON, even to a terminal")
    report.add_argument(
        "--snapshot-quota",
        type=_positive,
        metavar="N",
        help=(
            "the account's quota of manual elastic cluster snapshots per region, if raised in Service Quotas "
            f"(default: {contract.MANUAL_SNAPSHOT_QUOTA_DEFAULT}, AWS's default quota)"
        ),
    )
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


class _UsageError(Exception):
    """argparse's complaint, raised instead of printed so that --json can shape it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.usage = parser.format_usage()
        self.prog = parser.prog


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)


def _fail(kind: str, message: str, as_json: bool) -> int:
    """One line on stderr: text, or with --json one JSON object; the exit code either way."""
    if as_json:
        line = json.dumps({"error": {"kind": kind, "message": message, "exitCode": FAILED}}, ensure_ascii=False)
    else:
        line = f"docdb-elastic-backup: {message}"
    print(line, file=sys.stderr)
    return FAILED


def _explain(error: gather.ApiError) -> tuple[str, str]:
    if error.code in _DENIED_CODES:
        return "access-denied", (
            f"access denied: {error.action} was refused ({error.message}). The report needs these read-only "
            f"permissions: {', '.join(gather.REQUIRED_PERMISSIONS)}"
        )
    if error.code in _CREDENTIAL_CODES:
        return "credentials-rejected", (
            f"AWS did not accept the credentials for {error.action} ({error.code}: {error.message}). Check that "
            "they are current and that the region is enabled for the account"
        )
    return "api-error", f"{error.action} failed ({error.code}: {error.message})"


def _report(region: str | None, profile: str | None, as_json: bool, snapshot_quota: int | None = None) -> int:
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        credentials = session.get_credentials()
    except ProfileNotFound:
        message = f"the AWS profile {profile!r} is not in the AWS config files: name one that is (aws configure)"
        return _fail("unknown-profile", message, as_json)
    except BotoCoreError as error:
        return _fail("credentials-unreadable", f"the AWS credentials could not be loaded ({error})", as_json)
    if credentials is None:
        return _fail("no-credentials", NO_CREDENTIALS, as_json)
    if not session.region_name:
        return _fail("no-region", "no AWS region: give --region (e.g. --region us-east-1) or set AWS_REGION", as_json)
    try:
        report = gather.gather(session, session.region_name, snapshot_quota)
    except gather.ApiError as error:
        return _fail(*_explain(error), as_json)
    except (NoCredentialsError, PartialCredentialsError):
        return _fail("no-credentials", NO_CREDENTIALS, as_json)
    except _UNREACHABLE as error:
        where = error.kwargs.get("endpoint_url", "the AWS endpoint")
        late = isinstance(error, ReadTimeoutError)
        what = f"no answer in time from {where}" if late else f"could not reach {where}"
        message = f"{what}. Check the network, the region, a proxy (HTTPS_PROXY) and any AWS_ENDPOINT_URL settings"
        return _fail("timeout" if late else "unreachable", message, as_json)
    except BotoCoreError as error:
        return _fail("failed", f"the report could not be made ({error})", as_json)
    console = Console()
    if as_json or not console.is_terminal:
        sys.stdout.write(render.to_json(report))
    else:
        render.table(report, console)
    return PROBLEMS if report.problem_count else OK


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(arguments)
    except _UsageError as error:
        # Before parsing succeeds, --json is known only as a word of the command line.
        if "--json" in arguments:
            return _fail("usage", f"{error} ({error.usage.strip()})", as_json=True)
        print(f"{error.usage}{error.prog}: error: {error}", file=sys.stderr)
        return FAILED
    except SystemExit as exit_:
        # --help has been printed; the code is argparse's verdict.
        return exit_.code if isinstance(exit_.code, int) else FAILED
    return _report(args.region, args.profile, args.json, args.snapshot_quota)


if __name__ == "__main__":
    sys.exit(main())
