"""Streamlit glue shared by the pages: language, translated text, and this process's application
(core/application.py: the one model, the knowledge base, the stores), as the pages reach it.

Kept out of `core/` so that `core` never imports Streamlit.
"""

from __future__ import annotations

import sys
import time

import streamlit as st

from core.application import Application
from core.config import load_settings
from core.i18n import translate as i18n
from core.kb.store import KnowledgeBase
from core.llm import ModelUnavailable
from core.storage import auth
from core.storage.audit import LOCAL_USER, record
from core.storage.company import Company
from core.storage.conversations import ConversationStore
from core.storage.private import secure_data_dir
from core.support.log import SupportLog
from core.writer.store import WriterStore

# each role's name on screen
ROLE_KEYS = {
    "admin": "auth.role_admin",
    "staff": "auth.role_staff",
}

# Every browser session's page runs, the model's generation thread and the knowledge-base search
# share one interpreter lock. A thread that drops it for a C call (each torch op of a generation
# step, an embedding) waits up to the switch interval to get it back from a busy page run; at the
# default 5 ms, two busy page runs cut decoding from ~5 to 0.6 tok/s, at 1 ms to 1.0 tok/s, for
# ~4 % less page-run throughput (bench/load.py; measured on 2 cores).
sys.setswitchinterval(0.001)


def page_setup() -> None:
    """Call first in app.py and every page. Until some session has run `st.navigation`, a fresh
    server treats `pages/` as a legacy multipage folder: /chat would run pages/chat.py alone,
    without app.py's navigation and language switch, and widget state from that first run is
    lost. Switch the legacy mode off and rerun through app.py instead."""
    from streamlit.runtime.pages_manager import PagesManager  # Streamlit internals: only this check needs them

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    _private_data_dir(settings().data_dir)


@st.cache_resource(show_spinner=False)
def _private_data_dir(path):
    """Once per process: the data folder, its database and logs for the app's user alone (0700/0600),
    also where an older install or a loose umask left them open (core/storage/private.py)."""
    return secure_data_dir(path)


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


def application() -> Application:
    """This process's application, shared by every browser session (and the API under serve.py)."""
    return Application.shared(settings())


def get_llm(adapter: str | None = None):
    """The process-wide model (shared by every browser session), loaded on first use and again when
    another adapter is chosen or this one retrained. adapter: override APP_ADAPTER ("none" gives
    the base model, e.g. to compare with)."""
    try:
        with st.spinner(t("model.loading"), show_time=True):
            return application().engine(adapter)
    except ModelUnavailable as exc:
        show_model_error(exc)
        st.stop()


def show_model_error(exc: Exception) -> None:
    st.error(f"**{t('model.unavailable')}**\n\n{exc}")
    st.markdown(t("model.fix"))
    st.code("make run", language="bash")


def conversations() -> ConversationStore:
    return application().conversations


@st.cache_resource(show_spinner=False)
def _ready_knowledge_base(app_id: int, _app: Application) -> KnowledgeBase:
    """Once per application (app_id, its id, is the cache key: applications live as long as the process)."""
    kb = _app.knowledge_base()  # a first run loads the sample company (APP_SAMPLE_KB), so the demo works
    # Load both embedding models and the keyword index now, behind the spinner. Otherwise the first
    # English question after a start pays for it (~10 s; 30 s under load in bench/load.py) and every
    # customer asking meanwhile waits behind it.
    try:
        if kb.count():
            kb.search("How can I track my order?")
    except Exception:  # e.g. the Chroma server is down: the question will say so where it is handled
        pass
    return kb


def knowledge_base() -> KnowledgeBase:
    with st.spinner(t("kb.loading"), show_time=True):
        app = application()
        return _ready_knowledge_base(id(app), app)


def company() -> Company:
    """Who the app speaks for (the Knowledge base page edits it)."""
    return application().company


def support_log() -> SupportLog:
    return application().support_log


def writer_store() -> WriterStore:
    return application().writer_store


# -- sign-in and roles (core/auth.py decides; this only keeps the session and shows messages) ------
SESSION_KEY = "auth"  # {"username", "signed_in_at"}; no widget uses this key, so a browser cannot set it
ADMIN_COMMAND = ".venv/bin/python -m core users add NAME --role admin"


@st.cache_resource(show_spinner=False)
def _user_store(db_path):
    return auth.UserStore(db_path)


def user_store() -> auth.UserStore:
    return _user_store(settings().db_path)


def access() -> auth.Access:
    """Who this browser session is and what it may open. Ends a session that is over (expired,
    user removed or disabled, password changed) and leaves a note for the sign-in form."""
    config, store = settings(), user_store()
    try:
        required, public = auth.sign_in_required(config, store), auth.public_support(config)
    except ValueError as exc:
        st.error(t("auth.bad_setting", error=exc))
        st.stop()
    user = None
    if required and SESSION_KEY in st.session_state:
        user = auth.resume_session(st.session_state[SESSION_KEY], store, config.session_minutes, time.time())
        if user is None:
            del st.session_state[SESSION_KEY]
            st.session_state["auth-ended"] = True
    return auth.Access(user, required, public)


def require(key: str) -> auth.Access:
    """First thing on a page: refuse and stop unless this session may open page `key` (the
    navigation already leaves such pages out; this also covers a page reached any other way)."""
    current = access()
    if not current.can(key):
        refuse(current)
        st.stop()
    return current


def refuse(current: auth.Access | None = None) -> None:
    current = current or access()
    if current.role is None:
        st.warning(t("auth.sign_in_first"), icon=":material/lock:")
    else:
        st.error(t("auth.refused"), icon=":material/block:")


def client_address() -> str | None:
    """The browser's address, which sign-in is throttled by: the connection's peer, or behind a
    reverse proxy the client address it forwards (the server trusts X-Forwarded-For only from
    FORWARDED_ALLOW_IPS: 127.0.0.1 by default; deploy/docker-compose.yml sets it for its Caddy).
    None for a browser on the same machine."""
    try:
        address = st.context.ip_address
    except Exception:  # no browser session: the shared unknown address
        return None
    return address if isinstance(address, str) else None  # a test harness gives a stand-in


def sign_in(username: str, password: str) -> None:
    """Raises auth.SignInFailed. The password is only passed on, never stored or logged."""
    user = user_store().authenticate(username, password, client_address())
    st.session_state[SESSION_KEY] = auth.start_session(user, time.time())


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.rerun()


def audit(action: str, target: str, detail: dict | None = None) -> None:
    """Record an admin action under the signed-in user's name ("local" while sign-in is off)."""

    user = access().user
    record(settings().db_path, user.username if user else LOCAL_USER, action, target, detail)


def plain(text: str) -> str:
    """Text (a user name, say) for st.markdown/st.caption, shown as is: Markdown characters escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~$:" else c for c in str(text))


def account_box(current: auth.Access) -> None:
    """Sidebar: who is signed in and a sign-out button, or why there is no sign-in."""
    if current.user is not None:
        role = t(ROLE_KEYS[current.user.role])
        st.caption(":material/account_circle: " + t("auth.signed_in_as", name=plain(current.user.username), role=role))
        if st.button(t("auth.sign_out"), icon=":material/logout:", key="sign-out"):
            sign_out()
    elif not current.sign_in_required:
        if auth.auth_mode(settings()) == "off":
            st.caption(":material/lock_open: " + t("auth.disabled_note"))
        else:
            st.caption(f":material/lock_open: {t('auth.off_note')} `{ADMIN_COMMAND}`")
