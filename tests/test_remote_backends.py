"""Beyond one machine, against real servers started here on 127.0.0.1 (no mocks):

- two llama.cpp OpenAI-compatible servers (`llama-server`, built by `make` into .venv/llama.cpp)
  serving the packaged Qwen2.5-Coder-0.5B GGUF: streaming, round-robin, fail-over, cancel, a
  refused key, and the CLI's error once every server is gone;
- a Chroma server (`chroma run`, from chromadb): two processes with separate data folders ingest
  into one store, a third reads both, and sees another's delete.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, load_settings
from core.llm import GenerationOptions, ModelUnavailable, load_llm
from core.llm.models import PACKAGED, assemble_gguf, model_dir
from core.llm.openai_engine import ApproximateTokenizer, RemoteRefused, display_url, parse_base_urls
from tests.servers import free_port, llama_server_command, spawn, wait_until_up

SMALL = PACKAGED["qwen2.5-coder-0.5b"]  # the packaged model these servers run (the smaller one: quick to start)
KEY = "test-key-7f3a"
MODELS_DIR = PROJECT_ROOT / "data" / "runtime" / "models"  # shared with `make run` and the integration tests
GREEDY = GenerationOptions(max_new_tokens=12, temperature=0)
CAPITAL = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "What is the capital of France? One word."},
]


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


class Server:
    """A server process of its own session, with its output in a log file."""

    def __init__(
        self,
        name: str,
        args: list[str],
        ready_url: str,
        log: Path,
        env: dict | None = None,
        headers: dict | None = None,
    ):
        self.name, self.ready_url, self.log, self.headers = name, ready_url, log, headers or {}
        self.proc = spawn(args, log, env, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> None:
        if wait_until_up(self.ready_url, timeout, proc=self.proc, headers=self.headers, interval=0.2):
            return
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"{self.name} did not start (exit {self.proc.returncode}):\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# -- the LLM server -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llama_servers(tmp_path_factory, llama_server_binary):
    """Two llama.cpp servers on the packaged 0.5B GGUF (1 thread each), ready in ~2 s."""
    gguf = assemble_gguf(SMALL, MODELS_DIR)  # a 2 s copy the first time, then cached
    logs = tmp_path_factory.mktemp("llama-logs")
    servers = []
    for name in ("a", "b"):
        port = free_port()
        servers.append(
            Server(
                f"llama.cpp server {name}",
                llama_server_command(llama_server_binary, gguf, "studio-test", port, KEY, context=4096),
                f"http://127.0.0.1:{port}/v1/models",
                logs / f"{name}.log",
                headers={"Authorization": f"Bearer {KEY}"},
            )
        )
        servers[-1].url = f"http://127.0.0.1:{port}/v1"
    for server in servers:
        server.wait_ready()
    yield servers
    for server in servers:
        server.stop()


def remote_settings(urls: list[str], model: str = "studio-test", key: str = KEY):
    return replace(
        load_settings(), engine="openai", openai_base_urls=",".join(urls), openai_model=model, openai_api_key=key
    )


def test_remote_settings_are_parsed_and_the_key_is_never_shown(monkeypatch):
    monkeypatch.setenv("APP_LLM_BACKEND", "openai")
    monkeypatch.setenv(
        "APP_OPENAI_BASE_URLS", "http://user:pw-secret@10.0.0.5:8000/v1?key=q-secret, http://10.0.0.6:8000"
    )
    monkeypatch.setenv("APP_OPENAI_MODEL", "some-model")
    monkeypatch.setenv("APP_OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("APP_CHROMA_HOST", "chroma")
    monkeypatch.setenv("APP_CHROMA_PORT", "8001")
    s = load_settings()
    assert (s.llm_backend, s.openai_model, s.chroma_host, s.chroma_port) == ("openai", "some-model", "chroma", 8001)
    assert parse_base_urls(s.openai_base_urls)[1] == "http://10.0.0.6:8000/v1"  # bare host:port gets /v1
    llm = load_llm(s, log=lambda *_: None)  # connects lazily: nothing listens there, and that is fine
    shown = json.dumps(llm.info.as_dict())
    assert "secret" not in shown and llm.info.device == "remote" and llm.info.model == "some-model"
    assert llm.info.source == "OpenAI-compatible server(s) http://10.0.0.5:8000/v1, http://10.0.0.6:8000/v1"
    assert display_url("https://k:v@h.example:9/v1/") == "https://h.example:9/v1"
    monkeypatch.setenv("APP_CHROMA_PORT", "0")
    with pytest.raises(ValueError, match="APP_CHROMA_PORT"):
        load_settings()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"engine": "vllm"}, "choose one of auto, llamacpp, transformers, openai"),
        ({"openai_base_urls": ""}, "needs APP_OPENAI_BASE_URLS"),
        ({"openai_base_urls": "ftp://x/v1"}, "not an http"),
        ({"openai_model": " "}, "needs APP_OPENAI_MODEL"),
    ],
)
def test_remote_configuration_errors_say_what_to_set(change, message):
    with pytest.raises(ModelUnavailable, match=message):
        load_llm(replace(remote_settings(["http://127.0.0.1:9/v1"]), **change), log=lambda *_: None)


def test_approximate_token_count_trims_history_like_the_local_model():
    tok = ApproximateTokenizer()
    text = "Hello, world! 你好，世界。 Internationalisation costs €4.95\n\n  ok"
    assert tok.decode(tok.encode(text)) == text
    llm = load_llm(remote_settings(["http://127.0.0.1:9/v1"], model="other-model"), log=lambda *_: None)
    assert not llm.exact_tokens
    history = []
    for i in range(40):
        history += [
            {"role": "user", "content": f"Question {i}: " + "tea " * 30},
            {"role": "assistant", "content": "Answer " * 30},
        ]
    fitted = llm.fit([{"role": "system", "content": "Be brief."}, *history, {"role": "user", "content": "Last?"}], 200)
    assert fitted.dropped_messages > 0 and fitted.prompt_tokens <= llm.info.context_tokens - 200
    assert fitted.messages[0]["role"] == "system" and fitted.messages[-1]["content"] == "Last?"
    long = "word " * 5000
    cut = llm.fit([{"role": "user", "content": long}], 200)
    assert cut.truncated_chars > 0 and long.startswith(cut.messages[-1]["content"])


def test_streams_round_robin_and_fails_over(llama_servers):
    a, b = llama_servers
    dead = dead_url()
    llm = load_llm(remote_settings([dead, a.url, b.url]), log=lambda *_: None)
    # Not warmed up: the first request meets the dead server itself and moves on.
    gen = llm.stream(CAPITAL, GREEDY)
    assert not gen.queued and gen.wait_started()
    chunks = list(gen)
    assert "Paris" in gen.text and chunks and gen.served_by == a.url
    assert llm.endpoints[0].down_until > time.monotonic()  # marked down for the cool-down
    s = gen.stats
    assert s.new_tokens >= 1 and s.prompt_tokens > 10 and s.ttft_ms > 0 and s.seconds > 0 and not s.stopped
    # Four requests at once: both live servers take turns, the dead one (marked down) is skipped.
    gens = [llm.stream(CAPITAL, GREEDY) for _ in range(4)]
    assert llm.busy
    replies = [g.result() for g in gens]
    assert all("Paris" in r for r in replies)
    assert {g.served_by for g in gens} == {a.url, b.url}
    assert not llm.busy


def test_streaming_arrives_in_pieces_and_cancel_stops_the_server(llama_servers):
    a, _ = llama_servers
    llm = load_llm(remote_settings([a.url]), log=lambda *_: None)
    llm.warm_up()
    count = [{"role": "user", "content": "Count from 1 to 100, separated by commas."}]
    gen = llm.stream(count, GenerationOptions(max_new_tokens=300, temperature=0))
    got = []
    start = time.perf_counter()
    for chunk in gen:
        got.append(chunk)
        if len(got) == 4:
            gen.cancel()
    assert gen.wait(10) and time.perf_counter() - start < 30
    assert 4 <= len(got) < 40 and gen.stats.stopped and gen.stats.new_tokens == len(got)
    assert gen.text.startswith("1")
    # The server is free again: a whole answer, streamed in several pieces, with a decode speed.
    gen = llm.stream(count, GenerationOptions(max_new_tokens=10, temperature=0))
    pieces = list(gen)
    assert len(pieces) > 3 and gen.stats.decode_tok_s > 0 and not gen.stats.stopped


def test_a_wrong_key_is_refused_clearly(llama_servers):
    a, _ = llama_servers
    llm = load_llm(remote_settings([a.url], key="wrong-key-123"), log=lambda *_: None)
    with pytest.raises(RemoteRefused, match="401.*APP_OPENAI_API_KEY") as err:
        llm.warm_up()
    with pytest.raises(RemoteRefused, match="401") as err2:
        llm.complete(CAPITAL, GREEDY)
    assert "wrong-key-123" not in str(err.value) + str(err2.value)


def test_the_packaged_model_name_counts_tokens_exactly(llama_servers, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.setenv("APP_MODELS_DIR", str(MODELS_DIR))
    a, _ = llama_servers
    llm = load_llm(remote_settings([a.url], model=SMALL.name), log=lambda *_: None)
    assert llm.exact_tokens
    folder = model_dir(SMALL, MODELS_DIR) / "tokenizer"
    ids = AutoTokenizer.from_pretrained(str(folder)).apply_chat_template(
        CAPITAL, add_generation_prompt=True, tokenize=True
    )
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    assert llm.count_tokens(CAPITAL) == len(ids)
    reply, stats = llm.complete(CAPITAL, GREEDY)  # llama.cpp serves its one model under any name
    assert "Paris" in reply and stats.prompt_tokens == len(ids)


def test_a_prefilled_reply_is_continued_not_restarted(llama_servers, monkeypatch):
    monkeypatch.setenv("APP_MODELS_DIR", str(MODELS_DIR))
    a, _ = llama_servers
    count = [{"role": "user", "content": "Count from 1 to 20, separated by commas."}]
    options = GenerationOptions(max_new_tokens=8, temperature=0)
    llm = load_llm(remote_settings([a.url], model=SMALL.name), log=lambda *_: None)
    gen = llm.stream(count, options, prefill="1, 2, 3, 4, 5, 6,")
    assert gen.result().lstrip().startswith("7, 8") and gen.stats.new_tokens >= 4  # via /v1/completions
    # Without the model's own template the chat endpoint is asked to continue (vLLM reads these
    # fields); only the request is checked here.
    approx = load_llm(remote_settings([a.url]), log=lambda *_: None)
    kwargs = approx._request(approx.stream(count, options, prefill="1, 2,"))
    assert kwargs["messages"][-1] == {"role": "assistant", "content": "1, 2,"}
    assert kwargs["extra_body"]["continue_final_message"] and not kwargs["extra_body"]["add_generation_prompt"]


def test_chat_page_streams_from_the_servers(llama_servers, monkeypatch):
    from streamlit.testing.v1 import AppTest

    a, b = llama_servers
    for name, value in {
        "APP_ENGINE": "openai",
        "APP_OPENAI_BASE_URLS": f"{dead_url()},{a.url},{b.url}",
        "APP_OPENAI_MODEL": "studio-test",
        "APP_OPENAI_API_KEY": KEY,
    }.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "chat.py"), default_timeout=60).run()
    assert not at.exception
    at.chat_input[0].set_value("What is the capital of France? One word.").run()
    assert not at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[1].markdown[0].value.strip()
    assert "tokens/s" in at.chat_message[1].caption[0].value


def test_killed_servers_fail_over_then_the_cli_says_so(llama_servers, monkeypatch, capsys):
    """Runs last among the LLM tests: it stops both servers."""
    from core.cli.main import main

    a, b = llama_servers
    env = {
        "APP_LLM_BACKEND": "openai",
        "APP_OPENAI_BASE_URLS": f"{a.url},{b.url}",  # the older setting name
        "APP_OPENAI_MODEL": "studio-test",
        "APP_OPENAI_API_KEY": KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["chat", "What is the capital of France? One word.", "--json", "--max-new-tokens", "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "Paris" in out["reply"] and out["device"] == "remote" and out["new_tokens"] >= 1
    llm = load_llm(remote_settings([a.url, b.url]), log=lambda *_: None)
    a.stop()  # a real server going away, not a port that never listened
    for _ in range(2):
        gen = llm.stream(CAPITAL, GREEDY)
        assert "Paris" in gen.result() and gen.served_by == b.url
    b.stop()
    with pytest.raises(ModelUnavailable, match="No model server answered"):
        llm.complete(CAPITAL, GREEDY)
    # The command line in a process of its own: one JSON error line, exit status 2, no traceback.
    failed = subprocess.run(
        [sys.executable, "-m", "core", "chat", "Hello", "--json"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    error = json.loads(failed.stdout)["error"]
    assert error.startswith("No model server answered") and a.url in error and b.url in error
    assert KEY not in failed.stdout + failed.stderr


# -- the Chroma server --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the `chroma` command comes with chromadb (requirements.txt)"
    port = free_port()
    root = tmp_path_factory.mktemp("chroma-server")
    server = Server(
        "chroma server",
        [chroma, "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/api/v2/heartbeat",
        root / "chroma.log",
    )
    server.port = port
    server.wait_ready(timeout=60)
    yield server
    server.stop()


SHIPPING_CSV = (
    "id,question,answer\ns1,How long does delivery to Germany take?,Three to five working days.\n"
    "s2,Do you ship to Norway?,Yes: from our Rotterdam warehouse.\n"
)
RETURNS_CSV = (
    "id,question,answer\nr1,Can I return opened tea?,Only unopened tea can be returned.\n"
    "r2,How long do I have to return an order?,Thirty days from delivery.\n"
)


def test_two_processes_share_one_chroma_server(chroma_server, tmp_path):
    from core.kb.store import KnowledgeBase

    port = chroma_server.port
    files = {name: tmp_path / name for name in ("shipping.csv", "returns.csv")}
    files["shipping.csv"].write_text(SHIPPING_CSV, encoding="utf-8")
    files["returns.csv"].write_text(RETURNS_CSV, encoding="utf-8")
    # Two app processes as if on two hosts (separate data folders, so no shared lock file) write
    # at the same time: the CLI in a process of its own, and this one.
    env = {
        **os.environ,
        "APP_DATA_DIR": str(tmp_path / "host0"),
        "APP_CHROMA_HOST": "127.0.0.1",
        "APP_CHROMA_PORT": str(port),
        "APP_KB_NAME": "shared",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "kb", "ingest", str(files["shipping.csv"]), "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    here = KnowledgeBase(tmp_path / "host1", "shared", chroma_host="127.0.0.1", chroma_port=port)
    assert here.ingest_path(files["returns.csv"]).added == 4  # 2 entries × (question, question + answer)
    rounds = 0
    while proc.poll() is None and rounds < 500:  # keep writing while the other process runs
        here.ingest_bytes("churn.csv", f"id,question,answer\nc1,Churn {rounds}?,Answer {rounds}.\n".encode())
        rounds += 1
        time.sleep(0.2)  # leave the other process CPU to start (2-core CI)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert json.loads(out)["ingested"][0]["added"] == 4
    print(f"{rounds} concurrent writes")
    assert rounds > 3 and here.delete_source("churn.csv") == 2
    # A third client with its own folder sees both; a fourth's delete reaches it (the version
    # marker is kept in the server, so its BM25 index is rebuilt).
    reader = KnowledgeBase(tmp_path / "host2", "shared", chroma_host="127.0.0.1", chroma_port=port)
    assert reader.server == f"127.0.0.1:{port}" and reader.count() == 8
    assert [s["source"] for s in reader.sources()] == ["returns.csv", "shipping.csv"]
    assert reader.search("Do you deliver to Norway?", k=1)[0].answer == "Yes: from our Rotterdam warehouse."
    assert reader.search("return period", k=1, mode="bm25")[0].source == "returns.csv"
    writer = KnowledgeBase(tmp_path / "host3", "shared", chroma_host="127.0.0.1", chroma_port=port)
    assert writer.delete_source("returns.csv") == 4
    assert {h.source for h in reader.search("return period", k=5, mode="bm25")} <= {"shipping.csv"}
    assert {h.source for h in reader.search("How long do I have to return an order?", k=5)} == {"shipping.csv"}
    # Collections made over HTTP keep our embedding function: a fresh client queries by text with
    # it (Chroma's default function would try to download a model, and there is no internet).
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection("shared-minilm")
    assert collection.configuration_json["embedding_function"]["name"] == "studio-all-minilm-l6-v2"
    assert collection.query(query_texts=["delivery to Germany"], n_results=1)["metadatas"][0][0]["faq_id"] == "s1"
    assert not (tmp_path / "host2" / "chroma").exists()  # nothing embedded: the store is the server


def test_an_unreachable_chroma_server_is_a_clear_error(tmp_path):
    from core.kb.records import KBUnavailable
    from core.kb.store import KnowledgeBase

    port = free_port()
    with pytest.raises(KBUnavailable, match=f"Chroma server at 127.0.0.1:{port}.*APP_CHROMA_HOST"):
        KnowledgeBase(tmp_path / "kb", "shared", chroma_host="127.0.0.1", chroma_port=port)
