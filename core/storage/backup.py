"""Backup and restore of everything the app stores (`python -m core backup` / `restore`).

A backup is one .tar.gz of `APP_DATA_DIR`: app.db (conversations, support questions, tickets,
writer history, scenarios, users, audit log), kb/ (the embedded Chroma store and its markers),
adapters/ (trained LoRA adapters and the active choice), writer/ outputs, and anything else there,
with a manifest.json listing every member's size and sha256. Left out, and listed as skipped in
the manifest: models/ (the assembled model and its cached checkpoint: large, and re-created from
the packages by `python -m core model prepare`), lock files, and unfinished work (`*.partial`).

It is consistent while the app runs:
- every SQLite database (app.db, Chroma's chroma.sqlite3) is copied with SQLite's online backup
  API, which reads one committed state; a plain file copy can tear a database being written;
- kb/ is copied holding each knowledge base's write lock (the one every import takes), so no
  import is half-way; adapters/ holding the publish lock, so no adapter is swapped mid-copy.
The locks are held only while the files are copied into a staging folder; packing comes after.

Restore reads and checks the whole archive before it touches anything (the manifest, every
member's name, type, size and checksum), refuses a damaged or foreign archive, refuses to replace
existing data without `force`, unpacks into a staging folder inside APP_DATA_DIR, and then swaps
the top-level entries in, putting the old ones back if anything fails. A member name can only
name a plain file under `data/`: never an absolute path, `..`, a link or a device. Stop the app
before restoring: it keeps the knowledge base open.

The archive holds the whole database (password hashes, API key hashes, conversations): it is
written 0600 (a folder made for it 0700), and what a restore unpacks is 0600 in 0700 folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sqlite3
import tarfile
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from core.config import Settings
from core.storage.backup_archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MODELS,
    PREFIX,
    STAGING,
    BackupError,
    unpack_verified,
)
from core.storage.locking import LockBusy, atomic_write_text, file_lock, fsync_dir
from core.storage.private import create_private, private_dir, secure_data_dir

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
UNFINISHED = (".partial", ".old", ".deleted")  # adapters being written, swapped or removed
LOCK_WAIT_S = 120


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a live database: SQLite's backup API, one read transaction."""
    source = sqlite3.connect(src, timeout=30)
    try:
        dest = sqlite3.connect(dst)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()


def _kb_names(kb_dir: Path, settings: Settings) -> list[str]:
    """Every knowledge base whose writes must be paused: those with a lock or version file (every
    write makes both), plus the configured one."""
    names = {settings.kb_name}
    if kb_dir.is_dir():
        names |= {p.stem for p in kb_dir.iterdir() if p.suffix in (".lock", ".version")}
    return sorted(names)


def _skip(rel: PurePosixPath, models_rel: str | None) -> str | None:
    """Why a file (path relative to APP_DATA_DIR) stays out of the backup, or None."""
    parts = rel.parts
    if parts[0] == MODELS or (models_rel and rel.as_posix().startswith(models_rel + "/")):
        return "models"
    if parts[0].startswith(STAGING):
        return "restore staging"
    name = parts[-1]
    if name.endswith(".lock") or (name.startswith(".") and name.endswith(".tmp")):
        return "lock or temporary file"
    if parts[0] == "adapters" and len(parts) > 2 and parts[1].endswith(UNFINISHED):
        return "unfinished adapter"
    return None


def backup(settings: Settings, out: Path) -> dict:
    """Write a backup of APP_DATA_DIR to `out` (.tar.gz); returns what was written."""
    data_dir = Path(settings.data_dir)
    out = Path(out).expanduser().resolve()
    if not data_dir.is_dir():
        raise BackupError(f"Nothing to back up: {data_dir} does not exist")
    if out.is_dir():
        raise BackupError(f"--out {out} is a folder; give a file name such as backup.tar.gz")
    private_dir(out.parent, tighten_existing=False)  # a folder made here: 0700; the archive: 0600
    recover_restore(data_dir)
    models_dir = Path(settings.runtime_models_dir).resolve()
    try:
        models_rel = models_dir.relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        models_rel = None  # APP_MODELS_DIR outside the data folder: not ours to back up anyway
    try:
        return _backup(settings, data_dir, out, models_dir, models_rel)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"Could not write the backup to {out}: {exc}") from None


def _backup(settings: Settings, data_dir: Path, out: Path, models_dir: Path, models_rel: str | None) -> dict:
    """Stage a consistent copy of the data folder (writes paused), then checksum, describe and pack it."""
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as tmp:
        staged = Path(tmp) / PREFIX
        with ExitStack() as locks:
            _pause_writes(settings, locks)
            members, skipped = _stage(data_dir, Path(tmp), out, models_dir, models_rel)
        for m in members:  # locks released: checksums and packing need none
            target = staged / m["path"]
            m["size"], m["sha256"] = target.stat().st_size, _sha256(target)
        manifest = _manifest(settings, staged, members, skipped)
        _pack(out, manifest, staged)
    return {
        "archive": str(out),
        "bytes": out.stat().st_size,
        "sha256": _sha256(out),
        "members": len(members),
        "created": manifest["created"],
        "counts": manifest["counts"],
        "skipped": manifest["skipped"],
        "kb_store": manifest["kb_store"],
    }


def _pause_writes(settings: Settings, locks: ExitStack) -> None:
    """Take every knowledge base's write lock and the adapters' publish lock into `locks`;
    BackupError when one stays busy for LOCK_WAIT_S."""
    try:
        for name in _kb_names(settings.kb_dir, settings):
            locks.enter_context(
                file_lock(
                    settings.kb_dir / f"{name}.lock",
                    LOCK_WAIT_S,
                    "A knowledge-base import is still running after 2 minutes; "
                    "try the backup again when it has finished",
                )
            )
        locks.enter_context(
            file_lock(
                settings.adapters_dir / ".publish.lock",
                LOCK_WAIT_S,
                "An adapter is being saved; try the backup again shortly",
            )
        )
    except LockBusy as exc:
        raise BackupError(str(exc)) from None


def _stage(
    data_dir: Path, tmp: Path, out: Path, models_dir: Path, models_rel: str | None
) -> tuple[list[dict], dict[str, str]]:
    """Copy every file to back up into `tmp`/data, in sorted order; returns the members copied
    (path and kind) and the paths left out with why."""
    members: list[dict] = []
    skipped: dict[str, str] = {}
    for folder, dirs, files in os.walk(data_dir):
        # Not into the staging folder (when --out is inside the data folder) or the model cache.
        for d in list(dirs):
            path = Path(folder, d)
            if path.is_symlink() or path.resolve() in (tmp.resolve(), models_dir):
                dirs.remove(d)
                if path.resolve() == models_dir or path.is_symlink():
                    skipped[path.relative_to(data_dir).as_posix() + "/"] = (
                        "symbolic link" if path.is_symlink() else "models"
                    )
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            rel = PurePosixPath(path.relative_to(data_dir).as_posix())
            why = _left_out(path, rel, out, models_rel)
            if why is not None:
                top = rel.parts[0] + "/" if why == "models" else rel.as_posix()
                skipped.setdefault(top, why)
                continue
            kind = _copy(path, tmp / PREFIX / rel)
            if kind is not None:
                members.append({"path": rel.as_posix(), "kind": kind})
    return members, skipped


def _left_out(path: Path, rel: PurePosixPath, out: Path, models_rel: str | None) -> str | None:
    """Why this file stays out of the backup (`_skip`'s reasons, or the archive itself, a link,
    a journal of a database copied whole), or None."""
    why = _skip(rel, models_rel)
    if why is None and path.resolve() == out:
        why = "the backup being written"
    if why is None and path.is_symlink():
        why = "symbolic link"
    if (
        why is None
        and path.name.endswith(SQLITE_COMPANIONS)
        and _is_sqlite(path.with_name(path.name.rsplit("-", 1)[0]))
    ):
        why = "SQLite journal (the database copy includes it)"
    return why


def _copy(path: Path, target: Path) -> str | None:
    """Copy one file to `target`: "sqlite" (through the backup API) or "file"; None if it is gone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if _is_sqlite(path):
            _sqlite_copy(path, target)
            return "sqlite"
        shutil.copyfile(path, target)
        return "file"
    except FileNotFoundError:  # removed while we walked (a temporary file)
        return None


def _manifest(settings: Settings, staged: Path, members: list[dict], skipped: dict[str, str]) -> dict:
    """manifest.json: the format, versions, row counts, what was left out and every member's checksum."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": _versions(),
        "kb_store": (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}: not in this backup "
            "(back up the server's volume)"
        )
        if settings.chroma_host.strip()
        else "embedded (kb/chroma)",
        "counts": _counts(staged / "app.db"),
        "skipped": [{"path": p, "reason": _REASONS.get(r, r)} for p, r in sorted(skipped.items())],
        "members": members,
    }


def _pack(out: Path, manifest: dict, staged: Path) -> None:
    """Write the manifest and the staged members to `out` (.tar.gz, 0600), replacing it in one step."""
    part = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        create_private(part)  # 0600 before a byte is written: the archive holds the whole database
        with tarfile.open(part, "w:gz", compresslevel=6) as tar:
            body = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
            _add(tar, MANIFEST, len(body), _BytesReader(body))
            for m in manifest["members"]:
                with open(staged / m["path"], "rb") as fh:
                    _add(tar, f"{PREFIX}/{m['path']}", m["size"], fh)
        with open(part, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(part, out)  # never a half-written archive under the final name
        fsync_dir(out.parent)
    finally:
        part.unlink(missing_ok=True)


_REASONS = {"models": "the model cache: large, and re-created by `python -m core model prepare`"}


class _BytesReader:
    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else self._pos + n
        chunk, self._pos = self._data[self._pos : end], min(end, len(self._data))
        return chunk


def _add(tar: tarfile.TarFile, name: str, size: int, fh) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, 0o644, int(time.time()), tarfile.REGTYPE
    tar.addfile(info, fh)


def _versions() -> dict:

    try:
        chroma = version("chromadb")
    except PackageNotFoundError:
        chroma = None
    return {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "chromadb": chroma}


def _counts(db: Path) -> dict:
    """Row counts of the main tables, for the manifest (and a quick check after a restore)."""
    if not db.is_file():
        return {}
    conn = sqlite3.connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        wanted = (
            "conversations",
            "messages",
            "support_questions",
            "tickets",
            "users",
            "writer_history",
            "scenarios",
            "audit_log",
        )
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in wanted if t in tables}
    finally:
        conn.close()


# -- restore ------------------------------------------------------------------------------------


def verify(archive: Path) -> dict:
    """Check an archive completely (manifest, names, checksums, databases) without restoring it."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    with tempfile.TemporaryDirectory(prefix=".verify-") as tmp:
        return unpack_verified(archive, Path(tmp))


def _existing(data_dir: Path) -> list[str]:
    """Top-level entries a restore would replace (the model cache and staging folders stay)."""
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir() if p.name != MODELS and not p.name.startswith(STAGING))


def restore(settings: Settings, archive: Path, force: bool = False) -> dict:
    """Replace APP_DATA_DIR's contents (all but models/) with the backup `archive`."""
    archive = Path(archive).expanduser()
    data_dir = Path(settings.data_dir)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    recover_restore(data_dir)
    existing = _existing(data_dir)
    if existing and not force:
        raise BackupError(
            f"{data_dir} already holds data ({', '.join(existing[:5])}); restoring would replace it. "
            "Make a backup of it first, stop the app, then restore with --force"
        )
    private_dir(data_dir)
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=data_dir))
    try:
        manifest = unpack_verified(archive, staging / "new")
        (staging / "new").mkdir(exist_ok=True)
        _swap(data_dir, staging)
    except OSError as exc:  # disk full, permissions: _swap has put the old entries back
        raise BackupError(f"Could not put the restored data in place ({exc}); the data there is unchanged") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    secure_data_dir(data_dir)
    warnings = []
    made_with = (manifest.get("versions") or {}).get("chromadb")
    running = _versions()["chromadb"]
    if made_with and running and made_with.split(".")[:2] != running.split(".")[:2]:
        warnings.append(
            f"The knowledge base was saved by chromadb {made_with}; this install has {running}. "
            "If search fails, re-import the documents."
        )
    return {
        "restored": str(data_dir),
        "archive": str(archive),
        "created": manifest.get("created"),
        "members": len(manifest["members"]),
        "counts": _counts(data_dir / "app.db"),
        "replaced": existing,
        "warnings": warnings,
    }


def _swap(data_dir: Path, staging: Path) -> None:
    """Move the old top-level entries aside and the new ones in. A plan written first lets
    `recover_restore` undo a restore killed half-way; an error here undoes it at once."""
    new, old = staging / "new", staging / "old"
    old.mkdir()
    plan = {"old": _existing(data_dir), "new": sorted(p.name for p in new.iterdir())}
    atomic_write_text(staging / "plan.json", json.dumps(plan))
    try:
        for name in plan["old"]:
            (data_dir / name).rename(old / name)
        for name in plan["new"]:
            (new / name).rename(data_dir / name)
    except BaseException:
        _undo(data_dir, staging, plan)
        raise
    (staging / "plan.json").unlink()  # done: the staging folder (old data) is only rubbish now
    fsync_dir(data_dir)


def _undo(data_dir: Path, staging: Path, plan: dict) -> None:
    new, old = staging / "new", staging / "old"
    for name in plan["new"]:  # a new entry missing from staging was moved in: take it back out
        if not (new / name).exists() and (data_dir / name).exists():
            (data_dir / name).rename(new / name)
    for name in plan["old"]:
        if (old / name).exists():
            (old / name).rename(data_dir / name)


def recover_restore(data_dir: Path) -> list[str]:
    """Undo a restore that died half-way (its plan is still there) and delete leftover staging
    folders; run before every backup and restore. Returns the folders dealt with."""
    data_dir = Path(data_dir)
    found = sorted(data_dir.glob(STAGING + "*")) if data_dir.is_dir() else []
    for staging in found:
        plan_file = staging / "plan.json"
        if plan_file.is_file():
            _undo(data_dir, staging, json.loads(plan_file.read_text(encoding="utf-8")))
        shutil.rmtree(staging, ignore_errors=True)
    return [p.name for p in found]
