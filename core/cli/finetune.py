"""`python -m core finetune ...`: LoRA fine-tuning of the default model and its evaluation.

python -m core finetune --out DIR [--faq kb|none|FILE] [--docs FILE...] [--data FILE...] [--no-voices]
    [--epochs E] [--lora-r R] [--max-steps S] [--lr LR] [--batch-size B] [--seed 0] [--json]
python -m core finetune eval --adapter DIR [--limit N] [--json]
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tqdm import tqdm

from core.cli.common import add_command, audit, knowledge_base, print_result, progress_log
from core.finetune.card import METRIC_LABELS


def cmd_finetune(args, settings):
    # torch and chromadb: loaded by the fine-tuning commands only
    from core.finetune.data import collect
    from core.finetune.train import TrainConfig, train

    if not args.out:
        raise ValueError("--out DIR is required (the folder to write the adapter to)")
    targets = tuple(t.strip() for t in args.target_modules.split(",") if t.strip())
    config = TrainConfig(
        epochs=args.epochs,
        max_steps=args.max_steps,
        lora_r=args.lora_r,
        seed=args.seed,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        max_tokens=args.max_tokens,
        target_modules=targets,
    ).validate()
    data = collect(
        settings,
        faq=args.faq,
        data_files=[Path(p) for p in args.data],
        voices=not args.no_voices,
        seed=args.seed,
        kb=knowledge_base(args, settings) if args.faq == "kb" else None,
        doc_files=[Path(p) for p in args.docs],
    )
    log = progress_log(args)
    summary = data.summary()
    log(
        f"Data: {summary['train_examples']} training, {summary['val_examples']} validation examples "
        f"(sha256 {summary['sha256'][:12]}…)"
    )
    command = (
        "python -m core " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["finetune"] else None
    )
    out = Path(args.out).expanduser()
    audit(
        settings,
        "finetune.start",
        str(out),
        {
            "train_examples": summary["train_examples"],
            "val_examples": summary["val_examples"],
            "epochs": args.epochs,
            "lora_r": args.lora_r,
            "max_steps": args.max_steps,
        },
    )
    try:
        result = train(settings, data, out, config, bar=not args.json, log=log, command=command)
    except KeyboardInterrupt:  # during loading or the first validation pass; later ones are handled in train
        raise ValueError("Stopped before the first training step; nothing was saved") from None
    payload = result.as_json()
    text = (
        f"{'Stopped' if result.stopped else 'Done'}: {result.steps} steps in {result.seconds:.0f} s on "
        f"{result.device}; train loss {result.train_loss_first} → {result.train_loss_last}, validation loss "
        f"{result.val_loss_before} → {result.val_loss_after}\nAdapter: {result.adapter_dir}"
    )
    print_result(args, payload, text)


def cmd_finetune_eval(args, settings):
    from core.finetune.evaluate import evaluate_adapter  # torch: loaded by the fine-tuning commands only

    adapter = Path(args.adapter).expanduser()
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    log = progress_log(args)
    bar = None
    if not args.json:
        bar = tqdm(total=1, desc="evaluate", file=sys.stderr)

    def progress(phase, step, total):
        if bar is not None:
            bar.total, bar.n = total, step
            bar.set_description(phase)
            bar.refresh()

    try:
        result = evaluate_adapter(
            settings, adapter, limit=args.limit, max_new_tokens=args.max_new_tokens, progress=progress, log=log
        )
    finally:
        if bar is not None:
            bar.close()
    rows = [f"{'':34} {'base':>9} {'adapter':>9}"]
    for key, label in METRIC_LABELS.items():
        b, a = result["base"].get(key), result["adapter"].get(key)
        if b is not None or a is not None:
            rows.append(f"{label:34} {b if b is not None else '-':>9} {a if a is not None else '-':>9}")
    print_result(args, result, "\n".join(rows) + f"\n({result['seconds']:.0f} s on {result['device']})")


def register(sub) -> None:
    """Add this module's sub-commands to the top-level parser."""
    add = add_command
    p = add(sub, "finetune", cmd_finetune, "LoRA fine-tune of the model on the company's data (or: finetune eval)")
    p.add_argument("--out", help="folder to write the adapter to")
    p.add_argument(
        "--faq",
        default="kb",
        help="FAQ entries: 'kb' (the knowledge base's; the sample FAQ when it is empty), 'none', or a CSV/XLSX",
    )
    p.add_argument("--data", nargs="*", default=[], help="extra data: .jsonl chat examples or .csv/.xlsx FAQ tables")
    p.add_argument(
        "--docs",
        nargs="*",
        default=[],
        help="documents (.md, .pdf, …) whose chunks join the sources (default with --faq kb: the knowledge base's)",
    )
    p.add_argument("--no-voices", action="store_true", help="leave out the content writer's brand-voice samples")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-tokens", type=int, default=1024, help="skip longer examples")
    p.add_argument("--target-modules", default="q_proj,k_proj,v_proj,o_proj")
    p.add_argument("--seed", type=int, default=0)
    actions = p.add_subparsers(dest="finetune_action")
    e = add(actions, "eval", cmd_finetune_eval, "base vs adapter on the adapter's held-out validation set")
    e.add_argument("--adapter", required=True, help="adapter folder (made by `finetune`)")
    e.add_argument("--limit", type=int, default=None, help="at most N examples per kind and language")
    e.add_argument("--max-new-tokens", type=int, default=300)
