"""Locks: a first-come, first-served lock for generation requests, and the cross-process file
lock and crash-safe file replacement that the stores use (bottom of the file).

`threading.Lock` makes no ordering promise, so under load one browser tab could starve another.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import sys
import threading
import time
from pathlib import Path


class FairLock:
    """First come, first served, with `slots` holders at a time (1: a plain lock; N: the engine's
    N parallel generation slots). A ticket is taken on arrival and admitted in ticket order."""

    def __init__(self, slots: int = 1) -> None:
        self.slots = max(1, int(slots))
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._issued = 0  # tickets taken so far
        self._next = 0  # the next ticket to admit
        self._holders: set[int] = set()
        self._cancelled: set[int] = set()

    def take_ticket(self) -> int:
        with self._cond:
            self._issued += 1
            return next(self._tickets)

    @property
    def taken(self) -> int:
        """Tickets taken so far: a count that grew by more than one's own request means someone
        else asked meanwhile (the read-ahead learns so that a customer came while it read)."""
        with self._cond:
            return self._issued

    def waiting(self) -> int:
        """Requests that took a ticket and wait for their turn (not admitted, not given up)."""
        with self._cond:
            return max(0, self._issued - self._next - len([t for t in self._cancelled if t >= self._next]))

    def waiting_ahead(self, ticket: int) -> int:
        """How many requests are ahead of this ticket: those being served and those waiting before it."""
        with self._cond:
            if ticket in self._holders or ticket < self._next:
                return 0
            waiting = ticket - self._next - len([t for t in self._cancelled if self._next <= t < ticket])
            return len(self._holders) + max(0, waiting)

    def acquire(self, ticket: int, cancelled: threading.Event | None = None) -> bool:
        """Block until it is this ticket's turn and a slot is free; False if `cancelled` was set
        while waiting (the ticket then gives up its place in the line)."""
        with self._cond:
            while not (self._next == ticket and len(self._holders) < self.slots):
                if cancelled is not None and cancelled.is_set():
                    self._give_up(ticket)
                    return False
                self._cond.wait(timeout=0.1)
            self._next += 1
            if cancelled is not None and cancelled.is_set():
                self._advance_past_cancelled()
                return False
            self._holders.add(ticket)
            self._advance_past_cancelled()
            return True

    def release(self, ticket: int | None = None) -> None:
        with self._cond:
            if ticket is None:  # a one-slot lock: the only holder
                self._holders.clear()
            else:
                self._holders.discard(ticket)
            self._advance_past_cancelled()

    @property
    def busy(self) -> bool:
        """True while every slot is taken."""
        with self._cond:
            return len(self._holders) >= self.slots

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._holders)

    def _give_up(self, ticket: int) -> None:
        if ticket >= self._next:
            self._cancelled.add(ticket)
        self._advance_past_cancelled()

    def _advance_past_cancelled(self) -> None:
        while self._next in self._cancelled:
            self._cancelled.discard(self._next)
            self._next += 1
        self._cond.notify_all()


# -- files: a cross-process lock and crash-safe replacement -------------------------------------
# Shared by the knowledge base, fine-tuning and backup/restore (core/backup.py). A process killed
# with SIGKILL never runs its clean-up code, so every write that must not be seen half-done is
# written aside and renamed into place (rename is atomic on POSIX), and locks are flocks, which the
# kernel drops when their holder dies.


class LockBusy(RuntimeError):
    pass


@contextlib.contextmanager
def file_lock(
    path,
    timeout: float = 60,
    busy: str = "Another process holds {path}; try again shortly",
    error: type[Exception] = LockBusy,
):
    """An exclusive flock on `path` (created if missing), waited for up to `timeout` seconds; then
    `error(busy)`."""
    import fcntl  # fcntl: POSIX only, and only the file lock needs it

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise error(busy.format(path=path)) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fsync_dir(path) -> None:
    """Make a rename in `path` durable (without it a power cut can undo the rename)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(root) -> None:
    """fsync every file and folder under `root` (before renaming it into place)."""
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(folder)


def atomic_write_text(path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader (or a restart after a crash) sees the old or
    the new content, never a truncated file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def exchange_paths(a, b) -> bool:
    """Swap two existing paths in one atomic step (Linux renameat2 RENAME_EXCHANGE): used to replace
    a folder, where a plain rename cannot go over a non-empty one. False where the OS or the file
    system cannot (the caller then falls back to two renames and a recovery step)."""
    import ctypes  # ctypes: only the Linux rename call needs it

    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc < 2.28, musl
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))
