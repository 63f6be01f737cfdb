"""AI Business Studio: entry point. Navigation (by role), language switch, account, model status line."""

import streamlit as st

from core.i18n.translate import LANGUAGES
from ui import access, account_box, page_setup, refuse, settings, t

page_setup()
st.set_page_config(page_title="AI Business Studio", page_icon=":material/business_center:", layout="wide")

with st.sidebar:
    st.selectbox(
        ":material/translate: Language · 语言",  # fixed label: a translated one would reset the widget
        options=list(LANGUAGES.values()),
        key="language",
    )

# page key (core.storage.auth.ACCESS) -> file, title, icon
PAGES = {
    "home": ("pages/home.py", "nav.home", ":material/home:"),
    "chat": ("pages/chat.py", "nav.chat", ":material/chat:"),
    "writer": ("pages/writer.py", "nav.writer", ":material/edit_note:"),
    "support": ("pages/support.py", "nav.support", ":material/support_agent:"),
    "calculator": ("pages/calculator.py", "nav.calc", ":material/calculate:"),
    "knowledge": ("pages/knowledge.py", "nav.kb", ":material/library_books:"),
    "model": ("pages/model.py", "nav.model", ":material/model_training:"),
    "admin": ("pages/admin.py", "nav.admin", ":material/admin_panel_settings:"),
}
SIGNIN = "pages/signin.py"

current = access()
start = next((key for key in ("home", "support") if current.can(key)), "signin")
pages = []
for key, (path, title, icon) in PAGES.items():
    if current.can(key):
        pages.append(st.Page(path, title=t(title), icon=icon, default=key == start))
    elif current.role is None:
        # Not signed in: the page's address shows the sign-in form; signing in there opens the page.
        pages.append(st.Page(SIGNIN, title=t("auth.title"), url_path=key, visibility="hidden"))
    else:
        # Signed in, but the role may not see it: the address answers with a refusal, not the page.
        pages.append(st.Page(refuse, title=t(title), url_path=key, visibility="hidden"))
if current.sign_in_required:
    pages.append(
        st.Page(
            SIGNIN,
            title=t("nav.signin"),
            icon=":material/login:",
            url_path="signin",
            default=start == "signin",
            visibility="hidden" if current.user else "visible",
        )
    )
page = st.navigation(pages)

with st.sidebar:
    account_box(current)
    if current.role is not None:  # anonymous visitors (public customer service) need no model details
        from core.llm import describe  # imported here so the language switch renders first

        status = describe(settings())
        adapter = status["adapter"] or t("app.adapter_none")
        st.caption(
            f":material/memory: {t('app.model_status')}: **{status['model']}** · {adapter} · "
            f"{status['engine']} · {status['device']} · {status['dtype']}"
        )
        if status["notice"]:
            st.warning(status["notice"], icon=":material/speed:")

page.run()
