"""A peft LoRA adapter as the GGUF adapter llama.cpp's server loads.

Converted with llama.cpp's own `convert_lora_to_gguf.py` (installed beside the server by
`core.llm.llamacpp_build`), offline: it needs only the base model's `config.json`, which we write
from the GGUF's metadata, and the adapter folder. An adapter may carry its GGUF as `adapter.gguf`
(the shipped one does); otherwise the conversion is cached under the models folder, keyed by the
adapter's weights, so retraining converts again and nothing else does. A few seconds, once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from core.config import Settings
from core.llm.base import ModelUnavailable
from core.llm.llamacpp_build import converter, install_dir

GGUF_NAME = "adapter.gguf"


def base_config_dir(gguf: Path, cache: Path) -> Path:
    """A folder holding the base model's config.json (all the converter reads of the base model)."""
    if (cache / "config.json").is_file():
        return cache
    from transformers import AutoConfig  # reads the GGUF's metadata only, not its weights

    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    arch = {"qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM"}.get(config.model_type)
    config.architectures = [arch] if arch else config.architectures
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    tmp = cache.with_name(cache.name + f".tmp-{os.getpid()}")
    config.save_pretrained(tmp)
    try:
        tmp.replace(cache)
    except OSError:  # another process wrote it first
        pass
    return cache


def _weights_hash(adapter: Path) -> str:
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"):
        path = adapter / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _recorded_hash(adapter: Path) -> str | None:
    try:
        return json.loads((adapter / "adapter.gguf.json").read_text()).get("weights_sha256_16")
    except (OSError, ValueError):
        return None


def adapter_gguf(adapter: Path, base_gguf: Path, settings: Settings, log=print) -> Path:
    """The GGUF form of `adapter`, converted (and cached) if needed."""
    shipped = adapter / GGUF_NAME
    if shipped.is_file() and _recorded_hash(adapter) == _weights_hash(adapter):
        return shipped  # converted from exactly these weights
    cache = settings.runtime_models_dir / "lora-gguf"
    out = cache / f"{adapter.name}-{_weights_hash(adapter)}.gguf"
    if out.is_file():
        return out
    script = converter(settings)
    if not script.is_file():
        raise ModelUnavailable(
            f"Converting the adapter {adapter.name} for llama.cpp needs llama.cpp's converter "
            f"({script}), which `make run` installs with the engine."
        )
    cache.mkdir(parents=True, exist_ok=True)
    base = base_config_dir(base_gguf, settings.runtime_models_dir / "configs" / base_gguf.stem)
    tmp = out.with_suffix(f".tmp-{os.getpid()}")
    log(f"Converting the adapter {adapter.name} for the llama.cpp engine (once)…")
    env = dict(
        os.environ, PYTHONPATH=str(install_dir(settings) / "gguf-py"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"
    )
    done = subprocess.run(
        [sys.executable, str(script), str(adapter), "--base", str(base), "--outfile", str(tmp), "--outtype", "f16"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(script.parent),
    )
    if done.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"Could not convert the adapter {adapter} for llama.cpp: {(done.stderr or done.stdout).strip()[-800:]}"
        )
    tmp.replace(out)
    return out


def write_shipped(adapter: Path, base_gguf: Path, settings: Settings, log=print) -> Path:
    """Convert and store the GGUF inside the adapter folder (for adapters that ship with the app)."""
    converted = adapter_gguf(adapter, base_gguf, settings, log=log)
    target = adapter / GGUF_NAME
    if converted != target:
        target.write_bytes(converted.read_bytes())
    meta = {"converted_from": "adapter_model.safetensors", "weights_sha256_16": _weights_hash(adapter)}
    (adapter / "adapter.gguf.json").write_text(json.dumps(meta, indent=1) + "\n")
    return target
