"""The snapshot kind's own failure, apart from final_copies so that raising or catching it does
not load the copy code."""

from __future__ import annotations

from ...once import Failed


class FinalCopyFailed(Failed):
    """The final snapshot is ACTIVE but a copy of it failed; the message says how to proceed."""
