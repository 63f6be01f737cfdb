"""The data folder is the app's alone: its database, logs and backups are readable by the user the
app runs as and nobody else (folders 0700, files 0600), whatever the umask of the shell or the
container that started it. Made so where they are created (`private_dir`, `create_private`), and
tightened where an older install left them open (`secure_data_dir`, at every start)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")  # SQLite makes the others with the database's mode


def tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` if it is open to the group or others (a missing path: nothing)."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if current & 0o077:
        os.chmod(path, mode)


def private_dir(path: Path, tighten_existing: bool = True) -> Path:
    """`path` made (with its missing parents) 0700; an existing one tightened to 0700 too, unless
    `tighten_existing` is False (a folder of the user's own that a backup is written into)."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for made in missing:  # mkdir's mode is masked by the umask, and parents are made without it
        tighten(made, DIR_MODE)
    if tighten_existing:
        tighten(path, DIR_MODE)
    return path


def create_private(path: Path) -> Path:
    """`path` created empty with mode 0600 if missing (so what opens it next, SQLite or a log, keeps
    that mode), else tightened to 0600."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        tighten(path, FILE_MODE)
    return path


def private_db(path: Path) -> None:
    """A SQLite database's folder 0700 and its files (the database, its WAL and shared memory) 0600."""
    private_dir(path.parent)
    create_private(path)
    for suffix in DB_SUFFIXES[1:]:
        tighten(path.with_name(path.name + suffix), FILE_MODE)


def secure_data_dir(data_dir: Path) -> Path:
    """At start: the data folder 0700, its database files 0600, its logs folder 0700 and the logs in
    it 0600 (a log made by the model server before this ran, say)."""
    data_dir = private_dir(Path(data_dir))
    for child in data_dir.iterdir():
        if child.is_file() and child.name.endswith((".db", *(f".db{s}" for s in DB_SUFFIXES[1:]))):
            tighten(child, FILE_MODE)
    logs = private_dir(data_dir / "logs")
    for log in logs.iterdir():
        if log.is_file():
            tighten(log, FILE_MODE)
    return data_dir
