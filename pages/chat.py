"""Chat with the company's model: personas, streaming, stop, regenerate, saved conversations."""

from collections import Counter

import streamlit as st

from core.chat import chat_reply
from core.llm import GenerationOptions
from core.personas import CUSTOM, load_personas
from core.storage.conversations import to_json, to_markdown
from core.text.language import stream_in_script
from ui import conversations, get_llm, lang, page_setup, pick, require, settings, t

page_setup()
account = require("chat")

store = conversations()
personas = load_personas()


def stats_line(stats: dict | None) -> str:
    if not stats:
        return ""
    line = t(
        "chat.stats",
        tokens=stats.get("new_tokens", 0),
        seconds=stats.get("seconds", 0.0),
        rate=stats.get("decode_tok_s", 0.0),
    )
    return f"{line} · {t('chat.stopped')}" if stats.get("stopped") else line


def show_notices(stats: dict | None) -> None:
    if stats and stats.get("truncated_chars"):
        st.warning(t("chat.truncated", chars=stats["truncated_chars"]), icon=":material/content_cut:")
    if stats and stats.get("dropped_messages"):
        st.info(t("chat.dropped", n=stats["dropped_messages"]), icon=":material/history:")


def save_pending() -> None:
    """A reply interrupted by Stop (or any rerun) is saved with what was written so far."""
    pending = st.session_state.pop("pending", None)
    if pending is None:
        return
    gen = pending["gen"]
    gen.cancel()
    gen.wait(timeout=10)
    stats = gen.stats.as_dict() | {"stopped": True}
    if pending["text"].strip():
        store.add_message(pending["conversation"], "assistant", pending["text"], stats)


save_pending()
current = st.session_state.get("conversation")
if current and store.get(current) is None:  # deleted elsewhere
    current = st.session_state["conversation"] = None

# -- sidebar: saved conversations ----------------------------------------------------------
with st.sidebar:
    st.subheader(t("chat.conversations"))
    if st.button(t("chat.new"), icon=":material/add:", width="stretch"):
        st.session_state["conversation"] = current = None
    saved = store.list()
    if saved:
        ids = [c.id for c in saved]
        # The radio remembers the chosen *label*, not the id: with two chats of the same title (two
        # people who both began with "Hello") the page jumped to the other one on the next rerun.
        # Same titles get their id; a label the radio no longer knows is not a choice.
        same = Counter(c.title for c in saved)
        labels = {c.id: c.title if same[c.title] == 1 else f"{c.title} · {c.id[:6]}" for c in saved}
        choice = st.radio(
            t("chat.conversations"),
            ids,
            index=ids.index(current) if current in ids else None,
            format_func=labels.get,
            label_visibility="collapsed",
            key=f"pick-{current}",
        )
        if choice in labels and choice != current:
            st.session_state["conversation"] = current = choice
    else:
        st.caption(t("chat.no_conversations"))

conv = store.get(current) if current else None

if conv is not None:
    with st.sidebar:
        with st.popover(t("chat.rename"), icon=":material/edit:", width="stretch"):
            with st.form("rename"):
                title = st.text_input(t("chat.rename_label"), value=conv.title, max_chars=80)
                if st.form_submit_button(t("chat.save")) and title.strip():
                    store.rename(conv.id, title)
                    st.rerun()
        with st.popover(t("chat.delete"), icon=":material/delete:", width="stretch"):
            st.write(t("chat.delete_confirm"))
            if st.button(t("chat.delete"), type="primary", key="confirm-delete"):
                store.delete(conv.id)
                st.session_state["conversation"] = None
                st.toast(t("chat.deleted"))
                st.rerun()
        st.download_button(
            t("chat.export_md"),
            to_markdown(conv),
            file_name=f"chat-{conv.id}.md",
            mime="text/markdown",
            icon=":material/download:",
            width="stretch",
            on_click="ignore",  # a download needs no rerun of the page
        )
        st.download_button(
            t("chat.export_json"),
            to_json(conv),
            file_name=f"chat-{conv.id}.json",
            mime="application/json",
            icon=":material/download:",
            width="stretch",
            on_click="ignore",
        )

# -- header: persona and sampling ------------------------------------------------------------
st.title(t("chat.title"))
persona_labels = {pick(p.name): p.id for p in personas.values()} | {t("chat.custom"): CUSTOM}
current_persona = conv.persona if conv and conv.persona in persona_labels.values() else "assistant"
left, right = st.columns([2, 3])
with left:
    label = st.selectbox(
        t("chat.persona"),
        list(persona_labels),
        index=list(persona_labels.values()).index(current_persona),
        key=f"persona-{current}",
    )
    persona = persona_labels[label]
# Staff get these defaults; the answer length limit is APP_MAX_NEW_TOKENS (the slider's range: 32-2048).
temperature, top_p, repetition_penalty = 0.7, 0.8, 1.05
max_new_tokens = min(2048, max(32, settings().max_new_tokens))
if account.can("sampling"):  # sampling parameters are an admin control
    with right.expander(t("chat.settings"), icon=":material/tune:"):
        c1, c2 = st.columns(2)
        temperature = c1.slider(t("chat.temperature"), 0.0, 1.5, temperature, 0.05)
        top_p = c2.slider(t("chat.top_p"), 0.05, 1.0, top_p, 0.05)
        max_new_tokens = c1.slider(t("chat.max_new_tokens"), 32, 2048, max_new_tokens, 32)
        repetition_penalty = c2.slider(t("chat.repetition_penalty"), 1.0, 1.5, repetition_penalty, 0.01)
custom_prompt = ""
if persona == CUSTOM:
    custom_prompt = st.text_area(
        t("chat.custom_prompt"), value=conv.custom_prompt if conv else "", key=f"custom-{current}", max_chars=4000
    )
else:
    st.caption(pick(personas[persona].description))
if conv is not None and (persona != conv.persona or custom_prompt != conv.custom_prompt):
    store.set_persona(conv.id, persona, custom_prompt)

# -- the conversation ------------------------------------------------------------------------
if conv is None or not conv.messages:
    st.caption(t("chat.empty"))
for m in conv.messages if conv else []:
    with st.chat_message(m.role):
        st.markdown(m.content)
        if m.role == "assistant":
            st.caption(stats_line(m.stats))
            show_notices(m.stats)


def drop_last_answer(message_id: int) -> None:
    store.delete_message(message_id)
    st.session_state["regenerate"] = True


if conv and conv.messages and conv.messages[-1].role == "assistant":
    st.button(t("chat.regenerate"), icon=":material/refresh:", on_click=drop_last_answer, args=(conv.messages[-1].id,))


def respond(conversation_id: str, history: list[dict]) -> None:
    if persona == CUSTOM and not custom_prompt.strip():
        st.warning(t("chat.custom_needed"))
        return
    options = GenerationOptions(
        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty
    )
    gen = chat_reply(get_llm(), history, options, persona, lang(), custom_prompt)
    pending = st.session_state["pending"] = {"conversation": conversation_id, "gen": gen, "text": ""}
    with st.chat_message("assistant"):
        if gen.queued:
            with st.spinner(t("chat.waiting", ahead=max(1, gen.waiting_ahead))):
                gen.wait_started()
        stop = st.empty()
        stop.button(t("chat.stop"), icon=":material/stop_circle:", key="stop")

        def chunks():
            for chunk in stream_in_script(gen, lang()):
                pending["text"] += chunk
                yield chunk

        try:
            st.write_stream(chunks())
        except Exception as exc:  # the model failed: say so, keep the conversation
            st.session_state.pop("pending", None)
            st.error(t("chat.error", error=exc))
            return
        stop.empty()
    st.session_state.pop("pending", None)
    store.add_message(conversation_id, "assistant", pending["text"], gen.stats.as_dict())
    st.rerun()


prompt = st.chat_input(t("chat.input"), submit_mode="disable")
if prompt is not None and prompt.strip():
    if conv is None:  # the conversation and its first message in one transaction (crash-safe)
        cid = store.create(title=prompt, persona=persona, custom_prompt=custom_prompt, first_message=prompt)
        st.session_state["conversation"] = cid
        history = []
    else:
        cid = conv.id
        history = [{"role": m.role, "content": m.content} for m in conv.messages]
        store.add_message(cid, "user", prompt)
    with st.chat_message("user"):
        st.markdown(prompt)
    respond(cid, [*history, {"role": "user", "content": prompt}])
elif st.session_state.pop("regenerate", False) and conv and conv.messages:
    respond(conv.id, [{"role": m.role, "content": m.content} for m in conv.messages])
