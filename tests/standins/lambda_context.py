"""A small fake of the Lambda context object, with a real clock behind its remaining time."""

from __future__ import annotations

import time
import uuid

from .docdb_elastic import ACCOUNT, REGION


class FakeLambdaContext:
    function_name = "SnapshotStack-DocDbElasticSnapshotProvider"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"

    def __init__(self, budget_seconds: float = 900.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self._deadline - time.monotonic()) * 1000)
