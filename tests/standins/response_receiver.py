"""A loopback HTTPS server standing in for CloudFormation's presigned S3 ResponseURL.

It has its own certificate authority (trustme); the handler trusts it through SSL_CERT_FILE, as
it trusts the real S3 endpoint through the system store.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

SECRET_QUERY = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSECRETCREDENTIAL&X-Amz-Signature="


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    size: int
    at: float  # time.monotonic() on receipt


class ResponseReceiver:
    def __init__(self, ca_dir: Path) -> None:
        self.ca = trustme.CA()
        self.ca_file = ca_dir / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: with Nagle on, the client's delayed ACK
            # holds every answer back ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                with receiver.lock:
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    if status == 200:
                        receiver.received.append(Received(self.path, body, len(raw), time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def new_url(self) -> str:
        """A fresh presigned-looking URL: its query string stands for the secret credential."""
        token = uuid.uuid4().hex
        return f"https://localhost:{self.port}/cfn-response/{token}?{SECRET_QUERY}{token}"

    def responses_for(self, url: str) -> list[dict[str, Any]]:
        return [item.body for item in self.received_for(url)]

    def received_for(self, url: str) -> list[Received]:
        path = url.split(str(self.port), 1)[1]
        with self.lock:
            return [item for item in self.received if item.path == path]

    def __enter__(self) -> ResponseReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
