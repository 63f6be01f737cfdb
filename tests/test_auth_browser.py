"""Sign-in in the real app and headless Chromium: addresses of pages, sign-in there, roles, sign-out.

AppTest cannot open an address the way a browser does, so this checks what a person actually gets.
Same requirements as tests/test_browser.py (Debian's chromium), same marker.
"""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.auth import UserStore
from core.config import PROJECT_ROOT
from tests.test_browser import CHROMIUM, _free_port, browser  # noqa: F401 (the browser fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, tiny_model_dir):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install Debian's chromium (see .ci/run)")
        pytest.skip("Debian chromium is not installed (apt-get install chromium); browser test skipped")
    runtime = tmp_path_factory.mktemp("auth-browser-runtime")
    store = UserStore(runtime / "app.db", rounds=4)
    store.add("alice", "admin password", "admin")
    store.add("sam", "staff password", "staff")
    port = _free_port()
    env = os.environ | {"APP_MODEL": str(tiny_model_dir), "APP_ADAPTER": "none", "APP_SAMPLE_KB": "off",
                        "APP_DATA_DIR": str(runtime)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not start: " + proc.stdout.read1().decode(errors="replace"))
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


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
    expect(page.get_by_role("tab", name="Audit log")).to_be_visible()
    page.close()
