"""Sign-in in the real app and headless Chromium: addresses of pages, sign-in there, roles, sign-out.

AppTest cannot open an address the way a browser does, so this checks what a person actually gets.
Same requirements as tests/test_browser.py (Debian's chromium), same marker.
"""

import pytest

from core.storage.auth import UserStore
from tests.test_browser import browser, require_chromium, running_app  # noqa: F401 (the browser fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, tiny_model_dir):
    require_chromium()
    runtime = tmp_path_factory.mktemp("auth-browser-runtime")
    store = UserStore(runtime / "app.db", rounds=4)
    store.add("alice", "admin password", "admin")
    store.add("sam", "staff password", "staff")
    with running_app(runtime, tiny_model_dir) as url:
        yield url


def sign_in(page, name: str, password: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
    page.get_by_label("User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()


def test_staff_sign_in_at_a_page_address_and_are_refused_admin_pages(app_url, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{app_url}/chat")  # not signed in: the address shows the sign-in form
    sign_in(page, "sam", "staff password")
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=60_000)  # then the page itself
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text("Content writer")
    expect(nav).not_to_contain_text("Knowledge base")
    expect(nav).not_to_contain_text("Model")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as sam · staff")

    page.goto(f"{app_url}/knowledge")  # a new browser session: sign in again, then the refusal
    sign_in(page, "sam", "staff password")
    expect(page.get_by_text("does not have access")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Knowledge base", exact=True)).to_have_count(0)

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Page not found")).to_have_count(0)  # every step stayed on a known address
    page.close()


def test_admin_signs_in_and_opens_the_admin_pages(app_url, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(app_url)
    sign_in(page, "alice", "wrong password")
    expect(page.get_by_text("Wrong user name or password.")).to_be_visible(timeout=30_000)
    sign_in(page, "alice", "admin password")
    expect(page.get_by_role("heading", name="AI Business Studio")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.get_by_test_id("stSidebarNav").get_by_text("Knowledge base").click()
    expect(page.get_by_role("heading", name="Knowledge base", exact=True)).to_be_visible(timeout=60_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("tab", name="Audit log")).to_be_visible()
    expect(page.get_by_role("tab", name="Users")).to_be_visible()
    page.close()
