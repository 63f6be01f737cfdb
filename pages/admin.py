"""Admin (admins): staff accounts, the HTTP API's keys and the audit log of admin actions."""

import json
from datetime import datetime

import pandas as pd
import streamlit as st

from core.api.keys import KeyStore
from core.storage.audit import recent
from core.storage.auth import UserStore
from ui import ROLE_KEYS, audit, page_setup, plain, require, settings, sign_in, t, user_store

# what an API key may be used for, on screen
SCOPE_KEYS = {
    "all": "kb.key_scope_all",
    "support": "kb.key_scope_support",
}

page_setup()
account = require("admin")
config = settings()


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def users_tab(store: UserStore, me: str | None) -> None:
    st.caption(t("admin.users_caption"))
    if note := st.session_state.pop("admin-added", None):
        st.success(note)
    users = store.list()
    if users:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("auth.username"): u.username,
                        t("admin.role"): t(ROLE_KEYS[u.role]),
                        t("admin.state"): t("admin.disabled") if u.disabled else t("admin.active"),
                        t("admin.since"): when(u.created_at),
                    }
                    for u in users
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.info(t("admin.no_users"))
    with st.form("add-user", clear_on_submit=True):
        st.markdown(f"**{t('admin.add_title')}**")
        c1, c2 = st.columns([2, 1])
        name = c1.text_input(t("auth.username"), max_chars=64)
        role = c2.selectbox(
            t("admin.role"),
            ("staff", "admin") if users else ("admin",),  # the first account must be an admin
            format_func=lambda r: t(ROLE_KEYS[r]),
            key="add-role",
        )
        c3, c4 = st.columns(2)
        password = c3.text_input(t("auth.password"), type="password", max_chars=256)
        again = c4.text_input(t("admin.password_again"), type="password", max_chars=256)
        add = st.form_submit_button(t("admin.add"), icon=":material/person_add:")
    if add:
        try:
            if password != again:
                raise ValueError(t("admin.passwords_differ"))
            user = store.add(name, password, role)
            audit("user.add", user.username, {"role": user.role})
            if not users:  # the first account turns sign-in on: sign its maker in, not out
                sign_in(user.username, password)
            st.session_state["admin-added"] = t("admin.added", name=plain(user.username))
            st.rerun()  # the list and the pickers with the new account
        except ValueError as exc:
            st.error(str(exc))
    if users:
        change_user(store, [u.username for u in users], me)


def change_user(store: UserStore, names: list[str], me: str | None) -> None:
    """Role, disabled, password, removal of one account; the store refuses leaving no admin."""
    st.markdown(f"**{t('admin.change_title')}**")
    picked = st.selectbox(t("admin.pick"), names, key="user-pick")
    user = store.get(picked)
    if user is None:
        return
    c1, c2, c3 = st.columns(3)
    other = "staff" if user.role == "admin" else "admin"
    try:
        if c1.button(t("admin.make", role=t(ROLE_KEYS[other])), key="user-role"):
            store.set_role(user.username, other)
            audit("user.set_role", user.username, {"role": other})
            st.toast(t("admin.changed", name=user.username))
            st.rerun()
        if c2.button(t("admin.enable") if user.disabled else t("admin.disable"), key="user-disable"):
            store.set_disabled(user.username, not user.disabled)
            audit("user.enable" if user.disabled else "user.disable", user.username)
            st.toast(t("admin.changed", name=user.username))
            st.rerun()
        sure = c3.checkbox(t("admin.remove_sure", name=plain(user.username)), key="user-remove-sure")
        if c3.button(t("admin.remove"), icon=":material/person_remove:", disabled=not sure, key="user-remove"):
            store.remove(user.username)
            audit("user.remove", user.username)
            st.toast(t("admin.removed", name=user.username))
            st.rerun()
    except ValueError as exc:  # the last admin, say
        st.error(str(exc))
    with st.form("user-password", clear_on_submit=True):
        c1, c2 = st.columns(2)
        password = c1.text_input(t("admin.new_password"), type="password", max_chars=256)
        again = c2.text_input(t("admin.password_again"), type="password", max_chars=256)
        if st.form_submit_button(t("admin.set_password"), icon=":material/password:"):
            try:
                if password != again:
                    raise ValueError(t("admin.passwords_differ"))
                store.set_password(user.username, password)
                audit("user.passwd", user.username)  # that it changed, never what to
                st.success(t("admin.password_changed", name=plain(user.username)))
            except ValueError as exc:
                st.error(str(exc))
    if me == user.username:
        st.caption(t("admin.yourself"))


st.title(t("admin.title"))
users_tab_, keys_tab, audit_tab = st.tabs([t("admin.tab_users"), t("kb.tab_keys"), t("kb.tab_audit")])
with users_tab_:
    users_tab(user_store(), account.user.username if account.user else None)

with keys_tab:
    keys = KeyStore(config.db_path)
    st.caption(t("kb.keys_caption"))
    host = (st.context.headers.get("host") or "127.0.0.1").rsplit(":", 1)[0]
    api_base = f"http://{host}:8502"
    with st.form("new-key", clear_on_submit=True):
        c1, c2, c3 = st.columns([2, 1, 1])
        key_name = c1.text_input(t("kb.key_name"), max_chars=60)
        rpm = c2.number_input(t("kb.key_rpm"), min_value=1, max_value=100_000, value=60)
        scope = c3.selectbox(t("kb.key_scope"), ["support", "all"], format_func=lambda s: t(SCOPE_KEYS[s]))
        origins = st.text_area(t("kb.key_origins"), placeholder="https://shop.example.com", max_chars=2000)
        create = st.form_submit_button(t("kb.key_create"), icon=":material/key:")
    if create:
        try:
            made, secret = keys.add(key_name, origins.replace(",", "\n").splitlines(), int(rpm), scope)
            audit("api_key.add", made.name, {"origins": made.origins, "rpm": made.rpm, "scope": made.scope})
            st.success(t("kb.key_created", name=made.name))
            st.code(secret, language=None)
            st.caption(t("kb.key_embed"))
            st.code(
                f'<script src="{api_base}/widget.js" data-key="{secret}" data-lang="auto"></script>', language="html"
            )
        except ValueError as exc:
            st.error(str(exc))
    listed = keys.list()
    if not listed:
        st.info(t("kb.keys_none"))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("kb.key_name"): k.name,
                        t("kb.key_prefix"): k.prefix + "…",
                        t("kb.key_scope"): t(SCOPE_KEYS[k.scope]),
                        t("kb.key_rpm"): k.rpm,
                        t("kb.key_origins"): ", ".join(k.origins) or "–",
                        t("kb.key_uses"): k.uses,
                        t("kb.key_state"): t("kb.key_active") if k.active else t("kb.key_revoked"),
                    }
                    for k in listed
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        active = [k.name for k in listed if k.active]
        if active:
            c1, c2 = st.columns([3, 1])
            doomed = c1.selectbox(t("kb.key_pick"), active, key="revoke-pick")
            if c2.button(t("kb.key_revoke"), icon=":material/block:", key="revoke-key"):
                keys.revoke(doomed)
                audit("api_key.revoke", doomed)
                st.toast(t("kb.key_revoked_toast", name=doomed))
                st.rerun()
    st.caption(t("kb.keys_docs", url=api_base))

with audit_tab:
    if account.can("audit"):
        st.caption(t("audit.caption"))
        entries = recent(config.db_path, limit=500)
        if not entries:
            st.info(t("audit.none"))
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            t("audit.when"): when(e["ts"]),
                            t("audit.who"): e["username"],
                            t("audit.action"): e["action"],
                            t("audit.target"): e["target"],
                            t("audit.detail"): json.dumps(e["detail"], ensure_ascii=False),
                        }
                        for e in entries
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
