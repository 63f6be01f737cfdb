"""What handlers get through FastAPI dependencies: the shared `Services`, the request's API key
checked (`support_key`, `chat_key`: key, origin, scope and rate limits), and a question's admission."""

from __future__ import annotations

import math

from fastapi import Depends, Request

from core.api.errors import ApiError
from core.api.keys import ApiKey, client_address, normalise_origin
from core.api.services import Admitted, Services, busy_message, visitor_busy


async def get_services(request: Request) -> Services:
    # async: run on the event loop, so health (async too) never waits for a worker thread
    return request.app.state.services


def authenticate(request: Request, services: Services, scope: str) -> ApiKey:
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
    request.state.visitor = (key.id, visitor_address(request, services))
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


def support_key(request: Request, services: Services = Depends(get_services)) -> ApiKey:
    return authenticate(request, services, "support")


def chat_key(request: Request, services: Services = Depends(get_services)) -> ApiKey:
    return authenticate(request, services, "all")


def visitor_address(request: Request, services: Services) -> str:
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), services.trusted)


def retry_header(wait: float) -> dict:
    return {"Retry-After": str(max(1, math.ceil(wait)))}


def admit(request: Request, services: Services, key: ApiKey) -> Admitted:
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
