"""The one primitive every kind of resource the handler creates is built on (snapshots, restored
clusters, copies): create once per CloudFormation request, recognise by the request's tag, wait
within the deadline, continue in a new invocation.

Exactly once comes from the name: it is derived from the request alone, so every delivery of one
request (repeated or overlapping) asks for the same name and the service itself is the lock. The
first create wins; every other one is refused. Which error a taken name gets is not documented
(ConflictException is the likely one; a public report shows a ValidationException for a taken
elastic cluster name), so the refusal's code decides nothing: after any refusal the name is looked
up, and a resource of that name is adopted only if it carries this request's tag (set atomically
by the create call). No resource of that name: a ConflictException is the service saying "busy"
(a snapshot already in progress, a cluster updating), waited out with bounded backoff; any other
refusal stands with its own reason.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .api import ApiError

logger = logging.getLogger(__name__)

# Backoff while the service is busy: 2, 4, 8, 16, then every 30 s (plus jitter) until the deadline.
BUSY_FIRST_WAIT_SECONDS = 2.0
BUSY_MAX_WAIT_SECONDS = 30.0

# Polling for a status: every 2 s during the first minute, so a quick create is answered within
# about 2 s of turning ACTIVE; every 15 s after that, which bounds a 60-minute wait to about
# 30 + 236 calls while still answering within 15 s.
FAST_POLL_SECONDS = 2.0
FAST_POLL_PERIOD_SECONDS = 60.0
SLOW_POLL_SECONDS = 15.0


def poll_interval(elapsed_seconds: float) -> float:
    return FAST_POLL_SECONDS if elapsed_seconds < FAST_POLL_PERIOD_SECONDS else SLOW_POLL_SECONDS


def request_token(stack_id: str, logical_id: str, request_id: str) -> str:
    """Identifies one CloudFormation request; the same event delivered again has the same one."""
    return hashlib.sha256(f"{stack_id}|{logical_id}|{request_id}".encode()).hexdigest()[:32]


class Failed(RuntimeError):
    """The request cannot succeed; the message is CloudFormation's Reason, written for the user."""


class Paused(Exception):
    """This invocation's time is up but not the request's: continue in a new invocation."""

    def __init__(self, polls: int = 0) -> None:
        super().__init__("paused")
        self.polls = polls


class Budget:
    """The time a request may still spend: its resource's deadline, and the point where this
    invocation must hand over to the next one (both on the monotonic `clock`)."""

    def __init__(
        self,
        deadline: float,
        pause_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        at_ceiling: bool = False,
    ) -> None:
        self.deadline = deadline
        self.pause_at = pause_at
        self.clock = clock
        self.sleep = sleep
        # The resource's timeout is already CloudFormation's limit: a Reason must not advise
        # raising it.
        self.at_ceiling = at_ceiling

    def wait(self, seconds: float, timed_out: Callable[[], str], polls: int = 0) -> None:
        """Sleep up to `seconds`. Raise Failed(timed_out()) once the deadline has passed, or
        Paused when this invocation must hand over first."""
        now = self.clock()
        if now >= self.deadline:
            raise Failed(timed_out())
        if self.pause_at is not None and self.pause_at < self.deadline and now >= self.pause_at:
            raise Paused(polls)
        end = self.deadline if self.pause_at is None else min(self.deadline, self.pause_at)
        self.sleep(max(0.0, min(seconds, end - now)))


@dataclass(frozen=True)
class Found:
    """A resource with the name this request asked for, and the request tag it carries."""

    arn: str
    request_tag: str | None


def busy_wait_seconds(attempt: int, jitter: Callable[[float, float], float] = random.uniform) -> float:
    base = min(BUSY_MAX_WAIT_SECONDS, BUSY_FIRST_WAIT_SECONDS * 2.0 ** (attempt - 1))
    return base + float(jitter(0.0, base / 4))


# A name found without the request tag may be one whose tags are not readable yet (another
# delivery's create, a moment ago): read again this many times, a second apart, before calling
# it someone else's.
UNTAGGED_RECHECKS = 3


def create_once(
    *,
    create: Callable[[], dict[str, Any]],
    find: Callable[[], Found | None],
    adopt: Callable[[str], dict[str, Any]],
    token: str,
    budget: Budget,
    what: str,
    busy_reason: Callable[[], str],
    foreign_remedy: str,
    explain: Callable[[ApiError], Exception],
) -> dict[str, Any]:
    """`create()` once for this request. On any refusal, look the name up: adopt the resource
    found if this request tagged it; fail naming it if someone else did. Nothing of that name: a
    ConflictException means the service is busy, so wait and try again until the deadline; any
    other refusal stands (`explain(error)`). `busy_reason()` says what the service is doing (for
    the log and the Reason), and raises Failed when waiting is pointless (a cluster stopped, or
    gone)."""
    attempt = 0
    untagged = 0
    while True:
        attempt += 1
        try:
            return create()
        except ApiError as error:
            conflict = error
        try:
            found = find()
        except Failed as unreadable:
            # The refusal is the answer; the look-up that could not be made is only logged.
            logger.warning("name could not be looked up", extra={"what": what, "error": str(unreadable)[:300]})
            raise explain(conflict) from conflict
        if found is None and conflict.code != "ConflictException":
            raise explain(conflict) from conflict
        if found is not None and found.request_tag == token:
            logger.info("this request already created it; adopting", extra={"arn": found.arn, "what": what})
            return adopt(found.arn)
        if found is not None and found.request_tag is None and untagged < UNTAGGED_RECHECKS:
            untagged += 1
            budget.wait(1.0, functools.partial(_foreign, what, found, foreign_remedy))
            continue
        if found is not None:
            raise Failed(_foreign(what, found, foreign_remedy))
        reason = busy_reason()
        wait = busy_wait_seconds(attempt)
        logger.warning(
            "service busy, waiting to try again",
            extra={
                "what": what,
                "attempt": attempt,
                "wait_seconds": round(wait, 1),
                "error": conflict.message,
                "busy_because": reason,
            },
        )
        budget.wait(wait, functools.partial(_busy_timeout, what, conflict, busy_reason, budget))


def _foreign(what: str, found: Found, remedy: str) -> str:
    return (
        f"{what} already exists ({found.arn}) and was not created by this request, so it is "
        f"not used and nothing was changed. To fix: {remedy}"
    )


def _busy_timeout(what: str, conflict: ApiError, busy_reason: Callable[[], str], budget: Budget) -> str:
    reason = f"{what} could not be created before the timeout: the service kept answering ConflictException"
    try:
        state = busy_reason()
    except Failed as failed:
        state = str(failed)
    raise_it = "" if budget.at_ceiling else ", or raise the timeout prop"
    return f"{reason} ({conflict.message}); {state}. To fix: deploy again once it is done{raise_it}"


def wait_for_status(
    *,
    current: dict[str, Any],
    fetch: Callable[[], dict[str, Any]],
    budget: Budget,
    elapsed: Callable[[], float],
    what: str,
    target: str = "ACTIVE",
    failed_statuses: frozenset[str] = frozenset(),
    still_waiting_remedy: str = "raise the timeout prop",
    ends: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], int]:
    """Poll until the `status` member is `target` (or one of `ends`, past which `target` is no
    longer worth waiting for); return it and the polls made. Fail at once on a status in
    `failed_statuses`; raise Paused (with the polls made) at the invocation's limit."""
    polls = 0
    while True:
        status = current.get("status")
        if status == target or status in ends:
            logger.info("status reached", extra={"what": what, "status": status, "polls": polls})
            return current, polls
        if status in failed_statuses:
            raise Failed(
                f"{what} is {status} and will not become {target}. To fix: see its status and events "
                "in the DocumentDB console, then deploy again"
            )
        still = (
            f"{what} was still {status} when the wait ended; it may still become {target}. To fix: "
            f"{still_waiting_remedy}"
        )
        budget.wait(poll_interval(elapsed()), functools.partial(str, still), polls)
        polls += 1
        current = fetch()
