"""Landing page: what the studio does, where to start, what the model is."""

import streamlit as st

from core.llm import describe
from ui import page_setup, require, settings, t

page_setup()
account = require("home")

st.title(t("app.title"))
st.write(t("app.tagline"))

for key, icon, title, text, link in [
    ("chat", ":material/chat:", "nav.chat", "home.chat", "home.open_chat"),
    ("writer", ":material/edit_note:", "nav.writer", "home.writer", "home.open_writer"),
    ("support", ":material/support_agent:", "nav.support", "home.support", "home.open_support"),
    ("knowledge", ":material/library_books:", "nav.kb", "home.kb", "home.open_kb"),
]:
    if not account.can(key):  # a link to a page outside this role's navigation would fail
        continue
    with st.container(border=True):
        st.subheader(f"{icon} {t(title)}")
        st.write(t(text))
        st.page_link(f"pages/{key}.py", label=t(link), icon=":material/arrow_forward:")

status = describe(settings())
st.subheader(":material/memory: " + t("home.model"))
cols = st.columns(4)
cols[0].metric(t("home.model_name"), status["model"])
cols[1].metric(t("home.adapter"), status["adapter"] or t("app.adapter_none"))
cols[2].metric(t("home.device"), status["device"].upper())
cols[3].metric(t("home.dtype"), status["dtype"])
st.caption(t("home.private"))
