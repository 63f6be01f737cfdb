"""The line in front of an engine's generation slots (`SlotQueue`), and who is waiting (`STAFF`, `PUBLIC`).

Requests beyond the engine's free slots wait here: staff requests, the default, before public ones,
each in arrival order; llama.cpp keeps a slot only staff may take.
"""

from __future__ import annotations

import itertools
import threading

# Who is waiting for a generation: staff (the Chat page, the writer, the OpenAI-compatible API with
# an `all` key; the default) go before the public (customer service for the website and the API).
STAFF, PUBLIC = 0, 1


class SlotQueue:
    """The engine's generation slots and the line in front of them. `slots` may be taken by anyone;
    `reserved` more only by staff. Waiting requests are admitted staff first, then public, each in
    arrival order (a ticket is taken on arrival). Same interface as core.storage.locking.FairLock,
    plus a priority per ticket.

    Why both: priority alone still makes a staff request wait for a public answer to finish (20-30 s
    for a 300-token answer on 2 cores); the reserved slot lets it start at once, read alongside the
    public answers (continuous batching). Public throughput keeps all of `slots`.

    Each holder also gets a slot number (`slot_of`): staff the reserved numbers first (0 up), the
    public the others; llama.cpp reads the prompts of its slots in slot order, so a staff prompt is
    read before the customers' long ones."""

    def __init__(self, slots: int = 1, reserved: int = 0) -> None:
        self.slots = max(1, int(slots))
        self.reserved = max(0, int(reserved))
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._waiting: dict[int, int] = {}  # ticket -> priority, not admitted yet
        self._holders: dict[int, int] = {}  # ticket -> priority, generating
        self._numbers: dict[int, int] = {}  # ticket -> its slot's number, while generating

    def take_ticket(self, priority: int = STAFF) -> int:
        with self._cond:
            ticket = next(self._tickets)
            self._waiting[ticket] = priority
            return ticket

    def _before(self, ticket: int) -> tuple[int, int]:
        return (self._waiting[ticket], ticket)

    def _room(self, priority: int) -> bool:
        taken = len(self._holders)
        if priority == STAFF:
            return taken < self.slots + self.reserved
        public = sum(1 for p in self._holders.values() if p != STAFF)
        return public < self.slots and taken < self.slots + self.reserved

    def waiting_ahead(self, ticket: int) -> int:
        """How many requests are ahead of this ticket: those being served and those waiting before it."""
        with self._cond:
            if ticket not in self._waiting:
                return 0
            mine = self._before(ticket)
            return len(self._holders) + sum(1 for t in self._waiting if self._before(t) < mine)

    def waiting(self, priority: int | None = None) -> int:
        """Requests waiting for a slot (of this priority)."""
        with self._cond:
            return sum(1 for p in self._waiting.values() if priority is None or p == priority)

    def acquire(self, ticket: int, cancelled: threading.Event | None = None) -> bool:
        """Block until it is this ticket's turn and a slot it may take is free; False if `cancelled`
        was set while waiting (the ticket then gives up its place in the line)."""
        with self._cond:
            while True:
                if cancelled is not None and cancelled.is_set():
                    self._waiting.pop(ticket, None)
                    self._cond.notify_all()
                    return False
                priority = self._waiting[ticket]
                if min(self._waiting, key=self._before) == ticket and self._room(priority):
                    del self._waiting[ticket]
                    self._holders[ticket] = priority
                    self._numbers[ticket] = self._free_number(priority)
                    self._cond.notify_all()
                    return True
                self._cond.wait(timeout=0.1)

    def _free_number(self, priority: int) -> int:
        taken = set(self._numbers.values())
        reserved, shared = range(self.reserved), range(self.reserved, self.reserved + self.slots)
        order = [*reserved, *shared] if priority == STAFF else [*shared, *reserved]
        return next(n for n in order if n not in taken)

    def slot_of(self, ticket: int) -> int | None:
        """The number (0 to slots + reserved - 1) of the slot this admitted ticket holds."""
        with self._cond:
            return self._numbers.get(ticket)

    def release(self, ticket: int | None = None) -> None:
        with self._cond:
            if ticket is None:
                self._holders.clear()
                self._numbers.clear()
            else:
                self._holders.pop(ticket, None)
                self._numbers.pop(ticket, None)
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """True while every slot anyone may take is taken (a public request would wait)."""
        with self._cond:
            return len(self._holders) >= self.slots

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._holders)
