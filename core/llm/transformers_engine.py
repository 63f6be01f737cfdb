"""The transformers engine: the model in this process, on a CUDA or Apple GPU when there is one.

It is the default with a GPU, what fine-tuning and its evaluation use, and the fallback on a CPU
where llama.cpp could not be built. One request at a time (a one-slot queue): on a CPU a second
stream would only halve the speed of both.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, TextStreamer

from core.config import Settings
from core.llm.base import Engine, Generation, ModelInfo, ModelUnavailable
from core.llm.models import ModelChoice, display_path, transformers_source
from core.llm.verdict import yes_share
from core.storage.locking import FairLock


class _EmitStreamer(TextStreamer):
    """transformers' TextStreamer, handing each finished piece of text to the Generation and
    noting when new tokens arrive."""

    def __init__(self, tokenizer, gen: Generation):
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.gen = gen
        self.first_token_at: float | None = None
        self.last_token_at: float | None = None
        self.new_tokens = 0

    def put(self, value):
        if not (self.skip_prompt and self.next_tokens_are_prompt):
            now = time.perf_counter()
            self.first_token_at = self.first_token_at or now
            self.last_token_at = now
            self.new_tokens += value.numel()
        super().put(value)

    def on_finalized_text(self, text: str, stream_end: bool = False):
        self.gen.emit(text)


class _CancelCriteria(StoppingCriteria):
    def __init__(self, gen: Generation):
        self.gen = gen

    def __call__(self, input_ids, scores, **kwargs):
        return self.gen.cancelled


class TransformersEngine(Engine):
    queue: FairLock

    def __init__(self, model, tokenizer, info: ModelInfo):
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.queue = FairLock(1)
        self.eos_token_ids = eos_token_ids(model, tokenizer)

    def _produce(self, gen: Generation) -> None:
        options = gen.options
        ids = torch.tensor([self.encode(gen.prompt.messages, gen.prompt.prefill)], device=self.model.device)
        streamer = _EmitStreamer(self.tokenizer, gen)
        kwargs = dict(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=options.max_new_tokens,
            repetition_penalty=options.repetition_penalty,
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.tokenizer.pad_token_id or self.eos_token_ids[0],
            streamer=streamer,
            stopping_criteria=[_CancelCriteria(gen)],
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
        gen.stats.timed(start, streamer.first_token_at, streamer.last_token_at, streamer.new_tokens)

    def judge(self, prompts: list[list[dict]]) -> list[float | None]:
        """P(yes) for each prompt from one forward pass (the next token's distribution)."""
        ticket = self.queue.take_ticket()
        self.queue.acquire(ticket)
        try:
            scores = []
            for messages in prompts:
                ids = torch.tensor([self.encode(messages)], device=self.model.device)
                with torch.inference_mode():
                    logits = self.model(input_ids=ids).logits[0, -1].float()
                top = torch.topk(torch.log_softmax(logits, dim=-1), 20)
                words = [self.tokenizer.decode([int(i)]) for i in top.indices]
                scores.append(yes_share(zip(words, top.values.tolist(), strict=False)))
            return scores
        finally:
            self.queue.release(ticket)


def eos_token_ids(model, tokenizer) -> list[int]:
    """Every id that ends a reply: the model's and tokenizer's EOS plus the chat template's ends."""
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


def load_pretrained(settings: Settings, choice: ModelChoice, device: str, dtype, log=print):
    """(model, tokenizer) of the chosen model from its packaged files, in `dtype`, not yet moved to
    `device` (on the CPU, with the configured threads). Shared by the engine and fine-tuning."""
    kwargs = transformers_source(choice, settings, log=log)
    if device == "cpu":
        torch.set_num_threads(settings.threads)
    try:
        tokenizer = AutoTokenizer.from_pretrained(**kwargs)
        model = AutoModelForCausalLM.from_pretrained(**kwargs, dtype=dtype)
    except OSError as exc:
        raise ModelUnavailable(f"Could not load model {choice.name!r} from {choice.source}: {exc}") from exc
    return model, tokenizer


def load_transformers(
    settings: Settings, choice: ModelChoice, adapter: Path | None, log=print, notice: str = ""
) -> TransformersEngine:
    start = time.perf_counter()
    device = pick_device(settings.device)
    dtype = pick_dtype(device, settings.dtype)
    model, tokenizer = load_pretrained(settings, choice, device, dtype, log=log)
    if adapter is not None:
        from peft import PeftModel  # only with an adapter: peft takes a second to import

        # Merged into the base weights: same answers, no per-token adapter overhead.
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model.to(device)  # type: ignore[arg-type]  # transformers types .to() as taking a model
    model.eval()
    if settings.quantize == "int8":
        from core.llm.quantize import quantize_int8_weight_only  # opt-in; see bench/decode_options.py

        quantize_int8_weight_only(model)
    info = ModelInfo(
        model=choice.name,
        source=choice.source,
        adapter=display_path(adapter) if adapter else None,
        device=device,
        dtype=str(dtype).removeprefix("torch."),
        engine="transformers",
        params=sum(p.numel() for p in model.parameters()),
        load_s=round(time.perf_counter() - start, 2),
        context_tokens=settings.context_tokens,
        threads=torch.get_num_threads() if device == "cpu" else None,
        parallel=1,
        notice=notice,
    )
    return TransformersEngine(model, tokenizer, info)
