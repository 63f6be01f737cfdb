"""Streamlit glue shared by the pages: language, translated text, the one shared model, stores.

Kept out of `core/` so that `core` never imports Streamlit.
"""

from __future__ import annotations

import streamlit as st

from core import i18n
from core.config import load_settings
from core.conversations import ConversationStore
from core.model_assets import ModelUnavailable


def page_setup() -> None:
    """Call first in app.py and every page. Until some session has run `st.navigation`, a fresh
    server treats `pages/` as a legacy multipage folder: /chat would run pages/chat.py alone,
    without app.py's navigation and language switch, and widget state from that first run is
    lost. Switch the legacy mode off and rerun through app.py instead."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def lang() -> str:
    """The UI language code, from the sidebar switch (which holds the language's own name)."""
    names = {name: code for code, name in i18n.LANGUAGES.items()}
    return names.get(st.session_state.get("language"), i18n.DEFAULT_LANG)


def t(key: str, **kwargs) -> str:
    return i18n.t(key, lang(), **kwargs)


def pick(texts: dict) -> str:
    return i18n.pick(texts, lang())


def settings():
    return load_settings()


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_llm(settings, adapter_key=None):
    """adapter_key (the resolved adapter folder and its files' mtime) is part of the cache key only:
    choosing another active adapter, or retraining one, loads the model afresh without a restart."""
    from core.llm import load_llm

    llm = load_llm(settings, log=lambda *_: None)
    llm.warm_up()
    return llm


def _adapter_key(settings):
    from core.llm import resolve_adapter

    try:
        path = resolve_adapter(settings)
    except ModelUnavailable:
        return None  # load_llm raises it again, with its message
    if path is None:
        return None
    files = [path / "adapter_config.json", path / "adapter_model.safetensors"]
    return str(path), max((f.stat().st_mtime_ns for f in files if f.exists()), default=0)


def get_llm(adapter: str | None = None):
    """The process-wide model (shared by every browser session), loaded on first use.
    adapter: override APP_ADAPTER ("none" gives the base model, e.g. to compare with)."""
    from dataclasses import replace

    s = settings()
    if adapter is not None:
        s = replace(s, adapter=adapter)
    key = _adapter_key(s)
    if key is None and s.adapter.strip().lower() == "auto":
        s = replace(s, adapter="none")  # nothing to apply: share the base model's cache entry
    try:
        with st.spinner(t("model.loading"), show_time=True):
            return _load_llm(s, key)
    except ModelUnavailable as exc:
        show_model_error(exc)
        st.stop()


def show_model_error(exc: Exception) -> None:
    st.error(f"**{t('model.unavailable')}**\n\n{exc}")
    st.markdown(t("model.fix"))
    st.code("make run", language="bash")


@st.cache_resource(show_spinner=False)
def _conversations(db_path):
    return ConversationStore(db_path)


def conversations() -> ConversationStore:
    return _conversations(settings().db_path)


@st.cache_resource(show_spinner=False)
def _knowledge_base(kb_dir, name, sample):
    from core.kb import KnowledgeBase, load_sample

    kb = KnowledgeBase(kb_dir, name)
    if sample == "on":
        load_sample(kb)  # first run only: the sample company's FAQ and policies, so the demo works
    return kb


def knowledge_base():
    s = settings()
    with st.spinner(t("kb.loading"), show_time=True):
        return _knowledge_base(s.kb_dir, s.kb_name, s.sample_kb)


@st.cache_resource(show_spinner=False)
def _support_log(db_path):
    from core.support_log import SupportLog

    return SupportLog(db_path)


def support_log():
    return _support_log(settings().db_path)


@st.cache_resource(show_spinner=False)
def _writer_store(db_path):
    from core.writer import WriterStore

    return WriterStore(db_path)


def writer_store():
    return _writer_store(settings().db_path)
