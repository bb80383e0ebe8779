"""Run a bundled Lambda handler in a fresh interpreter, roughly as the Python runtime does.

Usage: python -S lambda_runtime.py ASSET_DIR BOTO_SITE_PACKAGES HANDLER < request.json
request.json: {"event": {...}, "budget_seconds": 900, "function_arn": "arn:aws:lambda:...",
               "warm_events": [{...}, ...]}

-S keeps this project's own installation (and its .pth files) off sys.path: the handler and
crhelper can only come from the asset; boto3 comes from a plain site-packages directory, as it
comes from the Lambda runtime. Prints one JSON line: where the modules were loaded from.
"""

import importlib
import json
import logging
import sys
import time
import uuid

asset_dir, boto_site_packages, handler_name = sys.argv[1:4]
sys.path[:0] = [asset_dir]
sys.path.append(boto_site_packages)

# The runtime installs its log handler on the root logger before importing the function.
logging.getLogger().addHandler(logging.StreamHandler(sys.stderr))


class Context:
    def __init__(self, budget_seconds, function_arn):
        self.invoked_function_arn = function_arn
        self.function_name = function_arn.rsplit(":", 1)[-1]
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self):
        return int(max(0.0, self._deadline - time.monotonic()) * 1000)


request = json.load(sys.stdin)
module_name, function_name = handler_name.rsplit(".", 1)
started = time.perf_counter()
module = importlib.import_module(module_name)
imported = time.perf_counter()
function_arn = request.get(
    "function_arn", "arn:aws:lambda:us-east-1:123456789012:function:DocDbElasticSnapshotProvider"
)
# "warm_events": more events for the same process afterwards, as a warm container gets them.
invoke_seconds = []
for event in [request["event"], *request.get("warm_events", [])]:
    before = time.perf_counter()
    getattr(module, function_name)(event, Context(request.get("budget_seconds", 900), function_arn))
    invoke_seconds.append(time.perf_counter() - before)
crhelper = sys.modules.get("crhelper")
print(
    json.dumps(
        {
            "handler_file": module.__file__,
            "crhelper_file": crhelper.__file__ if crhelper else None,
            "import_seconds": imported - started,
            "invoke_seconds": invoke_seconds[0],
            "warm_invoke_seconds": invoke_seconds[1:],
        }
    )
)
