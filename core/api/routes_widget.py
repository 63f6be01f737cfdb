"""The website widget (`/widget.js` and a demo page at `/widget/demo`) and the API's health
(`/api/v1/health`): the routes that need no key."""

from __future__ import annotations

import html
import secrets
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from core.api.deps import get_services
from core.api.services import Services

STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter()


@router.get("/api/v1/health", tags=["service"])
async def health(services: Services = Depends(get_services)):
    # async, on the event loop: answers while every worker thread is busy
    info: dict = {"status": "ok", "knowledge_base": services.settings.kb_name}
    llm = services.loaded
    if llm is not None:
        info |= {"model": llm.info.model, "engine": llm.info.engine, "busy": llm.busy}
        info["waiting"] = services.public_slots()[1]  # customers' answers waiting for the model
    return info


@router.get("/widget.js", include_in_schema=False)
def widget_js():
    return Response(
        (STATIC / "widget.js").read_text(encoding="utf-8"),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/widget/demo", include_in_schema=False)
def widget_demo(request: Request, key: str = "", services: Services = Depends(get_services)):
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
        .replace("{{COMPANY}}", html.escape(services.app.company.name)),
        headers={
            "Content-Security-Policy": policy,
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
