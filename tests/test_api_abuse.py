"""A website key is public: limits per visitor, a cap on questions waiting for the model (503 at
once), answer tokens instead of guessable ids, security headers, docs that production can switch
off, and staff never starved by the public queue (priority and a slot of their own)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from core.api.app import create_app
from core.api.keys import InFlight, KeyStore, RateLimiter, client_address, trusted_networks
from core.config import load_settings
from core.llm.base import AtPriority, GenerationOptions
from core.llm.slots import PUBLIC, STAFF, SlotQueue
from core.support.log import SupportLog
from tests.servers import CHROMIUM, CHROMIUM_ARGS
from tests.test_nothing_lost import TIER2, SlowEngine, serve, sse_events, tier2_env, wait_for

FAQ = "How much does shipping in Europe cost?"
SHOP = "https://shop.example.com"


def auth(key, **extra):
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture
def kb(seeded_kb_dir):
    from core.kb.store import KnowledgeBase

    return KnowledgeBase(seeded_kb_dir, "default")


# -- the queue: staff first, and a slot of their own --------------------------------------------------
def test_staff_go_before_waiting_customers_and_have_a_slot_of_their_own():
    q = SlotQueue(1, reserved=1)
    first = q.take_ticket(PUBLIC)
    assert q.acquire(first)
    waiting = q.take_ticket(PUBLIC)
    admitted = threading.Event()
    threading.Thread(target=lambda: q.acquire(waiting) and admitted.set(), daemon=True).start()
    time.sleep(0.2)
    assert not admitted.is_set() and q.waiting(PUBLIC) == 1  # customers share the one public slot
    staff = q.take_ticket(STAFF)
    assert q.waiting_ahead(staff) == 1  # only the answer being written, not the waiting customer
    assert q.acquire(staff)  # at once: the staff slot
    assert q.active == 2 and not admitted.is_set()
    staff2 = q.take_ticket(STAFF)
    assert q.waiting_ahead(staff2) == 2 and q.waiting_ahead(waiting) == 3  # staff jump the line
    q.release(first)
    assert q.acquire(staff2)  # the freed slot goes to the staff request, not the earlier customer
    assert not admitted.wait(0.2)
    q.release(staff)
    assert admitted.wait(2)  # one staff request left, on the staff slot: the other is the customers' again
    assert q.active == 2 and q.waiting() == 0


def test_staff_hold_the_first_slot_numbers_which_llama_cpp_reads_first():
    q = SlotQueue(2, reserved=1)
    public = [q.take_ticket(PUBLIC) for _ in range(2)]
    assert all(q.acquire(t) for t in public)
    assert sorted(q.slot_of(t) for t in public) == [1, 2]  # the shared numbers
    staff = q.take_ticket(STAFF)
    assert q.acquire(staff) and q.slot_of(staff) == 0
    q.release(public[0])
    staff2 = q.take_ticket(STAFF)
    assert q.acquire(staff2) and q.slot_of(staff2) == 1  # a shared number: the reserved one is taken
    q.release(staff)
    assert q.slot_of(staff) is None


def test_without_a_staff_slot_staff_still_go_first():
    q = SlotQueue(1)
    busy = q.take_ticket(PUBLIC)
    assert q.acquire(busy)
    customer, staff = q.take_ticket(PUBLIC), q.take_ticket(STAFF)
    order = []
    threads = [
        threading.Thread(target=lambda t=t, name=name: q.acquire(t) and order.append(name) or q.release(t))
        for t, name in ((customer, "customer"), (staff, "staff"))
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    q.release(busy)
    for t in threads:
        t.join(5)
    assert order == ["staff", "customer"]


def test_cancelled_while_waiting_gives_up_its_place():
    q = SlotQueue(1)
    held = q.take_ticket()
    q.acquire(held)
    gone, cancel = q.take_ticket(PUBLIC), threading.Event()
    cancel.set()
    assert not q.acquire(gone, cancel) and q.waiting() == 0
    q.release(held)
    nxt = q.take_ticket(PUBLIC)
    assert q.acquire(nxt)


def test_customer_service_generations_are_public():
    engine = SlowEngine(delay=0.0, words=2)
    gen = AtPriority(engine, PUBLIC).stream([{"role": "user", "content": "hi"}], GenerationOptions(max_new_tokens=5))
    gen.result()
    assert gen.options.priority == PUBLIC and gen.options.max_new_tokens == 5
    assert engine.stream([{"role": "user", "content": "hi"}]).options.priority == STAFF  # the default
    with pytest.raises(ValueError):
        GenerationOptions(priority=7).validate()


# -- who the visitor is ---------------------------------------------------------------------------------
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy():
    none, proxy = trusted_networks(""), trusted_networks("10.0.0.0/8, 127.0.0.1")
    assert client_address("203.0.113.9", "1.2.3.4", none) == "203.0.113.9"  # no proxy configured
    assert client_address("203.0.113.9", "1.2.3.4", proxy) == "203.0.113.9"  # not from the proxy
    assert client_address("10.0.0.2", "1.2.3.4", proxy) == "1.2.3.4"
    # The client wrote its own X-Forwarded-For; the proxy appended the address it saw: that one counts.
    assert client_address("10.0.0.2", "6.6.6.6, 1.2.3.4", proxy) == "1.2.3.4"
    assert client_address("10.0.0.2", "1.2.3.4, 10.0.0.7", proxy) == "1.2.3.4"  # two proxies
    assert client_address("10.0.0.2", "nonsense", proxy) == "invalid"
    assert client_address(None, None, proxy) == "unknown"
    with pytest.raises(ValueError, match="not an address"):
        trusted_networks("10.0.0.0/8, caddy")


def test_limits_remember_a_bounded_number_of_visitors():
    limits = RateLimiter(tracked=3)
    for visitor in range(10):
        assert limits.check(("v", visitor), 1, now=0) == 0.0
    assert len(limits._seen) == 3
    assert limits.check(("v", 9), 1, now=1) == pytest.approx(59)
    assert limits.check("tickets", 1, now=0, window=3600) == 0.0
    assert limits.check("tickets", 1, now=60, window=3600) == pytest.approx(3540)
    inflight = InFlight()
    assert [inflight.enter("a", 2, 3) for _ in range(3)] == ["", "", "visitor"]
    assert inflight.enter("b", 2, 3) == "" and inflight.enter("c", 2, 3) == "full"
    inflight.leave("a")
    assert inflight.enter("c", 2, 3) == "" and inflight.total == 3


# -- answer tokens ---------------------------------------------------------------------------------------
@pytest.fixture
def api(seeded_kb_dir, llm, kb):
    return TestClient(create_app(load_settings(), llm=llm, kb=kb))


def test_feedback_suggestions_and_tickets_need_the_answers_token(api, settings):
    store = KeyStore(settings.db_path)
    _, key = store.add("shop", [SHOP], rpm=1000)
    _, other = store.add("other", rpm=1000)
    asked = api.post("/api/v1/support/ask?stream=false", json={"question": FAQ}, headers=auth(key)).json()
    token, qid = asked["answer_token"], asked["question_id"]
    assert len(token) >= 24 and isinstance(qid, int)
    assert token not in settings.db_path.read_bytes().decode("latin-1")  # only its hash is stored
    # Counting through ids changes nothing: the id alone is refused.
    by_id = api.post("/api/v1/support/feedback", json={"question_id": qid, "helpful": False}, headers=auth(key))
    assert by_id.status_code == 422 and "answer_token" in by_id.json()["error"]
    for body, who in [
        ({"answer_token": "guessed", "helpful": False}, key),
        ({"answer_token": token, "helpful": False}, other),  # another key's answer
        ({"answer_token": token, "question_id": qid + 1, "helpful": False}, key),  # a token and another id
    ]:
        assert api.post("/api/v1/support/feedback", json=body, headers=auth(who)).status_code == 404
    assert SupportLog(settings.db_path).questions()[0]["feedback"] is None
    ok = api.post("/api/v1/support/feedback", json={"answer_token": token, "helpful": False}, headers=auth(key))
    assert ok.status_code == 200 and ok.json() == {"question_id": qid, "helpful": False}
    assert SupportLog(settings.db_path).questions()[0]["feedback"] == 0
    # A suggestion click links to its question only by token; an old widget's id alone links nothing.
    old = api.post(
        "/api/v1/support/suggestion", json={"faq_id": "en-002", "asked": FAQ, "question_id": qid}, headers=auth(key)
    )
    assert old.status_code == 200 and SupportLog(settings.db_path).questions()[0]["suggested_from"] is None
    wrong = api.post(
        "/api/v1/support/suggestion", json={"faq_id": "en-002", "asked": FAQ, "answer_token": "x"}, headers=auth(key)
    )
    assert wrong.status_code == 404
    clicked = api.post(
        "/api/v1/support/suggestion", json={"faq_id": "en-002", "asked": FAQ, "answer_token": token}, headers=auth(key)
    ).json()
    assert SupportLog(settings.db_path).questions()[0]["suggested_from"] == qid and clicked["answer_token"] != token
    # A ticket names its question by token; a guessed id is not linked.
    ticket = {"name": "Ann", "contact": "ann@example.com", "question": "help"}
    api.post("/api/v1/support/tickets", json=ticket | {"question_id": qid}, headers=auth(key))
    api.post("/api/v1/support/tickets", json=ticket | {"answer_token": token}, headers=auth(other))
    api.post("/api/v1/support/tickets", json=ticket | {"answer_token": token}, headers=auth(key))
    assert [t["question_id"] for t in SupportLog(settings.db_path).tickets()] == [qid, None, None]


# -- limits per visitor ---------------------------------------------------------------------------------
def test_a_website_key_is_limited_per_visitor_not_only_per_key(seeded_kb_dir, llm, kb, settings, monkeypatch):
    monkeypatch.setenv("APP_API_VISITOR_RPM", "3")
    app = create_app(load_settings(), llm=llm, kb=kb)
    _, public = KeyStore(settings.db_path).add("shop", [SHOP], rpm=1000)
    _, server = KeyStore(settings.db_path).add("backend", rpm=1000)  # no origins: a server's key
    one = TestClient(app, client=("198.51.100.1", 5000))
    two = TestClient(app, client=("198.51.100.2", 5000))
    ask = {"question": FAQ}
    codes = [one.post("/api/v1/support/ask?stream=false", json=ask, headers=auth(public)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = one.post("/api/v1/support/ask?stream=false", json=ask, headers=auth(public))
    assert "one visitor" in refused.json()["error"] and 1 <= int(refused.headers["retry-after"]) <= 60
    assert two.post("/api/v1/support/ask?stream=false", json=ask, headers=auth(public)).status_code == 200
    # One conversation is a visitor too, whatever address it comes from.
    conv = ask | {"conversation_id": "c1"}
    assert [
        TestClient(app, client=(f"198.51.100.{10 + i}", 5000))
        .post("/api/v1/support/ask?stream=false", json=conv, headers=auth(public))
        .status_code
        for i in range(4)
    ] == [200, 200, 200, 429]
    # A server's key (no website origins) has only its own limit.
    assert all(
        one.post("/api/v1/support/ask?stream=false", json=ask, headers=auth(server)).status_code == 200
        for _ in range(5)
    )
    assert len(SupportLog(settings.db_path).questions()) == 3 + 1 + 3 + 5  # the refused ones are not stored


def test_tickets_from_one_visitor_are_limited(api, settings):
    _, key = KeyStore(settings.db_path).add("shop", [SHOP], rpm=1000)
    ticket = {"name": "Ann", "contact": "ann@example.com", "question": "help"}
    codes = [api.post("/api/v1/support/tickets", json=ticket, headers=auth(key)).status_code for _ in range(12)]
    assert codes.count(201) == 10 and codes[-1] == 429


# -- the waiting cap and staff priority, on a real server ---------------------------------------------------
def test_past_the_waiting_cap_questions_are_refused_at_once_and_staff_still_start_at_once(
    seeded_kb_dir, kb, settings, monkeypatch
):
    tier2_env(monkeypatch)
    monkeypatch.setenv("APP_API_MAX_WAITING", "1")
    monkeypatch.setenv("APP_API_VISITOR_ASKS", "1")
    engine = SlowEngine(delay=0.1, slots=1, reserved=1, words=100)
    app = create_app(load_settings(), llm=engine, kb=kb)
    store = KeyStore(settings.db_path)
    _, key = store.add("shop", [SHOP], rpm=1000)
    _, staff = store.add("backend", rpm=1000, scope="all")
    with serve(app) as base:

        def client(n: int) -> httpx.Client:  # visitor n: its own loopback address
            return httpx.Client(transport=httpx.HTTPTransport(local_address=f"127.0.0.{n}"), timeout=30)

        streams = []
        for n in (2, 3):  # one being answered, one waiting: the cap (1 slot + 1 waiting)
            c = client(n)
            r = c.send(
                c.build_request("POST", f"{base}/api/v1/support/ask", json={"question": TIER2}, headers=auth(key)),
                stream=True,
            )
            streams.append((c, r, sse_events(r.iter_lines())))
            assert next(streams[-1][2])[0] == "start"
        assert wait_for(lambda: engine.queue.active == 1 and engine.queue.waiting(PUBLIC) == 1)
        uses = {k.name: k.uses for k in store.list()}["shop"]
        with client(4) as c:
            started = time.perf_counter()
            full = c.post(f"{base}/api/v1/support/ask", json={"question": TIER2}, headers=auth(key, Origin=SHOP))
            took = time.perf_counter() - started
        assert full.status_code == 503 and took < 0.5  # at once (well within 100 ms on an idle machine)
        assert {k.name: k.uses for k in store.list()}["shop"] == uses  # refused before even the key's lookup
        assert int(full.headers["retry-after"]) >= 1 and "try again" in full.json()["error"]
        assert full.headers["access-control-expose-headers"] == "Retry-After"  # the widget can read it
        with client(2) as c:  # the first visitor again, while theirs is being answered
            again = c.post(f"{base}/api/v1/support/ask", json={"question": FAQ}, headers=auth(key))
        assert again.status_code == 429 and "being answered" in again.json()["error"]
        # Staff (the OpenAI-compatible chat with an `all` key) start at once, on their own slot.
        body = {"model": "assistant", "messages": [{"role": "user", "content": "hello"}], "stream": True}
        started = time.perf_counter()
        with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, headers=auth(staff), timeout=30) as r:
            first_token = None
            for line in r.iter_lines():
                if '"content": "' in line and '"content": ""' not in line:
                    first_token = time.perf_counter() - started
                    break
        assert first_token is not None and first_token < 2.0, first_token
        for c, r, _ in streams:
            r.close()
            c.close()
        assert wait_for(lambda: app.state.services.in_flight.total == 0 and engine.queue.active == 0)
        statuses = [q["status"] for q in SupportLog(settings.db_path).questions()]
        assert statuses == ["abandoned", "abandoned"]  # the two cut streams; the refused were never stored


def test_a_flood_from_one_visitor_with_a_key_never_seen_is_refused_before_routing(
    seeded_kb_dir, kb, settings, monkeypatch
):
    """Sent at once, before any is admitted: each refusal is FastRefusal's (its Server-Timing header),
    none waits for a worker thread, and at most the visitor's limit get through."""
    tier2_env(monkeypatch)
    monkeypatch.setenv("APP_API_VISITOR_ASKS", "2")
    monkeypatch.setenv("APP_API_MAX_WAITING", "50")
    engine = SlowEngine(delay=0.05, slots=1, reserved=0, words=40)
    app = create_app(load_settings(), llm=engine, kb=kb)
    _, key = KeyStore(settings.db_path).add("shop", [SHOP], rpm=1000)
    results: list[httpx.Response] = []
    with serve(app) as base:

        def one() -> None:
            with httpx.Client(timeout=60) as c:
                results.append(
                    c.post(f"{base}/api/v1/support/ask?stream=false", json={"question": TIER2}, headers=auth(key))
                )

        threads = [threading.Thread(target=one) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wait_for(lambda: app.state.services.arriving.total == 0)
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) <= 2 and codes.count(429) >= 18, codes
    assert all("refuse;dur=" in r.headers.get("server-timing", "") for r in results if r.status_code == 429)


# -- headers, docs -------------------------------------------------------------------------------------------
def test_security_headers_and_a_content_security_policy_on_the_demo(api):
    demo = api.get("/widget/demo?key=sk-studio-abc")
    policy = demo.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy and "'unsafe-eval'" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in demo.text and demo.headers["x-frame-options"] == "DENY"
    assert demo.headers["referrer-policy"] == "no-referrer"  # the key in its address goes nowhere else
    assert api.get("/widget/demo").headers["content-security-policy"] != policy  # a nonce per page
    for path in ("/widget/demo", "/widget.js", "/api/v1/health", "/nope"):
        assert api.get(path).headers["x-content-type-options"] == "nosniff", path
    assert api.post("/api/v1/support/ask", json={}).headers["x-content-type-options"] == "nosniff"


def test_production_switches_the_api_docs_off(seeded_kb_dir, llm, kb, monkeypatch):
    monkeypatch.setenv("APP_API_DOCS", "off")
    api = TestClient(create_app(load_settings(), llm=llm, kb=kb))
    assert [api.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [404, 404, 404]
    assert api.get("/api/v1/health").status_code == 200


def test_the_demo_page_works_under_its_content_security_policy(seeded_kb_dir, llm, kb, settings):
    from playwright.sync_api import expect, sync_playwright

    from tests.test_browser import require_chromium

    require_chromium()
    app = create_app(load_settings(), llm=llm, kb=kb)
    with serve(app) as base:
        _, key = KeyStore(settings.db_path).add("demo", [base], rpm=1000)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            problems = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/widget/demo")
            expect(page.locator("#setup")).to_be_visible()  # the page's inline script ran (its nonce)
            page.goto(f"{base}/widget/demo?key={key}")
            page.locator("#studio-widget").locator("button.bubble").click()
            widget = page.locator("#studio-widget")
            widget.locator("textarea").first.fill(FAQ)
            widget.locator("textarea").first.press("Enter")
            expect(widget.locator(".msg.bot").last).to_contain_text("€4.95", timeout=60_000)
            widget.locator(".thumbs button").first.click()  # thumbs up, by the answer's token
            expect(widget.locator(".thumbs button.on")).to_have_count(1, timeout=10_000)
            browser.close()
    assert not [m for m in problems if "Content Security Policy" in m], problems
    assert SupportLog(settings.db_path).questions()[0]["feedback"] == 1
