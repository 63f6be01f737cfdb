"""Settings in one place: environment variables, then `.streamlit/secrets.toml`, then defaults.

Every setting has an env var `APP_<NAME>`; the same key (lower case, without `APP_`) may be
written at the top level of `.streamlit/secrets.toml`. Each one declares, once, its default, its
meaning and what values it takes (`setting(...)` below); `load_settings` checks values against
that, and the README's configuration table is made from it (`python -m core settings
--markdown`; tests/test_config.py keeps the two the same). Paths hang off `data_dir`
(`APP_DATA_DIR`, default `data/runtime/`, git-ignored).
"""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "default"  # the packaged Qwen2.5-Coder-1.5B-Instruct GGUF (core/llm/models.py)


ENGINES = ("auto", "llamacpp", "transformers", "openai")  # APP_ENGINE's choices (core.llm.loader runs them)


def setting(
    default,
    meaning: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
    shown: str | None = None,
    secret: bool = False,
):
    """A setting's default, what it means (a README line) and the values it takes. `shown` is how
    the default reads in the README where it is computed (a path under the project)."""
    meta = {"meaning": meaning, "minimum": minimum, "maximum": maximum, "choices": choices, "shown": shown}
    return field(default=default, repr=not secret, metadata=meta)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(
        PROJECT_ROOT / "data" / "runtime",
        "Where the app writes: database, model cache, adapters",
        shown="data/runtime/",
    )
    model: str = setting(
        DEFAULT_MODEL,
        "`default` (Qwen2.5-Coder-1.5B-Instruct), `qwen2.5-coder-0.5b` (the smaller "
        "packaged model), a `.gguf` file, a local transformers folder, or a hub id (needs internet)",
    )
    adapter: str = setting(
        "auto",
        "`auto` (the active adapter chosen on the Model page, else the shipped one, if made "
        "for this model), `none`, or a LoRA adapter folder",
    )
    engine: str = setting(
        "auto",
        "`auto` (transformers with a CUDA or Apple GPU, else llama.cpp once built, else "
        "transformers), `llamacpp`, `transformers`, or `openai` (servers elsewhere, docs/deploy.md)",
        choices=ENGINES,
    )
    device: str = setting(
        "auto",
        "transformers engine: `auto` (CUDA, else Apple MPS, else CPU), `cpu`, `cuda`, `mps`",
        choices=("auto", "cpu", "cuda", "mps"),
    )
    dtype: str = setting(
        "auto",
        "transformers engine: `auto` (bf16 on CUDA, fp16 on MPS, fp32 on CPU), `float32`, `bfloat16`, `float16`",
        choices=("auto", "float32", "bfloat16", "float16"),
    )
    threads: int = setting(2, "CPU threads for the model (llama.cpp's `-t`, torch's threads)", minimum=1, maximum=256)
    parallel: int = setting(
        2, "llama.cpp: answers generated at the same time; further requests wait in line", minimum=1, maximum=64
    )
    staff_slots: int = setting(
        1,
        "llama.cpp: more slots only staff take (the Chat page, the API's chat with an `all` key): their "
        "replies start at once however many customers wait; customers' answers wait behind staff ones",
        minimum=0,
        maximum=8,
    )
    llama_cpp_dir: Path = setting(
        PROJECT_ROOT / ".venv" / "llama.cpp", "Where `make` builds llama.cpp's server", shown=".venv/llama.cpp"
    )
    llama_cache_mb: int = setting(
        4096,
        "llama.cpp: memory for prompts kept for reuse, least recently used out (a knowledge-base "
        "passage read for the relevance check takes 3-8 MB, the sample company's 175 about 800; a "
        "written answer's prompt 15-30 MB)",
        minimum=0,
        maximum=65536,
    )
    context_tokens: int = setting(
        4096, "Prompt + answer budget; older turns are dropped beyond it", minimum=256, maximum=131072
    )
    max_new_tokens: int = setting(512, "Default answer length limit", minimum=1, maximum=8192)
    quantize: str = setting(
        "none", "transformers engine on a CPU: `int8` for weight-only int8 layers", choices=("none", "int8")
    )
    models_dir: Path | None = setting(None, "Where the assembled model is cached", shown="`$APP_DATA_DIR/models`")
    company_name: str = setting(
        "Jade Leaf Tea Co.",
        "The company the support assistant speaks for, until an admin saves its profile (Knowledge base page, Company tab)",
    )
    kb_name: str = setting("default", "The knowledge base the support pages use")
    sample_kb: str = setting(
        "on", "`off`: do not load the sample company into an empty knowledge base", choices=("on", "off")
    )
    support_warm: str = setting(
        "on",
        "`off`: the app does not read the knowledge base ahead for the relevance check when it "
        "starts (llama.cpp; 5-9 minutes of CPU in the background for the sample company's 175 "
        "passages on 2 cores; without it a first question about a passage takes 1-2 s longer)",
        choices=("on", "off"),
    )
    max_upload_mb: int = setting(50, "Largest file accepted for the knowledge base", minimum=1, maximum=2000)
    tier1_en: float = setting(
        0.70,
        "Retrieval confidence for a curated FAQ answer when no model judges relevance "
        "(English; `bench/support_thresholds.py`)",
        minimum=0,
        maximum=1,
    )
    tier1_zh: float = setting(0.70, "The same, Chinese", minimum=0, maximum=1)
    tier2_en: float = setting(
        0.40,
        "Retrieval confidence below which a question is handed over when no model judges relevance (English)",
        minimum=0,
        maximum=1,
    )
    tier2_zh: float = setting(0.58, "The same, Chinese", minimum=0, maximum=1)
    llm_backend: str = setting("local", "Older name: `openai` means `APP_ENGINE=openai`", choices=("local", "openai"))
    openai_base_urls: str = setting(
        "",
        "Comma-separated server URLs, e.g. `http://gpu1:8000/v1,http://gpu2:8000/v1`: "
        "requests take turns; a server that is down is skipped",
    )
    openai_model: str = setting("", "The model name the servers serve")
    openai_api_key: str = setting("", "The servers' API key (never shown or logged)", secret=True)
    chroma_host: str = setting(
        "",
        "A Chroma server (`chroma run`) that several app processes share, instead of the "
        "folder under `APP_DATA_DIR/kb`",
    )
    chroma_port: int = setting(8000, "Its port", minimum=1, maximum=65535)
    auth: str = setting(
        "auto",
        "Sign-in: `auto` (required once a user exists), `required` (even before), `off` (never)",
        choices=("auto", "required", "off"),
    )
    public_support: str = setting(
        "off", "`on`: the customer-service page needs no sign-in (visitors see only that page)", choices=("on", "off")
    )
    api: str = setting(
        "on",
        "`off`: `make run` serves the app without the HTTP API and website widget on port 8502",
        choices=("on", "off"),
    )
    api_docs: str = setting(
        "on", "`off` (production): no `/docs`, `/redoc` or `/openapi.json` on the API", choices=("on", "off")
    )
    api_max_waiting: int = setting(
        8,
        "API questions that may wait for a busy model beyond those being answered; more are refused at once "
        "(503 with Retry-After)",
        minimum=0,
        maximum=1000,
    )
    api_visitor_rpm: int = setting(
        20,
        "API questions and clicks per minute from one visitor (client address; and one conversation) per key, "
        "besides the key's own limit",
        minimum=1,
        maximum=100000,
    )
    api_visitor_asks: int = setting(
        2, "API questions one client address may have in progress at once, per key", minimum=1, maximum=1000
    )
    api_trusted_proxies: str = setting(
        "",
        "Comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies in front of the API whose "
        "`X-Forwarded-For` is believed for the client's address; none: the connection's address",
    )
    session_minutes: int = setting(480, "How long a sign-in lasts, counted from signing in", minimum=1, maximum=525600)

    @property
    def runtime_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def kb_dir(self) -> Path:
        return self.data_dir / "kb"

    def thresholds(self, lang: str) -> tuple[float, float]:
        return (self.tier1_zh, self.tier2_zh) if lang == "zh" else (self.tier1_en, self.tier2_en)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "app.db"

    @property
    def adapters_dir(self) -> Path:
        return self.data_dir / "adapters"


TYPES = typing.get_type_hints(Settings)


def _secrets(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"Cannot read {path}: {exc}") from exc


def parse(name: str, raw: typing.Any) -> typing.Any:
    """A setting's value from its text (or a TOML value), checked against its declaration."""
    f = next(f for f in fields(Settings) if f.name == name)
    kind, meta, label = TYPES[name], f.metadata, f"Setting APP_{name.upper()}={raw!r}"
    if kind in (int, float):
        try:
            if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                raise ValueError
            value = kind(raw)
            if kind is int and isinstance(raw, float) and raw != value:
                raise ValueError
        except ValueError:
            raise ValueError(f"{label} must be a {'whole ' if kind is int else ''}number") from None
        low, high = meta["minimum"], meta["maximum"]
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{label} must be from {low:g} to {high:g}")
        return value
    if not isinstance(raw, str):
        raise ValueError(f"{label} must be text")
    if kind in (Path, Path | None):
        value = Path(raw).expanduser()
        return value if value.is_absolute() else PROJECT_ROOT / value
    if meta["choices"] and raw.strip().lower() not in meta["choices"]:
        raise ValueError(f"{label}: choose one of {', '.join(meta['choices'])}")
    return raw.strip().lower() if meta["choices"] else raw


def load_settings(env: Mapping[str, str] | None = None, secrets_path: Path | None = None) -> Settings:
    """Build Settings from env vars (APP_*), then secrets.toml, then the declared defaults."""
    source: Mapping[str, str] = os.environ if env is None else env
    secrets = _secrets(secrets_path or PROJECT_ROOT / ".streamlit" / "secrets.toml")
    values: dict[str, typing.Any] = {}
    for f in fields(Settings):
        raw = source.get(f"APP_{f.name.upper()}")
        if raw is None:
            raw = secrets.get(f.name)
        if raw is None or raw == "":
            continue
        values[f.name] = parse(f.name, raw)
    return Settings(**values)


def markdown_table() -> str:
    """The README's configuration table, from the declarations above."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f in fields(Settings):
        meta = f.metadata
        default = meta["shown"] or ("–" if f.default in ("", None) else f"`{f.default}`")
        if meta["shown"] and not meta["shown"].startswith("`"):
            default = f"`{meta['shown']}`"
        allowed = ""
        if meta["minimum"] is not None:
            allowed = f" ({meta['minimum']:g}–{meta['maximum']:g})"
        rows.append(f"| `APP_{f.name.upper()}` | {default} | {meta['meaning']}{allowed} |")
    return "\n".join(rows)


def data_dir(settings: Settings | None = None) -> Path:
    """The runtime data folder, created on first use."""
    path = (settings or load_settings()).data_dir
    path.mkdir(parents=True, exist_ok=True)
    return path
