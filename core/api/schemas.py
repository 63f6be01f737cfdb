"""The request bodies the API accepts, with their limits (pydantic models: a body over them is 422)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
