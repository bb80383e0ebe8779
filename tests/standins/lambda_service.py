"""A loopback stand-in for the Lambda Invoke API: an asynchronous invocation (the handler
continuing its own wait) is run like Lambda would run it, in a fresh process with a small
time budget, one after another. Requests are checked against botocore's lambda model."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import botocore.session

MODEL = botocore.session.get_session().get_service_model("lambda")
RUNTIME = Path(__file__).resolve().parent / "lambda_runtime.py"
INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
ASYNC_PAYLOAD_LIMIT = 1024 * 1024


@dataclass
class Invocation:
    function: str
    invocation_type: str
    event: dict[str, Any]
    returncode: int | None = None
    stderr: str = ""


class LambdaStandIn:
    def __init__(self, asset_dir: Path, handler: str, env: dict[str, str], budget_seconds: float) -> None:
        self.asset_dir = asset_dir
        self.handler = handler
        self.env = env
        self.budget_seconds = budget_seconds
        self.invocations: list[Invocation] = []
        self.other_requests: list[str] = []
        self.refuse_with: tuple[int, str] | None = None
        # Functions invoked synchronously (RequestResponse), by name or ARN: run in this process;
        # what one raises is answered as Lambda answers an unhandled error.
        self.functions: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self._queue: queue.Queue[Invocation | None] = queue.Queue()
        self.idle = threading.Event()
        self.idle.set()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: with Nagle on, the client's delayed ACK
            # holds every answer back ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload, headers = service.handle(self.path, dict(self.headers), body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_DELETE = do_PUT = do_POST

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._threads = [
            threading.Thread(target=self.httpd.serve_forever, daemon=True),
            threading.Thread(target=self._run_queue, daemon=True),
        ]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
        match = INVOKE.match(path.split("?")[0])
        if not match:
            self.other_requests.append(path)
            return (
                404,
                b'{"Message": "not supported by the stand-in"}',
                {"x-amzn-ErrorType": "ResourceNotFoundException"},
            )
        if self.refuse_with:
            status, code = self.refuse_with
            return status, json.dumps({"Message": "refused by the test"}).encode(), {"x-amzn-ErrorType": code}
        function = unquote(match.group("name"))
        name_shape = MODEL.operation_model("Invoke").input_shape.members["FunctionName"]
        invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if (
            not (name_shape.metadata["min"] <= len(function) <= name_shape.metadata["max"])
            or not re.match(name_shape.metadata["pattern"], function)
            or len(body) > ASYNC_PAYLOAD_LIMIT
        ):
            return 400, b'{"Message": "invalid request"}', {"x-amzn-ErrorType": "InvalidParameterValueException"}
        invocation = Invocation(function, invocation_type, json.loads(body))
        self.invocations.append(invocation)
        if invocation_type == "RequestResponse":
            return self._run_now(invocation)
        self.idle.clear()
        self._queue.put(invocation)
        return 202, b"", {}

    def _run_now(self, invocation: Invocation) -> tuple[int, bytes, dict[str, str]]:
        function = self.functions.get(invocation.function) or self.functions.get(invocation.function.split(":")[-1])
        if function is None:
            message = f"Function not found: {invocation.function}"
            return 404, json.dumps({"Message": message}).encode(), {"x-amzn-ErrorType": "ResourceNotFoundException"}
        try:
            result = function(invocation.event)
        except Exception as error:
            invocation.returncode = 1
            body = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []}
            return 200, json.dumps(body).encode(), {"X-Amz-Function-Error": "Unhandled"}
        invocation.returncode = 0
        return 200, json.dumps(result).encode(), {"X-Amz-Executed-Version": "$LATEST"}

    def _run_queue(self) -> None:
        while True:
            invocation = self._queue.get()
            if invocation is None:
                return
            result = subprocess.run(
                [
                    sys.executable,
                    "-S",
                    str(RUNTIME),
                    str(self.asset_dir),
                    sysconfig.get_paths()["purelib"],
                    self.handler,
                ],
                input=json.dumps(
                    {
                        "event": invocation.event,
                        "budget_seconds": self.budget_seconds,
                        "function_arn": invocation.function,
                    }
                ),
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, **self.env},
            )
            invocation.returncode, invocation.stderr = result.returncode, result.stderr
            if self._queue.empty():
                self.idle.set()

    def __enter__(self) -> LambdaStandIn:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self.httpd.shutdown()
        self.httpd.server_close()
