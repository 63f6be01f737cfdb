"""AppTest for the Admin page: staff accounts (add, role, disable, password, remove; never the last
admin), with every change in the audit log; staff are refused the page."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.storage import audit, auth

ADMIN = str(Path(__file__).resolve().parent.parent / "pages" / "admin.py")


@pytest.fixture
def users():
    store = auth.UserStore(load_settings().db_path, rounds=4)
    return {
        "admin": store.add("alice", "admin password", "admin"),
        "staff": store.add("sam", "staff password", "staff"),
    }


def page(user: auth.User) -> AppTest:
    at = AppTest.from_file(ADMIN, default_timeout=60)
    at.session_state["auth"] = auth.start_session(user, time.time())
    return at.run()


def field(at: AppTest, form: str, label: str):
    return next(w for w in at.text_input if w.label == label and w.form_id == form)


def test_an_admin_adds_changes_and_removes_accounts(users):
    at = page(users["admin"])
    assert not at.exception and at.title[0].value == "Admin"
    field(at, "add-user", "User name").set_value("bob")
    field(at, "add-user", "Password").set_value("a long password")
    field(at, "add-user", "Password again").set_value("another password")
    at.button(key="FormSubmitter:add-user-Add").click().run()
    assert "The two passwords differ." in at.error[0].value
    field(at, "add-user", "User name").set_value("bob")
    field(at, "add-user", "Password").set_value("a long password")
    field(at, "add-user", "Password again").set_value("a long password")
    at.button(key="FormSubmitter:add-user-Add").click().run()
    assert not at.exception and "Added bob" in at.success[0].value
    store = auth.UserStore(load_settings().db_path)
    assert store.get("bob").role == "staff"

    at.selectbox(key="user-pick").set_value("bob").run()
    at.button(key="user-disable").click().run()
    assert store.get("bob").disabled
    at.selectbox(key="user-pick").set_value("alice").run()
    at.button(key="user-role").click().run()  # alice is the only admin: refused, said why
    assert "last admin" in at.error[0].value and store.get("alice").role == "admin"
    at.selectbox(key="user-pick").set_value("bob").run()
    assert at.button(key="user-remove").disabled  # not before "Yes, remove bob" is ticked
    at.checkbox(key="user-remove-sure").check().run()
    at.button(key="user-remove").click().run()
    assert store.get("bob") is None
    actions = [(e["username"], e["action"], e["target"]) for e in audit.recent(load_settings().db_path)]
    assert actions[:3] == [
        ("alice", "user.remove", "bob"),
        ("alice", "user.disable", "bob"),
        ("alice", "user.add", "bob"),
    ]


def test_a_password_is_set_twice_typed_and_never_audited(users):
    at = page(users["admin"])
    at.selectbox(key="user-pick").set_value("sam").run()
    field(at, "user-password", "New password").set_value("brand new password")
    field(at, "user-password", "Password again").set_value("brand new password")
    at.button(key="FormSubmitter:user-password-Set the password").click().run()
    assert not at.exception and "Password changed for sam" in at.success[0].value
    store = auth.UserStore(load_settings().db_path)
    assert store.authenticate("sam", "brand new password").username == "sam"
    entry = audit.recent(load_settings().db_path, limit=1)[0]
    assert entry["action"] == "user.passwd" and "brand new" not in str(entry)


def test_staff_are_refused_the_admin_page(users):
    at = page(users["staff"])
    assert not at.exception and not at.title and not at.text_input


def test_the_first_account_made_on_the_page_is_an_admin():
    at = AppTest.from_file(ADMIN, default_timeout=60).run()  # no accounts yet: sign-in is off
    assert not at.exception and at.selectbox(key="add-role").options == ["admin"]
    field(at, "add-user", "User name").set_value("first")
    field(at, "add-user", "Password").set_value("a long password")
    field(at, "add-user", "Password again").set_value("a long password")
    at.button(key="FormSubmitter:add-user-Add").click().run()
    assert [(u.username, u.role) for u in auth.UserStore(load_settings().db_path).list()] == [("first", "admin")]
    # sign-in is on now, and whoever made the account is signed in with it, still on the page
    assert not at.exception and at.session_state["auth"]["username"] == "first" and at.title[0].value == "Admin"
