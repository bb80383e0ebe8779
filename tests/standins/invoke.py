"""Invoke the handler in this process, as Lambda would, and read what CloudFormation got."""

from __future__ import annotations

import threading
from typing import Any

from docdb_snapshot_handler import entrypoint

from .lambda_context import FakeLambdaContext
from .response_receiver import ResponseReceiver


def answers(
    receiver: ResponseReceiver, event: dict[str, Any], times: int = 1, budget: float = 900.0
) -> list[dict[str, Any]]:
    """Deliver the same event `times` times; return every answer sent to its ResponseURL."""
    for _ in range(times):
        entrypoint.handler(event, FakeLambdaContext(budget))
    return receiver.responses_for(event["ResponseURL"])


def answer(receiver: ResponseReceiver, event: dict[str, Any], budget: float = 900.0) -> dict[str, Any]:
    """Deliver the event once; exactly one answer must come back."""
    sent = answers(receiver, event, budget=budget)
    assert len(sent) == 1, f"expected exactly one answer, got {sent}"
    return sent[0]


def at_once(event: dict[str, Any], deliveries: int = 2, timeout: float = 120.0) -> list[BaseException]:
    """Deliver the same event `deliveries` times at once, each in its own thread, as two
    overlapping deliveries of EventBridge Scheduler (or Lambda) would; return what they raised."""
    errors: list[BaseException] = []

    def delivery() -> None:
        try:
            entrypoint.handler(event, FakeLambdaContext())
        except BaseException as error:  # returned: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=delivery) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
