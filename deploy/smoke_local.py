"""The deployment's shape on one machine, without Docker: a manual smoke check (not in `make test`).

Starts on 127.0.0.1: a Chroma server (`chroma run`), two llama.cpp OpenAI-compatible servers on
the packaged Qwen GGUF, two Streamlit replicas of the app configured like deploy/docker-compose.yml
(APP_LLM_BACKEND=openai with both URLs, APP_CHROMA_HOST, one shared APP_DATA_DIR), and Caddy with
deploy/Caddyfile (upstreams changed to the local ports; HTTPS on localhost with Caddy's own CA, as
the compose file's default). Sign-in is required as in the compose file: a first admin is made with
`python -m core users add`. Then headless Chromium, through the proxy over HTTPS, signs in, asks
the Chat page a question and the Customer service page a FAQ question, in several browser
sessions. Everything is stopped at the end.

Needs: `make test` done once (llama.cpp's server built into .venv/llama.cpp, Playwright),
Debian's `caddy` and `chromium`, and the packaged model (`python -m core model prepare`).
Run: .venv/bin/python deploy/smoke_local.py       (about 2 minutes on 2 cores)
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.servers import (  # noqa: E402  (the project root is on sys.path from here)
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    llama_server_command,
    spawn,
    streamlit_command,
    wait_until_up,
)

KEY = "smoke-test-key"
ADMIN, ADMIN_PASSWORD = "admin", "smoke admin password"
MODEL = "Qwen2.5-Coder-0.5B-Instruct"


def wait_ok(url: str, timeout: float = 120, headers: dict | None = None, insecure: bool = False) -> None:
    if not wait_until_up(url, timeout, headers=headers, insecure=insecure):  # insecure: Caddy's own CA
        raise SystemExit(f"not ready after {timeout:.0f} s: {url}")


def main() -> int:
    from core.config import load_settings
    from core.llm.llamacpp_build import server_binary
    from core.llm.models import PACKAGED, assemble_gguf

    for tool in ("caddy", CHROMIUM):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing (apt-get install caddy chromium)")
    llama_server = server_binary(load_settings())
    if not llama_server.is_file():
        raise SystemExit(f"{llama_server} is missing: run `make test` once")
    gguf = assemble_gguf(PACKAGED["qwen2.5-coder-0.5b"], ROOT / "data" / "runtime" / "models")
    work = Path(tempfile.mkdtemp(prefix="studio-smoke-"))
    procs: list[subprocess.Popen] = []

    def start(args, log, env=None):
        procs.append(spawn(args, work / log, env, start_new_session=True))

    try:
        chroma_port = free_port()
        start(
            [
                str(Path(sys.executable).parent / "chroma"),
                "run",
                "--path",
                str(work / "chroma"),
                "--host",
                "127.0.0.1",
                "--port",
                str(chroma_port),
            ],
            "chroma.log",
        )
        urls = []
        for name in ("a", "b"):
            port = free_port()
            urls.append(f"http://127.0.0.1:{port}/v1")
            start(
                llama_server_command(llama_server, gguf, MODEL, port, KEY, context=8192),
                f"llama-{name}.log",
            )
        wait_ok(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat")
        for url in urls:
            wait_ok(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"})

        env = {
            **os.environ,
            "APP_DATA_DIR": str(work / "data"),
            "APP_ENGINE": "openai",
            "APP_OPENAI_BASE_URLS": ",".join(urls),
            "APP_OPENAI_MODEL": MODEL,
            "APP_OPENAI_API_KEY": KEY,
            "APP_CHROMA_HOST": "127.0.0.1",
            "APP_CHROMA_PORT": str(chroma_port),
            "APP_SAMPLE_KB": "off",
            "APP_MODELS_DIR": str(ROOT / "data" / "runtime" / "models"),
            "STREAMLIT_SERVER_COOKIE_SECRET": "smoke-cookie-secret",
            "APP_AUTH": "required",
            "APP_API_DOCS": "off",
            "HF_HUB_OFFLINE": "1",
        }
        # A few English FAQ entries are enough (the whole sample takes a minute to embed).
        rows = list(csv.DictReader((ROOT / "data" / "kb" / "sample" / "faq.csv").open(encoding="utf-8")))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([r for r in rows if r["id"].startswith("en-")][:12])
        (work / "faq.csv").write_text(out.getvalue(), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "core", "kb", "ingest", str(work / "faq.csv"), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        print("kb ingest into the Chroma server:", done.stdout.strip() or done.stderr[-500:])
        # The first admin, as docs/deploy.md says (there: `docker compose exec app1 python -m core users add`).
        done = subprocess.run(
            [sys.executable, "-m", "core", "users", "add", ADMIN, "--role", "admin", "--password-stdin", "--json"],
            cwd=ROOT,
            env=env,
            input=ADMIN_PASSWORD + "\n",
            capture_output=True,
            text=True,
        )
        print("first admin:", done.stdout.strip() or done.stderr[-500:])

        replicas = [free_port(), free_port()]
        for i, port in enumerate(replicas, 1):
            start(
                streamlit_command(port),
                f"app{i}.log",
                env=env,
            )
        for port in replicas:
            wait_ok(f"http://127.0.0.1:{port}/_stcore/health")
        proxy_port = free_port()
        caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
        caddyfile = caddyfile.replace("app1:8501 app2:8501 app3:8501", " ".join(f"127.0.0.1:{p}" for p in replicas))
        # The compose file's defaults (STUDIO_DOMAIN=localhost, STUDIO_TLS=internal) on free ports, with
        # Caddy's CA kept out of the system trust store (the browser is told to accept its certificate).
        caddyfile = caddyfile.replace("admin off", f"admin off\n\tskip_install_trust\n\thttp_port {free_port()}")
        caddyfile = caddyfile.replace("{$STUDIO_DOMAIN:localhost} {", f"localhost:{proxy_port} {{")
        (work / "Caddyfile").write_text(caddyfile, encoding="utf-8")
        caddy_env = {
            **os.environ,
            "XDG_DATA_HOME": str(work / "caddy-data"),
            "XDG_CONFIG_HOME": str(work / "caddy-config"),
        }
        start(
            ["caddy", "run", "--config", str(work / "Caddyfile"), "--adapter", "caddyfile"], "caddy.log", env=caddy_env
        )
        proxy = f"https://localhost:{proxy_port}"
        time.sleep(1.5)
        wait_ok(f"{proxy}/_stcore/health", insecure=True)

        from playwright.sync_api import expect, sync_playwright

        replicas_seen = set()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for n in range(3):
                context = browser.new_context(viewport={"width": 1400, "height": 900}, ignore_https_errors=True)
                page = context.new_page()
                started = time.monotonic()
                page.goto(f"{proxy}/chat")  # not signed in: the sign-in form at the page's address
                expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=120_000)
                page.get_by_label("User name").fill(ADMIN)
                page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
                page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
                box = page.get_by_test_id("stChatInputTextArea")
                expect(box).to_be_visible(timeout=120_000)
                box.fill("What is the capital of France? Answer in one word.")
                box.press("Enter")
                messages = page.get_by_test_id("stChatMessage")
                expect(messages.nth(1)).to_contain_text("tokens/s", timeout=120_000)
                reply = messages.nth(1).inner_text().replace("\n", " ").strip()
                page.goto(f"{proxy}/support")
                box = page.get_by_test_id("stChatInputTextArea")
                expect(box).to_be_visible(timeout=120_000)
                box.fill("How much does shipping in Europe cost?")
                box.press("Enter")
                expect(page.get_by_test_id("stChatMessage").nth(1)).to_contain_text("€4.95", timeout=120_000)
                cookie = next((c["value"] for c in context.cookies() if c["name"] == "studio_replica"), "")
                replicas_seen.add(cookie)
                print(
                    f"browser session {n + 1}: chat {reply[:60]!r}, support answered from the FAQ, "
                    f"replica cookie {cookie[:8]}…, {time.monotonic() - started:.1f} s"
                )
                context.close()
            browser.close()
        print(f"smoke check passed: {len(replicas_seen)} of 2 replicas served the 3 browser sessions")
        return 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        print(f"logs: {work}")


if __name__ == "__main__":
    raise SystemExit(main())
