"""The economics engine behind the Cost & market calculator: pure, typed functions, no UI.

hardware (GPU catalogue) -> training / serving (FLOPs, memory, throughput, $) -> unit_economics
(users -> GPUs -> $ per user) -> business (monthly P&L, break-even) -> price_war, market,
uncertainty (tornado, Monte Carlo). Every formula's docstring says what it computes and from where.
Impossible inputs raise InputError (a ValueError with a stable code; see messages).
"""

from core.economics.business import (
    MAX_MONTHS, SCENARIO_VERSION, ApiPricing, CommonCosts, MarketInputs, PriceWarInputs, Scenario, ServingInputs, Services,
    Subscription, TrainingInputs, UncertaintyInputs, break_even_month, evaluate_scenario, monthly_pnl, payback_month,
    pnl_arrays, runway_months, scenario_serving, scenario_training, subscription_metrics, unit_cost_curve,
    validate_business,
)
from core.economics.hardware import GPU, get_gpu, load_gpus
from core.economics.market import MarketSizing, market_sizing
from core.economics.messages import InputError, Message, localise
from core.economics.price_war import RESPONSES, CompetitorCut, compare_responses, simulate_price_war, summarise_responses
from core.economics.prices import PRICE_DATE, PRICE_SOURCE, blended_usd_per_million, compare_with_api, load_api_prices
from core.economics.serving import (
    KNOWN_SHAPES, PRECISION_BYTES, ServingEstimate, estimate_serving, estimate_shape, kv_cache_gb, weights_gb,
)
from core.economics.training import (
    DEFAULT_MFU, FINETUNE_METHODS, FinetuneEstimate, OwnedHardware, TrainingEstimate, calibration_table, compute_optimal_tokens,
    estimate_finetune, estimate_training, finetune_flops, finetune_memory_gb, implied_mfu, load_training_runs,
    training_flops,
)
from core.economics.uncertainty import (
    DRIVERS, METRICS, MonteCarloResult, default_ranges, monte_carlo, scenario_monte_carlo, tornado,
)
from core.economics.unit_economics import DEFAULT_TARGET_UTILISATION, ServingPlan, Usage, cost_per_user_curve, serving_plan

__all__ = [
    "MAX_MONTHS", "SCENARIO_VERSION", "ApiPricing", "CommonCosts", "MarketInputs", "PriceWarInputs", "Scenario", "ServingInputs",
    "Services", "Subscription", "TrainingInputs", "UncertaintyInputs", "break_even_month", "evaluate_scenario",
    "monthly_pnl", "payback_month", "pnl_arrays", "runway_months", "subscription_metrics", "validate_business",
    "GPU", "get_gpu", "load_gpus", "MarketSizing", "market_sizing", "CompetitorCut", "compare_responses",
    "simulate_price_war", "summarise_responses", "PRICE_DATE", "PRICE_SOURCE", "blended_usd_per_million",
    "compare_with_api", "load_api_prices", "KNOWN_SHAPES", "PRECISION_BYTES", "ServingEstimate", "estimate_serving",
    "estimate_shape", "kv_cache_gb", "weights_gb", "DEFAULT_MFU", "FinetuneEstimate", "OwnedHardware",
    "TrainingEstimate", "calibration_table", "compute_optimal_tokens", "estimate_finetune", "estimate_training",
    "finetune_flops", "finetune_memory_gb", "implied_mfu", "load_training_runs", "training_flops", "DRIVERS",
    "MonteCarloResult", "default_ranges", "monte_carlo", "tornado", "ServingPlan", "Usage", "cost_per_user_curve",
    "serving_plan", "RESPONSES", "FINETUNE_METHODS", "METRICS", "DEFAULT_TARGET_UTILISATION", "InputError", "Message",
    "localise", "scenario_serving", "scenario_training", "scenario_monte_carlo", "unit_cost_curve",
]
