"""The real packaged default model (Qwen2.5-Coder-1.5B-Instruct) on the llama.cpp engine: loads
offline, answers sensibly, and a second chat turn reuses the cached prompt."""

import re

import pytest

from core.llm import GenerationOptions

pytestmark = pytest.mark.integration
GREEDY = GenerationOptions(max_new_tokens=48, temperature=0)


@pytest.fixture(scope="module")
def real_llm(llama_server_binary, tmp_path_factory):
    from core.config import PROJECT_ROOT, Settings
    from core.llm import load_llm

    # Module-scoped, so built before the per-test environment: spell the settings out.
    settings = Settings(
        model="default",
        adapter="none",
        engine="llamacpp",
        data_dir=tmp_path_factory.mktemp("rt"),
        models_dir=PROJECT_ROOT / "data" / "runtime" / "models",
    )
    llm = load_llm(settings, log=print)
    llm.warm_up()
    yield llm
    llm.close()


def test_real_model_info(real_llm):
    info = real_llm.info
    assert info.model == "Qwen2.5-Coder-1.5B-Instruct" and info.engine == "llamacpp"
    assert info.device == "cpu" and info.dtype == "Q4_K_M" and info.parallel >= 1
    assert 1.4e9 < info.params < 1.9e9


def test_second_turn_reuses_the_cached_prompt(real_llm):
    system = {"role": "system", "content": "You are a helpful assistant. " * 20}
    first = [system, {"role": "user", "content": "Name one green tea."}]
    reply, stats = real_llm.complete(first, GREEDY)
    follow = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "And one black tea?"}]
    _, again = real_llm.complete(follow, GREEDY)
    assert again.cached_tokens >= stats.prompt_tokens - 2  # the first turn is not read again


def ask(llm, system: str, question: str):
    """One greedy turn: (reply, stats)."""
    return llm.complete([{"role": "system", "content": system}, {"role": "user", "content": question}], GREEDY)


def test_english_answer(real_llm):
    reply, stats = ask(
        real_llm, "You are a helpful assistant.", "What is the capital of France? Answer in one short sentence."
    )
    assert "Paris" in reply
    assert stats.new_tokens > 2 and stats.decode_tok_s > 0


def test_chinese_answer(real_llm):
    reply, _ = ask(real_llm, "你是一个乐于助人的助手。", "中国的首都是哪座城市？请用一句话回答。")
    assert "北京" in reply
    assert re.search(r"[\u4e00-\u9fff]", reply)
