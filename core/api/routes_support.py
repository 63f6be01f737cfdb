"""Customer service over HTTP: ask a question (streamed as server-sent events or one JSON object),
a "did you mean" click, thumbs and the hand-over form (`/api/v1/support/...`)."""

from __future__ import annotations

import contextlib
import json
import secrets
import uuid
import weakref

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from core.api.deps import admit, get_services, retry_header, support_key
from core.api.errors import ApiError
from core.api.keys import ApiKey
from core.api.schemas import AskIn, FeedbackIn, SuggestionIn, TicketIn
from core.api.services import Admitted, Services
from core.llm import ModelUnavailable
from core.support.ask import Turn, ask
from core.support.policy import from_suggestion
from core.text.language import to_traditional

CHANNELS = ("widget", "api")
TICKETS_PER_VISITOR_HOUR = 10  # hand-over tickets from one client address per key

router = APIRouter(tags=["customer service"])


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def linked_question(services: Services, token: str | None, key: ApiKey) -> int | None:
    return services.log.question_for(token, key.name) if token else None


def channel(request: Request) -> str:
    asked = request.headers.get("x-studio-channel", "api").lower()
    return asked if asked in CHANNELS else "api"


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


def engine(services: Services):
    try:
        return services.llm
    except ModelUnavailable:
        return None  # FAQ answers and hand-overs still work


@router.post("/api/v1/support/ask")
def ask_question(
    body: AskIn,
    request: Request,
    stream: bool = True,
    key: ApiKey = Depends(support_key),
    services: Services = Depends(get_services),
):
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
    admitted = admit(request, services, key)
    try:
        conversation_id = body.conversation_id or uuid.uuid4().hex
        memory = f"{key.id}:{conversation_id}"
        flow = ask(
            services.log,
            services.kb,
            body.question,
            lambda: engine(services),
            services.conversations.history(memory),
            thresholds=s.thresholds,
            company=services.app.company,
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
    body_iterator = answer_events(flow, admitted, answered, conversation_id, body.language)
    weakref.finalize(body_iterator, admitted.leave)  # a response dropped before it started streaming
    return StreamingResponse(
        body_iterator,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def answer_events(flow, admitted: Admitted, answered, conversation_id: str, language: str):
    """The question's events as server-sent events; `admitted` leaves once they end, however."""
    turn: Turn | None = None
    try:
        async for kind, data in iterate_in_threadpool(flow):
            if kind == "start":
                turn = data
                yield sse("start", {"conversation_id": conversation_id, "question_id": data.question_id})
            elif kind == "queue":
                yield sse("queue", {"ahead": data})
            elif kind == "delta":
                yield sse("delta", {"text": in_asked_script(data, language)})
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


@router.post("/api/v1/support/suggestion")
def suggestion(
    body: SuggestionIn,
    request: Request,
    key: ApiKey = Depends(support_key),
    services: Services = Depends(get_services),
):
    """The curated answer of a "did you mean" entry the customer clicked."""
    try:
        result = from_suggestion(services.kb, body.faq_id, body.asked)
    except ValueError as exc:
        raise ApiError(404, str(exc)) from None
    suggested_from = linked_question(services, body.answer_token, key)
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


@router.post("/api/v1/support/feedback")
def feedback(body: FeedbackIn, key: ApiKey = Depends(support_key), services: Services = Depends(get_services)):
    """Thumbs up (helpful=true), down (false) or taken back (null) for an answer, named by its answer_token."""
    qid = linked_question(services, body.answer_token, key)
    if qid is None or (body.question_id is not None and body.question_id != qid):
        raise ApiError(404, "No answer with this answer_token was given with this key")
    services.log.set_feedback(qid, None if body.helpful is None else int(body.helpful))
    return {"question_id": qid, "helpful": body.helpful}


@router.post("/api/v1/support/tickets", status_code=201)
def ticket(
    body: TicketIn,
    request: Request,
    key: ApiKey = Depends(support_key),
    services: Services = Depends(get_services),
):
    """The hand-over form: a ticket for a person, in the same list as the page's tickets."""
    if key.origins and (
        wait := services.limiter.check(("tickets", *request.state.visitor), TICKETS_PER_VISITOR_HOUR, window=3600.0)
    ):
        raise ApiError(
            429,
            f"Over the limit of {TICKETS_PER_VISITOR_HOUR} tickets per hour from one visitor",
            retry_header(wait),
        )
    # never another key's question, never a guessed one
    question_id = linked_question(services, body.answer_token, key)
    if body.question_id is not None and body.question_id != question_id:
        question_id = None
    try:
        number = services.log.open_ticket(body.name, body.contact, body.question, question_id)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    return {"ticket": number}
