import os
from pathlib import Path

import pytest

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
    if "integration" not in request.keywords:
        monkeypatch.setenv("APP_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("APP_ADAPTER", "none")
    monkeypatch.setenv("APP_CONTEXT_TOKENS", "1024")
    yield


@pytest.fixture
def settings():
    from core.config import load_settings

    return load_settings()


@pytest.fixture
def llm(settings):
    from core.llm import load_llm

    return load_llm(settings, log=lambda *_: None)
