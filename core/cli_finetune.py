"""`python -m core finetune ...`: LoRA fine-tuning of the default model and its evaluation."""

from __future__ import annotations


def register(sub, add) -> None:
    """Add this module's sub-commands to the top-level parser (`add` is cli.build_parser's helper)."""
