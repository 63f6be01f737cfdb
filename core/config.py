"""Settings in one place: environment variables, then `.streamlit/secrets.toml`, then defaults.

Every setting has an env var `APP_<NAME>`; the same key (lower case, without `APP_`) may be
written at the top level of `.streamlit/secrets.toml`. Paths hang off `data_dir`
(`APP_DATA_DIR`, default `data/runtime/`, git-ignored).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "default"  # the packaged Qwen2.5-Coder-0.5B-Instruct GGUF


@dataclass(frozen=True)
class Settings:
    data_dir: Path = PROJECT_ROOT / "data" / "runtime"
    # "default" (packaged Qwen GGUF), a local transformers folder, or a hub model id.
    model: str = DEFAULT_MODEL
    # "auto" (a shipped/trained adapter if one exists), "none", or a LoRA adapter folder.
    adapter: str = "auto"
    device: str = "auto"  # auto | cpu | cuda | mps
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    # The engine: "auto" = transformers with a CUDA or MPS GPU, else llama.cpp (when built), else
    # transformers; or "llamacpp", "transformers", "openai" (remote servers, docs/deploy.md).
    engine: str = "auto"
    threads: int = 2  # CPU threads for the model (llama.cpp's -t, torch's intra-op threads)
    parallel: int = 2  # llama.cpp: requests generated at the same time (bench/load.py on 2 cores)
    llama_cpp_dir: Path = PROJECT_ROOT / ".venv" / "llama.cpp"  # where `make` builds llama-server
    context_tokens: int = 4096  # prompt + answer budget; history is trimmed to fit
    max_new_tokens: int = 512
    quantize: str = "none"  # none | int8 (weight-only int8 linear layers on CPU)
    models_dir: Path | None = None  # where the assembled model is cached; default data_dir/models
    company_name: str = "Jade Leaf Tea Co."
    kb_name: str = "default"  # the knowledge base the support pages use
    max_upload_mb: int = 50
    sample_kb: str = "on"  # "off": do not load the sample company's FAQ into an empty knowledge base
    # Support answer thresholds on retrieval confidence (0..1), per question language; measured
    # with bench/support_thresholds.py. Tier 1 = curated FAQ answer, tier 2 = grounded generation.
    tier1_en: float = 0.70
    tier1_zh: float = 0.70
    tier2_en: float = 0.40
    tier2_zh: float = 0.58
    # Beyond one machine (docs/deploy.md): "local" = the embedded transformers model; "openai" = any
    # OpenAI-compatible server(s) (vLLM, llama.cpp, TGI, Ollama): comma-separated base URLs, tried
    # round-robin with fail-over; the key is never logged or shown.
    llm_backend: str = "local"
    openai_base_urls: str = ""
    openai_model: str = ""
    openai_api_key: str = field(default="", repr=False)  # never in logs or tracebacks
    chroma_host: str = ""  # empty: the embedded store under data_dir/kb; else a `chroma run` server
    chroma_port: int = 8000
    # Sign-in (core/auth.py): "auto" = required once a user exists, "required", or "off".
    auth: str = "auto"
    public_support: str = "off"  # "on": the customer-service page needs no sign-in
    api: str = "on"  # "off": `make run` serves the app without the HTTP API and widget (port 8502)
    session_minutes: int = 480  # a signed-in session lasts this long from sign-in

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


def _secrets(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"Cannot read {path}: {exc}") from exc


def load_settings(env: dict | None = None, secrets_path: Path | None = None) -> Settings:
    """Build Settings from env vars (APP_*), then secrets.toml, then the defaults above."""
    env = os.environ if env is None else env
    secrets_path = secrets_path or PROJECT_ROOT / ".streamlit" / "secrets.toml"
    secrets = _secrets(secrets_path)
    values = {}
    for f in fields(Settings):
        raw = env.get(f"APP_{f.name.upper()}")
        if raw is None:
            raw = secrets.get(f.name)
        if raw is None or raw == "":
            continue
        try:
            if f.type == "int":
                value = int(raw)
                if value <= 0:
                    raise ValueError
            elif f.type == "float":
                value = float(raw)
                if not 0 <= value <= 1:
                    raise ValueError
            elif f.type in ("Path", "Path | None"):
                value = Path(raw).expanduser()
                if not value.is_absolute():
                    value = PROJECT_ROOT / value
            else:
                value = str(raw)
        except ValueError:
            kind = "a number between 0 and 1" if f.type == "float" else "a positive whole number"
            raise ValueError(f"Setting APP_{f.name.upper()}={raw!r} must be {kind}") from None
        values[f.name] = value
    return Settings(**values)


def data_dir(settings: Settings | None = None) -> Path:
    """The runtime data folder, created on first use."""
    path = (settings or load_settings()).data_dir
    path.mkdir(parents=True, exist_ok=True)
    return path
