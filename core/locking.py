"""Locks: a first-come, first-served lock for generation requests, and the cross-process file
lock and crash-safe file replacement that the stores use (bottom of the file).

`threading.Lock` makes no ordering promise, so under load one browser tab could starve another.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import threading
import time
from pathlib import Path


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


# -- files: a cross-process lock and crash-safe replacement -------------------------------------
# Shared by the knowledge base, fine-tuning and backup/restore (core/backup.py). A process killed
# with SIGKILL never runs its clean-up code, so every write that must not be seen half-done is
# written aside and renamed into place (rename is atomic on POSIX), and locks are flocks, which the
# kernel drops when their holder dies.


class LockBusy(RuntimeError):
    pass


@contextlib.contextmanager
def file_lock(path, timeout: float = 60, busy: str = "Another process holds {path}; try again shortly",
              error: type[Exception] = LockBusy):
    """An exclusive flock on `path` (created if missing), waited for up to `timeout` seconds; then
    `error(busy)`."""
    import fcntl

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
    import ctypes
    import sys

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
