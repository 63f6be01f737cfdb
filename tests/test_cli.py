import json

from core.cli.main import main
from core.config import load_settings


def run(capsys, *argv):
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_model_info_json(capsys):
    code, out = run(capsys, "model", "info", "--json")
    assert code == 0
    assert {"model", "source", "adapter", "device", "dtype", "params"} <= set(out)
    assert out["params"] > 0 and out["device"] == "cpu" and out["adapter"] is None


def test_model_prepare_files_only_caches_the_tokenizer_and_starts_no_engine(capsys, monkeypatch, tiny_gguf):
    """What `make` runs while llama.cpp compiles: no engine is needed, the tokenizer is read once."""
    monkeypatch.setenv("APP_MODEL", str(tiny_gguf))
    monkeypatch.setenv("APP_ENGINE", "llamacpp")
    code, out = run(capsys, "model", "prepare", "--files-only", "--json")
    assert code == 0 and out == {"prepared": str(tiny_gguf)}
    cached = list((load_settings().runtime_models_dir / "tokenizers").glob("*/tokenizer.json"))
    assert len(cached) == 1
    monkeypatch.setenv("APP_MODEL", str(tiny_gguf.parent.parent))  # a folder with neither: a clear error
    assert run(capsys, "model", "prepare", "--files-only", "--json")[0] == 2


def test_chat_json(capsys):
    code, out = run(capsys, "chat", "Hello", "--max-new-tokens", "8", "--json")
    assert code == 0
    assert {"reply", "prompt_tokens", "new_tokens", "ttft_ms", "decode_tok_s", "model", "device"} <= set(out)
    assert 1 <= out["new_tokens"] <= 8


def test_chat_errors_are_json_with_status_2(capsys):
    assert run(capsys, "chat", "  ", "--json") == (2, {"error": "The message is empty"})
    code, out = run(capsys, "chat", "hi", "--persona", "pirate", "--json")
    assert code == 2 and "Unknown persona" in out["error"]


def test_bench_generate_json(capsys):
    code, out = run(capsys, "bench", "generate", "--max-new-tokens", "4", "--json")
    assert code == 0
    assert {"load_s", "ttft_ms", "decode_tok_s", "prompt_tokens", "new_tokens", "peak_rss_mb"} <= set(out)
    assert len(out["runs"]) == 3
