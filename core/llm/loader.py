"""Which engine runs the model, and loading it: `load_llm(settings)` is the one way in.

APP_ENGINE=auto picks transformers when torch sees a CUDA or Apple GPU, llama.cpp when its server
is built (`make run` builds it), and otherwise transformers with a notice saying why it is slower.
torch is imported only where the transformers engine is used or a GPU is looked for (it takes
seconds to import; the llama.cpp path and `describe` without a GPU check do not need it).
"""

from __future__ import annotations

from pathlib import Path

from core.config import ENGINES, Settings
from core.llm.adapters import resolve_adapter
from core.llm.base import Engine, ModelUnavailable
from core.llm.llamacpp import load_llamacpp
from core.llm.llamacpp_build import build_info, server_binary
from core.llm.lora_gguf import adapter_gguf
from core.llm.models import ModelChoice, choose_model, configured_model_name, display_path, gguf_path

NOT_BUILT = (
    "The fast llama.cpp engine is not built yet, so answers come from the slower transformers "
    "engine. Run `make run` once more (it builds llama.cpp; needs g++ and cmake) or "
    "`.venv/bin/python -m core engine build`."
)


def engine_setting(settings: Settings) -> str:
    value = settings.engine.strip().lower()
    if value == "auto" and settings.llm_backend.strip().lower() == "openai":
        return "openai"  # the older APP_LLM_BACKEND=openai keeps working
    if value not in ENGINES:
        raise ModelUnavailable(f"APP_ENGINE={settings.engine!r}: choose one of {', '.join(ENGINES)}")
    return value


def gpu_available() -> bool:
    import torch  # only to look for a GPU

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps and mps.is_available())


def choose_engine(settings: Settings, choice: ModelChoice | None = None) -> tuple[str, str]:
    """(engine, notice): the engine that will run, and a sentence for the user when it is not the
    one they would expect."""
    value = engine_setting(settings)
    if value != "auto":
        return value, ""
    if settings.device.strip().lower() not in ("auto", "cpu") or gpu_available():
        return "transformers", ""
    choice = choice or choose_model(settings)
    if choice.packaged is None and choice.gguf is None:
        return "transformers", ""  # a transformers folder or hub id: nothing for llama.cpp to run
    if build_info(settings) is None:
        return "transformers", NOT_BUILT
    return "llamacpp", ""


def load_llm(settings: Settings, log=print) -> Engine:
    """The engine for the configured model and adapter. Raises ModelUnavailable with what to do."""
    if engine_setting(settings) == "openai":
        from core.llm.openai_engine import load_remote  # openai: only the remote engine needs it

        return load_remote(settings, log=log)
    choice = choose_model(settings)
    engine, notice = choose_engine(settings, choice)
    adapter = resolve_adapter(settings)
    if engine == "transformers":
        from core.llm.transformers_engine import load_transformers  # imports torch

        return load_transformers(settings, choice, adapter, log=log, notice=notice)

    binary = server_binary(settings)
    if not binary.is_file():
        raise ModelUnavailable(
            f"APP_ENGINE=llamacpp, but llama.cpp's server is not built ({binary}). "
            "Run `make run` (it builds it; needs g++ and cmake) or "
            "`.venv/bin/python -m core engine build`."
        )
    lora, notice = None, ""
    if adapter is not None:
        try:
            lora = adapter_gguf(adapter, gguf_path(choice, settings), settings, log=log)
        except ModelUnavailable as exc:  # the base model still answers; say why the adapter does not
            notice = f"The adapter {adapter.name} is not applied: {exc}"
    engine_ = load_llamacpp(settings, choice, binary, lora, display_adapter(adapter) if lora else None, log=log)
    engine_.info.notice = notice
    return engine_


def display_adapter(adapter: Path | None) -> str | None:
    return display_path(adapter) if adapter else None


def describe(settings: Settings) -> dict:
    """What would run, without loading anything (for the status line)."""
    try:
        engine = engine_setting(settings)
    except ModelUnavailable:
        engine = "?"
    if engine == "openai":
        return {
            "model": settings.openai_model or "?",
            "adapter": None,
            "device": "remote",
            "dtype": "n/a",
            "engine": "openai",
            "notice": "",
        }
    notice = ""
    try:
        engine, notice = choose_engine(settings)
    except ModelUnavailable:
        engine = "?"
    try:
        adapter = resolve_adapter(settings)
    except ModelUnavailable:
        adapter = None
    device, dtype = "cpu", "gguf"
    if engine == "transformers":
        from core.llm.transformers_engine import pick_device, pick_dtype  # torch: loaded by this engine anyway

        try:
            device = pick_device(settings.device)
            dtype = str(pick_dtype(device, settings.dtype)).removeprefix("torch.")
        except (ModelUnavailable, ValueError):
            device, dtype = "?", settings.dtype
    return {
        "model": configured_model_name(settings),
        "adapter": adapter.name if adapter else None,
        "device": device,
        "dtype": dtype,
        "engine": engine,
        "notice": notice,
    }
