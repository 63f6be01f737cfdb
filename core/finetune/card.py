"""The model card next to every adapter: model_card.json (for programs) and model_card.md (for people)."""

from __future__ import annotations

import json
from pathlib import Path

JSON_NAME, MD_NAME = "model_card.json", "model_card.md"


def read_card(adapter_dir: Path) -> dict | None:
    try:
        return json.loads((Path(adapter_dir) / JSON_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_card(adapter_dir: Path, card: dict) -> None:
    adapter_dir = Path(adapter_dir)
    weights = adapter_dir / "adapter_model.safetensors"
    if weights.is_file():
        card["files"] = {"adapter_model.safetensors": weights.stat().st_size}
    (adapter_dir / JSON_NAME).write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (adapter_dir / MD_NAME).write_text(render_markdown(card), encoding="utf-8")


def human_size(size: int | None) -> str:
    if not size:
        return "—"
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_markdown(card: dict) -> str:
    m, t, h, d, lora = (card.get(k, {}) for k in ("metrics", "training", "hyperparameters", "data", "method"))
    size = card.get("files", {}).get("adapter_model.safetensors")
    lines = [
        f"# Model card: {card.get('name', 'adapter')}",
        "",
        f"A LoRA adapter for **{card.get('base_model')}** ({card.get('base_model_source', '')}), "
        f"created {card.get('created', '')}.",
        "",
        "| | |",
        "|---|---|",
        f"| Method | LoRA r={lora.get('r')}, alpha={lora.get('alpha')}, dropout={lora.get('dropout')}, "
        f"on {', '.join(lora.get('target_modules', []))} ({_fmt(lora.get('trainable_parameters'))} trainable parameters) |",
        f"| Training | {t.get('steps')} of {t.get('planned_steps')} steps"
        + (" (stopped early)" if t.get("stopped") else "")
        + f" in {_fmt(t.get('seconds'))} s ({_fmt(t.get('seconds_per_step'))} s/step) on {t.get('device')} "
        f"{t.get('dtype')}" + (f", {t['threads']} threads" if t.get("threads") else "") + " |",
        f"| Hyper-parameters | epochs {h.get('epochs')}, batch {h.get('batch_size')}, learning rate "
        f"{h.get('learning_rate')} ({h.get('schedule')}, {h.get('optimizer')}), max tokens {h.get('max_tokens')}, "
        f"seed {h.get('seed')}" + (f", max steps {h['max_steps']}" if h.get("max_steps") else "") + " |",
        f"| Data | {d.get('train_examples')} training / {d.get('val_examples')} validation examples; "
        f"sha256 `{str(d.get('sha256', ''))[:16]}…` |",
        f"| Loss | train {_fmt(m.get('train_loss_first'))} → {_fmt(m.get('train_loss_last'))}; validation "
        f"{_fmt(m.get('val_loss_before'))} (base) → {_fmt(m.get('val_loss_after'))} |",
        f"| Size | {human_size(size)} |",
        "",
        "## Data",
        "",
    ]
    lines += [f"- {item}" for item in d.get("inputs", [])]
    lines += [
        "",
        "Examples by kind/language — training: "
        + ", ".join(f"{k} {v}" for k, v in d.get("train", {}).items())
        + "; validation: "
        + ", ".join(f"{k} {v}" for k, v in d.get("val", {}).items())
        + ".",
        "",
    ]
    if d.get("heldout_faq"):
        lines += [
            f"Held-out FAQ entries (never trained on; the answer-quality test set): "
            f"{', '.join(x.split('#')[-1] for x in d['heldout_faq'])}.",
            "",
        ]
    ev = card.get("evaluation")
    if ev:
        lines += [
            "## Evaluation: base model vs this adapter",
            "",
            f"Held-out FAQ questions answered from sources (the customer-service tier-2 prompt), greedy, "
            f"{ev.get('examples', {}).get('faq', '?')} answers and {ev.get('examples', {}).get('no-answer', '?')} "
            "questions whose sources do not answer them.",
            "",
            "| Metric | Base | Adapter |",
            "|---|---|---|",
        ]
        for key, label in METRIC_LABELS.items():
            base, adapter = ev.get("base", {}).get(key), ev.get("adapter", {}).get(key)
            if base is not None or adapter is not None:
                lines.append(f"| {label} | {_fmt(base)} | {_fmt(adapter)} |")
        lines += ["", f"Evaluated in {_fmt(ev.get('seconds'))} s on {ev.get('device')}.", ""]
    v = card.get("versions", {})
    lines += ["## Software", "", ", ".join(f"{k} {val}" for k, val in v.items()), ""]
    if t.get("command"):
        lines += ["## Reproduce", "", "```bash", t["command"], "```", ""]
    return "\n".join(lines)


METRIC_LABELS = {
    "val_loss": "Validation loss",
    "perplexity": "Validation perplexity",
    "rouge_l_en": "ROUGE-L, English (words)",
    "rouge_l_zh": "ROUGE-L, Chinese (characters)",
    "fact_hits_en": "Fact hits, English",
    "fact_hits_zh": "Fact hits, Chinese",
    "answered": "Answered when the sources answer",
    "handed_over": "NO_ANSWER when they do not",
}
