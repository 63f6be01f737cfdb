"""The engine interface every backend implements, and the one `Generation` they all return.

A page or a `core` module holds an `Engine` and calls `stream(messages, options, prefill)`: chat
messages in, a `Generation` out. Iterate it for text chunks; `cancel()` stops it; `stats` is
complete once iteration ends. Requests beyond the engine's free slots wait in line
(`core.llm.slots.SlotQueue`: staff requests, the default, before public ones, each in arrival
order; llama.cpp keeps a slot only staff may take), and a waiting generation reports `queued` and
`waiting_ahead` so a page can say how many requests are ahead. Reading a yes/no judgement from a
model is in `core.llm.verdict`.

A backend implements `_produce(gen)`, which runs on the generation's worker thread: it calls
`gen.emit(text)` for each piece, checks `gen.cancelled`, fills `gen.stats`, and registers
`gen.on_cancel(fn)` where a blocking read must be interrupted (an HTTP stream to close).
"""

from __future__ import annotations

import dataclasses
import queue
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from core.llm.slots import PUBLIC, STAFF, SlotQueue
from core.llm.verdict import word_verdict
from core.storage.locking import FairLock


class ModelUnavailable(RuntimeError):
    """The model cannot be loaded or reached; the message says what to do about it."""


class EngineError(RuntimeError):
    """The engine failed while answering (it stopped, the connection broke); the text so far is kept."""


@dataclass
class GenerationOptions:
    max_new_tokens: int = 512
    temperature: float = 0.7  # 0 means greedy
    top_p: float = 0.8
    repetition_penalty: float = 1.05
    seed: int | None = None
    adapter: bool = True  # False: the base model alone, where the engine switches adapters per request (llama.cpp)
    # STAFF (default) or PUBLIC: public requests wait behind staff ones and never take a staff slot
    priority: int = STAFF

    def validate(self) -> GenerationOptions:
        if not 1 <= self.max_new_tokens <= 8192:
            raise ValueError("max_new_tokens must be between 1 and 8192")
        if not 0 <= self.temperature <= 2:
            raise ValueError("temperature must be between 0 and 2")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be above 0 and at most 1")
        if not 0.5 <= self.repetition_penalty <= 2:
            raise ValueError("repetition_penalty must be between 0.5 and 2")
        if self.priority not in (STAFF, PUBLIC):
            raise ValueError("priority is STAFF (0) or PUBLIC (1)")
        return self


@dataclass
class FittedPrompt:
    messages: list[dict]
    prompt_tokens: int
    dropped_messages: int = 0
    truncated_chars: int = 0
    prefill: str = ""  # the start of the reply, written for the model; it continues from there


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    new_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens the engine reused from an earlier request (prefix cache)
    ttft_ms: float = 0.0  # from the engine starting on this request to its first new token
    decode_tok_s: float = 0.0  # new tokens after the first, per second
    seconds: float = 0.0  # whole generation, queueing excluded
    queued_ms: float = 0.0
    stopped: bool = False  # cancelled before the model finished
    dropped_messages: int = 0  # oldest history messages left out to fit the context
    truncated_chars: int = 0  # characters cut from the last message to fit the context

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_prompt(cls, prompt: FittedPrompt) -> GenerationStats:
        return cls(
            prompt_tokens=prompt.prompt_tokens,
            dropped_messages=prompt.dropped_messages,
            truncated_chars=prompt.truncated_chars,
        )

    def timed(self, started: float, first: float | None, last: float | None, new_tokens: int) -> None:
        """Fill the timings from perf_counter stamps: request start, first and last new token."""
        self.seconds = time.perf_counter() - started
        self.new_tokens = new_tokens
        if first is not None:
            self.ttft_ms = (first - started) * 1000
            if new_tokens > 1 and last is not None and last > first:
                self.decode_tok_s = (new_tokens - 1) / (last - first)


@dataclass
class ModelInfo:
    model: str
    source: str
    adapter: str | None
    device: str
    dtype: str
    engine: str = "transformers"  # llamacpp | transformers | openai
    params: int = 0
    load_s: float = 0.0
    context_tokens: int = 4096
    threads: int | None = None
    parallel: int = 1  # requests generated at the same time
    notice: str = ""  # shown to the user, e.g. why the engine is not the fast one

    def as_dict(self) -> dict:
        return asdict(self)


_END = object()


class Generation:
    """A streamed reply, the same for every engine. Iterate for text chunks."""

    def __init__(self, engine: Engine, prompt: FittedPrompt, options: GenerationOptions):
        self.engine = engine
        self.prompt = prompt
        self.options = options
        self.text = ""
        self.stats = GenerationStats.for_prompt(prompt)
        self.served_by = ""  # the server that answered, where an engine has several (no credentials)
        self.slot: int | None = None  # the number of the engine's slot it holds (SlotQueue), once admitted
        self._cancel = threading.Event()
        self._started = threading.Event()
        self._done = threading.Event()
        self._chunks: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._cancel_hooks: list = []
        self._hooks_lock = threading.Lock()
        self._queue = engine.queue
        if isinstance(self._queue, SlotQueue):
            self._ticket = self._queue.take_ticket(options.priority)
        else:
            self._ticket = self._queue.take_ticket() if self._queue else -1
        self._created = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="generation", daemon=True)
        self._thread.start()

    # -- consumer side -------------------------------------------------------------------------
    @property
    def queued(self) -> bool:
        """True while every slot of the engine is busy with earlier requests."""
        return not self._started.is_set() and not self._done.is_set()

    @property
    def waiting_ahead(self) -> int:
        return self._queue.waiting_ahead(self._ticket) if self._queue is not None and self.queued else 0

    def wait_started(self, timeout: float | None = None) -> bool:
        return self._started.wait(timeout) or self._done.is_set()

    def cancel(self) -> None:
        self._cancel.set()
        with self._hooks_lock:
            hooks = list(self._cancel_hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:  # closing an already closed stream, say
                pass

    def __iter__(self):
        try:
            while True:
                chunk = self._chunks.get()
                if chunk is _END:
                    break
                self.text += chunk
                yield chunk
            self._thread.join()
            if self._error is not None:
                raise self._error
        finally:
            # The consumer went away (Stop button, closed tab): free the slot for the next one.
            if not self._done.is_set():
                self.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the engine has finished with this request (after `cancel()`, say)."""
        return self._done.wait(timeout)

    def result(self) -> str:
        """Consume the whole stream and return the text."""
        for _ in self:
            pass
        return self.text

    # -- producer side (the backend, on the worker thread) -------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def emit(self, text: str) -> None:
        if text:
            self._chunks.put(text)

    def on_cancel(self, hook) -> None:
        """Call `hook` when the consumer cancels (e.g. close the HTTP stream the worker reads)."""
        with self._hooks_lock:
            self._cancel_hooks.append(hook)
        if self._cancel.is_set():
            hook()

    def _run(self) -> None:
        admitted = False
        try:
            if self._queue is not None:
                admitted = self._queue.acquire(self._ticket, cancelled=self._cancel)
                if not admitted:
                    self.stats.stopped = True
                    return
            if isinstance(self._queue, SlotQueue):
                self.slot = self._queue.slot_of(self._ticket)
            self.stats.queued_ms = (time.perf_counter() - self._created) * 1000
            self._started.set()
            self.engine._produce(self)
            if self._cancel.is_set():
                self.stats.stopped = True
        except BaseException as exc:  # surfaced to the consumer in __iter__
            if self._cancel.is_set():
                self.stats.stopped = True  # a stream closed by cancel() fails on purpose
            else:
                self._error = exc
        finally:
            if admitted and self._queue is not None:
                self._queue.release(self._ticket)
            self._done.set()
            self._chunks.put(_END)


def hang_up(response) -> None:
    """End a streamed HTTP response (httpx) from another thread, waking the thread that reads it.
    `close()` alone does not wake a thread blocked reading the socket (Linux): a cancelled answer
    kept its slot until the read timed out. A socket shutdown wakes it, and the server sees the
    hang-up and stops."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass
    response.close()


class Engine:
    """What every backend offers. Subclasses set `info`, `tokenizer` and `queue` (a FairLock of the
    engine's slots, or None where the server schedules requests itself) and implement `_produce`."""

    info: ModelInfo
    tokenizer: Any = None  # encode/decode/apply_chat_template, for counting and fitting the prompt
    adapter_per_request = False  # True: GenerationOptions(adapter=False) reaches the base model
    # True: prompts read once are kept (llama.cpp's --cache-ram), so reading known passages ahead
    # of time (core.support.relevance.warm_judge) makes later judgements of them fast.
    keeps_prompts = False
    queue: FairLock | SlotQueue | None = None

    @property
    def busy(self) -> bool:
        """True while every slot is generating (a new request would wait)."""
        return bool(self.queue and self.queue.busy)

    def warm_up(self) -> None:
        """Make the first real request fast: load what loads lazily, run two tokens."""
        self.complete([{"role": "user", "content": "Hi"}], GenerationOptions(max_new_tokens=2, temperature=0))

    def close(self) -> None:
        """Free what the engine holds (a child process, say). Safe to call twice."""

    # -- prompts -------------------------------------------------------------------------------
    def encode(self, messages: list[dict], prefill: str = "") -> list:
        """The prompt as the model sees it: chat template applied; with a prefill, the assistant's
        turn is left open after it so the model continues the reply."""
        if prefill:
            ids = self.tokenizer.apply_chat_template(
                [*messages, {"role": "assistant", "content": prefill}], continue_final_message=True, tokenize=True
            )
        else:
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if hasattr(ids, "keys"):  # BatchEncoding in newer transformers
            ids = ids["input_ids"]
        return list(ids)

    def count_tokens(self, messages: list[dict], prefill: str = "") -> int:
        return len(self.encode(messages, prefill))

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

    # -- generation ----------------------------------------------------------------------------
    def stream(self, messages: list[dict], options: GenerationOptions | None = None, prefill: str = "") -> Generation:
        """Generate a reply to `messages`; with `prefill`, the reply starts with that text and the
        stream (and `.text`) holds only what the model adds after it."""
        options = (options or GenerationOptions()).validate()
        prompt = self.fit([clean_message(m) for m in messages], options.max_new_tokens, prefill)
        return Generation(self, prompt, options)

    def complete(self, messages: list[dict], options: GenerationOptions | None = None):
        gen = self.stream(messages, options)
        return gen.result(), gen.stats

    def judge(self, prompts: list[list[dict]]) -> list[float | None]:
        """For each chat prompt (ending with a yes/no question to the model), the probability that
        the reply's first word is "yes" rather than "no"; None where the model says neither (it
        cannot judge). This generic version reads one greedy word; engines that see the model's
        probabilities override it."""
        scores = []
        for messages in prompts:
            text, _ = self.complete(
                messages, GenerationOptions(max_new_tokens=2, temperature=0, repetition_penalty=1.0)
            )
            scores.append(word_verdict(text))
        return scores

    def _produce(self, gen: Generation) -> None:
        raise NotImplementedError


class AtPriority:
    """An engine whose every generation has this priority (customer service passes
    `AtPriority(llm, PUBLIC)` to the support policy, which makes its own GenerationOptions);
    everything else is the engine's."""

    def __init__(self, engine: Engine, priority: int):
        self.engine, self.priority = engine, priority

    def __getattr__(self, name: str):
        return getattr(self.engine, name)

    def stream(self, messages: list[dict], options: GenerationOptions | None = None, prefill: str = "") -> Generation:
        options = dataclasses.replace(options or GenerationOptions(), priority=self.priority)
        return self.engine.stream(messages, options, prefill)

    def complete(self, messages: list[dict], options: GenerationOptions | None = None):
        gen = self.stream(messages, options)
        return gen.result(), gen.stats


def clean_message(message: dict) -> dict:
    """A chat message with a known role and string content (None becomes "")."""
    role = message.get("role")
    if role not in ("system", "user", "assistant"):
        raise ValueError(f"Unknown message role: {role!r}")
    return {"role": role, "content": str(message.get("content") or "")}
