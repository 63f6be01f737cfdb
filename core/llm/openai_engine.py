"""The language model on other machines: any OpenAI-compatible server (vLLM, llama.cpp, TGI, Ollama).

`APP_ENGINE=openai` (or the older `APP_LLM_BACKEND=openai`) makes `core.llm.load_llm` return a
`RemoteEngine`: the same `Engine` interface as the local engines, generating on the servers.
`cancel()` closes the HTTP stream, which also stops the server's work.

Several base URLs (`APP_OPENAI_BASE_URLS`, comma-separated) spread the load: each request starts at
the next URL in turn (round-robin). A connection error, a timeout or an HTTP 5xx before the first
word arrives moves the request to the next URL and marks the failing one down for `cooldown_s`
(down URLs are tried last, not never, so a recovered server comes back). A 429 moves on without
marking the server down. Other HTTP errors (401 bad key, 404 unknown model, 400 prompt too long)
are the same on every server, so they are reported at once. Once text has been shown, a failure is
reported instead of silently starting the answer again elsewhere.

Requests are not queued here: unlike the one local model, servers batch concurrent requests.
The API key is only handed to the `openai` client; it never appears in `info`, errors or logs.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from typing import Any, cast
from urllib.parse import urlsplit

import openai

from core.config import Settings
from core.llm.base import (
    Engine,
    EngineError,
    Generation,
    GenerationOptions,
    ModelInfo,
    ModelUnavailable,
    hang_up,
)
from core.llm.models import PACKAGED, assemble_gguf, gguf_tokenizer, model_dir
from core.llm.verdict import word_verdict, yes_share

COOLDOWN_S = 15.0  # how long a failing server is tried last
# connect: a dead host fails over quickly; read: a long prompt on a busy GPU may take a while to
# produce its first token (vLLM queues requests beyond its batch).
TIMEOUT = openai.Timeout(connect=3.0, read=120.0, write=30.0, pool=10.0)


class RemoteRefused(ModelUnavailable):
    """The server answered, but refused the request (bad key, unknown model, prompt too long…)."""


def display_url(url: str) -> str:
    """The URL without credentials or query string, for info output and error messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def parse_base_urls(value: str) -> list[str]:
    urls = []
    for raw in (value or "").split(","):
        url = raw.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ModelUnavailable(f"APP_OPENAI_BASE_URLS: {display_url(url) or 'an entry'} is not an http(s) URL")
        if parts.path in ("", "/"):
            url = url.rstrip("/") + "/v1"  # a bare host:port means the usual OpenAI path
        urls.append(url.rstrip("/"))
    return urls


# -- token counting -----------------------------------------------------------------------------
_PIECE = re.compile(
    r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"  # one CJK character
    r"|\s?[A-Za-z]{1,6}"  # a word (or 6 letters of one) with its leading space
    r"|\s?\d{1,3}"
    r"|\s+"
    r"|[^\sA-Za-z\d]"  # punctuation, other scripts: one each
)


class ApproximateTokenizer:
    """Counts tokens without the server's tokenizer, for trimming history to the context budget.

    An approximation, on purpose: the served model's own tokenizer may not be installed here.
    Words count one per 6 letters, CJK characters one each, punctuation one each, plus a few tokens
    of chat-template overhead per message. That is close to (and for English and Chinese a little
    above) what Qwen/Llama-style BPE tokenizers give; a tokenizer that splits Chinese into bytes
    can count more, so keep APP_CONTEXT_TOKENS somewhat below the server's context length. A prompt
    that is still too long is refused by the server with an HTTP 400, which is reported as such.
    Pieces are strings, so `decode(encode(text)) == text` (Engine.fit cuts long messages with it).
    """

    per_message = 6  # <|im_start|>role\n … <|im_end|>\n and the like
    generation_prompt = 4

    def encode(self, text: str, add_special_tokens: bool = False) -> list[str]:
        return _PIECE.findall(text or "")

    def decode(self, ids: list[str]) -> str:
        return "".join(ids)

    def apply_chat_template(self, messages, add_generation_prompt=True, tokenize=True, continue_final_message=False):
        ids: list[str] = []
        for m in messages:
            ids += ["<m>"] * self.per_message + self.encode(str(m.get("content") or ""))
        open_turn = add_generation_prompt and not continue_final_message
        return ids + ["<g>"] * (self.generation_prompt if open_turn else 0)


def packaged_tokenizer(model: str, settings: Settings, log=print):
    """The exact tokenizer when the servers run one of the packaged models (any quantisation or
    alias that keeps its name), else None."""
    for packaged in PACKAGED.values():
        if packaged.name.lower() in (model or "").lower():
            gguf = assemble_gguf(packaged, settings.runtime_models_dir)
            return gguf_tokenizer(gguf, model_dir(packaged, settings.runtime_models_dir) / "tokenizer", log=log)
    return None


class _Endpoint:
    def __init__(self, url: str, api_key: str):
        self.url = display_url(url)
        self.client = openai.OpenAI(base_url=url, api_key=api_key or "none", timeout=TIMEOUT, max_retries=0)
        self.down_until = 0.0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        return f"cannot connect: {cause}" if cause else "cannot connect"
    return f"{type(exc).__name__}: {exc}"


class RemoteEngine(Engine):
    """Generation on OpenAI-compatible servers. Requests are not queued here: servers batch
    concurrent requests themselves (so `queue` is None and nothing ever waits in a line of ours)."""

    queue = None

    def __init__(self, urls: list[str], model: str, api_key: str, tokenizer, info: ModelInfo):
        self.model_name = model
        self.tokenizer = tokenizer
        self.exact_tokens = not isinstance(tokenizer, ApproximateTokenizer)
        self.info = info
        self.cooldown_s = COOLDOWN_S
        self.endpoints = [_Endpoint(u, api_key) for u in urls]
        self._turn = itertools.count()
        self._state = threading.Lock()
        self._in_flight = 0

    @property
    def busy(self) -> bool:
        with self._state:
            return self._in_flight > 0

    def warm_up(self) -> None:
        """Check that at least one server answers (`GET /models`); mark the others down."""
        failures = []
        for ep in self.endpoints:
            try:
                ep.client.with_options(timeout=5.0).models.list()
                ep.down_until = 0.0
            except openai.OpenAIError as exc:
                if isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403):
                    raise RemoteRefused(
                        f"The model server {ep.url} refused the API key (HTTP {exc.status_code}): "
                        "check APP_OPENAI_API_KEY"
                    ) from None
                self._mark_down(ep)
                failures.append(f"{ep.url} ({_reason(exc)})")
        if len(failures) == len(self.endpoints):
            raise ModelUnavailable(_unreachable(failures))

    def judge(self, prompts: list[list[dict]]) -> list[float | None]:
        """P(yes) from the servers' logprobs (vLLM and llama.cpp return them); a server that sends
        none is read by its one word."""
        scores = []
        for messages in prompts:
            fitted = self.fit([*messages], 1)
            last_error = None
            for ep in self._order():
                try:
                    reply = ep.client.chat.completions.create(
                        model=self.model_name,
                        messages=cast(Any, fitted.messages),  # plain role/content dicts
                        max_tokens=1,
                        temperature=0,
                        logprobs=True,
                        top_logprobs=20,
                    )
                    break
                except openai.APIStatusError as exc:
                    if exc.status_code < 500 and exc.status_code != 429:
                        raise RemoteRefused(_refusal(ep, exc, self.model_name)) from None
                    last_error = f"{ep.url} ({_reason(exc)})"
                except openai.APIConnectionError as exc:
                    self._mark_down(ep)
                    last_error = f"{ep.url} ({_reason(exc)})"
            else:
                raise ModelUnavailable(_unreachable([last_error or "no server"]))
            choice = reply.choices[0]
            content = getattr(getattr(choice, "logprobs", None), "content", None)
            if content:
                scores.append(yes_share((c.token, c.logprob) for c in content[0].top_logprobs))
            else:
                scores.append(word_verdict(choice.message.content or ""))
        return scores

    # -- worker side ---------------------------------------------------------------------------

    def _mark_down(self, ep: _Endpoint) -> None:
        ep.down_until = time.monotonic() + self.cooldown_s

    def _order(self) -> list[_Endpoint]:
        """Round-robin start; servers marked down go to the back of the line."""
        with self._state:
            start = next(self._turn) % len(self.endpoints)
        rotated = self.endpoints[start:] + self.endpoints[:start]
        now = time.monotonic()
        return [e for e in rotated if e.down_until <= now] + [e for e in rotated if e.down_until > now]

    def _request(self, gen: Generation) -> dict:
        o = gen.options
        messages, extra = gen.prompt.messages, dict[str, Any]()
        if gen.prompt.prefill:
            messages = [*messages, {"role": "assistant", "content": gen.prompt.prefill}]
            if self.exact_tokens:
                # The reply so far, continued through the plain completions endpoint with the prompt
                # rendered by the model's own chat template: every OpenAI-compatible server does
                # this the same way (llama-cpp-python's chat endpoint would open a new turn instead).
                prompt = self.tokenizer.apply_chat_template(messages, continue_final_message=True, tokenize=False)
                kwargs = dict(
                    model=self.model_name,
                    prompt=prompt,
                    stream=True,
                    max_tokens=o.max_new_tokens,
                    temperature=o.temperature,
                    top_p=o.top_p,
                    stream_options={"include_usage": True},
                )
                return self._sampling(kwargs, o, {})
            # Without the model's template: vLLM continues a final assistant message when asked to.
            extra.update(continue_final_message=True, add_generation_prompt=False)
        kwargs = dict(
            model=self.model_name,
            messages=messages,
            stream=True,
            max_tokens=o.max_new_tokens,
            temperature=o.temperature,
            top_p=o.top_p,
            stream_options={"include_usage": True},
        )
        return self._sampling(kwargs, o, extra)

    @staticmethod
    def _sampling(kwargs: dict, o: GenerationOptions, extra: dict) -> dict:
        if o.seed is not None:
            kwargs["seed"] = o.seed
        if o.repetition_penalty != 1.0:
            # Not an OpenAI parameter: vLLM reads repetition_penalty, llama.cpp repeat_penalty;
            # servers ignore the fields they do not know.
            extra.update(repetition_penalty=o.repetition_penalty, repeat_penalty=o.repetition_penalty)
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def stream(self, messages, options=None, prefill=""):
        with self._state:
            self._in_flight += 1  # counted from here, so `busy` is true as soon as a request exists
        try:
            return super().stream(messages, options, prefill)
        except BaseException:
            with self._state:
                self._in_flight -= 1
            raise

    def _produce(self, gen: Generation) -> None:
        try:
            self._generate(gen)
        finally:
            with self._state:
                self._in_flight -= 1

    def _generate(self, gen: Generation) -> None:
        kwargs = self._request(gen)
        stats = gen.stats
        started = time.perf_counter()
        failures: list[str] = []
        for ep in self._order():
            if gen.cancelled:
                break
            try:
                create = ep.client.completions.create if "prompt" in kwargs else ep.client.chat.completions.create
                stream = create(**kwargs)
            except openai.APIStatusError as exc:
                if exc.status_code >= 500 or exc.status_code == 429:
                    if exc.status_code >= 500:
                        self._mark_down(ep)
                    failures.append(f"{ep.url} ({_reason(exc)})")
                    continue
                raise RemoteRefused(_refusal(ep, exc, self.model_name)) from None
            except openai.APIConnectionError as exc:  # includes timeouts
                self._mark_down(ep)
                failures.append(f"{ep.url} ({_reason(exc)})")
                continue
            gen.on_cancel(lambda s=stream: hang_up(s.response))  # hanging up also stops the server's work
            pieces, first, last, usage = 0, None, None, None
            try:
                for chunk in stream:
                    if gen.cancelled:
                        break
                    if getattr(chunk, "usage", None):
                        usage = chunk.usage
                    for choice in chunk.choices or []:
                        delta = getattr(choice, "delta", None)  # chat chunks; completions chunks carry .text
                        piece = getattr(delta, "content", None) if delta else getattr(choice, "text", None)
                        if piece:
                            last = time.perf_counter()
                            first = first or last
                            pieces += 1
                            gen.emit(piece)
            except Exception as exc:
                if not gen.cancelled:
                    self._mark_down(ep)
                    if pieces == 0:  # nothing shown yet: the next server can still answer
                        failures.append(f"{ep.url} ({_reason(exc)})")
                        continue
                    raise EngineError(
                        f"The model server {ep.url} stopped in the middle of the answer "
                        f"({_reason(exc)}); the text so far is kept, try again"
                    ) from None
            finally:
                try:
                    stream.close()
                except Exception:
                    pass
            gen.served_by = ep.url
            # Without usage from the server, count stream chunks: vLLM and llama.cpp send one
            # token per chunk (a character split across tokens may merge two). Time to first
            # token runs from sending the request (fail-over included): what a user waits.
            stats.timed(started, first, last, int(getattr(usage, "completion_tokens", 0) or pieces))
            if prompt_tokens := getattr(usage, "prompt_tokens", 0):
                stats.prompt_tokens = int(prompt_tokens)
            return
        stats.seconds = time.perf_counter() - started
        if gen.cancelled:
            return
        raise ModelUnavailable(_unreachable(failures))


def _unreachable(failures: list[str]) -> str:
    return (
        "No model server answered: "
        + "; ".join(failures)
        + ". Check that the servers in APP_OPENAI_BASE_URLS are running and reachable from here."
    )


def _refusal(ep: _Endpoint, exc: openai.APIStatusError, model: str) -> str:
    hint = {
        401: "check APP_OPENAI_API_KEY",
        403: "check APP_OPENAI_API_KEY",
        404: f"does it serve a model named {model!r}? Check APP_OPENAI_MODEL",
        400: "the prompt may be longer than the server's context: lower APP_CONTEXT_TOKENS",
    }.get(exc.status_code, "")
    detail, message = "", None
    if isinstance(exc.body, dict):  # {"error": {"message": …}} or {"message": …}, by server
        error = exc.body.get("error")
        message = exc.body.get("message") or (error.get("message") if isinstance(error, dict) else error)
    if isinstance(message, str) and message:
        detail = f": {message[:200]}"
    return f"The model server {ep.url} refused the request (HTTP {exc.status_code}{detail})" + (
        f"; {hint}" if hint else ""
    )


def load_remote(settings: Settings, log=print) -> RemoteEngine:
    """Connect (lazily) to the configured OpenAI-compatible server(s); nothing is loaded but,
    for a packaged model, its tokenizer."""
    start = time.perf_counter()
    urls = parse_base_urls(settings.openai_base_urls)
    if not urls:
        raise ModelUnavailable("APP_ENGINE=openai needs APP_OPENAI_BASE_URLS, e.g. http://vllm:8000/v1")
    model = settings.openai_model.strip()
    if not model:
        raise ModelUnavailable("APP_ENGINE=openai needs APP_OPENAI_MODEL: the model name the server serves")
    tokenizer = ApproximateTokenizer()
    try:
        tokenizer = packaged_tokenizer(model, settings, log=log) or tokenizer
    except (ModelUnavailable, OSError, ValueError) as exc:
        log(f"Counting tokens approximately: the packaged tokenizer is unavailable ({exc})")
    shown = [display_url(u) for u in urls]
    info = ModelInfo(
        model=model,
        source="OpenAI-compatible server(s) " + ", ".join(shown),
        adapter=None,  # a LoRA adapter is the server's business (vLLM --lora-modules)
        device="remote",
        dtype="n/a",
        engine="openai",
        params=0,
        load_s=round(time.perf_counter() - start, 2),
        context_tokens=settings.context_tokens,
        threads=None,
    )
    return RemoteEngine(urls, model, settings.openai_api_key.strip(), tokenizer, info)
