"""AI Business Studio: entry point. Navigation, language switch, model status line."""

import streamlit as st

from core.i18n import LANGUAGES
from ui import page_setup, settings, t

page_setup()
st.set_page_config(page_title="AI Business Studio", page_icon=":material/business_center:", layout="wide")

with st.sidebar:
    st.selectbox(
        ":material/translate: Language · 语言",  # fixed label: a translated one would reset the widget
        options=list(LANGUAGES.values()),
        key="language",
    )

pages = [
    st.Page("pages/home.py", title=t("nav.home"), icon=":material/home:", default=True),
    st.Page("pages/chat.py", title=t("nav.chat"), icon=":material/chat:"),
    st.Page("pages/writer.py", title=t("nav.writer"), icon=":material/edit_note:"),
    st.Page("pages/support.py", title=t("nav.support"), icon=":material/support_agent:"),
    st.Page("pages/calculator.py", title=t("nav.calc"), icon=":material/calculate:"),
    st.Page("pages/knowledge.py", title=t("nav.kb"), icon=":material/library_books:"),
    st.Page("pages/model.py", title=t("nav.model"), icon=":material/model_training:"),
]
page = st.navigation(pages)

with st.sidebar:
    from core.llm import describe  # imported here so the language switch renders first

    status = describe(settings())
    adapter = status["adapter"] or t("app.adapter_none")
    st.caption(f":material/memory: {t('app.model_status')}: **{status['model']}** · {adapter} · "
               f"{status['device']} · {status['dtype']}")

page.run()
