"""OpenAI-compatible chat with the company's model: `/v1/chat/completions` and `/v1/models` (the
personas as model names); staff use, an `all` key."""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from core.api.deps import chat_key, get_services
from core.api.errors import ApiError
from core.api.keys import ApiKey
from core.api.schemas import ChatIn
from core.api.services import Services
from core.chat import chat_reply
from core.llm import EngineError, GenerationOptions, ModelUnavailable
from core.personas import load_personas

router = APIRouter(tags=["chat"])


@router.get("/v1/models")
def models(key: ApiKey = Depends(chat_key)):
    return {
        "object": "list",
        "data": [{"id": p, "object": "model", "owned_by": "studio", "created": 0} for p in load_personas()],
    }


@router.post("/v1/chat/completions")
def chat(body: ChatIn, key: ApiKey = Depends(chat_key), services: Services = Depends(get_services)):
    """Chat with the company's model; the model name is a persona (GET /v1/models)."""
    persona = chat_persona(body)
    messages = [m.model_dump() for m in body.messages]
    options = GenerationOptions(
        max_new_tokens=body.max_tokens or services.settings.max_new_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
    )
    lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in messages[-1]["content"]) else "en"
    try:
        gen = chat_reply(services.llm, messages, options, persona, lang)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    except ModelUnavailable as exc:
        raise ApiError(503, str(exc)) from None
    reply = Reply(gen, options, body.model)
    if not body.stream:
        return reply.completion()
    return StreamingResponse(reply.events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def chat_persona(body: ChatIn) -> str | None:
    """The persona the model name asks for; None for "default"/"studio" (no system prompt of ours)."""
    personas = load_personas()
    if body.model in personas:
        return body.model
    if body.model not in ("default", "studio"):
        raise ApiError(404, f"Unknown model {body.model!r}; use one of: {', '.join(personas)}")
    return None


class Reply:
    """One chat reply as OpenAI's API returns it: one `chat.completion`, or `chat.completion.chunk`s."""

    def __init__(self, gen, options: GenerationOptions, model: str):
        self.gen, self.options, self.model = gen, options, model
        self.created, self.ident = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"

    def reason(self) -> str:
        return "length" if self.gen.stats.new_tokens >= self.options.max_new_tokens else "stop"

    def completion(self) -> dict:
        try:
            text = self.gen.result()
        except EngineError as exc:
            raise ApiError(503, str(exc)) from None
        stats = self.gen.stats
        return {
            "id": self.ident,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": self.reason()}
            ],
            "usage": {
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.new_tokens,
                "total_tokens": stats.prompt_tokens + stats.new_tokens,
            },
        }

    def chunk(self, delta: dict, finish: str | None = None) -> str:
        return (
            "data: "
            + json.dumps(
                {
                    "id": self.ident,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                },
                ensure_ascii=False,
            )
            + "\n\n"
        )

    def chunks(self):
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            for piece in self.gen:
                yield self.chunk({"content": piece})
        except EngineError as exc:
            yield "data: " + json.dumps({"error": {"message": str(exc)}}) + "\n\n"
            return
        yield self.chunk({}, self.reason())
        yield "data: [DONE]\n\n"

    async def events(self):
        try:
            async for part in iterate_in_threadpool(self.chunks()):
                yield part
        finally:
            self.gen.cancel()  # the client hung up: free the slot now, not after the whole reply
