import streamlit as st

from ui import page_setup, t

page_setup()

st.title(t("app.title"))
st.write(t("app.tagline"))
st.page_link("pages/chat.py", label=t("nav.chat"), icon=":material/chat:")
