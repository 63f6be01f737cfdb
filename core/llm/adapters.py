"""Which LoRA adapter the engines apply: APP_ADAPTER, or the active choice the Model page makes.

The shipped adapter lives in `data/adapters/default`; adapters trained here go to
`$APP_DATA_DIR/adapters/<name>` (`core.finetune.adapters` lists, publishes and deletes them).
`$APP_DATA_DIR/adapters/active` is a one-line file naming the active one ("default", a trained
adapter's name, or "none" for the base model).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.config import PROJECT_ROOT, Settings
from core.llm.base import ModelUnavailable
from core.llm.models import configured_model_name

SHIPPED_ADAPTER = PROJECT_ROOT / "data" / "adapters" / "default"
BASE = "none"  # the active choice meaning "no adapter"


def is_complete(path: Path) -> bool:
    """An adapter folder with its config and weights. Training publishes only whole folders
    (train.publish); this also keeps a folder copied in by hand and cut short out of the list."""
    return (path / "adapter_config.json").is_file() and any(f.is_file() for f in path.glob("adapter_model.*"))


def fits(adapter: Path, settings: Settings) -> bool:
    """An adapter whose model card names another base model would not load onto this one."""
    try:
        base = json.loads((adapter / "model_card.json").read_text(encoding="utf-8")).get("base_model")
    except (OSError, ValueError):
        return True  # no card: trust it
    return not base or base == configured_model_name(settings)


def resolve_adapter(settings: Settings) -> Path | None:
    """The LoRA adapter folder to apply, or None.

    "auto" follows `$APP_DATA_DIR/adapters/active` — a small file naming an adapter under
    `adapters/` ("default" = the shipped one, "none" = the base model), or a copied adapter folder —
    and otherwise takes the shipped `data/adapters/default`; in both cases only an adapter made
    for the configured base model."""
    value = settings.adapter.strip()
    if value.lower() in ("none", "off", "false", "0"):
        return None
    if value.lower() == "auto":
        active = settings.adapters_dir / "active"
        candidates = [active, SHIPPED_ADAPTER]
        if active.is_file():
            name = active.read_text(encoding="utf-8").strip()
            if name == BASE:
                return None
            candidates[0] = SHIPPED_ADAPTER if name == "default" else settings.adapters_dir / name
        for candidate in candidates:  # config and weights: never a half-copied folder
            if is_complete(candidate) and fits(candidate, settings):
                return candidate
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not (path / "adapter_config.json").is_file():
        raise ModelUnavailable(f"APP_ADAPTER={value!r} is not a LoRA adapter folder (no adapter_config.json)")
    return path


def adapter_key(settings: Settings):
    """What identifies the adapter that would be applied now: its folder and its files' newest
    mtime (None for the base model). A changed key means: load the engine afresh (another adapter
    was chosen, or this one retrained), without restarting the app."""
    try:
        path = resolve_adapter(settings)
    except ModelUnavailable:
        return None  # load_llm raises it again, with its message
    if path is None:
        return None
    files = [path / "adapter_config.json", path / "adapter_model.safetensors"]
    return str(path), max((f.stat().st_mtime_ns for f in files if f.exists()), default=0)
