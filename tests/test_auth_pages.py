"""AppTest: sign-in, roles and sign-out in the running app (tiny model; users made with a low bcrypt cost)."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.storage import audit, auth

TIMEOUT = 60
ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
CHAT, KNOWLEDGE, MODEL = (str(ROOT / "pages" / f"{name}.py") for name in ("chat", "knowledge", "model"))
ADMIN_PASSWORD, STAFF_PASSWORD = "admin password", "staff password"


@pytest.fixture(autouse=True)
def navigation_already_running(monkeypatch):
    """Before every run AppTest puts Streamlit back into its "pages/ folder" mode, as on a fresh
    server; ui.page_setup then reruns, and a click made through app.py is lost in the abandoned
    first pass. A real server leaves that mode on its first run, before anyone can click: do the same."""
    from streamlit.runtime.pages_manager import PagesManager

    original_init = PagesManager.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def users():
    store = auth.UserStore(load_settings().db_path, rounds=4)
    return {"admin": store.add("alice", ADMIN_PASSWORD, "admin"), "staff": store.add("sam", STAFF_PASSWORD, "staff")}


def app(script: str = APP, user: auth.User | None = None, signed_in_at: float | None = None) -> AppTest:
    at = AppTest.from_file(script, default_timeout=TIMEOUT)
    if user is not None:
        at.session_state["auth"] = auth.start_session(user, time.time() if signed_in_at is None else signed_in_at)
    return at.run()


def shows_sign_in_form(at: AppTest) -> bool:
    return at.title[0].value == "Sign in" and [w.label for w in at.text_input] == ["User name", "Password"]


def registered(at: AppTest, page: str) -> bool:
    """Is the page file in this session's navigation? (AppTest only switches to registered pages.)"""
    try:
        at.switch_page(page)
    except ValueError:
        return False
    return True


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].set_value(name)
    at.text_input[1].set_value(password)
    return at.button[0].click().run()  # the form's submit


def sidebar_text(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_without_users_the_app_is_open_as_before():
    at = app()
    assert not at.exception and at.title[0].value == "AI Business Studio"
    assert "Sign-in is off" in sidebar_text(at) and "users add NAME --role admin" in sidebar_text(at)
    assert all(registered(at, f"pages/{page}.py") for page in auth.PAGES)
    assert not registered(at, "pages/signin.py")
    assert "sign-out" not in [b.key for b in at.button]


def test_with_users_an_anonymous_visitor_sees_only_the_sign_in_form(users):
    at = app()
    assert not at.exception and shows_sign_in_form(at)
    assert not any(registered(at, f"pages/{page}.py") for page in auth.PAGES)
    assert "tiny" not in sidebar_text(at)  # no model details for visitors


def test_public_support_page_needs_no_sign_in(users, monkeypatch):
    monkeypatch.setenv("APP_PUBLIC_SUPPORT", "on")
    at = app()
    assert not at.exception and at.title[0].value == "Customer service"
    assert [p for p in auth.PAGES if registered(at, f"pages/{p}.py")] == ["support"]
    at.switch_page("pages/signin.py").run()
    assert shows_sign_in_form(at)


def test_sign_in_opens_the_app_and_wrong_passwords_are_refused(users):
    at = sign_in(app(), "alice", "not the password")
    assert shows_sign_in_form(at) and at.error[0].value == "Wrong user name or password."
    assert "auth" not in at.session_state
    at = sign_in(at, "ALICE", ADMIN_PASSWORD)
    assert not at.exception and at.title[0].value == "AI Business Studio"
    assert "Signed in as alice · admin" in sidebar_text(at)
    assert all(registered(at, f"pages/{page}.py") for page in auth.PAGES)  # admin sees everything


def test_sign_in_in_chinese(users):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["language"] = "繁體中文"
    at.run()
    assert at.title[0].value == "登入" and at.text_input[0].label == "使用者名稱"


def test_staff_do_not_get_admin_pages_and_direct_access_is_refused(users):
    at = app(user=users["staff"])
    assert not at.exception and at.title[0].value == "AI Business Studio"
    assert "Signed in as sam · staff" in sidebar_text(at)
    visible = [p for p in auth.PAGES if registered(at, f"pages/{p}.py")]
    assert visible == ["home", "chat", "writer", "support", "calculator"]
    assert "Open the knowledge base" not in [link.label for link in at.get("page_link")]

    # The knowledge page's address, opened by staff (here: an admin's tab whose user became staff).
    at = app(user=users["admin"])
    at.switch_page("pages/knowledge.py")
    at.session_state["auth"] = auth.start_session(users["staff"], time.time())
    at.run()
    assert not at.exception and "does not have access" in at.error[0].value
    assert "Knowledge base" not in [t.value for t in at.title]

    for page in (KNOWLEDGE, MODEL):  # the page's own guard, whatever way it is reached
        at = app(page, user=users["staff"])
        assert not at.exception and "does not have access" in at.error[0].value and not at.title


def test_sampling_settings_are_for_admins_only(users):
    staff = app(CHAT, user=users["staff"])
    admin = app(CHAT, user=users["admin"])
    assert not staff.exception and not admin.exception
    assert "Sampling settings" not in [e.label for e in staff.expander]
    assert "Sampling settings" in [e.label for e in admin.expander]
    staff.chat_input[0].set_value("Hello").run()  # staff still chat, with the default settings
    assert not staff.exception and len(staff.chat_message) == 2


def test_sign_out_returns_to_the_sign_in_form(users):
    at = app(user=users["admin"])
    at.switch_page("pages/calculator.py").run()
    at.sidebar.button(key="sign-out").click().run()
    assert not at.exception and shows_sign_in_form(at)
    assert "auth" not in at.session_state


def test_an_expired_session_asks_to_sign_in_again(users):
    minutes = load_settings().session_minutes
    at = app(user=users["staff"], signed_in_at=time.time() - minutes * 60 - 1)
    assert not at.exception and shows_sign_in_form(at)
    assert "session has ended" in at.info[0].value


def test_sign_in_required_before_any_user_says_how_to_create_one(monkeypatch):
    monkeypatch.setenv("APP_AUTH", "required")
    at = app()
    assert not at.exception and shows_sign_in_form(at)
    assert "users add NAME --role admin" in at.code[0].value


def test_admin_actions_in_the_app_are_audited_with_the_user_name(users, seeded_kb_dir):
    at = app(KNOWLEDGE, user=users["admin"])
    at.button(key="delete-source").click().run()
    assert not at.exception
    entry = audit.recent(load_settings().db_path, limit=1)[0]
    assert (entry["username"], entry["action"], entry["target"]) == ("alice", "kb.delete", "faq.csv")
    admin = app(str(ROOT / "pages" / "admin.py"), user=users["admin"])
    assert any("kb.delete" in frame.value.to_string() for frame in admin.dataframe)  # the audit tab shows it
