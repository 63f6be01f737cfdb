"""The HTTP API: customer service for the company's own website (and any program), plus an
OpenAI-compatible chat endpoint for the company's model.

- `POST /api/v1/support/ask`: the same three-tier answer policy as the Customer service page,
  streamed as server-sent events (`start`, `queue`, `delta` text chunks, then `final` with the
  tier, sources, suggestions, hand-over flag and latency); `?stream=false` returns one JSON object.
- `POST /api/v1/support/suggestion`, `/feedback`, `/tickets`: a "did you mean" click, thumbs and
  the hand-over form, landing in the same log, Unanswered list and analytics as the page.
- `POST /v1/chat/completions`, `GET /v1/models`: OpenAI-compatible chat (personas as model names).
- `GET /api/v1/health`; OpenAPI docs at `/docs`; the website widget at `/widget.js` and a demo
  page at `/widget/demo`.

Every request but health, docs and the widget's files needs `Authorization: Bearer KEY`
(core/api/keys.py): a wrong key is 401, over the key's rate limit 429 with Retry-After, a browser
origin the key does not allow 403. Bodies over 1 MB are refused (413) before they are read whole.

A website key is public (it is in the page's HTML), so its limits also hold per visitor (client
address, and conversation): requests per minute, questions in progress at once (429). Past
`APP_API_MAX_WAITING` questions waiting for the model, a question is refused at once, before any
work, with 503 and Retry-After. Customers' answers are PUBLIC generations: staff (the Chat page,
this API's chat with an `all` key) go first and have a slot of their own (core/llm/base.py).

Each answer comes with `answer_token`, random: thumbs, a "did you mean" click and a ticket name
their answer by it (`question_id`, sequential, is still returned but links nothing on its own).
Every question is stored when it arrives and completed when its answer ends; a stream cut short
stores it as abandoned (core/support/ask.py).
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import secrets
import sys
import threading
import time
import uuid
import weakref
from collections import OrderedDict, deque
from pathlib import Path
from typing import Literal

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import iterate_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.api.keys import (
    ApiKey,
    InFlight,
    KeyStore,
    RateLimiter,
    client_address,
    digest,
    normalise_origin,
    trusted_networks,
)
from core.config import Settings, load_settings
from core.kb.store import KnowledgeBase, load_sample
from core.llm import EngineError, GenerationOptions, ModelUnavailable, load_llm
from core.llm.adapters import adapter_key
from core.llm.base import PUBLIC, SlotQueue
from core.personas import load_personas, system_prompt
from core.support.ask import Turn, ask
from core.support.log import SupportLog
from core.support.policy import from_suggestion
from core.text.language import to_traditional

MAX_BODY = 1_000_000
STATIC = Path(__file__).resolve().parent / "static"
CHANNELS = ("widget", "api")
TICKETS_PER_VISITOR_HOUR = 10  # hand-over tickets from one client address per key
KEY_SEEN_S = 10.0  # how long FastRefusal trusts a key it looked up (the full checks look again)


def busy_message(retry_after: int) -> str:
    return f"Many questions are being answered right now; try again in {retry_after} s"


def visitor_busy(per_visitor: int) -> str:
    return f"{per_visitor} of your questions are being answered; ask again when one is done"


NOSNIFF = (b"x-content-type-options", b"nosniff")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        self.status, self.message, self.headers = status, message, headers or {}


class BodyLimit:
    """ASGI middleware: refuse a body over `limit` bytes, whether it says its length or streams."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await too_large(send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise ApiError(413, "too large")
            return message

        try:
            await self.app(scope, limited, send)
        except ApiError:
            await too_large(send)


async def too_large(send):
    body = json.dumps({"error": f"The request body is over {MAX_BODY // 1_000_000} MB"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                NOSNIFF,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FastRefusal:
    """ASGI middleware: a question the API would refuse anyway (this website visitor has their limit
    of questions in progress; as many in progress or waiting as the API allows) is refused here, on
    the event loop, before it is routed, validated or its key's use counted: under a flood at once
    each refusal takes about a millisecond instead of a turn on a worker thread. Questions with a
    valid key are counted from here to their response's end, so fifty sent at once are counted as
    they arrive, not only once a worker thread has admitted them."""

    def __init__(self, app, services: Services, path: str = "/api/v1/support/ask"):
        self.app, self.services, self.path = app, services, path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        refusal, visitor = self.services.let_in(Headers(scope=scope), scope.get("client"))
        if refusal is not None:
            status, message, headers = refusal
            # Server-Timing (standard): the refusal's own time, apart from the network and the client's.
            timing = {"Server-Timing": f"refuse;dur={(time.perf_counter() - started) * 1000:.2f}"}
            response = JSONResponse({"error": message}, status_code=status, headers={**headers, **timing})
            return await response(scope, receive, send)
        try:
            await self.app(scope, receive, send)
        finally:
            if visitor is not None:
                self.services.arriving.leave(visitor)


class EdgeHeaders:
    """ASGI middleware: CORS per key (a preflight is answered for the origins some active key allows;
    a response gets Access-Control-Allow-Origin where its origin is allowed, and may show the browser
    Retry-After), and `X-Content-Type-Options: nosniff` on every response."""

    def __init__(self, app, keys: KeyStore):
        self.app, self.keys = app, keys

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = False
        if origin:
            try:
                allowed = normalise_origin(origin) in self.keys.allowed_origins()
            except ValueError:
                allowed = False
        if scope["method"] == "OPTIONS" and origin and headers.get("access-control-request-method"):
            if not allowed:
                response: Response = JSONResponse(
                    {"error": f"Origin {origin} is not allowed by any API key"}, status_code=403
                )
            else:
                response = Response(
                    status_code=204,
                    headers={
                        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Studio-Channel",
                        "Access-Control-Max-Age": "600",
                    },
                )
            return await response(scope, receive, self._sending(send, origin if allowed else None))
        return await self.app(scope, receive, self._sending(send, origin if allowed else None))

    @staticmethod
    def _sending(send, origin: str | None):
        async def sending(message):
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["X-Content-Type-Options"] = "nosniff"
                if origin:
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Expose-Headers"] = "Retry-After"
                    out.add_vary_header("Origin")
            await send(message)

        return sending


# -- request bodies ---------------------------------------------------------------------------------
class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    conversation_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    language: Literal["auto", "en", "zh-Hans", "zh-Hant"] = "auto"


TOKEN = Field(None, min_length=1, max_length=200, description="the answer_token that came with the answer")


class SuggestionIn(BaseModel):
    faq_id: str = Field(min_length=1, max_length=200)
    asked: str = Field(min_length=1, max_length=2000)
    answer_token: str | None = TOKEN
    question_id: int | None = Field(None, description="older widgets: links nothing without answer_token")
    conversation_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class FeedbackIn(BaseModel):
    answer_token: str = Field(min_length=1, max_length=200, description="the answer_token that came with the answer")
    question_id: int | None = Field(None, description="optional; must be the answer's if given")
    helpful: bool | None


class TicketIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=5000)
    answer_token: str | None = TOKEN
    question_id: int | None = Field(None, description="older widgets: links nothing without answer_token")


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=100_000)


class ChatIn(BaseModel):
    model: str = Field("assistant", max_length=100)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.8, gt=0, le=1)
    seed: int | None = None


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class Conversations:
    """The last turns of each API conversation (for follow-up questions), bounded, in memory."""

    def __init__(self, size: int = 10_000, turns: int = 6):
        self.size, self.turns = size, turns
        self._items: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, key: str) -> list[dict]:
        with self._lock:
            return list(self._items.get(key, ()))

    def add(self, key: str, question: str, reply: str) -> None:
        with self._lock:
            turns = self._items.setdefault(key, deque(maxlen=self.turns))
            turns.extend([{"role": "user", "content": question}, {"role": "assistant", "content": reply}])
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Services:
    """What the API works with, made on first use and shared by every request: the knowledge base,
    the model (the same engine the app uses in this process), the support log and the keys."""

    def __init__(self, settings: Settings, llm=None, kb: KnowledgeBase | None = None):
        self.settings = settings
        self.log = SupportLog(settings.db_path)  # opening it marks what a dead process left answering abandoned
        self.keys = KeyStore(settings.db_path)
        self.limiter = RateLimiter()
        self.in_flight = InFlight()  # questions admitted, until their answer ends
        self.arriving = InFlight()  # questions with a valid key, from FastRefusal until their response ends
        self.trusted = trusted_networks(settings.api_trusted_proxies)
        self.answer_s = 10.0  # how long a question takes, recent average: the Retry-After of a refusal
        self.conversations = Conversations()
        self._seen_keys: dict[str, tuple[ApiKey, float]] = {}  # key digest -> (key, until): FastRefusal's
        self._llm, self._kb = llm, kb
        self._fixed_llm = llm is not None  # given (tests): never reloaded
        self._llm_key = None
        self._lock = threading.Lock()

    @property
    def kb(self) -> KnowledgeBase:
        with self._lock:
            if self._kb is None:
                kb = KnowledgeBase(self.settings.kb_dir, self.settings.kb_name)
                if self.settings.sample_kb == "on":
                    load_sample(kb)
                self._kb = kb
            return self._kb

    def public_slots(self) -> tuple[int, int]:
        """(slots customers' answers may take, how many of theirs wait now), from the loaded engine's
        queue; nothing is loaded for this."""
        queue = getattr(self._llm, "queue", None)
        if queue is None:
            return self.settings.parallel, 0
        if isinstance(queue, SlotQueue):
            return queue.slots, queue.waiting(PUBLIC)
        return queue.slots, queue.waiting() if hasattr(queue, "waiting") else 0  # one line for everyone

    def seen_key(self, secret: str, key: ApiKey) -> None:
        with self._lock:
            if len(self._seen_keys) > 10_000:
                self._seen_keys.clear()
            self._seen_keys[digest(secret)] = (key, time.monotonic() + KEY_SEEN_S)

    def asker(self, headers: Headers, client) -> tuple[tuple[int, str], int] | None:
        """(visitor, how many questions they may have in progress) for a request with an active key:
        the visitor is (key id, client address); a website key (public) allows each visitor
        APP_API_VISITOR_ASKS, a server key no limit of its own. None for a wrong key or none (the full
        checks answer 401). A key not checked within KEY_SEEN_S is looked up (one indexed read) and
        remembered."""
        auth = headers.get("authorization", "")
        secret = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not secret:
            return None
        with self._lock:
            seen = self._seen_keys.get(digest(secret))
        key: ApiKey | None
        if seen is not None and seen[1] > time.monotonic():
            key = seen[0]
        elif (key := self.keys.find(secret)) is not None:
            self.seen_key(secret, key)
        if key is None:
            return None
        peer = client[0] if client else None
        visitor = (key.id, client_address(peer, headers.get("x-forwarded-for"), self.trusted))
        return visitor, self.settings.api_visitor_asks if key.origins else sys.maxsize

    def let_in(self, headers: Headers, client) -> tuple[tuple[int, str, dict] | None, tuple[int, str] | None]:
        """(refusal, visitor). A refusal (status, message, headers) when a question would be refused
        before any work (429: this website visitor has their limit of questions in progress or
        arriving; 503: as many questions as may be in progress or wait are, or customers' answers
        wait). Otherwise the visitor now counted in `arriving` (call `arriving.leave` once the
        response ends), or None for a request without a valid key; the full checks follow."""
        s = self.settings
        retry = {"Retry-After": str(self.retry_after())}
        found = self.asker(headers, client)
        slots, waiting = self.public_slots()
        most = slots + s.api_max_waiting
        why = self.arriving.enter(found[0], found[1], most) if found is not None else ""
        if why == "visitor":
            return (429, visitor_busy(s.api_visitor_asks), retry), None
        if why or self.in_flight.total >= most or waiting >= s.api_max_waiting:
            if found is not None and not why:
                self.arriving.leave(found[0])
            return (503, busy_message(self.retry_after()), retry), None
        return None, found[0] if found is not None else None

    def took(self, seconds: float) -> None:
        with self._lock:
            self.answer_s = 0.8 * self.answer_s + 0.2 * seconds

    def retry_after(self) -> int:
        return int(min(120, max(1, math.ceil(self.answer_s))))

    @property
    def llm(self):
        """The engine, reloaded when the active adapter changes (the Model page), as the app does."""
        key = None if self._fixed_llm else adapter_key(self.settings)
        with self._lock:
            if self._llm is None or (not self._fixed_llm and key != self._llm_key):
                self._llm, self._llm_key = load_llm(self.settings, log=lambda *_: None), key
            return self._llm


class Admitted:
    """A question let in (counted in `InFlight`) until `leave()`, called once whatever happens:
    the answer ends, the stream is cut, or the response is dropped before it started."""

    def __init__(self, services: Services, visitor):
        self.services, self.visitor = services, visitor
        self.started = time.monotonic()
        self._left = False

    def leave(self, answered: bool = True) -> None:
        if not self._left:
            self._left = True
            self.services.in_flight.leave(self.visitor)
            if answered:
                self.services.took(time.monotonic() - self.started)


def create_app(settings: Settings | None = None, *, llm=None, kb: KnowledgeBase | None = None) -> FastAPI:
    services = Services(settings or load_settings(), llm, kb)
    docs = services.settings.api_docs == "on"

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Streamed answers read the model on worker threads; questions in progress are bounded by
        # the admission limits, so this is plenty, and health never needs one (it is async).
        anyio.to_thread.current_default_thread_limiter().total_tokens = 100
        yield

    app = FastAPI(
        title="AI Business Studio API",
        version="1",
        description="Customer service from the company's knowledge base, and chat with its model.",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        lifespan=lifespan,
    )
    app.state.services = services

    # -- errors: always {"error": "..."} -----------------------------------------------------------
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": "The request body is not valid JSON"}, status_code=400)
        parts = []
        for e in errors[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg')}")
        return JSONResponse({"error": "; ".join(parts)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    app.add_middleware(FastRefusal, services=services)
    app.add_middleware(EdgeHeaders, keys=services.keys)
    app.add_middleware(BodyLimit)

    def authenticate(request: Request, scope: str) -> ApiKey:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            raise ApiError(401, "Missing API key: send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
        key = services.keys.verify(header[7:].strip())
        if key is None:
            raise ApiError(401, "Invalid or revoked API key", {"WWW-Authenticate": "Bearer"})
        services.seen_key(header[7:].strip(), key)
        origin = request.headers.get("origin")
        if origin:
            try:
                ok = normalise_origin(origin) in key.origins
            except ValueError:
                ok = False
            if not ok:
                raise ApiError(403, f"This API key may not be used from {origin}")
        if scope == "all" and key.scope != "all":
            raise ApiError(403, "This API key is for customer service only")
        request.state.visitor = (key.id, visitor_address(request))
        if key.origins:  # a website key, public: each visitor has limits of their own, checked first
            rpm = services.settings.api_visitor_rpm
            if wait := services.limiter.check(("visitor", *request.state.visitor), rpm):
                raise ApiError(429, f"Over the limit of {rpm} requests per minute from one visitor", retry_header(wait))
        wait = services.limiter.check(key.id, key.rpm)
        if wait:
            raise ApiError(
                429, f"Over this key's limit of {key.rpm} requests per minute", {"Retry-After": str(math.ceil(wait))}
            )
        return key

    def visitor_address(request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), services.trusted)

    def retry_header(wait: float) -> dict:
        return {"Retry-After": str(max(1, math.ceil(wait)))}

    def admit(request: Request, key: ApiKey) -> Admitted:
        """Let a question in, or refuse it at once (nothing done yet): 429 when this visitor has
        questions in progress already, 503 when too many are in progress or wait for the model."""
        s = services.settings
        slots, _ = services.public_slots()
        retry = {"Retry-After": str(services.retry_after())}
        busy = busy_message(services.retry_after())
        per_visitor = s.api_visitor_asks if key.origins else 1_000_000
        why = services.in_flight.enter(request.state.visitor, per_visitor, slots + s.api_max_waiting)
        if why == "visitor":
            raise ApiError(429, visitor_busy(per_visitor), retry)
        if why:
            raise ApiError(503, busy, retry)
        admitted = Admitted(services, request.state.visitor)
        if services.public_slots()[1] >= s.api_max_waiting:  # the page's customers wait too
            admitted.leave(answered=False)
            raise ApiError(503, busy, retry)
        return admitted

    def linked_question(token: str | None, key: ApiKey) -> int | None:
        return services.log.question_for(token, key.name) if token else None

    def support_key(request: Request) -> ApiKey:
        return authenticate(request, "support")

    def chat_key(request: Request) -> ApiKey:
        return authenticate(request, "all")

    def channel(request: Request) -> str:
        asked = request.headers.get("x-studio-channel", "api").lower()
        return asked if asked in CHANNELS else "api"

    # -- customer service ------------------------------------------------------------------------------
    def final_payload(turn_or_result, conversation_id: str) -> dict:
        """The answer as the API returns it; a Turn (a question asked) or a suggestion's answer."""
        if isinstance(turn_or_result, Turn):
            result, qid, token = turn_or_result.result, turn_or_result.question_id, turn_or_result.token
        else:
            result, qid, token = turn_or_result
        assert result is not None  # a Turn is final here
        return {
            "tier": result.tier,
            "text": result.text,
            "handover": result.tier == 3,
            "sources": result.sources_as_dicts() if result.tier != 3 else [],
            "suggestions": result.suggestions_as_dicts() if result.tier != 1 else [],
            "latency_ms": round(result.latency_ms, 1),
            "question_id": qid,
            "answer_token": token,
            "conversation_id": conversation_id,
            "language": result.language,
            "reason": result.reason,
        }

    def in_asked_script(text: str, language: str) -> str:
        return to_traditional(text) if language == "zh-Hant" else text

    def engine():
        try:
            return services.llm
        except ModelUnavailable:
            return None  # FAQ answers and hand-overs still work

    @app.post("/api/v1/support/ask", tags=["customer service"])
    def ask_question(body: AskIn, request: Request, stream: bool = True, key: ApiKey = Depends(support_key)):
        """Answer a customer's question: curated FAQ answer, written answer with sources, or hand-over."""
        if not body.question.strip():
            raise ApiError(422, "question: the question is empty")
        s = services.settings
        if body.conversation_id and (
            wait := services.limiter.check(("conversation", key.id, body.conversation_id), s.api_visitor_rpm)
        ):
            raise ApiError(
                429,
                f"Over the limit of {s.api_visitor_rpm} questions per minute in one conversation",
                retry_header(wait),
            )
        admitted = admit(request, key)
        try:
            conversation_id = body.conversation_id or uuid.uuid4().hex
            memory = f"{key.id}:{conversation_id}"
            flow = ask(
                services.log,
                services.kb,
                body.question,
                engine,
                services.conversations.history(memory),
                thresholds=s.thresholds,
                company=s.company_name,
                channel=channel(request),
                api_key=key.name,
                token=secrets.token_urlsafe(24),
                present=lambda text: in_asked_script(text, body.language),
            )

            def answered(turn: Turn) -> dict:
                assert turn.result is not None
                services.conversations.add(memory, body.question, turn.result.text)
                return final_payload(turn, conversation_id)

        except BaseException:
            admitted.leave()
            raise
        if not stream:
            try:
                with contextlib.closing(flow):
                    for kind, data in flow:
                        if kind == "final":
                            return answered(data)
                raise ApiError(500, "The answer ended without a result")
            finally:
                admitted.leave()

        async def events():
            turn: Turn | None = None
            try:
                async for kind, data in iterate_in_threadpool(flow):
                    if kind == "start":
                        turn = data
                        yield sse("start", {"conversation_id": conversation_id, "question_id": data.question_id})
                    elif kind == "queue":
                        yield sse("queue", {"ahead": data})
                    elif kind == "delta":
                        yield sse("delta", {"text": in_asked_script(data, body.language)})
                    elif kind == "final":
                        yield sse("final", answered(data))
            finally:
                # The stream ended or was cut (the customer left): a question not answered yet is
                # stored as abandoned and its generation stopped (GeneratorExit in the flow).
                try:
                    flow.close()
                except ValueError:  # still running on its thread (cannot happen with anyio's default)
                    if turn is not None:
                        turn.abandon()
                admitted.leave()

        body_iterator = events()
        weakref.finalize(body_iterator, admitted.leave)  # a response dropped before it started streaming
        return StreamingResponse(
            body_iterator,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/api/v1/support/suggestion", tags=["customer service"])
    def suggestion(body: SuggestionIn, request: Request, key: ApiKey = Depends(support_key)):
        """The curated answer of a "did you mean" entry the customer clicked."""
        try:
            result = from_suggestion(services.kb, body.faq_id, body.asked)
        except ValueError as exc:
            raise ApiError(404, str(exc)) from None
        suggested_from = linked_question(body.answer_token, key)
        if body.answer_token and suggested_from is None:
            raise ApiError(404, "No answer with this answer_token was given with this key")
        token = secrets.token_urlsafe(24)
        qid = services.log.record(
            services.kb.name,
            result.question,
            result.language,
            1,
            result.text,
            result.sources_as_dicts(),
            None,
            result.latency_ms,
            suggested_from=suggested_from,
            channel=channel(request),
            api_key=key.name,
            token=token,
        )
        conversation_id = body.conversation_id or uuid.uuid4().hex
        services.conversations.add(f"{key.id}:{conversation_id}", result.question, result.text)
        return final_payload((result, qid, token), conversation_id)

    @app.post("/api/v1/support/feedback", tags=["customer service"])
    def feedback(body: FeedbackIn, key: ApiKey = Depends(support_key)):
        """Thumbs up (helpful=true), down (false) or taken back (null) for an answer, named by its answer_token."""
        qid = linked_question(body.answer_token, key)
        if qid is None or (body.question_id is not None and body.question_id != qid):
            raise ApiError(404, "No answer with this answer_token was given with this key")
        services.log.set_feedback(qid, None if body.helpful is None else int(body.helpful))
        return {"question_id": qid, "helpful": body.helpful}

    @app.post("/api/v1/support/tickets", tags=["customer service"], status_code=201)
    def ticket(body: TicketIn, request: Request, key: ApiKey = Depends(support_key)):
        """The hand-over form: a ticket for a person, in the same list as the page's tickets."""
        if key.origins and (
            wait := services.limiter.check(("tickets", *request.state.visitor), TICKETS_PER_VISITOR_HOUR, window=3600.0)
        ):
            raise ApiError(
                429,
                f"Over the limit of {TICKETS_PER_VISITOR_HOUR} tickets per hour from one visitor",
                retry_header(wait),
            )
        question_id = linked_question(body.answer_token, key)  # never another key's question, never a guessed one
        if body.question_id is not None and body.question_id != question_id:
            question_id = None
        try:
            number = services.log.open_ticket(body.name, body.contact, body.question, question_id)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        return {"ticket": number}

    # -- OpenAI-compatible chat -------------------------------------------------------------------------
    @app.get("/v1/models", tags=["chat"])
    def models(key: ApiKey = Depends(chat_key)):
        return {
            "object": "list",
            "data": [{"id": p, "object": "model", "owned_by": "studio", "created": 0} for p in load_personas()],
        }

    @app.post("/v1/chat/completions", tags=["chat"])
    def chat(body: ChatIn, key: ApiKey = Depends(chat_key)):
        """Chat with the company's model; the model name is a persona (GET /v1/models)."""
        personas = load_personas()
        persona = body.model if body.model in personas else None
        if persona is None and body.model not in ("default", "studio"):
            raise ApiError(404, f"Unknown model {body.model!r}; use one of: {', '.join(personas)}")
        messages = [m.model_dump() for m in body.messages]
        if persona and not any(m["role"] == "system" for m in messages):
            lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in messages[-1]["content"]) else "en"
            messages.insert(0, {"role": "system", "content": system_prompt(persona, lang)})
        options = GenerationOptions(
            max_new_tokens=body.max_tokens or services.settings.max_new_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            seed=body.seed,
        )
        try:
            gen = services.llm.stream(messages, options)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        except ModelUnavailable as exc:
            raise ApiError(503, str(exc)) from None
        created, ident, model = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}", body.model

        def reason() -> str:
            return "length" if gen.stats.new_tokens >= options.max_new_tokens else "stop"

        if not body.stream:
            try:
                text = gen.result()
            except EngineError as exc:
                raise ApiError(503, str(exc)) from None
            return {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": reason()}],
                "usage": {
                    "prompt_tokens": gen.stats.prompt_tokens,
                    "completion_tokens": gen.stats.new_tokens,
                    "total_tokens": gen.stats.prompt_tokens + gen.stats.new_tokens,
                },
            }

        def chunk(delta: dict, finish: str | None = None) -> str:
            return (
                "data: "
                + json.dumps(
                    {
                        "id": ident,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    },
                    ensure_ascii=False,
                )
                + "\n\n"
            )

        def events():
            yield chunk({"role": "assistant", "content": ""})
            try:
                for piece in gen:
                    yield chunk({"content": piece})
            except EngineError as exc:
                yield "data: " + json.dumps({"error": {"message": str(exc)}}) + "\n\n"
                return
            yield chunk({}, reason())
            yield "data: [DONE]\n\n"

        async def cut_short_stops():
            try:
                async for part in iterate_in_threadpool(events()):
                    yield part
            finally:
                gen.cancel()  # the client hung up: free the slot now, not after the whole reply

        return StreamingResponse(
            cut_short_stops(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    # -- health, widget --------------------------------------------------------------------------------
    @app.get("/api/v1/health", tags=["service"])
    async def health():  # on the event loop: answers while every worker thread is busy
        info = {"status": "ok", "knowledge_base": services.settings.kb_name}
        llm = services._llm
        if llm is not None:
            info |= {"model": llm.info.model, "engine": llm.info.engine, "busy": llm.busy}
            info["waiting"] = services.public_slots()[1]  # customers' answers waiting for the model
        return info

    @app.get("/widget.js", include_in_schema=False)
    def widget_js():
        return Response(
            (STATIC / "widget.js").read_text(encoding="utf-8"),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/widget/demo", include_in_schema=False)
    def widget_demo(request: Request, key: str = ""):
        page = (STATIC / "demo.html").read_text(encoding="utf-8")
        safe = "".join(c for c in key if c.isalnum() or c in "-_")[:200]  # a key has no other characters
        base = html.escape(str(request.base_url).rstrip("/"), quote=True)
        nonce = secrets.token_urlsafe(16)
        # Scripts: this server's widget.js and the page's one inline script (its nonce); styles inline
        # (the page's and the widget's); requests only to this server; never framed (clickjacking);
        # the key in the address never sent on as a referrer.
        policy = (
            f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'unsafe-inline'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(
            page.replace("{{KEY}}", safe)
            .replace("{{BASE}}", base)
            .replace("{{NONCE}}", nonce)
            .replace("{{COMPANY}}", html.escape(services.settings.company_name)),
            headers={
                "Content-Security-Policy": policy,
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    return app
