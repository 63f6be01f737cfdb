"""From users to GPUs to dollars per user: the economies-of-scale curve."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.economics.hardware import check_rate
from core.economics.messages import InputError
from core.economics.serving import ServingEstimate

DAYS_PER_MONTH = 365 / 12  # 30.42
HOURS_PER_MONTH = 365 * 24 / 12  # 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DEFAULT_TARGET_UTILISATION = 0.60  # head-room for peaks: traffic is not flat through the day


@dataclass
class Usage:
    """How much the users use: requests per user per day, tokens per request (prompt in, answer out)."""

    users: float = 1000.0
    requests_per_user_per_day: float = 10.0
    input_tokens: float = 500.0
    output_tokens: float = 300.0

    def validate(self) -> Usage:
        for value, what in (
            (self.users, "users"),
            (self.requests_per_user_per_day, "requests_per_day"),
            (self.input_tokens, "input_tokens"),
            (self.output_tokens, "output_tokens"),
        ):
            if value is None or not math.isfinite(value) or value < 0:
                raise InputError("negative", what=what)
        return self

    @property
    def monthly_requests(self) -> float:
        """Requests per month = users x requests per user per day x 30.4 days."""
        return self.users * self.requests_per_user_per_day * DAYS_PER_MONTH

    @property
    def monthly_input_tokens(self) -> float:
        return self.monthly_requests * self.input_tokens

    @property
    def monthly_output_tokens(self) -> float:
        return self.monthly_requests * self.output_tokens


@dataclass
class ServingPlan:
    gpus: int
    replicas: int  # copies of the model; each takes serving.gpus_needed GPUs
    busy_gpus: float  # GPUs' worth of work on average
    utilisation: float  # busy / provisioned (0 when nothing is provisioned)
    monthly_gpu_hours: float
    monthly_cost_usd: float
    cost_per_user_usd: float | None
    cost_per_1k_requests_usd: float | None
    monthly_input_tokens: float
    monthly_output_tokens: float

    def to_dict(self) -> dict:
        return asdict(self)


def _gpu_seconds(input_tokens, output_tokens, serving: ServingEstimate):
    """GPU-seconds of work = prompt tokens / prefill tokens/s + output tokens / decode tokens/s (per GPU)."""
    return input_tokens / serving.prefill_tok_s + output_tokens / serving.decode_tok_s


def _check(serving: ServingEstimate, target_utilisation: float, usd_per_gpu_hour: float | None) -> float:
    if target_utilisation is None or not 0 < target_utilisation <= 1:
        raise InputError("target_utilisation")
    rate = usd_per_gpu_hour if usd_per_gpu_hour is not None else serving.usd_per_gpu_hour
    if rate is None:
        raise InputError("no_gpu_price", gpu=serving.gpu)
    check_rate(rate)
    return rate


def serving_plan(
    usage: Usage,
    serving: ServingEstimate,
    target_utilisation: float = DEFAULT_TARGET_UTILISATION,
    usd_per_gpu_hour: float | None = None,
    always_on: bool = True,
) -> ServingPlan:
    """GPUs and monthly serving cost for this usage.

    Busy GPUs = (monthly prompt tokens / prefill tokens/s + monthly output tokens / decode tokens/s)
                / seconds in a month.
    Replicas = ceil(busy GPUs / (target utilisation x GPUs per replica)), at least 1 when always on.
    GPUs = replicas x GPUs per replica (whole GPUs: this is why cost per user falls in steps).
    Monthly cost = GPUs x 730 hours x $ per GPU-hour.
    """
    usage.validate()
    rate = _check(serving, target_utilisation, usd_per_gpu_hour)
    busy = _gpu_seconds(usage.monthly_input_tokens, usage.monthly_output_tokens, serving) / SECONDS_PER_MONTH
    per_replica = serving.gpus_needed
    replicas = math.ceil(busy / (target_utilisation * per_replica) - 1e-9) if busy > 0 else 0
    if always_on:
        replicas = max(replicas, 1)
    gpus = replicas * per_replica
    cost = gpus * HOURS_PER_MONTH * rate
    return ServingPlan(
        gpus=gpus,
        replicas=replicas,
        busy_gpus=busy,
        utilisation=busy / gpus if gpus else 0.0,
        monthly_gpu_hours=gpus * HOURS_PER_MONTH,
        monthly_cost_usd=cost,
        cost_per_user_usd=cost / usage.users if usage.users > 0 else None,
        cost_per_1k_requests_usd=cost / usage.monthly_requests * 1000 if usage.monthly_requests > 0 else None,
        monthly_input_tokens=usage.monthly_input_tokens,
        monthly_output_tokens=usage.monthly_output_tokens,
    )


def cost_per_user_curve(
    users_list,
    usage: Usage,
    serving: ServingEstimate,
    target_utilisation: float = DEFAULT_TARGET_UTILISATION,
    fixed_monthly_usd: float = 0.0,
    training_usd: float = 0.0,
    amortise_months: int = 24,
    usd_per_gpu_hour: float | None = None,
) -> pd.DataFrame:
    """Monthly cost per user as the user count grows (usage per user from `usage`; its `users` is ignored).

    Cost per user = (serving cost + fixed costs + training cost / amortisation months) / users.
    Fixed costs are spread over more users as you grow, and GPUs come in whole units, so the
    curve falls in steps towards the serving cost per user.
    """
    rate = _check(serving, target_utilisation, usd_per_gpu_hour)
    if fixed_monthly_usd < 0 or training_usd < 0:
        raise InputError("fixed_training_negative")
    if amortise_months is None or amortise_months < 1:
        raise InputError("amortise_months")
    users = np.asarray(list(users_list), dtype=float)
    if users.size == 0:
        raise InputError("no_user_counts")
    if (users < 0).any() or not np.isfinite(users).all():
        raise InputError("negative", what="user_counts")
    Usage(1, usage.requests_per_user_per_day, usage.input_tokens, usage.output_tokens).validate()
    requests = users * usage.requests_per_user_per_day * DAYS_PER_MONTH
    busy = _gpu_seconds(requests * usage.input_tokens, requests * usage.output_tokens, serving) / SECONDS_PER_MONTH
    per_replica = serving.gpus_needed
    replicas = np.maximum(np.ceil(busy / (target_utilisation * per_replica) - 1e-9), 1)
    gpus = replicas * per_replica
    serving_usd = gpus * HOURS_PER_MONTH * rate
    training_monthly = training_usd / amortise_months
    total = serving_usd + fixed_monthly_usd + training_monthly
    safe = np.where(users > 0, users, 1.0)
    df = pd.DataFrame(
        {
            "users": users,
            "gpus": gpus.astype(int),
            "serving_usd": serving_usd,
            "fixed_usd": float(fixed_monthly_usd),
            "training_amortised_usd": training_monthly,
            "total_usd": total,
            "cost_per_user": total / safe,
            "serving_cost_per_user": serving_usd / safe,
        }
    )
    # Per-user cost is undefined with no users: None, never inf/NaN.
    zero = users <= 0
    if zero.any():
        for col in ("cost_per_user", "serving_cost_per_user"):
            df[col] = df[col].astype(object)
            df.loc[zero, col] = None
    return df
