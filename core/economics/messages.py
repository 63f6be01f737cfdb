"""The engine's words, each with a stable code: errors (InputError) and explanation lines (Message).

The English text of a code is here, under "calc.msg.<code>" (ENGLISH), so `str(error)` stays plain
English for the command line and logs; the user interface keeps its translations under the same
keys (core.i18n.calc) and shows the reader's language with `localise(error, lookup)`. Parameters
named in LABEL_PARAMS hold a key, not a value (e.g. what="seat_churn"): they are replaced by that
key's label in the same language.
"""

from __future__ import annotations

from collections.abc import Callable

MSG_PREFIX = "calc.msg."
LABEL_PARAMS = {"what": "calc.field.", "driver": "calc.driver.", "bound": "calc.bound."}


def english(key: str) -> str:
    return ENGLISH[key]


def render(code: str, params: dict, lookup: Callable[[str], str] = english) -> str:
    """The text of `code` with `params` filled in; lookup(key) gives a template in some language."""
    values = {k: (lookup(LABEL_PARAMS[k] + str(v)) if k in LABEL_PARAMS else v) for k, v in params.items()}
    return lookup(MSG_PREFIX + code).format(**values)


class InputError(ValueError):
    """An input no model can have. A ValueError (callers catch those) whose text is English; `code`
    and `params` let a user interface say the same thing in its own language."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(render(code, params))

    def __reduce__(self):
        return _input_error, (self.code, self.params)


class Message(str):
    """A line of explanation: an English str (JSON, CLI, tests) that also carries its code and params."""

    code: str
    params: dict

    def __new__(cls, code: str, **params):
        obj = super().__new__(cls, render(code, params))
        obj.code, obj.params = code, params
        return obj

    def __reduce__(self):
        return _message, (self.code, self.params)

    def __deepcopy__(self, memo):
        return self


def _input_error(code: str, params: dict) -> InputError:
    return InputError(code, **params)


def _message(code: str, params: dict) -> Message:
    return Message(code, **params)


def localise(obj, lookup: Callable[[str], str]) -> str:
    """An InputError or Message in the language of `lookup`; anything else as str(obj)."""
    code, params = getattr(obj, "code", None), getattr(obj, "params", None)
    if not isinstance(code, str) or not isinstance(params, dict):
        return str(obj)
    try:
        return render(code, params, lookup)
    except (KeyError, IndexError, ValueError):  # a translation missing or malformed: the English is still right
        return str(obj)


# Keep the {placeholders} the same in the translations (core.i18n.calc).
ENGLISH: dict[str, str] = {
    # field names, for messages such as "{what} cannot be negative"
    "calc.field.api_price": "The API price",
    "calc.field.api_customers": "API customers",
    "calc.field.api_growth": "API customer growth",
    "calc.field.tokens_per_customer": "Tokens per customer",
    "calc.field.api_cac": "Customer acquisition cost",
    "calc.field.api_serving_cost": "Serving cost",
    "calc.field.seats": "Seats",
    "calc.field.seat_price": "The seat price",
    "calc.field.seat_growth": "Seat growth",
    "calc.field.seat_cac": "Acquisition cost per seat",
    "calc.field.seat_serving_cost": "Serving cost per seat",
    "calc.field.contracts": "Contracts per quarter",
    "calc.field.contract_value": "Contract value",
    "calc.field.contract_growth": "Contract growth",
    "calc.field.team": "Team cost",
    "calc.field.team_growth": "Team cost growth",
    "calc.field.other_fixed": "Other fixed costs",
    "calc.field.training_cost": "Training cost",
    "calc.field.starting_cash": "Starting cash",
    "calc.field.api_churn": "API customer churn",
    "calc.field.seat_churn": "Seat churn",
    "calc.field.delivery": "Delivery cost",
    "calc.field.users": "Users",
    "calc.field.requests_per_day": "Requests per user per day",
    "calc.field.input_tokens": "Input tokens per request",
    "calc.field.output_tokens": "Output tokens per request",
    "calc.field.user_counts": "User counts",
    "calc.field.companies": "The number of companies",
    "calc.field.spend": "Spend per company",
    "calc.field.serviceable": "The serviceable share",
    "calc.field.obtainable": "The obtainable share",
    "calc.field.our_price": "Our price",
    "calc.field.market_size": "Market size",
    "calc.field.unit_cost": "Unit cost",
    "calc.field.purchase": "The purchase price per GPU",
    "calc.field.electricity": "The electricity price",
    "calc.field.gpu_price": "The price per GPU-hour",
    "calc.field.params": "Parameters",
    "calc.field.tokens": "Tokens",
    "calc.field.gpu_hours": "GPU-hours",
    "calc.field.batch": "Batch size",
    "calc.field.context": "Context length",
    "calc.field.prompt_tokens": "Prompt tokens",
    "calc.field.layers": "Layers",
    "calc.field.kv_heads": "KV heads",
    "calc.field.head_dim": "Head dim",
    "calc.field.utilisation": "Utilisation",
    "calc.field.bandwidth_efficiency": "Bandwidth efficiency",
    "calc.field.compute_efficiency": "Compute efficiency",
    "calc.field.prefill_speed": "Prompt speed",
    "calc.field.decode_speed": "Writing speed",
    "calc.field.slots": "Slots",
    "calc.field.slot_scaling": "Slot scaling",
    "calc.field.machine_price": "The price per machine-hour",
    "calc.field.conversations_per_day": "Conversations per day",
    "calc.field.questions_per_conversation": "Questions per conversation",
    "calc.field.tier1_share": "The share of curated answers",
    "calc.field.tier2_share": "The share of written answers",
    "calc.field.tier1_s": "A curated answer's time",
    "calc.field.tier3_s": "A hand-over's time",
    "calc.field.overhead_s": "The time before a written answer's prompt is read",
    "calc.field.service_cv": "The variation of an answer's work",
    "calc.field.clients": "Clients",
    "calc.field.think_s": "Think time",
    "calc.field.target_p90": "The p90 target",
    "calc.field.machines": "Machines",
    "calc.field.days": "Days",
    "calc.field.right_rate": "The share set right",
    "calc.field.handover_rate": "The hand-over rate",
    "calc.field.wrong_rate": "The wrong-answer rate",
    "calc.field.person_cost": "A person's cost per conversation",
    "calc.field.wrong_cost": "The cost of a wrong answer",
    "calc.field.conversation_serving_cost": "Serving cost per conversation",
    "calc.field.written_per_conversation": "Written answers per conversation",
    "calc.field.resolution_price": "The price per resolution",
    "calc.field.resolution_customers": "Per-resolution customers",
    "calc.field.resolution_growth": "Per-resolution customer growth",
    "calc.field.conversations_per_customer": "Conversations per customer",
    "calc.field.resolution_cac": "Acquisition cost per per-resolution customer",
    "calc.field.resolution_churn": "Per-resolution customer churn",
    "calc.field.resolution_rate": "The resolution rate",
    "calc.field.price_decline": "The yearly price decline",
    "calc.field.cost_decline": "The yearly cost decline",
    "calc.field.competitor_decline": "The competitor's yearly price decline",
    # bounds
    "calc.bound.memory": "memory",
    "calc.bound.compute": "compute",
    # sensitivity drivers
    "calc.driver.subscription.price_per_seat_month": "Seat price",
    "calc.driver.subscription.seats_start": "Starting seats",
    "calc.driver.subscription.growth_monthly": "Seat growth per month",
    "calc.driver.subscription.churn_monthly": "Seat churn per month",
    "calc.driver.subscription.cac_per_seat": "Acquisition cost per seat",
    "calc.driver.subscription.serving_cost_per_seat_month": "Serving cost per seat",
    "calc.driver.api.price_per_million_tokens": "API price per 1M tokens",
    "calc.driver.api.customers_start": "Starting API customers",
    "calc.driver.api.customer_growth_monthly": "API customer growth",
    "calc.driver.api.churn_monthly": "API customer churn",
    "calc.driver.api.tokens_per_customer_month": "Tokens per API customer",
    "calc.driver.api.cac_per_customer": "Acquisition cost per API customer",
    "calc.driver.api.serving_cost_per_million_tokens": "Serving cost per 1M tokens",
    "calc.driver.services.contracts_per_quarter": "Contracts per quarter",
    "calc.driver.services.contract_value": "Contract value",
    "calc.driver.services.delivery_cost_pct": "Delivery cost %",
    "calc.driver.costs.team_monthly": "Team cost per month",
    "calc.driver.costs.other_fixed_monthly": "Other fixed costs",
    "calc.driver.costs.training_one_off": "Training cost",
    "calc.driver.costs.starting_cash": "Starting cash",
    "calc.driver.resolution.price_per_resolution": "Price per resolution",
    "calc.driver.resolution.customers_start": "Starting per-resolution customers",
    "calc.driver.resolution.customer_growth_monthly": "Per-resolution customer growth",
    "calc.driver.resolution.churn_monthly": "Per-resolution customer churn",
    "calc.driver.resolution.conversations_per_customer_month": "Conversations per customer",
    "calc.driver.resolution.resolution_rate": "Resolution rate",
    "calc.driver.resolution.serving_cost_per_conversation": "Serving cost per conversation",
    "calc.driver.resolution.cac_per_customer": "Acquisition cost per per-resolution customer",
    "calc.driver.trend.price_decline_yearly": "Yearly price decline",
    "calc.driver.trend.cost_decline_yearly": "Yearly serving cost decline",
    # errors and the working shown under results
    "calc.msg.negative": "{what} cannot be negative",
    "calc.msg.not_number": "{what} must be a number",
    "calc.msg.not_finite": "{what} must be a finite number",
    "calc.msg.positive": "{what} must be positive",
    "calc.msg.positive_number": "{what} must be a positive number",
    "calc.msg.share_0_1": "{what} must be between 0 and 1 (0% to 100%)",
    "calc.msg.share_open_closed": "{what} must be more than 0 and at most 1",
    "calc.msg.whole_at_least_1": "{what} must be a whole number of at least 1",
    "calc.msg.plan_months": "The plan must cover 1 to {max} whole months",
    "calc.msg.unknown_input": "Unknown scenario input {path!r}",
    "calc.msg.unknown_kind": "kind is 'operating' or 'payback', not {kind!r}",
    "calc.msg.saved_not_number": "Saved scenario field {where} should be a number, not {value!r}",
    "calc.msg.saved_not_whole": "Saved scenario field {where} should be a whole number, not {value!r}",
    "calc.msg.saved_not_object": "Saved scenario field {where} should be an object",
    "calc.msg.target_utilisation": "Target utilisation must be more than 0 and at most 1",
    "calc.msg.no_gpu_price": "No price per GPU-hour for {gpu}: enter one",
    "calc.msg.fixed_training_negative": "Fixed and training costs cannot be negative",
    "calc.msg.amortise_months": "Training cost must be amortised over at least 1 month",
    "calc.msg.no_user_counts": "Give at least one user count",
    "calc.msg.cut_range": "The competitor's cut must be at least 0% and less than 100%",
    "calc.msg.cut_month": "The month of the cut must be a whole number from 1",
    "calc.msg.no_competitor_prices": "Give at least one competitor price",
    "calc.msg.competitor_prices": "Competitor prices must be positive",
    "calc.msg.unknown_response": "Unknown response {response!r}; choose one of: {choices}",
    "calc.msg.base_share": "Today's market share must be between 0 and 1 (both excluded)",
    "calc.msg.elasticity_sign": "Elasticities are given as positive numbers (higher = more price-sensitive)",
    "calc.msg.undercut_range": "The undercut must be at least 0% and less than 100%",
    "calc.msg.response_lag": "The response lag is a whole number of months, 0 or more",
    "calc.msg.war_months": "The price war can cover 1 to {max} months",
    "calc.msg.amortisation_years": "The amortisation period must be more than 0 years",
    "calc.msg.pue": "PUE is at least 1 (1 = every watt goes to the computers)",
    "calc.msg.hw_utilisation": "Utilisation must be between 0 and 1 (0% excluded, 100% allowed)",
    "calc.msg.no_purchase_price": "No purchase price for {gpu} in the catalogue; enter the price per GPU",
    "calc.msg.mfu": "MFU must be more than 0 and at most 1 (e.g. 0.4 for 40%)",
    "calc.msg.gpus": "The number of GPUs must be a whole number of at least 1",
    "calc.msg.unknown_method": "Unknown fine-tuning method {method!r}; choose one of: {choices}",
    "calc.msg.adapter_fraction": "The trainable (adapter) fraction must be more than 0 and at most 1, e.g. 0.01 for 1%",
    "calc.msg.total_params": "Total parameters cannot be fewer than active parameters",
    "calc.msg.shape_partial": "Give all three of layers, KV heads and head dim, or none (then they are estimated)",
    "calc.msg.tokens_per_request": "Tokens per request must be positive",
    "calc.msg.unknown_metric": "Unknown metric {metric!r}; choose one of: {choices}",
    "calc.msg.swing": "The swing must be more than 0 and less than 1 (e.g. 0.2 for +/-20%)",
    "calc.msg.draws": "The number of draws must be a whole number of at least 1",
    "calc.msg.within_months": "'Within N months' must be a whole number from 1 to the plan's length ({months} months)",
    "calc.msg.unknown_driver": "Unknown uncertain input {path!r}; choose from: {choices}",
    "calc.msg.range_order": "The range for {driver} needs low <= high",
    "calc.msg.range_outside": "The range for {driver} is outside the possible values",
    "calc.msg.unknown_precision": "Unknown precision {precision!r}; choose one of: {choices}",
    "calc.msg.unknown_gpu": "Unknown GPU {name!r}; choose one of: {choices}",
    "calc.msg.no_saved": "No saved scenario called {name!r}",
    "calc.msg.name_empty": "Give the scenario a name",
    "calc.msg.name_long": "A scenario name can be at most {max} characters",
    "calc.msg.name_control": "A scenario name cannot contain control characters",
    "calc.msg.name_reserved": "“{name}” is how the calculator labels the current inputs or the comparison sheet: choose another name",
    "calc.msg.note_no_price": "No on-demand price for {gpu} in the catalogue: enter a $ per GPU-hour to get a cost.",
    "calc.msg.note_ft_memory": "Needs about {memory} GB for weights and optimizer state: at least {n} x {gpu} ({gpu_gb} GB each), before activations.",
    "calc.msg.work_memory_fits": "Memory: weights {weights} GB ({weight_params}B parameters x {bytes} bytes) + KV cache {kv} GB (2 x {layers} layers x {kv_heads} KV heads x {head_dim} dims x {context} tokens x batch {batch} x {kv_bytes} bytes) = {total} GB; one {gpu} holds {usable} GB after 10% headroom -> fits on one GPU.",
    "calc.msg.work_memory_split": "Memory: weights {weights} GB ({weight_params}B parameters x {bytes} bytes) + KV cache {kv} GB (2 x {layers} layers x {kv_heads} KV heads x {head_dim} dims x {context} tokens x batch {batch} x {kv_bytes} bytes) = {total} GB; one {gpu} holds {usable} GB after 10% headroom -> needs {n} GPUs.",
    "calc.msg.work_decode": "Each decode step reads {total} GB at {bandwidth} GB/s ({bandwidth_pct} of peak) = {memory_ms} ms; the maths for a batch of {batch} takes {compute_ms} ms at {compute_pct} of peak -> {bound}-bound, {decode} output tokens/s per GPU, {per_sequence} per sequence.",
    "calc.msg.work_prefill": "Prefill is compute-bound: {prefill} prompt tokens/s per GPU; a {prompt}-token prompt waits {ttft} s for its first token.",
    "calc.msg.work_shape": "Layers, KV heads and head dim not given: taken from {model}, the known model nearest in size.",
    "calc.msg.work_no_price": "No on-demand price for {gpu} in the catalogue: enter a $ per GPU-hour to get costs.",
    "calc.msg.work_cost": "At ${rate} per GPU-hour and {utilisation} utilisation: ${per_m_out} per 1M output tokens, ${per_m_in} per 1M prompt tokens.",
    "calc.msg.bench_result": "Not a `python -m core bench generate --json` result: it needs long_prompt_tokens, long_prompt_ttft_ms and decode_tok_s",
    "calc.msg.unknown_curve": "Unknown daily curve {curve!r}; choose one of: {choices}",
    "calc.msg.tier_shares": "Curated and written answers together cannot be more than 100% of questions",
    "calc.msg.target_too_low": "Even an idle machine takes {idle} s to the first word of a written answer: set a p90 target above that",
    "calc.msg.too_many_machines": "More than {max} machines would be needed: check the traffic and the machine's speed",
    "calc.msg.simulation_too_big": "More than {max} written answers to simulate: simulate fewer days",
    "calc.msg.outcome_rates": "Right, handed-over and wrong shares together cannot be more than 100%",
    "calc.msg.decline_range": "{what} must be at least 0% and less than 100% a year",
    "calc.msg.tam_formula": "TAM = {companies} companies x {spend} a year = {tam}",
    "calc.msg.sam_formula": "SAM = TAM {tam} x {pct} serviceable = {sam}",
    "calc.msg.som_formula": "SOM = SAM {sam} x {pct} obtainable = {som} (about {customers} customers)",
}
