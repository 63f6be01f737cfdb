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
    yield


@pytest.fixture
def settings():
    from core.config import load_settings

    return load_settings()


@pytest.fixture
def llm(settings):
    from core.llm import load_llm

    return load_llm(settings, log=lambda *_: None)
