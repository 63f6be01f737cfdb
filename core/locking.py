"""A first-come, first-served lock: generation requests are served in the order they arrive.

`threading.Lock` makes no ordering promise, so under load one browser tab could starve another.
"""

from __future__ import annotations

import itertools
import threading


class FairLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._serving = 0
        self._holder: int | None = None
        self._cancelled: set[int] = set()

    def take_ticket(self) -> int:
        with self._cond:
            return next(self._tickets)

    def waiting_ahead(self, ticket: int) -> int:
        """How many requests will be served before this ticket."""
        with self._cond:
            return max(0, ticket - self._serving - len([t for t in self._cancelled if t < ticket]))

    def acquire(self, ticket: int, cancelled: threading.Event | None = None) -> bool:
        """Block until it is this ticket's turn; False if `cancelled` was set while waiting."""
        with self._cond:
            while self._serving != ticket:
                if cancelled is not None and cancelled.is_set():
                    self._cancelled.add(ticket)
                    self._advance_past_cancelled()
                    return False
                self._cond.wait(timeout=0.1)
            if cancelled is not None and cancelled.is_set():
                self._serving += 1
                self._advance_past_cancelled()
                self._cond.notify_all()
                return False
            self._holder = ticket
            return True

    def release(self) -> None:
        with self._cond:
            self._holder = None
            self._serving += 1
            self._advance_past_cancelled()
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._holder is not None

    def _advance_past_cancelled(self) -> None:
        while self._holder is None and self._serving in self._cancelled:
            self._cancelled.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()
