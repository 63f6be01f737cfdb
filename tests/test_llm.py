import threading

import pytest

from core.llm import GenerationOptions, ModelUnavailable, load_llm
from core.llm.adapters import resolve_adapter

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
GREEDY = GenerationOptions(max_new_tokens=12, temperature=0)


def ask(text):
    return [SYSTEM, {"role": "user", "content": text}]


def test_stream_yields_text_and_stats(llm):
    gen = llm.stream(ask("hello"), GREEDY)
    chunks = list(gen)
    assert "".join(chunks) == gen.text
    s = gen.stats
    assert s.prompt_tokens == llm.count_tokens(ask("hello"))
    assert 1 <= s.new_tokens <= 12
    assert s.ttft_ms > 0 and s.seconds > 0 and not s.stopped


def test_a_prefill_starts_the_reply_and_only_the_rest_is_streamed(llm):
    prefill = "Sure, here it is:"
    rendered = llm.tokenizer.decode(llm.encode(ask("hello"), prefill))
    assert rendered.endswith(prefill) and not rendered.endswith(prefill + "<|im_end|>")
    gen = llm.stream(ask("hello"), GREEDY, prefill=prefill)
    gen.result()
    assert gen.stats.prompt_tokens == llm.count_tokens(ask("hello"), prefill) > llm.count_tokens(ask("hello"))
    assert not gen.text.startswith(prefill) and 1 <= gen.stats.new_tokens <= 12


def test_greedy_is_deterministic_and_sampling_seeded(llm):
    assert llm.complete(ask("hi"), GREEDY)[0] == llm.complete(ask("hi"), GREEDY)[0]
    sampled = GenerationOptions(max_new_tokens=12, temperature=1.0, top_p=0.9, seed=7)
    assert llm.complete(ask("hi"), sampled)[0] == llm.complete(ask("hi"), sampled)[0]


def test_cancel_stops_early_and_frees_the_model(llm):
    gen = llm.stream(ask("hello"), GenerationOptions(max_new_tokens=500, temperature=1.0, seed=1))
    for _ in gen:
        gen.cancel()
    assert gen.wait(5)
    assert gen.stats.stopped and gen.stats.new_tokens < 500
    assert not llm.busy
    assert llm.complete(ask("again"), GREEDY)[0] is not None


def test_abandoned_stream_is_cancelled(llm):
    gen = llm.stream(ask("hello"), GenerationOptions(max_new_tokens=500, temperature=1.0, seed=1))
    it = iter(gen)
    next(it)
    it.close()  # what happens when Streamlit interrupts write_stream
    assert gen.wait(5) and gen.stats.stopped


def test_two_concurrent_generations_complete_without_interleaving(llm):
    expected = {q: llm.complete(ask(q), GREEDY)[0] for q in ("first question", "第二个问题")}
    results, queued = {}, {}

    def run(q):
        gen = llm.stream(ask(q), GREEDY)
        queued[q] = gen.queued
        results[q] = gen.result()

    threads = [threading.Thread(target=run, args=(q,)) for q in expected]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert results == expected


def test_requests_are_served_in_arrival_order(llm):
    slow = GenerationOptions(max_new_tokens=40, temperature=1.0, seed=3)
    order = []
    first = llm.stream(ask("one"), slow)
    assert first.wait_started(5)
    waiting = [llm.stream(ask(f"q{i}"), GREEDY) for i in range(3)]
    assert all(g.queued for g in waiting)
    assert [g.waiting_ahead for g in waiting] == [1, 2, 3]

    def consume(i, g):
        g.result()
        order.append(i)

    threads = [threading.Thread(target=consume, args=(i, g)) for i, g in enumerate(waiting)]
    for th in threads:
        th.start()
    first.result()
    for th in threads:
        th.join(30)
    assert order == [0, 1, 2]


def test_cancel_while_queued_skips_the_request(llm):
    first = llm.stream(ask("one"), GenerationOptions(max_new_tokens=30, temperature=1.0, seed=3))
    queued = llm.stream(ask("two"), GREEDY)
    queued.cancel()
    after = llm.stream(ask("three"), GREEDY)
    first.result()
    assert queued.wait(5) and queued.stats.stopped and queued.text == ""
    assert after.result() is not None and not after.stats.stopped


def test_history_is_trimmed_oldest_first(llm):
    turn = "word " * 20
    history = [SYSTEM]
    for i in range(10):
        history += [{"role": "user", "content": f"{i} {turn}"}, {"role": "assistant", "content": turn}]
    history.append({"role": "user", "content": "last question"})
    fitted = llm.fit(history, max_new_tokens=100)
    assert fitted.prompt_tokens <= llm.info.context_tokens - 100
    assert fitted.messages[0] == SYSTEM and fitted.messages[-1]["content"] == "last question"
    assert len(fitted.messages) > 4  # recent turns kept
    assert fitted.dropped_messages > 0 and fitted.dropped_messages % 2 == 0
    assert fitted.messages[1]["role"] == "user"
    kept_first = fitted.messages[1]["content"].split()[0]
    assert int(kept_first) == fitted.dropped_messages // 2


def test_huge_message_is_cut_with_notice_not_crash(llm):
    huge = "这是一个很长的问题。" * 10_000  # 100k characters
    gen = llm.stream(ask(huge), GenerationOptions(max_new_tokens=8, temperature=0))
    gen.result()
    assert gen.stats.truncated_chars > 90_000
    assert gen.stats.prompt_tokens <= llm.info.context_tokens - 8


def test_bad_options_are_refused_clearly(llm):
    with pytest.raises(ValueError, match="temperature"):
        llm.stream(ask("x"), GenerationOptions(temperature=5))
    with pytest.raises(ValueError, match="user message"):
        llm.stream([SYSTEM], GREEDY)
    with pytest.raises(ValueError, match="no room"):
        llm.stream(ask("x"), GenerationOptions(max_new_tokens=1020))


def test_model_info(llm, tiny_model_dir):
    info = llm.info
    assert info.device == "cpu" and info.dtype == "float32"
    assert info.params > 0 and info.adapter is None and info.source.startswith("local folder")


def test_lora_adapter_is_applied(tmp_path, monkeypatch, settings):
    from peft import LoraConfig, get_peft_model

    base = load_llm(settings, log=lambda *_: None)
    peft_model = get_peft_model(
        base.model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    monkeypatch.setenv("APP_ADAPTER", str(adapter_dir))
    from core.config import load_settings

    tuned = load_llm(load_settings(), log=lambda *_: None)
    assert tuned.info.adapter.endswith("adapter")
    fresh = load_llm(settings, log=lambda *_: None)
    assert tuned.complete(ask("hello"), GREEDY)[0] != fresh.complete(ask("hello"), GREEDY)[0]


def test_missing_adapter_folder_is_a_clear_error(monkeypatch, tmp_path):
    from core.config import load_settings

    monkeypatch.setenv("APP_ADAPTER", str(tmp_path / "nope"))
    with pytest.raises(ModelUnavailable, match="not a LoRA adapter folder"):
        resolve_adapter(load_settings())


def test_auto_adapter_prefers_runtime_active(monkeypatch, tmp_path):
    from core.config import load_settings

    monkeypatch.setenv("APP_ADAPTER", "auto")
    settings = load_settings()
    active = settings.adapters_dir / "active"
    active.mkdir(parents=True)
    (active / "adapter_config.json").write_text("{}")
    assert resolve_adapter(settings) != active  # no weights: a half-copied folder is never loaded
    (active / "adapter_model.safetensors").write_bytes(b"")
    assert resolve_adapter(settings) == active
