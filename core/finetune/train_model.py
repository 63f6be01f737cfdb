"""The model side of fine-tuning, shared by training and evaluation: the base model and its
tokenizer, a chat as token ids with labels on the answers only, and the loss summed over those
answer tokens (logits computed just for them)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.config import Settings
from core.finetune.inputs import Example
from core.llm.models import choose_model, configured_model_name


# -- model ---------------------------------------------------------------------------------------
def load_base(settings: Settings, log=print):
    """The configured base model (never an adapter) for training, with its tokenizer."""
    # torch and transformers: loaded only when the transformers engine runs
    from core.llm.transformers_engine import load_pretrained, pick_device

    choice = choose_model(settings)
    name, source = choice.name, choice.source
    device = pick_device(settings.device)
    # bf16 on CUDA; fp32 elsewhere (bf16 is slow on CPUs without bf16 instructions, fp16 trains badly).
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model, tokenizer = load_pretrained(settings, choice, device, dtype, log=log)
    return (
        model.to(device),  # type: ignore[arg-type]  # transformers' annotation of .to() takes the model
        tokenizer,
        {"name": name, "source": source, "device": device, "dtype": str(dtype).removeprefix("torch.")},
    )


def base_model_name(settings: Settings) -> str:

    return configured_model_name(settings)


# -- tokenization -------------------------------------------------------------------------------
def chat_ids(tokenizer, messages, generation_prompt: bool) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation_prompt)
    if hasattr(ids, "keys"):  # BatchEncoding in newer transformers
        ids = ids["input_ids"]
    return list(ids)


def encode(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """Token ids of the whole chat, and labels that are -100 everywhere except the assistant's
    turns (their text and end-of-turn token): the model learns the answers, not the prompts."""
    ids: list[int] = []
    labels: list[int] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = chat_ids(tokenizer, messages[:i], True)
        full = chat_ids(tokenizer, messages[: i + 1], False)
        if prompt[: len(ids)] != ids or full[: len(prompt)] != prompt:
            raise ValueError(
                "The model's chat template does not render a conversation as a prefix of its "
                "continuation; cannot mask prompts"
            )
        labels += [-100] * (len(prompt) - len(ids)) + full[len(prompt) :]
        ids = full
    return ids, labels


@dataclass
class Encoded:
    input_ids: torch.Tensor  # (1, n)
    positions: torch.Tensor  # positions whose next token is an answer token
    targets: torch.Tensor  # those next tokens

    @property
    def answer_tokens(self) -> int:
        return int(self.targets.numel())


def encode_all(tokenizer, examples: list[Example], max_tokens: int) -> tuple[list[Encoded], int]:
    out, skipped = [], 0
    for example in examples:
        ids, labels = encode(tokenizer, example.messages)
        if len(ids) > max_tokens:
            skipped += 1
            continue
        shifted = torch.tensor(labels[1:])
        positions = (shifted != -100).nonzero()[:, 0]
        if positions.numel() == 0:
            skipped += 1
            continue
        out.append(Encoded(torch.tensor([ids]), positions, shifted[positions]))
    return out, skipped


def example_loss(model, item: Encoded, device: str) -> torch.Tensor:
    """Summed cross-entropy over the answer tokens; logits only where they are needed."""
    logits = model(input_ids=item.input_ids.to(device), logits_to_keep=item.positions.to(device)).logits
    return torch.nn.functional.cross_entropy(logits[0].float(), item.targets.to(device), reduction="sum")


def mean_loss(model, items: list[Encoded], device: str, progress=None) -> float | None:
    if not items:
        return None
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i, item in enumerate(items, start=1):
            total += float(example_loss(model, item, device))
            count += item.answer_tokens
            if progress:
                progress(i, len(items))
    model.train(was_training)
    return round(total / count, 4)
