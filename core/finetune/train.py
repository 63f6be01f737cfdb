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

import torch

from core.config import Settings
from core.finetune import card as cards
from core.finetune.adapters import publish, recover
from core.finetune.data import Example, TrainingData
from core.llm.base import ModelUnavailable
from core.llm.models import choose_model, configured_model_name, transformers_source

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


# -- tokenization -------------------------------------------------------------------------------
def chat_ids(tokenizer, messages, generation_prompt: bool) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation_prompt)
    if hasattr(ids, "keys"):  # BatchEncoding in newer transformers
        ids = ids["input_ids"]
    return list(ids)


def encode(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """Token ids of the whole chat, and labels that are -100 everywhere except the assistant's
    turns (their text and end-of-turn token): the model learns the answers, not the prompts."""
    ids: list[int] = []
    labels: list[int] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = chat_ids(tokenizer, messages[:i], True)
        full = chat_ids(tokenizer, messages[: i + 1], False)
        if prompt[: len(ids)] != ids or full[: len(prompt)] != prompt:
            raise ValueError(
                "The model's chat template does not render a conversation as a prefix of its "
                "continuation; cannot mask prompts"
            )
        labels += [-100] * (len(prompt) - len(ids)) + full[len(prompt) :]
        ids = full
    return ids, labels


@dataclass
class Encoded:
    input_ids: torch.Tensor  # (1, n)
    positions: torch.Tensor  # positions whose next token is an answer token
    targets: torch.Tensor  # those next tokens

    @property
    def answer_tokens(self) -> int:
        return int(self.targets.numel())


def encode_all(tokenizer, examples: list[Example], max_tokens: int) -> tuple[list[Encoded], int]:
    out, skipped = [], 0
    for example in examples:
        ids, labels = encode(tokenizer, example.messages)
        if len(ids) > max_tokens:
            skipped += 1
            continue
        shifted = torch.tensor(labels[1:])
        positions = (shifted != -100).nonzero()[:, 0]
        if positions.numel() == 0:
            skipped += 1
            continue
        out.append(Encoded(torch.tensor([ids]), positions, shifted[positions]))
    return out, skipped


def example_loss(model, item: Encoded, device: str) -> torch.Tensor:
    """Summed cross-entropy over the answer tokens; logits only where they are needed."""
    logits = model(input_ids=item.input_ids.to(device), logits_to_keep=item.positions.to(device)).logits
    return torch.nn.functional.cross_entropy(logits[0].float(), item.targets.to(device), reduction="sum")


def mean_loss(model, items: list[Encoded], device: str, progress=None) -> float | None:
    if not items:
        return None
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i, item in enumerate(items, start=1):
            total += float(example_loss(model, item, device))
            count += item.answer_tokens
            if progress:
                progress(i, len(items))
    model.train(was_training)
    return round(total / count, 4)


# -- model ---------------------------------------------------------------------------------------
def load_base(settings: Settings, log=print):
    """The configured base model (never an adapter) for training, with its tokenizer."""
    # transformers: loaded only where the model runs in this process
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # torch: loaded only when the transformers engine runs
    from core.llm.transformers_engine import pick_device

    choice = choose_model(settings)
    name, source = choice.name, choice.source
    kwargs = transformers_source(choice, settings, log=log)
    device = pick_device(settings.device)
    # bf16 on CUDA; fp32 elsewhere (bf16 is slow on CPUs without bf16 instructions, fp16 trains badly).
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    if device == "cpu":
        torch.set_num_threads(settings.threads)
    try:
        tokenizer = AutoTokenizer.from_pretrained(**kwargs)
        model = AutoModelForCausalLM.from_pretrained(**kwargs, dtype=dtype)
    except OSError as exc:
        raise ModelUnavailable(f"Could not load model {name!r} from {source}: {exc}") from exc
    return (
        model.to(device),  # type: ignore[arg-type]  # transformers' annotation of .to() takes the model
        tokenizer,
        {"name": name, "source": source, "device": device, "dtype": str(dtype).removeprefix("torch.")},
    )


def base_model_name(settings: Settings) -> str:

    return configured_model_name(settings)


# -- training ------------------------------------------------------------------------------------
def prepare_out_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and (
        not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "adapter_config.json").is_file())
    ):
        raise ValueError(f"{out_dir} exists and is not an adapter folder; choose a new --out")
    return out_dir


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
    # peft: loaded only for fine-tuning and adapters
    from peft import LoraConfig, get_peft_model

    # tqdm: only the fine-tuning progress bar needs it
    from tqdm import tqdm

    # transformers: loaded only where the model runs in this process
    from transformers import get_linear_schedule_with_warmup

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
        model, tokenizer, base = load_base(settings, log=log)
        device = base["device"]
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

        val_before = mean_loss(model, val_items, device, lambda i, n: report("val_before", i, n))
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
        schedule = get_linear_schedule_with_warmup(optimizer, round(planned * config.warmup), planned)
        order_rng = random.Random(config.seed)
        partial = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)

        log_rows: list[dict] = []
        stopped = False
        step = 0
        queue: list[int] = []
        model.train()
        bar_ = tqdm(total=planned, desc="fine-tune", unit="step", file=sys.stderr, disable=not bar, leave=True)
        report("train", 0, planned)
        try:
            while step < planned:
                batch: list = []
                while len(batch) < config.batch_size:
                    if not queue:
                        queue = list(range(len(train_items)))
                        order_rng.shuffle(queue)
                    batch.append(train_items[queue.pop()])
                step_start = time.perf_counter()
                tokens = sum(item.answer_tokens for item in batch)
                total = 0.0
                for item in batch:
                    if stop.is_set():
                        raise KeyboardInterrupt
                    loss = example_loss(model, item, device)
                    (loss / tokens).backward()
                    total += loss.detach().item()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                row = {
                    "step": step,
                    "loss": round(total / tokens, 4),
                    "lr": schedule.get_last_lr()[0],
                    "seconds": round(time.perf_counter() - step_start, 2),
                    "answer_tokens": tokens,
                    "tokens": sum(int(i.input_ids.numel()) for i in batch),
                }
                log_rows.append(row)
                bar_.update(1)
                bar_.set_postfix(loss=f"{row['loss']:.3f}")
                report("train", step, planned, row["loss"])
                if step % config.checkpoint_every == 0 and step < planned:
                    _save(model, partial)
        except KeyboardInterrupt:
            stopped = True
            log("Stopped: saving what was learned so far")
        finally:
            bar_.close()
            optimizer.zero_grad(set_to_none=True)

        val_after = None
        if not stopped and val_items:
            val_after = mean_loss(model, val_items, device, lambda i, n: report("val_after", i, n))
        report("save", step, planned)
        _save(model, partial)
        seconds = round(time.perf_counter() - started, 1)
        result = TrainResult(
            str(out_dir),
            step,
            log_rows[0]["loss"] if log_rows else None,
            log_rows[-1]["loss"] if log_rows else None,
            val_before,
            val_after,
            seconds,
            device,
            stopped,
            planned,
            log_rows,
        )
        (partial / "training_log.json").write_text(
            json.dumps(
                {
                    "steps": log_rows,
                    "val": [{"step": 0, "loss": val_before}]
                    + ([{"step": step, "loss": val_after}] if val_after is not None else []),
                },
                indent=1,
            )
        )
        with (partial / "val.jsonl").open("w", encoding="utf-8") as fh:
            for example in data.val:
                fh.write(json.dumps(example.as_dict(), ensure_ascii=False) + "\n")
        card = {
            "name": name or out_dir.name,
            "base_model": base_model_name(settings),
            "base_model_source": base["source"],
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "method": {
                "type": "LoRA",
                "r": config.lora_r,
                "alpha": config.alpha,
                "dropout": config.lora_dropout,
                "target_modules": list(config.target_modules),
                "trainable_parameters": sum(p.numel() for p in params),
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
            "data": data.summary() | {"skipped_too_long": skipped + skipped_val},
            "training": {
                "steps": step,
                "planned_steps": planned,
                "stopped": stopped,
                "seconds": seconds,
                "seconds_per_step": round(sum(r["seconds"] for r in log_rows) / max(1, len(log_rows)), 2),
                "device": device,
                "dtype": base["dtype"],
                "threads": torch.get_num_threads() if device == "cpu" else None,
                "tokens_seen": sum(r["tokens"] for r in log_rows),
                "command": command,
            },
            "metrics": {
                "train_loss_first": result.train_loss_first,
                "train_loss_last": result.train_loss_last,
                "val_loss_before": val_before,
                "val_loss_after": val_after,
            },
            "versions": versions(),
        }
        cards.write_card(partial, card)
        publish(settings, partial, out_dir)
        report("done", step, planned)
        return result


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
