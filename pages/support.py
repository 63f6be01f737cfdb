"""Customer service: answers from the knowledge base with sources, feedback and hand-over.

A question is stored the moment it is asked and completed when its answer ends (core/support/ask.py,
the same flow as the HTTP API's): a visitor who leaves mid-answer leaves it abandoned, not lost."""

import contextlib

import streamlit as st

from core.support.ask import ask
from core.support.policy import from_suggestion
from core.text.language import stream_in_script
from ui import company, get_llm, knowledge_base, lang, page_setup, plain, require, settings, support_log, t

page_setup()
visitor = require("support").role is None  # the public page without sign-in: a customer, not staff
kb = knowledge_base()
log = support_log()
config = settings()
TIER_BADGE = {
    1: ("support.tier1", ":material/verified:"),
    2: ("support.tier2", ":material/auto_awesome:"),
    3: ("support.tier3", ":material/support_agent:"),
}

st.title(t("support.title"))
st.caption(t("support.caption", company=company().name))
history = st.session_state.setdefault("support_history", [])


def save_feedback(question_id: int) -> None:
    log.set_feedback(question_id, st.session_state.get(f"fb-{question_id}"))


def take_suggestion(msg: dict, suggestion: dict) -> None:
    """Button callback: the clicked FAQ entry's curated answer, as the next exchange."""
    try:
        result = from_suggestion(kb, suggestion["faq_id"], msg["asked"])
    except ValueError as exc:
        st.session_state["support-notice"] = str(exc)
        return
    sources = result.sources_as_dicts()
    qid = log.record(
        kb.name,
        result.question,
        result.language,
        1,
        result.text,
        sources,
        None,
        result.latency_ms,
        suggested_from=msg["question_id"],
    )
    history.extend(
        [
            {"role": "user", "content": result.question},
            {
                "role": "assistant",
                "content": result.text,
                "tier": 1,
                "sources": sources,
                "question_id": qid,
                "asked": result.question,
                "suggestions": [],
            },
        ]
    )


def show_answer_extras(msg: dict) -> None:
    key, icon = TIER_BADGE[msg["tier"]]
    st.caption(f"{icon} {t(key, n=len(msg['sources']))}")
    if msg.get("suggestions"):
        st.caption(":material/help: " + t("support.did_you_mean"))
        for s in msg["suggestions"]:
            st.button(
                s["question"],
                key=f"suggest-{msg['question_id']}-{s['id']}",
                on_click=take_suggestion,
                args=(msg, s),
                icon=":material/arrow_forward:",
            )
    if msg["sources"]:
        with st.expander(t("support.sources"), icon=":material/menu_book:"):
            for s in msg["sources"]:
                label = f"**[{s['n']}]** {plain(s['source'])}" + (f" · {plain(s['faq_id'])}" if s["faq_id"] else "")
                st.markdown(label)
                st.text(s["text"] if s["kind"] == "doc" else f"{s['text']}\n{s['answer']}")
    st.feedback("thumbs", key=f"fb-{msg['question_id']}", on_change=save_feedback, args=(msg["question_id"],))


if notice := st.session_state.pop("support-notice", None):
    st.warning(notice)
for msg in history:
    with st.chat_message(msg["role"]):
        st.markdown(msg["content"])
        if msg["role"] == "assistant":
            show_answer_extras(msg)


def in_page_script(text: str) -> str:
    return "".join(stream_in_script([text], lang()))


question = st.chat_input(t("support.input"), max_chars=2000, submit_mode="disable")
if question and question.strip():
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        past = [{"role": m["role"], "content": m["content"]} for m in history[-6:]]
        flow = ask(
            log,
            kb,
            question,
            get_llm,
            past,
            thresholds=config.thresholds,
            company=company(),
            public=visitor,  # a customer's answer waits behind staff's (the Chat page) for the model
            present=in_page_script,
        )
        with contextlib.closing(flow):  # the script stopped (the visitor left): the question is abandoned
            with st.spinner(t("support.thinking")):
                _, turn = next(flow)  # stored now, before any work
                event = next(flow)
            if event[0] == "queue":  # say so, as the chat page does
                with st.spinner(t("chat.waiting", ahead=max(1, event[1]))):
                    while event[0] == "queue":
                        event = next(flow)
            now = {"event": event}

            def pieces():
                while now["event"][0] == "delta":
                    yield now["event"][1]
                    now["event"] = next(flow)

            st.write_stream(stream_in_script(pieces(), lang()))
            if now["event"][0] == "checking":
                with st.spinner(t("support.checking")):  # the written answer is checked (and may be written again)
                    now["event"] = next(flow)
    result = turn.result
    history += [
        {"role": "user", "content": question},
        {
            "role": "assistant",
            "content": result.text,
            "tier": result.tier,
            "sources": turn.sources,
            "question_id": turn.question_id,
            "asked": question,
            "suggestions": turn.suggestions,
        },
    ]
    st.rerun()

last = history[-1] if history else None
if last and last["tier"] == 3:
    with st.form("handover", clear_on_submit=True):
        st.subheader(t("support.handover_title"))
        name = st.text_input(t("support.name"), max_chars=200)
        contact = st.text_input(t("support.contact"), max_chars=200)
        asked = st.text_area(t("support.question"), value=history[-2]["content"], max_chars=5000)
        if st.form_submit_button(t("support.send"), icon=":material/send:"):
            try:
                ticket = log.open_ticket(name, contact, asked, last["question_id"])
                st.success(t("support.ticket_created", id=ticket))
            except ValueError:
                st.warning(t("support.ticket_missing"))

if history and st.button(t("support.clear"), icon=":material/restart_alt:"):
    st.session_state["support_history"] = []
    st.rerun()
