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
(core/api/keys.py, deps.py): a wrong key is 401, over a limit 429 with Retry-After, a browser origin
the key does not allow 403; bodies over 1 MB are 413. A website key is public, so its limits also
hold per visitor; past `APP_API_MAX_WAITING` questions waiting for the model a question is refused
at once with 503 (middleware.py `FastRefusal`). Customers' answers are PUBLIC generations: staff go
first (core/llm/base.py). Each answer comes with a random `answer_token` that thumbs, a "did you
mean" click and a ticket name it by; every question is stored when it arrives (core/support/ask.py).

The pieces: `services.py` (what requests share, admission), `deps.py` (key checks), `middleware.py`,
`schemas.py` (request bodies), `errors.py`, and one router per feature (`routes_support.py`,
`routes_chat.py`, `routes_widget.py`).
"""

from __future__ import annotations

import contextlib

import anyio
from fastapi import FastAPI

from core.api import routes_chat, routes_support, routes_widget
from core.api.errors import HANDLERS
from core.api.middleware import BodyLimit, EdgeHeaders, FastRefusal
from core.api.services import Services
from core.application import Application
from core.config import Settings, load_settings
from core.kb.store import KnowledgeBase

__all__ = ["create_app"]


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    # Streamed answers read the model on worker threads; questions in progress are bounded by
    # the admission limits, so this is plenty, and health never needs one (it is async).
    anyio.to_thread.current_default_thread_limiter().total_tokens = 100
    yield


def create_app(settings: Settings | None = None, *, llm=None, kb: KnowledgeBase | None = None) -> FastAPI:
    """The API app over this process's application (core/application.py, shared with the app's pages
    under serve.py); `llm` and `kb` given (tests) are used instead of loading them on first use."""
    settings = settings or load_settings()
    fixed = llm is not None or kb is not None
    services = Services(Application(settings, llm=llm, kb=kb) if fixed else Application.shared(settings))
    docs = services.settings.api_docs == "on"
    app = FastAPI(
        title="AI Business Studio API",
        version="1",
        description="Customer service from the company's knowledge base, and chat with its model.",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        lifespan=lifespan,
        exception_handlers=HANDLERS,  # errors: always {"error": "..."}
    )
    app.state.services = services
    app.add_middleware(FastRefusal, services=services)
    app.add_middleware(EdgeHeaders, keys=services.keys)
    app.add_middleware(BodyLimit)
    for router in (routes_support.router, routes_chat.router, routes_widget.router):
        app.include_router(router)
    return app
