"""Is the adapter better than the base model? Numbers, on data it never trained on.

For the validation examples saved with the adapter (`val.jsonl`: held-out FAQ entries, each asked
once with sources that answer it and once with sources that do not):

- validation loss and perplexity on the answers, base vs adapter (same model, adapter switched off);
- answer quality: greedy answers with the customer-service tier-2 prompt and decoding options,
  scored against the curated answer with ROUGE-L (English by words, Chinese by characters;
  citations removed) and *fact hits* — the share of the curated answer's numbers (prices,
  durations, times, percentages) that appear in the generated one;
- the hand-over contract: how often each model answers when the sources answer the question and
  says NO_ANSWER when they do not.

ROUGE-L is implemented here (longest common subsequence, F1), no package needed.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import warnings
from pathlib import Path

from core.config import Settings
from core.finetune.card import read_card, write_card
from core.finetune.data import strip_citations
from core.finetune.inputs import Example

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


# -- metrics on strings -------------------------------------------------------------------------
def rouge_tokens(text: str) -> list[str]:
    """Chinese characters one by one, other text as lower-case words; citations like [1] dropped."""
    text = strip_citations(text).lower()
    return re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+", text)


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (Lin 2004, β = 1): 2PR / (P + R) with P, R from the longest common subsequence."""
    cand, ref = rouge_tokens(candidate), rouge_tokens(reference)
    if not cand or not ref:
        return 0.0
    lcs = _lcs(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def facts(text: str) -> list[str]:
    """The numbers in a text (4.95, 14:00, 30, 1,000 → 1000), each once, in order."""
    seen = []
    for match in NUMBER.findall(strip_citations(text)):
        value = re.sub(r",(?=\d{3}\b)", "", match)
        if value not in seen:
            seen.append(value)
    return seen


def fact_hits(candidate: str, reference: str) -> tuple[int, int]:
    """(how many of the reference's numbers the candidate contains, how many the reference has)."""
    wanted, got = facts(reference), set(facts(candidate))
    return sum(1 for f in wanted if f in got), len(wanted)


# -- evaluation run -----------------------------------------------------------------------------
def load_val(adapter_dir: Path) -> list[Example]:
    path = Path(adapter_dir) / "val.jsonl"
    if not path.is_file():
        raise ValueError(f"{adapter_dir} has no val.jsonl: it was not made by `python -m core finetune`")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(**row) for row in rows]


def _question(example: Example) -> str:
    user = next(m["content"] for m in example.messages if m["role"] == "user")
    return user.rsplit("Customer question:", 1)[-1].strip()


def _generate(model, tokenizer, messages: list[dict], max_new_tokens: int, eos: list[int]) -> str:
    import torch  # torch: loaded only where the model runs in this process (fine-tuning, transformers engine)

    from core.finetune.train_model import chat_ids

    ids = torch.tensor([chat_ids(tokenizer, messages, True)], device=model.device)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            repetition_penalty=1.05,  # as core.support.policy generates tier-2 answers
            eos_token_id=eos,
            pad_token_id=tokenizer.pad_token_id or eos[0],
            stop_strings=["NO_ANSWER"],
            tokenizer=tokenizer,
        )
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


def score(rows: list[dict], who: str) -> dict:
    """Aggregate metrics for one model ("base" or "adapter") over per-example rows."""
    # chromadb (through the knowledge base): loaded only where answers are built
    from core.support.policy import NO_ANSWER

    out = {}
    positives = [r for r in rows if r["kind"] == "faq"]
    negatives = [r for r in rows if r["kind"] == "no-answer"]
    for lang in ("en", "zh"):
        mine = [r for r in positives if r["language"] == lang]
        if mine:
            out[f"rouge_l_{lang}"] = round(sum(r[f"rouge_{who}"] for r in mine) / len(mine), 4)
            hits = sum(r[f"facts_{who}"][0] for r in mine)
            total = sum(r[f"facts_{who}"][1] for r in mine)
            out[f"fact_hits_{lang}"] = round(hits / total, 4) if total else None
    if positives:
        out["answered"] = round(sum(1 for r in positives if r[who] and NO_ANSWER not in r[who]) / len(positives), 4)
    if negatives:
        out["handed_over"] = round(sum(1 for r in negatives if not r[who] or NO_ANSWER in r[who]) / len(negatives), 4)
    return out


def evaluate_adapter(
    settings: Settings,
    adapter_dir: Path,
    *,
    max_new_tokens: int = 300,
    limit: int | None = None,
    progress=None,
    stop: threading.Event | None = None,
    save: bool = True,
    log=print,
) -> dict:
    """Base vs adapter on the adapter's held-out validation set. `limit`: at most this many
    examples per kind and language (quick checks). Saves eval.json and updates the model card."""
    # torch: loaded only where the model runs in this process (fine-tuning, transformers engine)
    import torch

    # torch: loaded only when a fine-tune or evaluation runs
    from core.finetune.train_model import encode_all, mean_loss

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ValueError(f"{adapter_dir} is not an adapter folder (no adapter_config.json)")
    card = read_card(adapter_dir) or {}
    examples = _limited(load_val(adapter_dir), limit)
    started = time.perf_counter()
    stop = stop or threading.Event()
    model, tokenizer, device = _load_with_adapter(settings, adapter_dir, log)
    max_tokens = card.get("hyperparameters", {}).get("max_tokens", 32768)
    items, _ = encode_all(tokenizer, examples, max_tokens)

    def report(phase, step, total):
        if progress:
            progress(phase, step, total)

    with model.disable_adapter():
        loss_base = mean_loss(model, items, device, lambda i, n: report("val_loss", i, 2 * n))
    loss_adapter = mean_loss(model, items, device, lambda i, n: report("val_loss", len(items) + i, 2 * len(items)))
    rows = _answers(model, tokenizer, examples, max_new_tokens, stop, report)

    def metrics(who, loss):
        m = {"val_loss": loss, "perplexity": round(math.exp(loss), 3) if loss is not None else None}
        return m | score(rows, who)

    result = {
        "adapter_dir": str(adapter_dir),
        "examples": {
            "val_loss": len(items),
            "faq": sum(1 for r in rows if r["kind"] == "faq"),
            "no-answer": sum(1 for r in rows if r["kind"] == "no-answer"),
        },
        "base": metrics("base", loss_base),
        "adapter": metrics("adapter", loss_adapter),
        "max_new_tokens": max_new_tokens,
        "seconds": round(time.perf_counter() - started, 1),
        "device": device,
    }
    if save:
        _save_evaluation(adapter_dir, card, result, rows, limit)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def _limited(examples: list[Example], limit: int | None) -> list[Example]:
    """At most `limit` examples of each kind and language, in their order; all of them without a limit."""
    if not limit:
        return examples
    kept: list = []
    counts: dict[tuple[str, str], int] = {}
    for e in examples:
        key = (e.kind, e.language)
        if counts.get(key, 0) < limit:
            counts[key] = counts.get(key, 0) + 1
            kept.append(e)
    return kept


def _load_with_adapter(settings: Settings, adapter_dir: Path, log):
    """(model, tokenizer, device): the base model with the adapter on top, in eval mode; the
    adapter can be switched off with `model.disable_adapter()`."""
    # peft: loaded only for fine-tuning and adapters
    from peft import PeftModel

    # torch: loaded only when a fine-tune or evaluation runs
    from core.finetune.train_model import load_base

    model, tokenizer, base = load_base(settings, log=log)
    with warnings.catch_warnings():  # peft calls a transformers API that is deprecated in 5.x
        warnings.simplefilter("ignore", FutureWarning)
        model = PeftModel.from_pretrained(model, str(adapter_dir))
    model.eval()
    return model, tokenizer, base["device"]


def _answers(model, tokenizer, examples: list[Example], max_new_tokens: int, stop: threading.Event, report) -> list:
    """A greedy answer from the base model and from the adapter to every FAQ and no-answer example,
    scored; KeyboardInterrupt when `stop` is set."""
    # torch: loaded only when the transformers engine runs
    from core.llm.transformers_engine import eos_token_ids

    eos = eos_token_ids(model, tokenizer)
    answers = [e for e in examples if e.kind in ("faq", "no-answer")]
    rows = []
    for i, example in enumerate(answers):
        if stop.is_set():
            raise KeyboardInterrupt
        prompt = example.messages[:-1]
        with model.disable_adapter():
            base_text = _generate(model, tokenizer, prompt, max_new_tokens, eos)
        report("generate", 2 * i + 1, 2 * len(answers))
        adapter_text = _generate(model, tokenizer, prompt, max_new_tokens, eos)
        report("generate", 2 * i + 2, 2 * len(answers))
        rows.append(_answer_row(example, base_text, adapter_text))
    return rows


def _answer_row(example: Example, base_text: str, adapter_text: str) -> dict:
    """One example's row of eval.json: the question, both answers and, for an FAQ, their scores."""
    row = {
        "source": example.source,
        "kind": example.kind,
        "language": example.language,
        "question": _question(example),
        "reference": example.reference or example.messages[-1]["content"],
        "base": base_text,
        "adapter": adapter_text,
    }
    if example.kind == "faq":
        for who, text in (("base", base_text), ("adapter", adapter_text)):
            row[f"rouge_{who}"] = round(rouge_l(text, example.reference), 4)
            row[f"facts_{who}"] = list(fact_hits(text, example.reference))
    return row


def _save_evaluation(adapter_dir: Path, card: dict, result: dict, rows: list, limit: int | None) -> None:
    """eval.json (the result and every answer) beside the adapter, and the result in its model card."""
    (adapter_dir / "eval.json").write_text(
        json.dumps(result | {"answers": rows}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if card:
        card["evaluation"] = {k: v for k, v in result.items() if k != "adapter_dir"} | {"limit": limit}
        write_card(adapter_dir, card)
