"""The llama.cpp engine: the client that streams from llama.cpp's own server (core.llm.llamacpp_server).

Why a child process and not a Python binding: current llama.cpp builds here only from source, and
its server already does what the app needs on a CPU: continuous batching over `parallel` slots,
a prompt cache per slot (the second turn of a chat re-reads only the new message), LoRA adapters
switched per request, and it decodes the 1.5B model 5x faster than transformers decodes the 0.5B
(../shared/STACK.md).

`LlamaCppEngine` is the `Engine`: prompts are rendered and counted with the model's own tokenizer
and sent as token ids to `/completion`, so what is counted is exactly what the server reads.
Requests beyond the free slots wait in our own queue (`SlotQueue`: staff before public, then
first come first served; `staff_slots` more slots only staff take), which is how a page knows how
many requests are ahead.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from core.llm.base import Engine, EngineError, Generation, ModelInfo, hang_up
from core.llm.llamacpp_server import LlamaServer, shared_server
from core.llm.models import gguf_path, gguf_tokenizer, tokenizer_cache
from core.llm.slots import SlotQueue
from core.llm.verdict import word_verdict, yes_share

# Under load a question waits at most this long for the relevance check's slot; then it goes without
# one (the support policy falls back to retrieval confidence) instead of queueing behind every other
# question: at 16 sessions on 2 cores the judgements queued for minutes (bench/load.py).
JUDGE_WAIT_S = 4.0


class LlamaCppEngine(Engine):
    """Generation through a shared `LlamaServer`, with or without one LoRA adapter (GGUF)."""

    adapter_per_request = True  # each request sets every adapter's scale
    keeps_prompts = True  # --cache-ram

    def __init__(self, server: LlamaServer, tokenizer, info: ModelInfo, lora: Path | None = None):
        self.server = server
        self.tokenizer = tokenizer
        self.info = info
        self.lora = lora

    @property
    def queue(self) -> SlotQueue:  # type: ignore[override]  # the server's, shared by every engine on it
        return self.server.queue

    def start(self) -> None:
        """Start the server (with this engine's adapter loaded) and wait until it answers."""
        if self.lora is not None and self.lora not in self.server.loras:
            if self.server.running or self.server.pid:
                self.server.restart([*self.server.loras, self.lora])
            else:
                self.server.loras.append(self.lora)
        self.server.ensure_ready()
        self.info.params = int(self.server.meta.get("n_params") or self.info.params)

    def stream(self, messages, options=None, prefill=""):
        self.start()  # here, before the request takes a slot: loading an adapter waits for free slots
        return super().stream(messages, options, prefill)

    def close(self) -> None:
        self.server.stop()

    def judge(self, prompts: list[list[dict]]) -> list[float | None]:
        """P(yes) for each prompt, from the model's next-token probabilities, on the judging slot.
        The base model judges (every adapter's scale 0): the thresholds do not move with adapters."""
        if not prompts:
            return []
        self.start()
        queue = self.server.judge_queue
        ticket = queue.take_ticket()
        waited_too_long = threading.Event()
        timer = threading.Timer(JUDGE_WAIT_S, waited_too_long.set)
        timer.start()
        try:
            admitted = queue.acquire(ticket, waited_too_long)
        finally:
            timer.cancel()
        if not admitted:
            raise EngineError(f"The relevance check is busy (waited {JUDGE_WAIT_S:.0f} s for its turn)")
        try:
            self.server.ensure_ready()
            scores = []
            for messages in prompts:  # one slot: one prompt after another, each with the shared prefix cached
                body = {
                    "prompt": self.encode(messages),
                    "n_predict": 1,
                    "n_probs": 20,
                    "temperature": -1,
                    "cache_prompt": True,
                    "stream": False,
                    "id_slot": self.server.judge_slot,
                }
                if self.server.loras:
                    body["lora"] = [{"id": i, "scale": 0.0} for i in range(len(self.server.loras))]
                try:
                    with self.server.request():
                        response = self.server.client.post(f"{self.server.url}/completion", json=body)
                except httpx.HTTPError as exc:
                    raise EngineError(
                        f"The model engine did not answer a relevance check ({type(exc).__name__})"
                    ) from None
                if response.status_code != 200:
                    raise EngineError(f"The llama.cpp engine refused a relevance check (HTTP {response.status_code})")
                result = response.json()
                probs = result.get("completion_probabilities") or []
                if probs:
                    scores.append(yes_share([(c["token"], c["logprob"]) for c in probs[0]["top_logprobs"]]))
                else:  # no whole token came out (a byte of a longer character): read the word
                    scores.append(word_verdict(result.get("content", "")))
            return scores
        finally:
            queue.release(ticket)

    def _request(self, gen: Generation) -> dict:
        o = gen.options
        body = {
            "prompt": self.encode(gen.prompt.messages, gen.prompt.prefill),
            "n_predict": o.max_new_tokens,
            "stream": True,
            "cache_prompt": True,
            "temperature": o.temperature,
            "top_p": o.top_p,
            "top_k": 0,
            "min_p": 0.0,
            "repeat_penalty": o.repetition_penalty,
            "seed": o.seed if o.seed is not None else -1,
            "return_progress": True,  # prompt-reading progress while it reads: the watchdog sees it working
            "id_slot": self.server.server_slot(gen.slot),
        }
        if o.temperature == 0:
            body.update(top_k=1, temperature=0.0)  # greedy
        if self.server.loras:
            body["lora"] = [
                {"id": i, "scale": 1.0 if path == self.lora and o.adapter else 0.0}
                for i, path in enumerate(self.server.loras)
            ]
        return body

    def _produce(self, gen: Generation, retried: bool = False) -> None:
        self.server.ensure_ready()  # after a crash, the restarted server
        process = self.server.generation
        stats = gen.stats
        started = time.perf_counter()
        first = last = None
        pieces, final = 0, {}
        try:
            with (
                self.server.request(),
                self.server.client.stream("POST", f"{self.server.url}/completion", json=self._request(gen)) as response,
            ):
                gen.on_cancel(lambda: hang_up(response))  # the server stops this slot when we hang up
                if response.status_code != 200:
                    response.read()
                    raise EngineError(
                        f"The llama.cpp engine refused the request (HTTP {response.status_code}): {response.text[:300]}"
                    )
                for line in response.iter_lines():
                    self.server.progressed()
                    if gen.cancelled:
                        break
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    if "error" in event:
                        raise EngineError(f"The llama.cpp engine failed: {event['error']}")
                    if event.get("content"):
                        last = time.perf_counter()
                        first = first or last
                        pieces += 1
                        gen.emit(event["content"])
                    if event.get("stop"):
                        final = event
                        break
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            # A JSONDecodeError is the last line of a stream cut mid-line (httpx hands over what it
            # had when the connection closed): the same failure as a broken connection.
            if gen.cancelled:
                return
            if isinstance(exc, httpx.ConnectError) and not pieces and not retried:
                # Nothing reached a server: it died a moment ago and its supervisor had not noticed
                # yet (seen on a busy machine right after a crash). Wait for the new one, send again.
                self.server.wait_replaced(process)
                return self._produce(gen, retried=True)
            raise EngineError(
                "The model engine stopped in the middle of the answer "
                f"({type(exc).__name__}); it is restarting. The text so far is kept: "
                "send your message again in a moment."
            ) from None
        timings = final.get("timings") or {}
        stats.timed(started, first, last, int(final.get("tokens_predicted") or pieces))
        stats.cached_tokens = int(timings.get("cache_n") or 0)


def load_llamacpp(
    settings, choice, binary: Path, adapter_gguf: Path | None, adapter_name: str | None, log=print
) -> LlamaCppEngine:
    """The engine for `choice` (core.llm.models.ModelChoice), its server shared in this process."""

    start = time.perf_counter()
    gguf = gguf_path(choice, settings)
    tokenizer = gguf_tokenizer(gguf, tokenizer_cache(choice, gguf, settings), log=log)
    server = shared_server(
        binary,
        gguf,
        alias=choice.name,
        threads=settings.threads,
        parallel=settings.parallel,
        context_tokens=settings.context_tokens,
        log_path=settings.data_dir / "logs" / "llama-server.log",
        cache_mb=settings.llama_cache_mb,
        staff_slots=settings.staff_slots,
    )
    info = ModelInfo(
        model=choice.name,
        source=f"{choice.source}, {gguf.name}",
        adapter=adapter_name,
        device="cpu",
        dtype=gguf_dtype(gguf),
        engine="llamacpp",
        context_tokens=settings.context_tokens,
        threads=settings.threads,
        parallel=settings.parallel,
    )
    engine = LlamaCppEngine(server, tokenizer, info, adapter_gguf)
    info.load_s = round(time.perf_counter() - start, 2)
    return engine


def gguf_dtype(gguf: Path) -> str:
    """The quantisation, as its file name says it (Q4_K_M, F16…), else "gguf"."""
    stem = gguf.stem.lower()
    for tag in ("q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s", "q6_k", "q8_0", "q4_0", "q4_1", "f16", "bf16", "f32"):
        if stem.endswith(tag):
            return tag.upper()
    return "gguf"
