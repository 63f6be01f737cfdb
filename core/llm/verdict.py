"""Reading a yes/no judgement from a model: its next-token probabilities (`yes_share`) or its reply (`word_verdict`).

Every engine's `judge` (the support relevance check) uses one or the other.
"""

from __future__ import annotations

import math

YES_WORDS, NO_WORDS = {"yes", "是", "是的", "对"}, {"no", "否", "不", "不是"}
MIN_VERDICT_MASS = 0.3  # below this much probability on yes + no, the model is not answering the question


def yes_share(candidates) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the next token's top candidates, given as (text, logprob)
    pairs: "Yes", " yes", "YES" all count as yes. None when the model puts little weight on
    either (a model too small to follow the question abstains rather than guess)."""
    yes = no = 0.0
    for text, logprob in candidates:
        word = str(text).strip().lower()
        if word in YES_WORDS:
            yes += math.exp(logprob)
        elif word in NO_WORDS:
            no += math.exp(logprob)
    return yes / (yes + no) if yes + no >= MIN_VERDICT_MASS else None


def word_verdict(text: str) -> float | None:
    """1.0 for a reply that starts with yes, 0.0 for no, None for anything else."""
    word = str(text).strip().lower()
    if word.startswith(("yes", "是")):
        return 1.0
    if word.startswith(("no", "否", "不")):
        return 0.0
    return None
