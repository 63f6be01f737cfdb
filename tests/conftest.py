import os
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from tests.tiny_model import build_tiny_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def isolated_app(tmp_path, monkeypatch, tiny_model_dir, request):
    """Every test gets its own data dir and, unless marked integration, the tiny model."""
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "runtime"))
    if "integration" in request.keywords:
        # The real model: reuse the checkpoint cache that `make run` builds (built here if absent).
        monkeypatch.setenv("APP_MODEL", "default")
        monkeypatch.setenv("APP_MODELS_DIR", str(PROJECT_ROOT / "data" / "runtime" / "models"))
    else:
        monkeypatch.setenv("APP_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("APP_ADAPTER", "none")
    monkeypatch.setenv("APP_CONTEXT_TOKENS", "1024")
    monkeypatch.setenv("APP_SAMPLE_KB", "off")
    yield


@pytest.fixture(scope="session")
def llama_server_binary():
    """llama.cpp's server as `make test` builds it; CI must have it, elsewhere the tests skip."""
    from core.config import load_settings
    from core.llm.llamacpp_build import server_binary

    binary = server_binary(load_settings())
    if not binary.is_file():
        message = f"llama.cpp's server is not built ({binary}): run `make test` or `python -m core engine build`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def tiny_gguf(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model as a GGUF file, in a folder of its own (never beside a transformers folder)."""
    from tests.tiny_model import write_gguf

    return write_gguf(tiny_model_dir, tmp_path_factory.mktemp("tiny-gguf") / "tiny.gguf")


@pytest.fixture
def settings():
    from core.config import load_settings

    return load_settings()


@pytest.fixture
def llm(settings):
    from core.llm import load_llm

    return load_llm(settings, log=lambda *_: None)


@pytest.fixture(scope="session")
def kb_seed(tmp_path_factory):
    """A small knowledge base built once: 12 sample FAQ entries per language and one policy."""
    import csv
    import io

    from core.kb.store import SAMPLE_DIR, KnowledgeBase

    root = tmp_path_factory.mktemp("kb-seed")
    rows = list(csv.DictReader(io.StringIO((SAMPLE_DIR / "faq.csv").read_text(encoding="utf-8"))))
    keep = [r for r in rows if int(r["id"].split("-")[1]) <= 12]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(keep)
    kb = KnowledgeBase(root / "kb", "default")
    kb.ingest_bytes("faq.csv", out.getvalue().encode("utf-8"))
    kb.ingest_path(SAMPLE_DIR / "returns-policy.md")
    return root / "kb"


@pytest.fixture
def seeded_kb_dir(kb_seed, settings):
    """Copy the seed knowledge base into this test's data dir."""
    import shutil

    shutil.copytree(kb_seed, settings.kb_dir)
    return settings.kb_dir
