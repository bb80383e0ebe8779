"""The bounded response sender against the loopback HTTPS receiver."""

from __future__ import annotations

import json
import socket

from docdb_snapshot_handler import responder
from standins.response_receiver import ResponseReceiver

RESPONSE = {
    "Status": "SUCCESS",
    "PhysicalResourceId": "p",
    "StackId": "s",
    "RequestId": "r",
    "LogicalResourceId": "l",
    "Reason": "",
    "NoEcho": False,
    "Data": {},
}


def test_a_503_is_retried_until_accepted(receiver: ResponseReceiver, aws_env):
    receiver.statuses.extend([503, 503])
    url = receiver.new_url()
    pauses: list[float] = []
    assert responder.send(url, RESPONSE, budget_seconds=30, sleep=pauses.append) is True
    assert receiver.responses_for(url) == [RESPONSE] and pauses == [1.0, 2.0]


def test_a_403_is_not_success_and_the_sender_gives_up_after_its_attempts(receiver: ResponseReceiver, aws_env):
    receiver.statuses.extend([403] * responder.ATTEMPTS)
    url = receiver.new_url()
    pauses: list[float] = []
    assert responder.send(url, RESPONSE, budget_seconds=30, sleep=pauses.append) is False
    assert len(pauses) == responder.ATTEMPTS - 1 and receiver.responses_for(url) == []


def test_a_receiver_that_is_not_listening_ends_within_the_budget(aws_env):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    pauses: list[float] = []
    assert responder.send(f"https://localhost:{port}/x?sig=1", RESPONSE, 30, sleep=pauses.append) is False
    assert sum(pauses) <= 30


def test_a_long_reason_is_shortened_to_fit_4096_bytes_keeping_its_start_and_end():
    reason = "ValidationException: " + "x" * 10_000 + " the end"
    body = responder.fit_body({**RESPONSE, "Status": "FAILED", "Reason": reason})
    assert len(body) <= responder.MAX_BODY_BYTES
    sent = json.loads(body)["Reason"]
    assert sent.startswith("ValidationException: ") and sent.endswith(" the end") and "[...]" in sent
