"""Lambda entry point: crhelper, with its risky defaults replaced.

crhelper keeps the CloudFormation protocol (request routing, PhysicalResourceId rules, the
timer that answers before the Lambda times out). Replaced: its DEBUG logging of the event and
URL, its 120 s sleep on Delete, its unbounded response sender, and the three unused boto3
clients its constructor builds (they cost cold-start time and fail the container without a
region).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from crhelper import CfnResource

from . import contract, dispatch, logs, responder
from .once import Failed
from .parsing import InvalidProperties
from .request import Continue, Services

logger = logging.getLogger(__name__)

# One attempt per botocore call: api.Api does the retrying, within the Lambda's deadline.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=3, read_timeout=10)
_REQUIRED_EVENT_KEYS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")


class SnapshotResource(CfnResource):
    """crhelper's CfnResource without polling clients, DEBUG logs, sleeps or endless retries."""

    def __init__(self) -> None:
        # Deliberately not CfnResource.__init__: it builds lambda, events and logs clients for
        # polling, which this handler does not use. These are the attributes the crhelper
        # methods we keep (__call__, routing, _cfn_response, the timer) read.
        self._create_func = self._update_func = self._delete_func = None
        self._poll_create_func = self._poll_update_func = self._poll_delete_func = None
        self._timer: threading.Timer | None = None
        self._init_failed: Exception | None = None
        self._send_response = False
        self.Status = self.Reason = self.PhysicalResourceId = ""
        self.StackId = self.RequestId = self.LogicalResourceId = ""
        self.Data: dict[str, Any] = {}
        self.NoEcho = False
        self._event: dict[str, Any] = {}
        self._context: Any = None
        self._response_url = ""
        self._sam_local = None
        self._answered = threading.Lock()
        self._continued = False
        logs.setup()

    def _log_setup(self, event: dict[str, Any], context: Any) -> None:
        # First call of every invocation, before crhelper reads the event: reset what a previous
        # invocation left, so even a malformed event is answered at its own URL, exactly once.
        self._answered = threading.Lock()
        self._continued = False
        event = event if isinstance(event, dict) else {}
        self._context = context
        self._response_url = str(event.get("ResponseURL", ""))
        self.StackId = str(event.get("StackId", ""))
        self.RequestId = str(event.get("RequestId", ""))
        self.LogicalResourceId = str(event.get("LogicalResourceId", ""))
        self.PhysicalResourceId = str(event.get("PhysicalResourceId", ""))
        self.Status, self.Reason, self.Data = "FAILED", "", {}
        logs.bind(event, str(getattr(context, "aws_request_id", "")))
        logger.info("request received")
        missing = [key for key in _REQUIRED_EVENT_KEYS if not isinstance(event.get(key), str)]
        if missing or event.get("RequestType") not in ("Create", "Update", "Delete"):
            # crhelper answers FAILED with this message (when there is a URL to answer at).
            raise ValueError(
                "Malformed CloudFormation event: missing or invalid " + ", ".join(missing or ["RequestType"])
            )

    def continued(self) -> None:
        """This invocation hands the request to the next one, which will answer."""
        self._continued = True

    def _cfn_response(self, event: dict[str, Any]) -> None:
        if self._continued:
            logger.info("waiting continues in a new invocation; no answer from this one")
            return
        super()._cfn_response(event)  # type: ignore[misc]  # private to crhelper, absent from its stubs

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        """crhelper sleeps up to 120 s on Delete so logs flush; Lambda flushes them itself."""

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        # crhelper's timeout timer and the main thread can both get here: answer once.
        if not self._answered.acquire(blocking=False):
            logger.warning("a response was already sent for this request; not sending another")
            return
        response = {
            "Status": status or self.Status,
            "Reason": str(reason if status else self.Reason),
            "PhysicalResourceId": str(self.PhysicalResourceId or self.LogicalResourceId or "none"),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "NoEcho": self.NoEcho,
            "Data": self.Data,
        }
        budget = 30.0
        if self._context is not None:
            budget = max(1.0, self._context.get_remaining_time_in_millis() / 1000.0 - 1.0)
        responder.send(self._response_url, response, budget)


helper = SnapshotResource()
_client: Any = None
_lambda_client: Any = None


def _docdb_elastic() -> Any:
    """One client per container, made on first use: a Delete that retains never needs it."""
    global _client
    if _client is None:
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            raise Failed(
                "The function has no AWS region (AWS_REGION is not set), so it cannot call "
                "docdb-elastic. To fix: run the handler in Lambda, or set AWS_REGION"
            )
        _client = boto3.client("docdb-elastic", config=_CLIENT_CONFIG)
    return _client


def _explained(function: Callable[[dict[str, Any], Any], str]) -> Callable[[dict[str, Any], Any], str]:
    """Our own failures carry a Reason written for the user; anything else is a bug, reported
    as one rather than as a bare exception text."""

    @functools.wraps(function)
    def wrapper(event: dict[str, Any], context: Any) -> str:
        try:
            return function(event, context)
        except (InvalidProperties, Failed):
            raise
        except Exception as error:
            logger.exception("unexpected error")
            raise RuntimeError(
                f"Unexpected error in the snapshot handler ({type(error).__name__}: {error}); "
                "the function's log group has the details"
            ) from error

    return wrapper


def _invoke_function(function_arn: str, payload: dict[str, Any], timeout: float) -> str | None:
    """Invoke a function (a restore test's validation) and wait up to `timeout` seconds for its
    answer: None when it succeeded, else why not. One attempt: a validation is not repeated."""
    client = boto3.client(
        "lambda", config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=int(timeout))
    )
    try:
        answer = client.invoke(
            FunctionName=function_arn, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
        )
    except ReadTimeoutError:
        return f"{function_arn} did not answer within {int(timeout)} s"
    except ClientError as error:
        details = error.response.get("Error", {})
        return f"{function_arn} could not be invoked ({details.get('Code')}: {str(details.get('Message'))[:200]})"
    except BotoCoreError as error:
        return f"{function_arn} could not be invoked ({type(error).__name__}: {str(error)[:200]})"
    if answer.get("FunctionError"):
        body = answer["Payload"].read(2000).decode("utf-8", "replace")
        try:
            message = str(json.loads(body).get("errorMessage", body))
        except (ValueError, AttributeError):
            message = body
        return f"{function_arn} returned an error ({answer['FunctionError']}): {message[:300]}"
    return None


_SERVICES = Services(client_factory=_docdb_elastic, invoke=_invoke_function)


def _invoke_self(event: dict[str, Any], context: Any, state: dict[str, Any]) -> None:
    """Invoke this same function asynchronously with the event and the wait's state. The event
    (with a CloudFormation request's ResponseURL) travels only in the invocation payload, never
    in a log."""
    global _lambda_client
    if _lambda_client is None:
        _lambda_client = boto3.client("lambda", config=_CLIENT_CONFIG.merge(Config(retries={"total_max_attempts": 3})))
    payload = {**event, contract.CONTINUATION_KEY: state}
    _lambda_client.invoke(
        FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=json.dumps(payload).encode()
    )


def _continue_in_new_invocation(event: dict[str, Any], context: Any, state: dict[str, Any]) -> str:
    """Hand a CloudFormation request to a new invocation, which will answer it."""
    try:
        _invoke_self(event, context, state)
    except (BotoCoreError, ClientError) as error:
        raise Failed(
            f"The wait for {state.get('snapshotArn') or state.get('clusterArn') or 'the resource'} is not over and "
            f"could not continue in a new invocation ({type(error).__name__}: {str(error)[:200]}). To fix: check "
            "that the provider's "
            "role may invoke its own function, then deploy again"
        ) from error
    helper.continued()
    logger.info(
        "wait handed to a new invocation",
        extra={"snapshot_arn": state.get("snapshotArn"), "invocation": state.get("invocation")},
    )
    return str(event.get("PhysicalResourceId") or state.get("answerWith") or state.get("snapshotArn"))


@helper.create
@helper.update
@_explained
def _create_or_update(event: dict[str, Any], context: Any) -> str:
    try:
        if contract.CONTINUATION_KEY in event:
            physical_id, data = dispatch.resume(event, context, _SERVICES)
        else:
            physical_id, data = dispatch.create_or_update(event, context, _SERVICES)
    except Continue as pending:
        return _continue_in_new_invocation(event, context, pending.state)
    except Failed as failed:
        # A restore that failed after its cluster existed names it, so the rollback deletes it.
        named = getattr(failed, "physical_id", None)
        if named:
            helper.PhysicalResourceId = str(named)
        raise
    helper.Data.update(data)
    return physical_id


@helper.delete
@_explained
def _delete(event: dict[str, Any], context: Any) -> str:
    try:
        if contract.CONTINUATION_KEY in event:
            return dispatch.resume(event, context, _SERVICES)[0]
        return dispatch.delete(event, context, _SERVICES)
    except Continue as pending:
        return _continue_in_new_invocation(event, context, pending.state)


def _scheduled(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A scheduled occurrence (EventBridge Scheduler invokes asynchronously: nobody reads the
    answer). Per-cluster failures are reported in its metrics and log and do not fail the
    invocation; a failure of the whole occurrence does, so that Lambda delivers it again (which
    is safe: every name is the occurrence's own)."""
    logs.bind_fields(dispatch.scheduled_log_fields(event), str(getattr(context, "aws_request_id", "")))
    logger.info("scheduled occurrence received", extra={"continued": contract.CONTINUATION_KEY in event})
    try:
        return dispatch.run_scheduled(event, context, _SERVICES)
    except Continue as pending:
        _invoke_self(event, context, pending.state)
        logger.info("occurrence handed to a new invocation", extra={"phase": pending.state.get("phase")})
        return {"continued": True}
    except InvalidProperties as error:
        # Delivering it again cannot help: the schedule's input is wrong until the next deploy.
        logger.error("invalid scheduled input; nothing done", extra={"errors": error.errors})
        dispatch.count_invalid(event)
        return {"invalid": error.errors}
    except Exception:
        logger.exception("the occurrence failed")
        raise


def handler(event: dict[str, Any], context: Any) -> Any:
    if dispatch.scheduled_kind(event) is not None:
        return _scheduled(event, context)
    helper(event, context)
    return None
