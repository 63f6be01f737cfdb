"""Staff sign-in. app.py also shows this form at the address of any page a visitor must sign in
for, so signing in there opens that page."""

import math

import streamlit as st

from core.storage.auth import SignInFailed
from ui import ADMIN_COMMAND, access, page_setup, sign_in, t, user_store

page_setup()
if access().user is not None:  # signed in (just now, or this address was bookmarked): start page
    st.switch_page("pages/home.py")

st.title(t("auth.title"))
if st.session_state.pop("auth-ended", False):
    st.info(t("auth.ended"), icon=":material/timer_off:")
if user_store().count() == 0:  # APP_AUTH=required before any account exists
    st.info(t("auth.no_users"), icon=":material/person_add:")
    st.code(ADMIN_COMMAND, language="bash")

# clear_on_submit: the password does not stay in the session's widget state
with st.form("signin", clear_on_submit=True):
    username = st.text_input(t("auth.username"), max_chars=64, autocomplete="username")
    password = st.text_input(t("auth.password"), type="password", max_chars=200, autocomplete="current-password")
    submitted = st.form_submit_button(t("auth.submit"), icon=":material/login:", type="primary")
if submitted:
    try:
        sign_in(username, password)
    except SignInFailed as exc:
        if exc.retry_after:
            st.error(t("auth.locked", seconds=math.ceil(exc.retry_after)), icon=":material/lock_clock:")
        else:
            st.error(t("auth.failed"), icon=":material/error:")
    else:
        st.rerun()
