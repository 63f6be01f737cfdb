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
from core.storage.locking import LockBusy, atomic_write_text, file_lock, fsync_dir
from core.storage.private import FILE_MODE, create_private, private_dir, secure_data_dir

FORMAT = "ai-business-studio-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PREFIX = "data"  # archive members are data/<path inside APP_DATA_DIR>
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
MODELS = "models"
STAGING = ".restore-"  # restore's staging folders inside APP_DATA_DIR
UNFINISHED = (".partial", ".old", ".deleted")  # adapters being written, swapped or removed
LOCK_WAIT_S = 120


class BackupError(ValueError):
    """A backup that cannot be made, or an archive that cannot (or must not) be restored."""


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
    members: list[dict] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as tmp:
        staged = Path(tmp) / PREFIX
        with ExitStack() as locks:
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
            for folder, dirs, files in os.walk(data_dir):
                # Not into the staging folder (when --out is inside the data folder) or the model cache.
                for d in list(dirs):
                    path = Path(folder, d)
                    if path.is_symlink() or path.resolve() in (Path(tmp).resolve(), models_dir):
                        dirs.remove(d)
                        if path.resolve() == models_dir or path.is_symlink():
                            skipped[path.relative_to(data_dir).as_posix() + "/"] = (
                                "symbolic link" if path.is_symlink() else "models"
                            )
                dirs.sort()
                for name in sorted(files):
                    path = Path(folder) / name
                    rel = PurePosixPath(path.relative_to(data_dir).as_posix())
                    why = _skip(rel, models_rel)
                    if why is None and path.resolve() == out:
                        why = "the backup being written"
                    if why is None and path.is_symlink():
                        why = "symbolic link"
                    if (
                        why is None
                        and name.endswith(SQLITE_COMPANIONS)
                        and _is_sqlite(path.with_name(name.rsplit("-", 1)[0]))
                    ):
                        why = "SQLite journal (the database copy includes it)"
                    if why is not None:
                        top = rel.parts[0] + "/" if why == "models" else rel.as_posix()
                        skipped.setdefault(top, why)
                        continue
                    target = staged / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        if _is_sqlite(path):
                            _sqlite_copy(path, target)
                            kind = "sqlite"
                        else:
                            shutil.copyfile(path, target)
                            kind = "file"
                    except FileNotFoundError:  # removed while we walked (a temporary file)
                        continue
                    members.append({"path": rel.as_posix(), "kind": kind})
        for m in members:  # locks released: checksums and packing need none
            target = staged / m["path"]
            m["size"], m["sha256"] = target.stat().st_size, _sha256(target)
        manifest = {
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
        part = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            create_private(part)  # 0600 before a byte is written: the archive holds the whole database
            with tarfile.open(part, "w:gz", compresslevel=6) as tar:
                body = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
                _add(tar, MANIFEST, len(body), _BytesReader(body))
                for m in members:
                    with open(staged / m["path"], "rb") as fh:
                        _add(tar, f"{PREFIX}/{m['path']}", m["size"], fh)
            with open(part, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(part, out)  # never a half-written archive under the final name
            fsync_dir(out.parent)
        finally:
            part.unlink(missing_ok=True)
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
def _member_rel(name: str) -> str:
    """The path inside APP_DATA_DIR that a member (or manifest entry, with "data/") may write, or
    BackupError: only plain relative paths under data/, no `..`, `.`, empty parts, backslashes."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name or name.startswith("/"):
        raise BackupError(f"Refusing archive member {name!r}: not a plain relative path")
    parts = name.split("/")
    if parts[0] != PREFIX or len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
        raise BackupError(f"Refusing archive member {name!r}: it would write outside the data folder")
    if parts[1] == MODELS or parts[1].startswith(STAGING):
        raise BackupError(f"Refusing archive member {name!r}: not something a backup contains")
    return "/".join(parts[1:])


def _extracted(tar: tarfile.TarFile, info: tarfile.TarInfo):
    """A regular member's contents (callers have checked it is one)."""
    fh = tar.extractfile(info)
    if fh is None:
        raise BackupError(f"{info.name} is not a regular file; the archive is damaged")
    return fh


def _read_manifest(tar: tarfile.TarFile, label: str) -> tuple[dict, tarfile.TarInfo]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg() or first.size > 50_000_000:
        raise BackupError(f"{label} is not a backup made by `python -m core backup` (no manifest.json first)")
    try:
        manifest = json.loads(_extracted(tar, first).read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{label}: manifest.json is not valid JSON; the archive is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{label} is not a backup made by `python -m core backup` (unknown format)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise BackupError(
            f"{label} is backup format {version!r}; this version of the app reads up to "
            f"{FORMAT_VERSION}: restore it with a newer version"
        )
    members = manifest.get("members")
    if not isinstance(members, list) or not all(
        isinstance(m, dict)
        and isinstance(m.get("path"), str)
        and isinstance(m.get("size"), int)
        and isinstance(m.get("sha256"), str)
        for m in members
    ):
        raise BackupError(f"{label}: manifest.json has no valid member list; the archive is damaged")
    paths = [_member_rel(f"{PREFIX}/{m['path']}") for m in members]
    if len(set(paths)) != len(paths):
        raise BackupError(f"{label}: manifest.json lists a file twice; the archive is damaged")
    return manifest, first


def _unpack_verified(archive: Path, dest: Path) -> dict:
    """Unpack into `dest`, checking every member against the manifest; BackupError on anything
    wrong (the caller deletes `dest`). Members are written by us, file by file: tarfile's extract
    would honour links and paths we do not want."""
    label = archive.name
    try:
        tar = tarfile.open(archive, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{label} is not a readable .tar.gz backup: {exc}") from None
    try:
        with tar:
            manifest, first = _read_manifest(tar, label)
            expected = {m["path"]: m for m in manifest["members"]}
            seen: set[str] = set()
            root = dest.resolve()
            for info in tar:
                if info is first:
                    continue
                rel = _member_rel(info.name)
                if not info.isreg():
                    kind = "link" if info.issym() or info.islnk() else "folder" if info.isdir() else "special file"
                    raise BackupError(f"Refusing archive member {info.name!r}: a {kind}, not a plain file")
                if rel not in expected or rel in seen:
                    raise BackupError(
                        f"{label}: {info.name!r} is not in the manifest (or twice in the archive); "
                        "the archive is damaged or was altered"
                    )
                if info.size != expected[rel]["size"]:
                    raise BackupError(f"{label}: {rel} has the wrong size; the archive is damaged")
                target = dest / rel
                if not target.resolve().is_relative_to(root):  # belt and braces after _member_rel
                    raise BackupError(f"Refusing archive member {info.name!r}: outside the data folder")
                private_dir(target.parent)
                h = hashlib.sha256()
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)  # "xb", 0600
                with _extracted(tar, info) as src, open(fd, "wb") as out:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
                if h.hexdigest() != expected[rel]["sha256"]:
                    raise BackupError(f"{label}: {rel} does not match its checksum; the archive is damaged")
                seen.add(rel)
            missing = sorted(set(expected) - seen)
            if missing:
                raise BackupError(
                    f"{label}: {len(missing)} file(s) listed in the manifest are missing "
                    f"(first: {missing[0]}); the archive is damaged or cut short"
                )
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise BackupError(f"{label}: a file appears twice in the archive") from None
        raise BackupError(f"{label} is damaged (cannot be read to the end): {exc}") from None
    except Exception as exc:  # zlib.error and other decompression failures
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"{label} is damaged (cannot be read to the end): {exc}") from None
    for m in manifest["members"]:
        if m.get("kind") == "sqlite":
            conn = sqlite3.connect(dest / m["path"])
            try:
                ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            except sqlite3.DatabaseError:
                ok = False
            finally:
                conn.close()
            if not ok:
                raise BackupError(f"{label}: the database {m['path']} fails SQLite's integrity check")
    return manifest


def verify(archive: Path) -> dict:
    """Check an archive completely (manifest, names, checksums, databases) without restoring it."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    with tempfile.TemporaryDirectory(prefix=".verify-") as tmp:
        return _unpack_verified(archive, Path(tmp))


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
        manifest = _unpack_verified(archive, staging / "new")
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
