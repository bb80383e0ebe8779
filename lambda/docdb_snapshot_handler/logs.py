"""One JSON object per log line, tagged with the request, and never a presigned URL.

CloudFormation's ResponseURL is a presigned S3 URL: anyone who reads it can answer for the stack.
crhelper logs the whole event at DEBUG, so redaction is done on every formatted line rather than
by trusting each caller.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

# The query string of any URL carries the presigned credential.
_URL_QUERY = re.compile(r"(https?://[^\s\"'?]+)\?[^\s\"']*")
REDACTED = "[redacted]"

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _URL_QUERY.sub(lambda match: f"{match.group(1)}?{REDACTED}", text)


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self.context: dict[str, str] = {}
        self.secrets: tuple[str, ...] = ()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self.context,
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str), self.secrets)


FORMATTER = JsonFormatter()


def setup() -> None:
    """Install the formatter on the root handlers (Lambda's own, or stderr when run locally)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(FORMATTER)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    # botocore at DEBUG logs signed request headers; it never needs to say more than warnings.
    for name in ("boto3", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def bind(event: dict[str, Any], aws_request_id: str) -> None:
    """Tag every following line with this request; register its ResponseURL as a secret."""
    FORMATTER.context = {
        "aws_request_id": aws_request_id,
        "request_type": str(event.get("RequestType", "")),
        "logical_resource_id": str(event.get("LogicalResourceId", "")),
        "cfn_request_id": str(event.get("RequestId", "")),
    }
    url = str(event.get("ResponseURL", ""))
    FORMATTER.secrets = (url, url.partition("?")[2])


def bind_fields(fields: dict[str, str], aws_request_id: str) -> None:
    """Tag every following line with `fields` (a scheduled run: its plan, rule and time); it has
    no presigned URL to keep out of the log."""
    FORMATTER.context = {"aws_request_id": aws_request_id, **fields}
    FORMATTER.secrets = ()
