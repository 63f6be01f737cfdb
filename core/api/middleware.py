"""The API's ASGI middlewares: the body limit (`BodyLimit`), questions refused before routing
(`FastRefusal`), and CORS per key with `nosniff` on every response (`EdgeHeaders`)."""

from __future__ import annotations

import json
import time

from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders

from core.api.errors import ApiError
from core.api.keys import KeyStore, normalise_origin
from core.api.services import Services

MAX_BODY = 1_000_000
NOSNIFF = (b"x-content-type-options", b"nosniff")


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
