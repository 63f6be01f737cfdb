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
"""

from __future__ import annotations

import html
import json
import math
import threading
import time
import uuid
from collections import OrderedDict, deque
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.api.keys import ApiKey, KeyStore, RateLimiter, normalise_origin
from core.config import Settings, load_settings
from core.kb.store import KnowledgeBase, load_sample
from core.llm import EngineError, GenerationOptions, ModelUnavailable, load_llm
from core.llm.adapters import adapter_key
from core.personas import load_personas, system_prompt
from core.support.log import SupportLog
from core.support.policy import answer, from_suggestion
from core.text.language import to_traditional

MAX_BODY = 1_000_000
STATIC = Path(__file__).resolve().parent / "static"
CHANNELS = ("widget", "api")


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
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- request bodies ---------------------------------------------------------------------------------
class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    conversation_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    language: Literal["auto", "en", "zh-Hans", "zh-Hant"] = "auto"


class SuggestionIn(BaseModel):
    faq_id: str = Field(min_length=1, max_length=200)
    asked: str = Field(min_length=1, max_length=2000)
    question_id: int | None = None
    conversation_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class FeedbackIn(BaseModel):
    question_id: int
    helpful: bool | None


class TicketIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=5000)
    question_id: int | None = None


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
        self.log = SupportLog(settings.db_path)
        self.keys = KeyStore(settings.db_path)
        self.limiter = RateLimiter()
        self.conversations = Conversations()
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

    @property
    def llm(self):
        """The engine, reloaded when the active adapter changes (the Model page), as the app does."""
        key = None if self._fixed_llm else adapter_key(self.settings)
        with self._lock:
            if self._llm is None or (not self._fixed_llm and key != self._llm_key):
                self._llm, self._llm_key = load_llm(self.settings, log=lambda *_: None), key
            return self._llm


def create_app(settings: Settings | None = None, *, llm=None, kb: KnowledgeBase | None = None) -> FastAPI:
    services = Services(settings or load_settings(), llm, kb)
    app = FastAPI(
        title="AI Business Studio API",
        version="1",
        description="Customer service from the company's knowledge base, and chat with its model.",
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

    # -- CORS, per key -------------------------------------------------------------------------------
    @app.middleware("http")
    async def cors(request: Request, call_next):
        origin = request.headers.get("origin")
        allowed = None
        if origin:
            try:
                allowed = normalise_origin(origin) in services.keys.allowed_origins() and origin
            except ValueError:
                allowed = None
        if request.method == "OPTIONS" and origin and request.headers.get("access-control-request-method"):
            if not allowed:
                return JSONResponse({"error": f"Origin {origin} is not allowed by any API key"}, status_code=403)
            response = Response(status_code=204)
            response.headers.update(
                {
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Studio-Channel",
                    "Access-Control-Max-Age": "600",
                }
            )
        else:
            response = await call_next(request)
        if allowed and origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    app.add_middleware(BodyLimit)

    def authenticate(request: Request, scope: str) -> ApiKey:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            raise ApiError(401, "Missing API key: send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
        key = services.keys.verify(header[7:].strip())
        if key is None:
            raise ApiError(401, "Invalid or revoked API key", {"WWW-Authenticate": "Bearer"})
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
        wait = services.limiter.check(key.id, key.rpm)
        if wait:
            raise ApiError(
                429, f"Over this key's limit of {key.rpm} requests per minute", {"Retry-After": str(math.ceil(wait))}
            )
        return key

    def support_key(request: Request) -> ApiKey:
        return authenticate(request, "support")

    def chat_key(request: Request) -> ApiKey:
        return authenticate(request, "all")

    def channel(request: Request) -> str:
        asked = request.headers.get("x-studio-channel", "api").lower()
        return asked if asked in CHANNELS else "api"

    # -- customer service ------------------------------------------------------------------------------
    def final_payload(result, qid: int, conversation_id: str) -> dict:
        return {
            "tier": result.tier,
            "text": result.text,
            "handover": result.tier == 3,
            "sources": result.sources_as_dicts() if result.tier != 3 else [],
            "suggestions": result.suggestions_as_dicts() if result.tier != 1 else [],
            "latency_ms": round(result.latency_ms, 1),
            "question_id": qid,
            "conversation_id": conversation_id,
            "language": result.language,
            "reason": result.reason,
        }

    def in_asked_script(text: str, language: str) -> str:
        return to_traditional(text) if language == "zh-Hant" else text

    @app.post("/api/v1/support/ask", tags=["customer service"])
    def ask(body: AskIn, request: Request, stream: bool = True, key: ApiKey = Depends(support_key)):
        """Answer a customer's question: curated FAQ answer, written answer with sources, or hand-over."""
        if not body.question.strip():
            raise ApiError(422, "question: the question is empty")
        conversation_id = body.conversation_id or uuid.uuid4().hex
        memory = f"{key.id}:{conversation_id}"
        s = services.settings
        try:
            llm = services.llm
        except ModelUnavailable:
            llm = None  # FAQ answers and hand-overs still work
        result = answer(
            body.question,
            services.kb,
            llm,
            services.conversations.history(memory),
            thresholds=s.thresholds,
            company=s.company_name,
        )
        via = channel(request)

        def finish(text: str) -> dict:
            result.finish(text)
            result.text = in_asked_script(result.text, body.language)
            qid = services.log.record(
                services.kb.name,
                body.question,
                result.language,
                result.tier,
                result.text,
                result.sources_as_dicts() if result.tier != 3 else [],
                result.confidence,
                result.latency_ms,
                offered=len(result.suggestions) if result.tier != 1 else 0,
                channel=via,
                api_key=key.name,
            )
            services.conversations.add(memory, body.question, result.text)
            return final_payload(result, qid, conversation_id)

        if not stream:
            return finish("".join(result.stream()))

        def events():
            yield sse("start", {"conversation_id": conversation_id})
            gen = result.generation
            while gen is not None and gen.queued and not gen.wait_started(0.5):
                yield sse("queue", {"ahead": gen.waiting_ahead})
            text = ""
            for chunk in result.stream():
                text += chunk
                yield sse("delta", {"text": in_asked_script(chunk, body.language)})
            yield sse("final", finish(text))

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    @app.post("/api/v1/support/suggestion", tags=["customer service"])
    def suggestion(body: SuggestionIn, request: Request, key: ApiKey = Depends(support_key)):
        """The curated answer of a "did you mean" entry the customer clicked."""
        try:
            result = from_suggestion(services.kb, body.faq_id, body.asked)
        except ValueError as exc:
            raise ApiError(404, str(exc)) from None
        if body.question_id is not None and not services.log.asked_with(body.question_id, key.name):
            raise ApiError(404, f"No question {body.question_id} was asked with this key")
        qid = services.log.record(
            services.kb.name,
            result.question,
            result.language,
            1,
            result.text,
            result.sources_as_dicts(),
            None,
            result.latency_ms,
            suggested_from=body.question_id,
            channel=channel(request),
            api_key=key.name,
        )
        conversation_id = body.conversation_id or uuid.uuid4().hex
        services.conversations.add(f"{key.id}:{conversation_id}", result.question, result.text)
        return final_payload(result, qid, conversation_id)

    @app.post("/api/v1/support/feedback", tags=["customer service"])
    def feedback(body: FeedbackIn, key: ApiKey = Depends(support_key)):
        """Thumbs up (helpful=true), down (false) or taken back (null) for an answer."""
        if not services.log.asked_with(body.question_id, key.name):
            raise ApiError(404, f"No question {body.question_id} was asked with this key")
        services.log.set_feedback(body.question_id, None if body.helpful is None else int(body.helpful))
        return {"question_id": body.question_id, "helpful": body.helpful}

    @app.post("/api/v1/support/tickets", tags=["customer service"], status_code=201)
    def ticket(body: TicketIn, key: ApiKey = Depends(support_key)):
        """The hand-over form: a ticket for a person, in the same list as the page's tickets."""
        question_id = body.question_id
        if question_id is not None and not services.log.asked_with(question_id, key.name):
            question_id = None  # never link a ticket to another key's question
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

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    # -- health, widget --------------------------------------------------------------------------------
    @app.get("/api/v1/health", tags=["service"])
    def health():
        info = {"status": "ok", "knowledge_base": services.settings.kb_name}
        llm = services._llm
        if llm is not None:
            info |= {"model": llm.info.model, "engine": llm.info.engine, "busy": llm.busy}
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
        return HTMLResponse(
            page.replace("{{KEY}}", safe)
            .replace("{{BASE}}", base)
            .replace("{{COMPANY}}", html.escape(services.settings.company_name))
        )

    return app
