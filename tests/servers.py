"""Local servers for the tests, the benches and deploy/smoke_local.py: a free port on 127.0.0.1, the
headless Chromium flags, the command lines that start the app, the API and llama.cpp's server, and
a wait until one answers. Standard library only, so that bench/ and deploy/ scripts can use it once
the project root is on sys.path."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's (`playwright install` cannot download here)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], log: Path | None, env: dict | None, **options) -> subprocess.Popen:
    """`args` run from the project root with `env`, stdout and stderr into the file `log` (None:
    a pipe, read when the server fails to start)."""
    if log is None:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **options)
    with log.open("wb") as out:  # the child writes to its own copy of the file
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, **options)


def streamlit_command(port: int) -> list[str]:
    """The app (app.py, run from the project root) on 127.0.0.1:`port`, headless."""
    return [sys.executable, "-m", "streamlit", *streamlit_run_args(port)]


def streamlit_run_args(port: int, app: str = "app.py") -> list[str]:
    """`streamlit`'s arguments for `streamlit_command` (bench/load.py runs them in its own process)."""
    return [
        "run",
        app,
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def api_command(port: int) -> list[str]:
    """The HTTP API alone (`python -m core serve --no-app`, run from the project root)."""
    return [sys.executable, "-m", "core", "serve", "--no-app", "--port", str(port)]


def llama_server_command(binary: Path, gguf: Path, alias: str, port: int, key: str, context: int) -> list[str]:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1:`port`: one thread, two slots, an API key."""
    return [
        str(binary),
        "-m",
        str(gguf),
        "--alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "-t",
        "1",
        "-c",
        str(context),
        "-np",
        "2",
        "--api-key",
        key,
        "--no-webui",
    ]


def wait_until_up(
    url: str,
    timeout: float,
    *,
    proc: subprocess.Popen | None = None,
    headers: dict | None = None,
    insecure: bool = False,
    interval: float = 0.3,
) -> bool:
    """True once GET `url` answers 200; False after `timeout` s, or at once when `proc` has exited
    (the caller reports it with its own log). `insecure`: accept a certificate nobody here trusts
    (Caddy's own CA)."""
    context = ssl._create_unverified_context() if insecure else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2, context=context) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(interval)
    return False
