"""Fine-tuning: data builder, tiny-model LoRA training, reload, evaluation metrics, CLI, active adapter."""

import csv
import io
import json
import re
import threading
from pathlib import Path

import pytest
import torch

from core.application import Application
from core.finetune.data import SAMPLE_FAQ, build, cite, collect, strip_citations
from core.finetune.evaluate import fact_hits, facts, rouge_l
from core.finetune.inputs import faq_from_table, read_chat_jsonl, read_upload
from core.support.prompts import GROUNDED, NO_ANSWER

SMALL_FAQ = [
    ("e1", "How long does delivery take?", "Delivery takes 2 to 4 days.", "shipping", "en"),
    ("e2", "How much is shipping?", "Shipping costs €4.95, free from €49.", "shipping", "en"),
    ("e3", "Can I return tea?", "Returns are free within 30 days.", "returns", "en"),
    ("e4", "How can I pay?", "We accept cards and PayPal.", "payment", "en"),
    ("e5", "Do you ship to China?", "Yes, from Hangzhou in 3 days.", "shipping", "en"),
    ("e6", "What is Leaf Club?", "Leaf Club costs €39 a year.", "membership", "en"),
    ("e7", "How do I brew green tea?", "Use 80 °C water for 2 minutes.", "brewing", "en"),
    ("e8", "Do gift cards expire?", "Gift cards never expire.", "gift-cards", "en"),
    ("z1", "多久能收到？", "2 到 4 天送达。", "shipping", "zh"),
    ("z2", "运费多少？", "运费 ¥12，满 ¥199 包邮。", "shipping", "zh"),
    ("z3", "可以退货吗？", "30 天内免费退货。", "returns", "zh"),
    ("z4", "怎么付款？", "支持银行卡和支付宝。", "payment", "zh"),
    ("z5", "寄到香港吗？", "寄，3 到 6 天。", "shipping", "zh"),
    ("z6", "会员多少钱？", "叶友会每年 ¥298。", "membership", "zh"),
    ("z7", "绿茶怎么泡？", "80 度水泡 2 分钟。", "brewing", "zh"),
    ("z8", "礼品卡会过期吗？", "礼品卡永不过期。", "gift-cards", "zh"),
]
FAST = dict(max_steps=6, batch_size=2, learning_rate=2e-2, max_tokens=4000, checkpoint_every=3)


def small_csv() -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "question", "answer", "category", "language"])
    w.writerows(SMALL_FAQ)
    return out.getvalue().encode("utf-8")


def small_data(seed: int = 0):
    return build(faq_from_table("faq.csv", small_csv()), company="Tea Co.", seed=seed)


def tiny_settings(tiny_model_dir, data_dir):
    from core.config import Settings

    return Settings(data_dir=Path(data_dir), model=str(tiny_model_dir), adapter="none", threads=1)


def train_tiny(settings, out, **overrides):
    from core.finetune.train import TrainConfig, train

    return train(settings, small_data(), out, TrainConfig(**(FAST | overrides)), log=lambda *_: None)


@pytest.fixture(scope="session")
def trained_adapter(tiny_model_dir, tmp_path_factory) -> Path:
    """One tiny adapter, trained once, for the tests that only read it."""
    root = tmp_path_factory.mktemp("trained")
    train_tiny(tiny_settings(tiny_model_dir, root / "runtime"), root / "tiny-tune")
    return root / "tiny-tune"


# -- data --------------------------------------------------------------------------------------
def test_sample_faq_becomes_grounded_examples_with_a_fixed_split():
    faq = faq_from_table(SAMPLE_FAQ.name, SAMPLE_FAQ.read_bytes())
    data = build(faq, company="Jade Leaf Tea Co.", seed=0)
    summary = data.summary()
    assert summary["val"]["faq/en"] == 6 and summary["val"]["faq/zh"] == 6  # ~15% of 41 per language
    assert summary["train"]["faq/en"] == 35 and summary["train"]["faq/zh"] == 35
    assert summary["train"]["no-answer/en"] > 0 and summary["val"]["no-answer/zh"] == 6
    held = set(summary["heldout_faq"])
    assert not held & {e.source for e in data.train}  # held-out entries are never trained on
    system = GROUNDED.messages[0].prompt.template.split("{company}")[0]
    for example in data.train + data.val:
        roles = [m["role"] for m in example.messages]
        assert roles == ["system", "user", "assistant"]
        assert example.messages[0]["content"].startswith(system)  # the support page's own prompt
        answer = example.messages[-1]["content"]
        if example.kind == "no-answer":
            assert answer == NO_ANSWER
        else:
            assert "[1]" in answer or "[2]" in answer
            assert example.reference in example.messages[1]["content"]  # the answer is in the sources
    assert build(faq, company="Jade Leaf Tea Co.", seed=0).sha256 == data.sha256
    assert build(faq, company="Jade Leaf Tea Co.", seed=1).sha256 != data.sha256


def test_citations_follow_each_sentence_and_point_at_the_right_source():
    assert cite("Free within 30 days. Label included!", 2, "en") == "Free within 30 days [2]. Label included [2]!"
    assert cite("30 天内免费退货。附退货标签", 1, "zh") == "30 天内免费退货[1]。附退货标签[1]"
    assert cite("Costs €4.95 (EU).", 1, "en") == "Costs €4.95 (EU) [1]."
    assert strip_citations("Free [2]. Label [1]!") == "Free. Label!"
    data = small_data()
    for ex in (e for e in data.train if e.kind == "faq"):
        blocks = re.split(r"\n\n(?=\[\d+\] \()", ex.messages[1]["content"].removeprefix("Sources:\n"))
        n = next(i for i, block in enumerate(blocks, start=1) if ex.reference in block)
        assert f"[{n}]" in ex.messages[-1]["content"]


def test_document_chunks_join_the_sources_and_some_answers_look_like_passages():
    from core.finetune.inputs import docs_from_files

    docs = docs_from_files(sorted(SAMPLE_FAQ.parent.glob("*.md")))
    assert {d.language for d in docs} == {"en", "zh"} and all(" › " in d.text.split("\n")[0] for d in docs[1:4])
    faq = faq_from_table(SAMPLE_FAQ.name, SAMPLE_FAQ.read_bytes())
    data = build(faq, docs=docs, company="Jade Leaf Tea Co.", seed=0)
    users = [e.messages[1]["content"] for e in data.train if e.kind == "faq"]
    with_docs = [u for u in users if "(products" in u or "policy" in u]
    as_passage = [u for u in users if "(help-centre.md) Help centre ›" in u or "(help-centre.md) 帮助中心 ›" in u]
    assert 0.25 < len(with_docs) / len(users) < 0.75 and 0.25 < len(as_passage) / len(users) < 0.75
    negatives = [e.messages[1]["content"] for e in data.train if e.kind == "no-answer"]
    assert any(".md)" in u for u in negatives)
    with pytest.raises(ValueError, match="FAQ table, not a document"):
        docs_from_files([SAMPLE_FAQ])


def test_chat_jsonl_good_rows_and_malformed_rows_named_by_line():
    good = (
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n\n'
        '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "你好"}, '
        '{"role": "assistant", "content": "您好！"}]}\n'.encode()
    )
    rows = read_chat_jsonl("extra.jsonl", good)
    assert [r.source for r in rows] == ["extra.jsonl:1", "extra.jsonl:3"] and rows[1].language == "zh"
    bad = "\n".join(
        [
            '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}',
            '{"messages": [{"role": "user", "content": "Hi"}',
            '{"messages": [{"role": "user", "content": "Hi"}]}',
            '{"messages": [{"role": "bot", "content": "Hi"}, {"role": "assistant", "content": "x"}]}',
            '["not", "an", "object"]',
        ]
    ).encode()
    with pytest.raises(ValueError) as err:
        read_chat_jsonl("extra.jsonl", bad)
    message = str(err.value)
    assert message.startswith("extra.jsonl: 4 malformed row(s)")
    for expected in (
        "line 2: not valid JSON",
        "line 3: the last message must be the assistant's",
        "line 4: message 1 has role 'bot'",
        'line 5: expected an object with a "messages" list',
    ):
        assert expected in message
    with pytest.raises(ValueError, match="not UTF-8"):
        read_chat_jsonl("x.jsonl", b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="use .jsonl"):
        read_upload("notes.pdf", b"%PDF-1.4")


def test_collect_uses_knowledge_base_fallback_brand_voices_and_uploads(settings):
    from core.writer.request import BrandVoice
    from core.writer.store import WriterStore

    WriterStore(settings.db_path).save_voice(
        BrandVoice(
            "Warm",
            "Friendly and calm",
            do=["short sentences"],
            examples=["Tea is a hug in a cup.", "一杯好茶，温暖一整天。"],
        )
    )
    chat = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n'
    data = collect(settings, faq="none", uploads=[("faq.csv", small_csv()), ("more.jsonl", chat)])
    kinds = {e.kind for e in data.train + data.val}
    assert kinds == {"faq", "no-answer", "voice", "extra"}
    voice = next(e for e in data.train if e.kind == "voice" and e.language == "zh")
    assert "Warm" in voice.messages[0]["content"] and voice.messages[-1]["content"] == "一杯好茶，温暖一整天。"
    assert any("brand voices: 1 voice(s), 2 writing sample(s)" in i for i in data.inputs)
    # The knowledge base is empty in tests (APP_SAMPLE_KB=off): the sample FAQ stands in.
    fallback = collect(settings, voices=False, kb=Application(settings).knowledge_base())
    assert fallback.summary()["train"]["faq/en"] == 35 and "knowledge base empty" in fallback.inputs[0]
    with pytest.raises(ValueError, match="No training data"):
        collect(settings, faq="none", voices=False)


def test_prompt_tokens_are_masked_and_the_answer_is_learned(llm):
    from core.finetune.train import encode

    messages = small_data().train[0].messages
    ids, labels = encode(llm.tokenizer, messages)
    assert len(ids) == len(labels)
    learned = [tok for tok, lab in zip(ids, labels, strict=False) if lab != -100]
    text = llm.tokenizer.decode(learned)
    assert text.startswith(messages[-1]["content"]) and "<|im_end|>" in text
    assert labels[: len(ids) - len(learned)] == [-100] * (len(ids) - len(learned))


# -- training ----------------------------------------------------------------------------------
def test_tiny_finetune_lowers_the_loss_and_the_saved_adapter_reproduces_it(settings, tmp_path, monkeypatch):
    from peft import PeftModel

    import core.finetune.train as train_mod
    from core.finetune.train import load_base

    probe = torch.tensor([[5, 17, 42, 99, 7, 3]])
    seen = {}
    real_save = train_mod._save

    def spy(model, folder):  # the trained model's outputs, at the moment it is saved
        was = model.training
        model.eval()
        with torch.no_grad():
            seen["logits"] = model(input_ids=probe).logits.clone()
        model.train(was)
        real_save(model, folder)

    monkeypatch.setattr(train_mod, "_save", spy)
    out = tmp_path / "adapter"
    result = train_tiny(settings, out)
    assert result.steps == 6 and not result.stopped
    assert result.train_loss_last < result.train_loss_first
    assert result.val_loss_after < result.val_loss_before
    for name in (
        "adapter_config.json",
        "adapter_model.safetensors",
        "training_log.json",
        "val.jsonl",
        "model_card.json",
        "model_card.md",
    ):
        assert (out / name).is_file(), name
    assert not (out / "README.md").exists() and not out.with_name("adapter.partial").exists()
    log = json.loads((out / "training_log.json").read_text())
    assert [r["step"] for r in log["steps"]] == list(range(1, 7))
    card = json.loads((out / "model_card.json").read_text())
    assert card["base_model"] == Path(settings.model).name and card["training"]["device"] == "cpu"
    assert card["data"]["sha256"] == small_data().sha256
    assert set(card["versions"]) == {"python", "torch", "transformers", "peft"}
    assert card["metrics"]["val_loss_after"] == result.val_loss_after

    base, _, _ = load_base(settings)
    reloaded = PeftModel.from_pretrained(base, str(out)).eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=probe).logits, seen["logits"], atol=1e-5)


def test_ctrl_c_keeps_the_last_checkpoint(settings, tmp_path):
    from core.finetune.train import TrainConfig, train

    def interrupt(p):
        if p.phase == "train" and p.step == 2:
            raise KeyboardInterrupt

    out = tmp_path / "stopped"
    result = train(settings, small_data(), out, TrainConfig(**FAST), progress=interrupt, log=lambda *_: None)
    assert result.stopped and result.steps == 2 and result.val_loss_after is None
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["stopped"] and card["training"]["steps"] == 2
    assert (out / "adapter_model.safetensors").is_file()

    stop = threading.Event()
    stop.set()
    again = train(
        settings, small_data(), tmp_path / "stopped-early", TrainConfig(**FAST), stop=stop, log=lambda *_: None
    )
    assert again.stopped and again.steps == 0


def test_one_fine_tune_at_a_time(settings, tmp_path):
    from core.finetune.train import TrainingBusy, training_lock

    with training_lock(settings):
        with pytest.raises(TrainingBusy, match="Another fine-tune"):
            train_tiny(settings, tmp_path / "second")
    with pytest.raises(ValueError, match="not an adapter folder"):
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "notes.txt").write_text("keep me")
        train_tiny(settings, tmp_path / "docs")


# -- evaluation --------------------------------------------------------------------------------
def test_rouge_l_and_fact_hits_on_fixed_strings():
    assert rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    assert rouge_l("我们两天内发货", "我们三天内发货") == pytest.approx(6 / 7)  # Chinese: by character
    assert rouge_l("Free returns within 30 days [1].", "Free returns within 30 days.") == 1.0
    assert rouge_l("", "anything") == 0.0 and rouge_l("completely different", "nothing shared") == 0.0
    assert facts("Costs €4.95, free from €1,000; ships at 14:00 in 2–4 days [3].") == [
        "4.95",
        "1000",
        "14:00",
        "2",
        "4",
    ]
    reference = "Standard delivery costs €4.95 and is free on orders of €49 or more; express costs €12.95."
    assert fact_hits("Delivery is €4.95, free from €49 [1].", reference) == (2, 3)
    assert fact_hits("工作日 14:00 前下单当天发货[1]。", "工作日 14:00（仓库当地时间）前下单，当天发货。") == (1, 1)
    assert fact_hits("No numbers here", "None here either") == (0, 0)


def test_evaluate_base_vs_adapter(settings, trained_adapter, tmp_path):
    import shutil

    from core.finetune.evaluate import evaluate_adapter

    adapter = tmp_path / "copy"
    shutil.copytree(trained_adapter, adapter)
    result = evaluate_adapter(settings, adapter, max_new_tokens=6, log=lambda *_: None)
    card = json.loads((adapter / "model_card.json").read_text())
    for who in ("base", "adapter"):
        metrics = result[who]
        assert {"val_loss", "perplexity", "rouge_l_en", "rouge_l_zh", "answered", "handed_over"} <= set(metrics)
    # The same validation loss the trainer measured before and after training.
    assert result["base"]["val_loss"] == pytest.approx(card["metrics"]["val_loss_before"], abs=1e-3)
    assert result["adapter"]["val_loss"] == pytest.approx(card["metrics"]["val_loss_after"], abs=1e-3)
    assert result["examples"] == {"val_loss": 4, "faq": 2, "no-answer": 2}
    assert card["evaluation"]["adapter"] == result["adapter"]
    answers = json.loads((adapter / "eval.json").read_text())["answers"]
    assert {a["kind"] for a in answers} == {"faq", "no-answer"} and all("base" in a and "adapter" in a for a in answers)
    assert "Evaluation: base model vs this adapter" in (adapter / "model_card.md").read_text()


# -- CLI ---------------------------------------------------------------------------------------
def run_cli(capsys, *argv):
    from core.cli.main import main

    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cli_finetune_and_eval_json(capsys, tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_bytes(small_csv())
    out = tmp_path / "cli-adapter"
    code, payload = run_cli(
        capsys,
        "finetune",
        "--out",
        str(out),
        "--faq",
        str(faq),
        "--max-steps",
        "2",
        "--batch-size",
        "2",
        "--max-tokens",
        "4000",
        "--json",
    )
    assert code == 0
    assert set(payload) == {
        "adapter_dir",
        "steps",
        "train_loss_first",
        "train_loss_last",
        "val_loss_before",
        "val_loss_after",
        "seconds",
        "device",
    }
    assert payload["steps"] == 2 and payload["device"] == "cpu" and payload["adapter_dir"] == str(out)
    code, payload = run_cli(
        capsys, "finetune", "eval", "--adapter", str(out), "--limit", "1", "--max-new-tokens", "4", "--json"
    )
    assert code == 0 and {"base", "adapter", "examples", "seconds", "device"} <= set(payload)
    assert payload["examples"]["faq"] == 2  # one per language


def test_cli_finetune_errors(capsys, tmp_path):
    code, payload = run_cli(capsys, "finetune", "--json")
    assert code == 2 and "--out" in payload["error"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n')
    code, payload = run_cli(capsys, "finetune", "--out", str(tmp_path / "x"), "--data", str(bad), "--json")
    assert code == 2 and "bad.jsonl" in payload["error"] and "line 1" in payload["error"]
    code, payload = run_cli(capsys, "finetune", "--out", str(tmp_path / "x"), "--lora-r", "3", "--json")
    assert code == 2 and "--lora-r" in payload["error"]
    code, payload = run_cli(capsys, "finetune", "eval", "--adapter", str(tmp_path), "--json")
    assert code == 2 and "not an adapter folder" in payload["error"]


# -- which adapter the app loads ----------------------------------------------------------------
def test_active_adapter_pointer_and_reload(settings, trained_adapter, monkeypatch):
    import shutil
    from dataclasses import replace

    from core.finetune.adapters import active_choice, delete_adapter, list_adapters, set_active
    from core.llm import load_llm
    from core.llm.adapters import SHIPPED_ADAPTER, resolve_adapter

    auto = replace(settings, adapter="auto")
    shutil.copytree(trained_adapter, auto.adapters_dir / "mine")
    names = [a.name for a in list_adapters(auto)]
    assert "mine" in names
    # The shipped adapter is made for the real model: "auto" never applies it to the tiny one.
    assert resolve_adapter(auto) != SHIPPED_ADAPTER
    set_active(auto, "mine")
    assert (auto.adapters_dir / "active").read_text().strip() == "mine"
    assert resolve_adapter(auto) == auto.adapters_dir / "mine" and active_choice(auto) == "mine"
    llm = load_llm(auto, log=lambda *_: None)
    assert llm.info.adapter.endswith("mine")
    set_active(auto, "none")
    assert resolve_adapter(auto) is None and active_choice(auto) == "none"
    with pytest.raises(ValueError, match="No adapter called"):
        set_active(auto, "missing")
    set_active(auto, "mine")
    delete_adapter(auto, "mine")
    assert not (auto.adapters_dir / "active").exists() and resolve_adapter(auto) != auto.adapters_dir / "mine"
    with pytest.raises(ValueError):
        delete_adapter(auto, "default")


# -- the shipped adapter on the real model -------------------------------------------------------
@pytest.mark.integration
def test_shipped_adapter_loads_by_default_and_keeps_the_support_contract(monkeypatch):
    import re

    from core.config import load_settings
    from core.finetune.evaluate import load_val
    from core.llm import GenerationOptions, load_llm
    from core.llm.adapters import SHIPPED_ADAPTER, resolve_adapter
    from core.support.citations import attach_citations

    monkeypatch.setenv("APP_ADAPTER", "auto")  # the default configuration of a fresh clone
    settings = load_settings()
    assert resolve_adapter(settings) == SHIPPED_ADAPTER
    llm = load_llm(settings, log=lambda *_: None)
    assert llm.info.adapter == "data/adapters/default"
    card = json.loads((SHIPPED_ADAPTER / "model_card.json").read_text())
    assert card["base_model"] == llm.info.model and card["evaluation"]["adapter"]["handed_over"] >= 0.5
    val = load_val(SHIPPED_ADAPTER)  # held-out questions: never trained on
    positive = next(e for e in val if e.kind == "faq" and e.language == "en")
    reply, _ = llm.complete(positive.messages[:-1], GenerationOptions(max_new_tokens=200, temperature=0))
    assert NO_ANSWER not in reply
    # The answer carries the right source's number as the support page shows it: the model's own
    # markers, or (this adapter mostly writes none) those core.support.citations attaches by overlap.
    blocks = re.split(r"\n\n(?=\[\d+\] \()", positive.messages[-2]["content"].removeprefix("Sources:\n"))
    right = next(i for i, block in enumerate(blocks, start=1) if positive.reference in block)
    assert f"[{right}]" in attach_citations(reply, blocks, "en")
    assert fact_hits(reply, positive.reference)[0] >= 1 or rouge_l(reply, positive.reference) > 0.5
    negative = next(e for e in val if e.kind == "no-answer" and e.language == "zh")
    reply, _ = llm.complete(negative.messages[:-1], GenerationOptions(max_new_tokens=24, temperature=0))
    assert NO_ANSWER in reply
