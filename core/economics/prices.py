"""API prices to compare self-hosting with: a dated snapshot of a maintained price table."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from core.economics.hardware import DATA_DIR
from core.economics.messages import InputError

API_PRICES_CSV = DATA_DIR / "api_prices.csv"
PRICE_SOURCE = "litellm 1.109.1 model_prices_and_context_window_backup.json"
PRICE_DATE = "2026-11-12"  # the litellm 1.109.1 release on PyPI; list prices only, no batch or cache discounts


@lru_cache(maxsize=1)
def _prices() -> pd.DataFrame:
    return pd.read_csv(API_PRICES_CSV, dtype={"open_weights_active_params_b": "float64"})


def load_api_prices() -> pd.DataFrame:
    """One row per model: model, provider, input_usd_per_1m, output_usd_per_1m, context_tokens,
    open_weights_active_params_b (blank for closed models), litellm_key, pricing_page, source, source_date."""
    return _prices().copy()


def blended_usd_per_million(input_usd_per_1m, output_usd_per_1m, input_tokens: float, output_tokens: float):
    """Cost of 1M tokens of your traffic = (input share x input price) + (output share x output price),
    where the shares come from your tokens per request. Works on numbers or pandas columns."""
    total = input_tokens + output_tokens
    if input_tokens < 0 or output_tokens < 0 or total <= 0:
        raise InputError("tokens_per_request")
    return (input_tokens * input_usd_per_1m + output_tokens * output_usd_per_1m) / total


def compare_with_api(
    self_hosted_input_usd_per_1m: float | None,
    self_hosted_output_usd_per_1m: float | None,
    input_tokens: float,
    output_tokens: float,
) -> pd.DataFrame:
    """The API table plus a "Self-hosted" row, with the cost per 1,000 requests of your request shape:
    (input tokens x input price + output tokens x output price) / 1M x 1,000. Cheapest first."""
    df = load_api_prices()[["model", "provider", "input_usd_per_1m", "output_usd_per_1m"]]
    if self_hosted_input_usd_per_1m is not None and self_hosted_output_usd_per_1m is not None:
        own = pd.DataFrame(
            [
                {
                    "model": "Self-hosted",
                    "provider": "you",
                    "input_usd_per_1m": self_hosted_input_usd_per_1m,
                    "output_usd_per_1m": self_hosted_output_usd_per_1m,
                }
            ]
        )
        df = pd.concat([own, df], ignore_index=True)
    df["blended_usd_per_1m"] = blended_usd_per_million(
        df["input_usd_per_1m"], df["output_usd_per_1m"], input_tokens, output_tokens
    )
    df["usd_per_1k_requests"] = (input_tokens * df["input_usd_per_1m"] + output_tokens * df["output_usd_per_1m"]) / 1e3
    return df.sort_values("usd_per_1k_requests", kind="stable").reset_index(drop=True)
