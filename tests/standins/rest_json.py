"""What the loopback stand-ins of AWS REST-JSON APIs share (docdb-elastic, EventBridge
Scheduler): routes made from botocore's request URIs, query members by their model types,
requests validated against the model, the SigV4 signing region, and an HTTP server on 127.0.0.1.

A service object answers `handle(operation, params, region) -> (status, body, headers)`; it may
raise ConnectionReset to drop the connection as a network fault would.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_REGION = "us-east-1"

Route = tuple[str, "re.Pattern[str]", str]


class Service(Protocol):
    def handle(
        self, operation: str, params: dict[str, Any], region: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]: ...


class ConnectionReset(Exception):
    pass


class ValidationFailed(Exception):
    pass


def validate(shape: Any, value: Any, path: str) -> None:
    """Raise ValidationFailed where `value` breaks botocore's `shape` (required members, types,
    lengths, patterns, ranges, enums), as the service would refuse it."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise ValidationFailed(f"{path} must be an object")
        for name in shape.required_members:
            if name not in value:
                raise ValidationFailed(f"{path}.{name} is required")
        for name, item in value.items():
            if name not in shape.members:
                raise ValidationFailed(f"{path}.{name} is not a member of {shape.name}")
            validate(shape.members[name], item, f"{path}.{name}")
    elif kind == "string":
        if not isinstance(value, str):
            raise ValidationFailed(f"{path} must be a string")
        if "min" in meta and len(value) < meta["min"]:
            raise ValidationFailed(f"{path} is shorter than {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            raise ValidationFailed(f"{path} is longer than {meta['max']}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            raise ValidationFailed(f"{path} does not match {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            raise ValidationFailed(f"{path} is not one of {shape.enum}")
    elif kind == "integer":
        if not isinstance(value, int):
            raise ValidationFailed(f"{path} must be an integer")
        if "min" in meta and value < meta["min"]:
            raise ValidationFailed(f"{path} is below {meta['min']}")
        if "max" in meta and value > meta["max"]:
            raise ValidationFailed(f"{path} is above {meta['max']}")
    elif kind == "map":
        if not isinstance(value, dict):
            raise ValidationFailed(f"{path} must be a map")
        for key, item in value.items():
            validate(shape.key, key, f"{path} key")
            validate(shape.value, item, f"{path}[{key}]")
    elif kind == "list":
        if not isinstance(value, list):
            raise ValidationFailed(f"{path} must be a list")
        for index, item in enumerate(value):
            validate(shape.member, item, f"{path}[{index}]")


def routes(model: Any, names: Iterable[str]) -> list[Route]:
    """Routes made from the model's request URIs: /cluster-snapshot/{snapshotArn} and the like."""
    made = []
    for name in names:
        http = model.operation_model(name).http
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(http["requestUri"].split("?")[0]))
        made.append((http["method"], re.compile(f"^{pattern}$"), name))
    return made


def typed_query(model: Any, operation: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """Query-string members by their model names and types (maxResults is an integer)."""
    params: dict[str, Any] = {}
    for member, shape in model.operation_model(operation).input_shape.members.items():
        wire = shape.serialization.get("name", member)
        if shape.serialization.get("location") == "querystring" and wire in query:
            value = query[wire][0]
            params[member] = int(value) if shape.type_name == "integer" else value
            if shape.type_name == "list":
                params[member] = query[wire]
    return params


def signing_region(authorization: str, service: str = "docdb-elastic") -> str:
    """The region a request was signed for (SigV4 scope: Credential=AKID/20260101/us-west-2/<service>/
    aws4_request); DEFAULT_REGION when unsigned."""
    match = re.search(
        rf"Credential=[^/,\s]+/\d{{8}}/([a-z0-9-]+)/{re.escape(service)}/aws4_request", authorization or ""
    )
    return match.group(1) if match else DEFAULT_REGION


def rest_json_handler(
    service: Service, model: Any, table: list[Route], signing_service: str, error_key: str
) -> type[BaseHTTPRequestHandler]:
    """An HTTP handler that routes each request to `service.handle` and answers as AWS does."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle on, the client's delayed ACK
        # holds every answer back ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            for verb, pattern, operation in table:
                match = pattern.match(parts.path)
                if verb == method and match:
                    params: dict[str, Any] = json.loads(raw) if raw else {}
                    params.update({k: unquote(v) for k, v in match.groupdict().items()})
                    params.update(typed_query(model, operation, parse_qs(parts.query)))
                    region = signing_region(self.headers.get("Authorization", ""), signing_service)
                    try:
                        status, body, headers = service.handle(operation, params, region)
                    except ConnectionReset:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    break
            else:
                status, body, headers = (
                    404,
                    {error_key: f"no route {method} {parts.path}"},
                    {"x-amzn-ErrorType": "ResourceNotFoundException"},
                )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

        def do_PUT(self) -> None:
            self._route("PUT")

    return Handler


class LoopbackServer:
    """Serve a handler on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
