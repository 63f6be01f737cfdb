"""Landing page: what the studio does, where to start, what the model is."""

import streamlit as st

from core.llm import describe
from ui import page_setup, settings, t

page_setup()

st.title(t("app.title"))
st.write(t("app.tagline"))

for page, icon, title, text, link in [
    ("pages/chat.py", ":material/chat:", "nav.chat", "home.chat", "home.open_chat"),
    ("pages/writer.py", ":material/edit_note:", "nav.writer", "home.writer", "home.open_writer"),
    ("pages/support.py", ":material/support_agent:", "nav.support", "home.support", "home.open_support"),
    ("pages/knowledge.py", ":material/library_books:", "nav.kb", "home.kb", "home.open_kb"),
]:
    with st.container(border=True):
        st.subheader(f"{icon} {t(title)}")
        st.write(t(text))
        st.page_link(page, label=t(link), icon=":material/arrow_forward:")

status = describe(settings())
st.subheader(":material/memory: " + t("home.model"))
cols = st.columns(4)
cols[0].metric(t("home.model_name"), status["model"])
cols[1].metric(t("home.adapter"), status["adapter"] or t("app.adapter_none"))
cols[2].metric(t("home.device"), status["device"].upper())
cols[3].metric(t("home.dtype"), status["dtype"])
st.caption(t("home.private"))
