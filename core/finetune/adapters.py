"""The adapters on this machine and which one the app uses.

The shipped adapter lives in `data/adapters/default`; adapters trained here go to
`$APP_DATA_DIR/adapters/<name>`. `$APP_DATA_DIR/adapters/active` is a one-line file naming the
active one ("default", a trained adapter's name, or "none" for the base model);
`core.llm.adapters.resolve_adapter` reads it when APP_ADAPTER=auto; the engines apply what it
returns. Training writes a new adapter aside and `publish`es it whole.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.finetune.card import read_card
from core.llm.adapters import BASE, SHIPPED_ADAPTER, is_complete, resolve_adapter
from core.storage.locking import exchange_paths, file_lock, fsync_dir, fsync_tree

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
RESERVED = {"active", "default", "none"}


@dataclass
class Adapter:
    name: str
    path: Path
    shipped: bool
    card: dict | None
    size_bytes: int

    @property
    def base_model(self) -> str | None:
        return (self.card or {}).get("base_model")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.glob("adapter_model.*") if f.is_file())


def list_adapters(settings: Settings) -> list[Adapter]:
    """The shipped adapter first, then trained ones by name."""
    found = []
    if (SHIPPED_ADAPTER / "adapter_config.json").is_file():
        found.append(Adapter("default", SHIPPED_ADAPTER, True, read_card(SHIPPED_ADAPTER), _size(SHIPPED_ADAPTER)))
    root = settings.adapters_dir
    if root.is_dir():
        for old in root.glob("*.old"):  # a crash mid-publish where folders cannot be swapped atomically
            recover(settings, old.with_suffix(""))
        for path in sorted(p for p in root.iterdir() if p.is_dir()):
            if NAME.match(path.name) and is_complete(path):
                found.append(Adapter(path.name, path, False, read_card(path), _size(path)))
    return found


def active_choice(settings: Settings) -> str:
    """What the Model page shows as active: an adapter name, or "none" for the base model."""
    path = resolve_adapter(settings)
    if path is None:
        return BASE
    return "default" if path == SHIPPED_ADAPTER else path.name


def validate_name(settings: Settings, name: str) -> Path:
    """The folder for a new adapter called `name` (checked, not created)."""
    name = (name or "").strip()
    if not NAME.match(name) or name in RESERVED:
        raise ValueError(
            "An adapter name needs 1–40 characters: a–z, 0–9, '-' or '_', starting with a letter or "
            "digit (not 'active', 'default' or 'none')"
        )
    path = settings.adapters_dir / name
    if path.exists():
        raise ValueError(f"An adapter called {name!r} already exists; choose another name")
    return path


def set_active(settings: Settings, name: str) -> None:
    """Make `name` ("default", a trained adapter, or "none") the adapter the app loads."""
    names = {a.name for a in list_adapters(settings)}
    if name != BASE and name not in names:
        raise ValueError(f"No adapter called {name!r}")
    pointer = settings.adapters_dir / "active"
    if pointer.is_dir():
        raise ValueError(f"{pointer} is a copied adapter folder; move it to {settings.adapters_dir}/<name> first")
    settings.adapters_dir.mkdir(parents=True, exist_ok=True)
    tmp = pointer.with_name(".active.tmp")
    tmp.write_text(name + "\n", encoding="utf-8")
    tmp.replace(pointer)  # atomic: a reader sees the old or the new choice, never half


def delete_adapter(settings: Settings, name: str) -> None:
    """Delete a trained adapter (the shipped one cannot be); if it was active, the default takes over."""
    if name in RESERVED or not NAME.match(name):
        raise ValueError(f"{name!r} cannot be deleted")
    path = settings.adapters_dir / name
    if not (path / "adapter_config.json").is_file():
        raise ValueError(f"No trained adapter called {name!r}")
    pointer = settings.adapters_dir / "active"
    if pointer.is_file() and pointer.read_text(encoding="utf-8").strip() == name:
        pointer.unlink()
    # Renamed aside first (atomic), then removed: a crash never leaves a half-deleted adapter under
    # its name; the publish lock keeps a running backup from copying it half-deleted.
    trash = path.with_name(path.name + ".deleted")
    with file_lock(settings.adapters_dir / ".publish.lock", timeout=600):
        shutil.rmtree(trash, ignore_errors=True)
        path.rename(trash)
    shutil.rmtree(trash)


# -- publishing ----------------------------------------------------------------------------------
# The adapter is written into `<out>.partial` and only then put in place, so `<out>` is always
# either the previous adapter or a complete new one, even if the process is killed (kill -9, OOM)
# at any point: the app never finds a half-written adapter to load. A dead run leaves only
# `<out>.partial`, which the next run into the same folder deletes.
def publish(settings: Settings, partial: Path, out_dir: Path) -> None:
    fsync_tree(partial)  # the files are on disk before the rename makes them visible
    # The publish lock: a backup copying adapters/ never sees a folder change mid-copy.
    with file_lock(settings.adapters_dir / ".publish.lock", timeout=600):
        if not out_dir.exists():
            partial.rename(out_dir)  # atomic
        elif exchange_paths(partial, out_dir):  # atomic swap; `partial` now holds the old adapter
            shutil.rmtree(partial)
        else:  # no atomic swap here: two renames, and `recover` repairs a crash between them
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            partial.rename(out_dir)
            shutil.rmtree(old)
        fsync_dir(out_dir.parent)


def recover(settings: Settings, out_dir: Path) -> None:
    """Repair what a crash in `publish`'s two-rename fallback left: `<out>.old` without `<out>`
    means the old adapter was moved aside but the new one not yet in: put the old one back."""
    old = out_dir.with_name(out_dir.name + ".old")
    if old.is_dir():
        with file_lock(settings.adapters_dir / ".publish.lock", timeout=600):
            if old.is_dir() and not out_dir.exists():
                old.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
