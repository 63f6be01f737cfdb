"""A chat reply, as every door starts one (the Chat page, the OpenAI-compatible API, `python -m core
chat`): the persona's system prompt first, unless the conversation brings its own, then the
conversation, streamed from the engine. The door shows or sends the pieces and keeps the result."""

from __future__ import annotations

from core.llm import Engine, Generation, GenerationOptions
from core.personas import system_prompt


def chat_reply(
    engine: Engine,
    history: list[dict],
    options: GenerationOptions,
    persona: str | None = "assistant",
    lang: str = "en",
    custom_prompt: str = "",
) -> Generation:
    """history: the conversation so far, usually ending with the user's message. persona None: no
    system prompt of ours (an API caller's own model name). Raises ValueError for an unknown persona,
    a custom persona without its prompt or no message at all; the engine's errors as they come."""
    if not history:
        raise ValueError("The message is empty")
    messages = list(history)
    if persona is not None and not any(m.get("role") == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system_prompt(persona, lang, custom_prompt)})
    return engine.stream(messages, options)
