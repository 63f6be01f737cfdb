"""The real packaged model (Qwen2.5-Coder-0.5B-Instruct): loads offline and answers sensibly."""

import re

import pytest

from core.llm import GenerationOptions

pytestmark = pytest.mark.integration
GREEDY = GenerationOptions(max_new_tokens=48, temperature=0)


@pytest.fixture(scope="module")
def real_llm():
    from core.config import PROJECT_ROOT, Settings
    from core.llm import load_llm

    # Module-scoped, so built before the per-test environment: spell the settings out.
    settings = Settings(model="default", adapter="none", models_dir=PROJECT_ROOT / "data" / "runtime" / "models")
    return load_llm(settings, log=print)


def test_real_model_info(real_llm):
    info = real_llm.info
    assert info.model == "Qwen2.5-Coder-0.5B-Instruct"
    assert info.device == "cpu" and info.dtype == "float32"
    assert 400e6 < info.params < 700e6


def test_english_answer(real_llm):
    reply, stats = real_llm.complete(
        [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "What is the capital of France? Answer in one short sentence."}], GREEDY)
    assert "Paris" in reply
    assert stats.new_tokens > 2 and stats.decode_tok_s > 0


def test_chinese_answer(real_llm):
    reply, _ = real_llm.complete(
        [{"role": "system", "content": "你是一个乐于助人的助手。"},
         {"role": "user", "content": "中国的首都是哪座城市？请用一句话回答。"}], GREEDY)
    assert "北京" in reply
    assert re.search(r"[\u4e00-\u9fff]", reply)
