"""LoRA training: a plain PyTorch loop over a peft model.

Why not `transformers.Trainer`: for ~50 steps of micro-batches of one example it brings a
datasets-style collator, its own checkpoint layout and callback machinery, and still needs
custom code for what matters here (loss on the answer only with logits computed just for those
positions, stop from the page, a checkpoint kept on Ctrl-C, a progress callback). The loop below
is those things and nothing else; peft supplies the LoRA layers and the adapter format,
transformers the model, the chat template and the learning-rate schedule.

Each optimizer step sees `batch_size` examples, run one at a time (no padding) with the loss
summed over answer tokens and divided by the step's answer-token count.
"""

from __future__ import annotations

import fcntl
import json
import math
import platform
import random
import shutil
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from core.config import Settings
from core.finetune import card as cards
from core.finetune.adapters import publish, recover
from core.finetune.data import TrainingData
from core.finetune.train_model import Encoded, base_model_name, encode_all, example_loss, load_base, mean_loss
from core.finetune.train_model import encode as encode  # re-exported: callers import it from here

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass
class TrainConfig:
    epochs: float = 2.0
    max_steps: int | None = None  # stop after this many optimizer steps even if epochs remain
    lora_r: int = 8
    lora_alpha: int | None = None  # default 2 × r
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    learning_rate: float = 2e-4
    batch_size: int = 4
    warmup: float = 0.1  # fraction of steps with a linearly rising learning rate
    max_tokens: int = 1024  # longer examples are skipped (and counted in the model card)
    seed: int = 0
    checkpoint_every: int = 10  # steps

    def validate(self) -> TrainConfig:
        if not 0 < self.epochs <= 100:
            raise ValueError("--epochs must be above 0 and at most 100")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("--max-steps must be at least 1")
        if self.lora_r not in (1, 2, 4, 8, 16, 32, 64):
            raise ValueError("--lora-r must be one of 1, 2, 4, 8, 16, 32, 64")
        if not 0 < self.learning_rate < 1:
            raise ValueError("--lr must be between 0 and 1")
        if not 1 <= self.batch_size <= 64:
            raise ValueError("--batch-size must be between 1 and 64")
        if not 32 <= self.max_tokens <= 32768:
            raise ValueError("--max-tokens must be between 32 and 32768")
        if not self.target_modules:
            raise ValueError("LoRA needs at least one target module")
        return self

    @property
    def alpha(self) -> int:
        return self.lora_alpha or 2 * self.lora_r


@dataclass
class Progress:
    phase: str  # load | val_before | train | val_after | save | done
    step: int = 0
    total: int = 0
    loss: float | None = None
    elapsed: float = 0.0

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0


@dataclass
class TrainResult:
    adapter_dir: str
    steps: int
    train_loss_first: float | None
    train_loss_last: float | None
    val_loss_before: float | None
    val_loss_after: float | None
    seconds: float
    device: str
    stopped: bool = False
    planned_steps: int = 0
    log: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        keys = (
            "adapter_dir",
            "steps",
            "train_loss_first",
            "train_loss_last",
            "val_loss_before",
            "val_loss_after",
            "seconds",
            "device",
        )
        return {k: getattr(self, k) for k in keys}


class TrainingBusy(ValueError):
    pass


@contextmanager
def training_lock(settings: Settings):
    """One fine-tune at a time per data folder, across the app and the CLI."""
    settings.adapters_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.adapters_dir / ".training.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TrainingBusy("Another fine-tune is running on this machine; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- training ------------------------------------------------------------------------------------
def prepare_out_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and (
        not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "adapter_config.json").is_file())
    ):
        raise ValueError(f"{out_dir} exists and is not an adapter folder; choose a new --out")
    return out_dir


@dataclass
class _Run:
    """One fine-tune as it goes: the model with LoRA layers and its encoded data, then what the
    optimizer steps and the validation made of it."""

    model: Any
    base: dict  # name, source, device and dtype of the base model (load_base)
    train_items: list[Encoded]
    val_items: list[Encoded]
    skipped: int  # examples left out, train and validation: too long, or no answer token
    planned: int  # optimizer steps
    params: list = field(default_factory=list)  # the trainable (LoRA) parameters
    log_rows: list[dict] = field(default_factory=list)
    steps: int = 0
    stopped: bool = False
    val_before: float | None = None
    val_after: float | None = None

    @property
    def device(self) -> str:
        return self.base["device"]


def train(
    settings: Settings,
    data: TrainingData,
    out_dir: Path,
    config: TrainConfig | None = None,
    *,
    progress=None,
    stop: threading.Event | None = None,
    bar: bool = False,
    log=print,
    name: str | None = None,
    command: str | None = None,
) -> TrainResult:
    """Fine-tune the configured base model on `data` and write the adapter folder `out_dir`:
    adapter weights, training_log.json, val.jsonl (for `evaluate`), model_card.json/.md.

    KeyboardInterrupt or `stop` ends training after the current example; what was learned so far
    is saved as a complete adapter (its card says it was stopped)."""
    config = (config or TrainConfig()).validate()
    out_dir = prepare_out_dir(out_dir)
    started = time.perf_counter()
    stop = stop or threading.Event()

    def report(phase, step=0, total=0, loss=None):
        if progress:
            progress(Progress(phase, step, total, loss, time.perf_counter() - started))

    with training_lock(settings):
        recover(settings, out_dir)
        report("load")
        run = _prepare(settings, data, config, log)
        run.val_before = mean_loss(run.model, run.val_items, run.device, lambda i, n: report("val_before", i, n))
        run.params = [p for p in run.model.parameters() if p.requires_grad]
        partial = out_dir.with_name(out_dir.name + ".partial")
        _optimise(run, config, partial, stop, bar, report, log)
        if not run.stopped and run.val_items:
            run.val_after = mean_loss(run.model, run.val_items, run.device, lambda i, n: report("val_after", i, n))
        report("save", run.steps, run.planned)
        _save(run.model, partial)
        seconds = round(time.perf_counter() - started, 1)
        result = TrainResult(
            str(out_dir),
            run.steps,
            run.log_rows[0]["loss"] if run.log_rows else None,
            run.log_rows[-1]["loss"] if run.log_rows else None,
            run.val_before,
            run.val_after,
            seconds,
            run.device,
            run.stopped,
            run.planned,
            run.log_rows,
        )
        _write_logs(partial, run, data)
        card = _card(settings, data, config, run, seconds, name or out_dir.name, command)
        cards.write_card(partial, card)
        publish(settings, partial, out_dir)
        report("done", run.steps, run.planned)
        return result


def _prepare(settings: Settings, data: TrainingData, config: TrainConfig, log) -> _Run:
    """Load the base model, encode the examples, count the planned steps and add fresh LoRA
    layers (seeded); ValueError when no training example fits in max_tokens."""
    # peft: loaded only for fine-tuning and adapters
    from peft import LoraConfig, get_peft_model

    model, tokenizer, base = load_base(settings, log=log)
    train_items, skipped = encode_all(tokenizer, data.train, config.max_tokens)
    val_items, skipped_val = encode_all(tokenizer, data.val, config.max_tokens)
    if not train_items:
        raise ValueError(f"No training example fits in --max-tokens {config.max_tokens}")
    per_epoch = math.ceil(len(train_items) / config.batch_size)
    planned = max(1, math.ceil(per_epoch * config.epochs))
    if config.max_steps:
        planned = min(planned, config.max_steps)

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():  # peft calls a transformers API that is deprecated in 5.x
        warnings.simplefilter("ignore", FutureWarning)
        model = get_peft_model(model, lora)
    model.peft_config["default"].base_model_name_or_path = base_model_name(settings)
    return _Run(model, base, train_items, val_items, skipped + skipped_val, planned)


def _optimise(run: _Run, config: TrainConfig, partial: Path, stop: threading.Event, bar: bool, report, log) -> None:
    """The optimizer steps, run.planned of them unless stopped (KeyboardInterrupt or `stop`);
    a checkpoint in the fresh folder `partial` every config.checkpoint_every steps. Fills
    run.log_rows, run.steps and run.stopped."""
    # tqdm: only the fine-tuning progress bar needs it
    from tqdm import tqdm

    # transformers: loaded only where the model runs in this process
    from transformers import get_linear_schedule_with_warmup

    planned = run.planned
    optimizer = torch.optim.AdamW(run.params, lr=config.learning_rate, weight_decay=0.0)
    schedule = get_linear_schedule_with_warmup(optimizer, round(planned * config.warmup), planned)
    order_rng = random.Random(config.seed)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)

    queue: list[int] = []
    run.model.train()
    bar_ = tqdm(total=planned, desc="fine-tune", unit="step", file=sys.stderr, disable=not bar, leave=True)
    report("train", 0, planned)
    try:
        while run.steps < planned:
            batch = _next_batch(run.train_items, queue, order_rng, config.batch_size)
            row = _step(run, batch, optimizer, schedule, stop)
            run.log_rows.append(row)
            bar_.update(1)
            bar_.set_postfix(loss=f"{row['loss']:.3f}")
            report("train", run.steps, planned, row["loss"])
            if run.steps % config.checkpoint_every == 0 and run.steps < planned:
                _save(run.model, partial)
    except KeyboardInterrupt:
        run.stopped = True
        log("Stopped: saving what was learned so far")
    finally:
        bar_.close()
        optimizer.zero_grad(set_to_none=True)


def _next_batch(items: list[Encoded], queue: list[int], order_rng: random.Random, size: int) -> list[Encoded]:
    """`size` examples off `queue`, refilled with a fresh shuffle of all examples whenever it runs out."""
    batch: list = []
    while len(batch) < size:
        if not queue:
            queue.extend(range(len(items)))
            order_rng.shuffle(queue)
        batch.append(items[queue.pop()])
    return batch


def _step(run: _Run, batch: list[Encoded], optimizer, schedule, stop: threading.Event) -> dict:
    """One optimizer step over `batch`, its examples one at a time; returns the step's log row.
    KeyboardInterrupt before an example when `stop` is set."""
    step_start = time.perf_counter()
    tokens = sum(item.answer_tokens for item in batch)
    total = 0.0
    for item in batch:
        if stop.is_set():
            raise KeyboardInterrupt
        loss = example_loss(run.model, item, run.device)
        (loss / tokens).backward()
        total += loss.detach().item()
    torch.nn.utils.clip_grad_norm_(run.params, 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad(set_to_none=True)
    run.steps += 1
    return {
        "step": run.steps,
        "loss": round(total / tokens, 4),
        "lr": schedule.get_last_lr()[0],
        "seconds": round(time.perf_counter() - step_start, 2),
        "answer_tokens": tokens,
        "tokens": sum(int(i.input_ids.numel()) for i in batch),
    }


def _write_logs(partial: Path, run: _Run, data: TrainingData) -> None:
    """training_log.json (every step, validation loss before and after) and val.jsonl (for `evaluate`)."""
    (partial / "training_log.json").write_text(
        json.dumps(
            {
                "steps": run.log_rows,
                "val": [{"step": 0, "loss": run.val_before}]
                + ([{"step": run.steps, "loss": run.val_after}] if run.val_after is not None else []),
            },
            indent=1,
        )
    )
    with (partial / "val.jsonl").open("w", encoding="utf-8") as fh:
        for example in data.val:
            fh.write(json.dumps(example.as_dict(), ensure_ascii=False) + "\n")


def _card(
    settings: Settings,
    data: TrainingData,
    config: TrainConfig,
    run: _Run,
    seconds: float,
    name: str,
    command: str | None,
) -> dict:
    """The model card: base model, method, hyperparameters, data, how training went, metrics, versions."""
    log_rows, device = run.log_rows, run.device
    return {
        "name": name,
        "base_model": base_model_name(settings),
        "base_model_source": run.base["source"],
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": {
            "type": "LoRA",
            "r": config.lora_r,
            "alpha": config.alpha,
            "dropout": config.lora_dropout,
            "target_modules": list(config.target_modules),
            "trainable_parameters": sum(p.numel() for p in run.params),
        },
        "hyperparameters": {
            "epochs": config.epochs,
            "max_steps": config.max_steps,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "schedule": "linear, warm-up " + f"{config.warmup:.0%}",
            "optimizer": "AdamW",
            "max_tokens": config.max_tokens,
            "seed": config.seed,
        },
        "data": data.summary() | {"skipped_too_long": run.skipped},
        "training": {
            "steps": run.steps,
            "planned_steps": run.planned,
            "stopped": run.stopped,
            "seconds": seconds,
            "seconds_per_step": round(sum(r["seconds"] for r in log_rows) / max(1, len(log_rows)), 2),
            "device": device,
            "dtype": run.base["dtype"],
            "threads": torch.get_num_threads() if device == "cpu" else None,
            "tokens_seen": sum(r["tokens"] for r in log_rows),
            "command": command,
        },
        "metrics": {
            "train_loss_first": log_rows[0]["loss"] if log_rows else None,
            "train_loss_last": log_rows[-1]["loss"] if log_rows else None,
            "val_loss_before": run.val_before,
            "val_loss_after": run.val_after,
        },
        "versions": versions(),
    }


def _save(model, folder: Path) -> None:
    # save_embedding_layers=False: the embeddings are not trained, and "auto" would look the base
    # model up on the hub to check for a changed vocabulary (a network call; none here).
    model.save_pretrained(folder, save_embedding_layers=False)
    (folder / "README.md").unlink(missing_ok=True)  # peft's template; model_card.md is ours


def versions() -> dict:
    # peft: loaded only for fine-tuning and adapters
    import peft
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
    }
