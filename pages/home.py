import streamlit as st

from ui import t

st.title(t("app.title"))
st.write(t("app.tagline"))
st.page_link("pages/chat.py", label=t("nav.chat"), icon=":material/chat:")
