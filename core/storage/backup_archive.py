"""Reading a backup archive back, safely: the format's constants, and unpacking with every check.

A member name can only name a plain file under `data/` (never an absolute path, `..`, a link or a
device); every member is checked against the manifest (listed once, right size, right sha256), and
every database against SQLite's integrity check, before a restore touches the data folder.
`core.storage.backup` writes archives in this format and restores them through `unpack_verified`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tarfile
from pathlib import Path

from core.storage.private import FILE_MODE, private_dir

FORMAT = "ai-business-studio-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PREFIX = "data"  # archive members are data/<path inside APP_DATA_DIR>
MODELS = "models"
STAGING = ".restore-"  # restore's staging folders inside APP_DATA_DIR


class BackupError(ValueError):
    """A backup that cannot be made, or an archive that cannot (or must not) be restored."""


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


def unpack_verified(archive: Path, dest: Path) -> dict:
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
