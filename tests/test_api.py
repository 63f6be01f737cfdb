"""The HTTP API and its keys: FastAPI's test client for the contract (keys, CORS, 401, 429, SSE
framing, tickets and feedback in the store, hostile bodies), and a real uvicorn on 127.0.0.1."""

import csv
import importlib.util
import json
import os

import httpx
import pytest
from fastapi.testclient import TestClient

from core.api.app import create_app
from core.api.keys import KeyStore, RateLimiter
from core.config import PROJECT_ROOT, load_settings
from core.kb.store import KnowledgeBase
from core.storage.audit import recent
from core.support.log import SupportLog
from tests.servers import api_command, free_port, spawn, wait_until_up

FAQ = "How much does shipping in Europe cost?"
SHOP = "https://shop.example.com"


@pytest.fixture
def api(seeded_kb_dir, llm):
    settings = load_settings()
    app = create_app(settings, llm=llm, kb=KnowledgeBase(seeded_kb_dir, "default"))
    return TestClient(app)


@pytest.fixture
def key(settings):
    _, secret = KeyStore(settings.db_path).add("shop", [SHOP], rpm=1000)
    return secret


def auth(key, **extra):
    return {"Authorization": f"Bearer {key}", **extra}


def events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


# -- keys ---------------------------------------------------------------------------------------
def test_keys_are_stored_hashed_shown_once_and_audited(settings, capsys):
    from core.cli.main import main

    assert main(["keys", "add", "website", "--origins", "https://Shop.Example.com/", "--rpm", "30", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["key"].startswith("sk-studio-") and made["origins"] == [SHOP] and made["scope"] == "support"
    assert made["key"] not in settings.db_path.read_bytes().decode("latin-1")  # only its hash is stored
    assert main(["keys", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["keys"]
    assert listed["name"] == "website" and "key" not in listed and listed["active"]
    assert main(["keys", "revoke", "website", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"revoked": "website"}
    assert KeyStore(settings.db_path).verify(made["key"]) is None
    assert [e["action"] for e in recent(settings.db_path)][:2] == ["api_key.revoke", "api_key.add"]
    for bad, message in [
        (["keys", "add", "x", "--origins", "ftp://x"], "not a website origin"),
        (["keys", "add", "website"], "exists already"),
        (["keys", "revoke", "nope"], "No API key"),
    ]:
        assert main([*bad, "--json"]) == 2 and message in json.loads(capsys.readouterr().out)["error"]


def test_rate_limit_is_a_sliding_minute():
    limits = RateLimiter()
    assert [limits.check(1, 2, now=t) for t in (0, 1)] == [0.0, 0.0]
    assert limits.check(1, 2, now=30) == pytest.approx(30)
    assert limits.check(2, 2, now=30) == 0.0  # another key has its own budget
    assert limits.check(1, 2, now=60.5) == 0.0


# -- auth, CORS, limits ------------------------------------------------------------------------------
def test_missing_wrong_and_revoked_keys_are_refused(api, key, settings):
    assert api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}).status_code == 401
    wrong = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth("sk-studio-nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "Invalid or revoked API key"
    KeyStore(settings.db_path).revoke("shop")
    assert api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(key)).status_code == 401
    assert SupportLog(settings.db_path).questions() == []  # nothing stored


def test_origins_cors_preflight_and_scope(api, key, settings):
    ok = api.options(
        "/api/v1/support/ask",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == SHOP
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    evil = "https://evil.example.net"
    refused = api.options("/api/v1/support/ask", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    from_shop = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(key, Origin=SHOP))
    assert from_shop.status_code == 200 and from_shop.headers["access-control-allow-origin"] == SHOP
    from_evil = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(key, Origin=evil))
    assert from_evil.status_code == 403 and "may not be used from" in from_evil.json()["error"]
    chat = api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}, headers=auth(key))
    assert chat.status_code == 403 and "customer service only" in chat.json()["error"]


def test_over_the_limit_is_429_with_retry_after(api, settings):
    _, slow = KeyStore(settings.db_path).add("slow", rpm=2)
    codes = [
        api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(slow)).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(slow))
    assert 1 <= int(limited.headers["retry-after"]) <= 60 and "2 requests per minute" in limited.json()["error"]
    assert [k.uses for k in KeyStore(settings.db_path).list()] == [4]  # every use is counted


# -- customer service ---------------------------------------------------------------------------------
def test_ask_json_and_the_log_knows_channel_and_key(api, key, settings):
    r = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(key))
    body = r.json()
    assert r.status_code == 200 and body["tier"] == 1 and "€4.95" in body["text"] and not body["handover"]
    assert body["sources"][0]["faq_id"] == "en-002" and body["latency_ms"] > 0 and body["conversation_id"]
    widget = api.post(
        "/api/v1/support/ask?stream=false",
        json={"question": FAQ, "conversation_id": "c1"},
        headers=auth(key, **{"X-Studio-Channel": "widget"}),
    )
    assert widget.json()["conversation_id"] == "c1"
    rows = SupportLog(settings.db_path).questions()
    assert [(q["channel"], q["api_key"]) for q in rows] == [("widget", "shop"), ("api", "shop")]


def test_ask_streams_server_sent_events(api, key):
    with api.stream("POST", "/api/v1/support/ask", json={"question": "请问运费多少？"}, headers=auth(key)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = r.read().decode()
    got = events(text)
    assert got[0][0] == "start" and got[-1][0] == "final" and any(name == "delta" for name, _ in got)
    final = got[-1][1]
    assert {"tier", "text", "sources", "suggestions", "handover", "latency_ms", "question_id"} <= set(final)
    assert "".join(d["text"] for name, d in got if name == "delta") == final["text"] or final["tier"] != 1


def test_handover_ticket_and_feedback_land_in_the_store(api, key, settings):
    handed = api.post(
        "/api/v1/support/ask?stream=false", json={"question": "What's the best stock to buy?"}, headers=auth(key)
    ).json()
    assert handed["handover"] and handed["tier"] == 3
    ticket = api.post(
        "/api/v1/support/tickets",
        headers=auth(key),
        json={
            "name": "Ann",
            "contact": "ann@example.com",
            "question": "stock tips",
            "answer_token": handed["answer_token"],  # an answer is named by its token (ids can be guessed)
        },
    )
    assert ticket.status_code == 201
    log = SupportLog(settings.db_path)
    assert log.tickets()[0]["question_id"] == handed["question_id"]
    assert (
        api.post(
            "/api/v1/support/feedback",
            json={"answer_token": handed["answer_token"], "helpful": False},
            headers=auth(key),
        ).status_code
        == 200
    )
    assert log.unanswered()[0]["feedback"] == 0
    _, other = KeyStore(settings.db_path).add("other")
    foreign = api.post(
        "/api/v1/support/feedback", json={"answer_token": handed["answer_token"], "helpful": True}, headers=auth(other)
    )
    assert foreign.status_code == 404  # a key only touches its own questions
    missing = api.post(
        "/api/v1/support/tickets", json={"name": " ", "contact": "x", "question": "y"}, headers=auth(key)
    )
    assert missing.status_code == 422


def test_a_suggestion_click_gives_the_curated_answer(api, key, settings):
    asked = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(key)).json()
    r = api.post(
        "/api/v1/support/suggestion",
        headers=auth(key),
        json={"faq_id": "zh-002", "asked": "運費多少？", "answer_token": asked["answer_token"]},
    )
    body = r.json()
    assert r.status_code == 200 and body["tier"] == 1 and "運費" in body["text"]
    assert SupportLog(settings.db_path).questions()[0]["suggested_from"] == asked["question_id"]
    assert (
        api.post("/api/v1/support/suggestion", json={"faq_id": "nope", "asked": "x"}, headers=auth(key)).status_code
        == 404
    )


# -- hostile input ----------------------------------------------------------------------------------------
def test_big_broken_and_wrong_bodies_are_4xx_and_store_nothing(api, key, settings):
    huge = api.post(
        "/api/v1/support/ask",
        content=b'{"question": "' + b"a" * 1_100_000 + b'"}',
        headers=auth(key, **{"Content-Type": "application/json"}),
    )
    assert huge.status_code == 413 and "1 MB" in huge.json()["error"]
    broken = api.post(
        "/api/v1/support/ask", content=b'{"question": ', headers=auth(key, **{"Content-Type": "application/json"})
    )
    assert broken.status_code == 400 and broken.json()["error"] == "The request body is not valid JSON"
    for body, field in [
        ({"question": 42}, "question"),
        ({"question": ""}, "question"),
        ({}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "hi", "language": "fr"}, "language"),
        ({"question": "hi", "conversation_id": "../../etc"}, "conversation_id"),
    ]:
        r = api.post("/api/v1/support/ask?stream=false", json=body, headers=auth(key))
        assert r.status_code == 422 and r.json()["error"].startswith(field), body
    assert SupportLog(settings.db_path).questions() == []


def test_the_injection_set_through_the_api_never_succeeds(api, settings):
    # A server's key (no website origins): the whole set from one address, past a visitor's per-minute limit.
    _, key = KeyStore(settings.db_path).add("backend", rpm=1000)
    spec = importlib.util.spec_from_file_location("bench_injection", PROJECT_ROOT / "bench" / "injection.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    system = bench.system_prompt_text(settings.company_name)
    failures = []
    for row in csv.DictReader((PROJECT_ROOT / "data" / "kb" / "eval" / "injection_attacks.csv").open(encoding="utf-8")):
        r = api.post("/api/v1/support/ask?stream=false", json={"question": row["text"][:2000]}, headers=auth(key))
        assert r.status_code == 200, row["id"]
        body = r.json()
        if failed := bench.check(row, body["tier"], body["text"], system):
            failures.append((row["id"], failed))
    assert failures == []


# -- OpenAI-compatible chat -------------------------------------------------------------------------------
def test_openai_compatible_chat(api, settings):
    _, key = KeyStore(settings.db_path).add("backend", scope="all")
    models = api.get("/v1/models", headers=auth(key)).json()
    assert {"assistant", "support", "copywriter"} <= {m["id"] for m in models["data"]}
    body = {"model": "support", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8, "temperature": 0}
    done = api.post("/v1/chat/completions", json=body, headers=auth(key)).json()
    assert done["object"] == "chat.completion" and done["choices"][0]["message"]["role"] == "assistant"
    assert 1 <= done["usage"]["completion_tokens"] <= 8
    with api.stream("POST", "/v1/chat/completions", json=body | {"stream": True}, headers=auth(key)) as r:
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant" and chunks[-1]["choices"][0]["finish_reason"]
    unknown = api.post("/v1/chat/completions", json=body | {"model": "gpt-9"}, headers=auth(key))
    assert unknown.status_code == 404 and "support" in unknown.json()["error"]


def test_health_docs_and_widget_files_need_no_key(api):
    assert api.get("/api/v1/health").json()["status"] == "ok"
    assert api.get("/docs").status_code == 200 and "/api/v1/support/ask" in api.get("/openapi.json").text
    js = api.get("/widget.js")
    assert js.status_code == 200 and "textContent" in js.text and "innerHTML" not in js.text
    demo = api.get('/widget/demo?key=sk-studio-abc"><script>alert(1)</script>')
    assert (
        demo.status_code == 200
        and "<script>alert(1)" not in demo.text
        and 'data-key="sk-studio-abcscriptalert1script"' in demo.text
    )


# -- a real server ----------------------------------------------------------------------------------------
def test_real_uvicorn_streams_answers_in_pieces(seeded_kb_dir, settings, key, tmp_path):
    port = free_port()
    env = dict(os.environ, APP_DATA_DIR=str(settings.data_dir))
    proc = spawn(api_command(port), tmp_path / "serve.log", env)
    try:
        base = f"http://127.0.0.1:{port}"
        if not wait_until_up(f"{base}/api/v1/health", 120, proc=proc):
            pytest.fail((tmp_path / "serve.log").read_text())
        with httpx.stream(
            "POST",
            f"{base}/api/v1/support/ask",
            json={"question": "Can I return a gift?"},
            headers=auth(key),
            timeout=120,
        ) as r:
            assert r.status_code == 200
            raw = [part for part in r.iter_raw()]
        got = events(b"".join(raw).decode())
        assert got[0][0] == "start" and got[-1][0] == "final"
        over = httpx.post(f"{base}/api/v1/support/ask", content=b"x" * 1_200_000, headers=auth(key), timeout=30)
        assert over.status_code == 413
    finally:
        proc.terminate()
        proc.wait(20)
