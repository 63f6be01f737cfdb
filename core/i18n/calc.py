"""UI text for the Cost & market calculator page. key: (English, Simplified Chinese); Traditional
Chinese is derived from the Simplified text. The engine's own messages take their English from
core.economics.messages."""

from core.economics.messages import ENGLISH

STRINGS: dict[str, tuple[str, str]] = {
    "nav.calc": ("Cost & market", "成本与市场"),
    "calc.title": ("Cost & market calculator", "成本与市场测算"),
    "calc.caption": (
        "What it costs to train and serve a language model, what to charge, when the business breaks "
        "even, and what a price war does to it. Every default names its source; open “How is this "
        "calculated” under any result for the formula.",
        "训练和部署语言模型要花多少钱、该怎么定价、何时盈亏平衡、价格战会带来什么影响。每个默认值都注明来源；"
        "展开任一结果下方的“计算方法”即可查看公式。",
    ),
    "calc.tab_train": ("Training", "训练"),
    "calc.tab_serve": ("Serving", "推理部署"),
    "calc.tab_units": ("Unit economics", "单位经济"),
    "calc.tab_business": ("Business model", "商业模式"),
    "calc.tab_war": ("Price war", "价格战"),
    "calc.tab_market": ("Market size", "市场规模"),
    "calc.tab_risk": ("Risk", "风险分析"),
    "calc.tab_compare": ("Compare & export", "对比与导出"),
    "calc.tab_calibration": ("Calibration", "校准"),
    "calc.fix_input": ("Please check this input:", "请检查输入："),
    "calc.how": ("How is this calculated?", "计算方法"),
    "calc.catalogue_price": ("catalogue price", "使用目录价格"),
    "calc.hours": ("{n} hours", "{n} 小时"),
    "calc.days": ("{n} days", "{n} 天"),
    "calc.never": ("not within the horizon", "测算期内未实现"),
    "calc.month_n": ("month {n}", "第 {n} 个月"),
    "calc.after_plan": ("> {n} months", "超过 {n} 个月"),
    "calc.assumptions": ("Assumptions", "假设条件"),
    # scenarios
    "calc.scenarios": ("Scenarios", "情景"),
    "calc.current": ("Current: **{name}**", "当前情景：**{name}**"),
    "calc.unsaved": ("Unsaved inputs", "当前输入尚未保存"),
    "calc.saved_scenarios": ("Saved scenarios", "已保存的情景"),
    "calc.load": ("Load", "载入"),
    "calc.delete": ("Delete", "删除"),
    "calc.scenario_name": ("Save current inputs as", "将当前输入保存为"),
    "calc.name_ph": ("e.g. Base case", "例如：基准情景"),
    "calc.save": ("Save", "保存"),
    "calc.reset": ("Defaults", "恢复默认"),
    "calc.loaded": ("Loaded “{name}”.", "已载入“{name}”。"),
    "calc.defaulted": (
        "{n} input(s) were missing or no longer valid and use their defaults.",
        "有 {n} 项输入缺失或已失效，已改用默认值。",
    ),
    "calc.saved": ("Saved “{name}”.", "已保存“{name}”。"),
    # training
    "calc.params_b": ("Model size (billion parameters)", "模型规模（十亿参数）"),
    "calc.params_help": (
        "For mixture-of-experts models, the parameters active per token.",
        "混合专家（MoE）模型请填每个 token 激活的参数量。",
    ),
    "calc.params_active_help": (
        "Active parameters per token (for mixture-of-experts models).",
        "每个 token 激活的参数量（适用于混合专家模型）。",
    ),
    "calc.tokens_b": ("Training tokens (billions)", "训练 token 数（十亿）"),
    "calc.tokens_help": (
        "Tokens seen in training (dataset size × epochs).",
        "训练中处理的 token 总数（数据量 × 轮数）。",
    ),
    "calc.gpu": ("GPU", "GPU 型号"),
    "calc.gpus": ("Number of GPUs", "GPU 数量"),
    "calc.mfu": ("Model FLOPs utilisation (MFU)", "算力利用率（MFU）"),
    "calc.mfu_help": (
        "Share of the GPUs' peak throughput that does useful model maths. Published large runs "
        "cluster around 35–45% (PaLM 46%, Llama 3 38–43%); small teams often reach less.",
        "GPU 峰值算力中真正用于模型计算的比例。公开的大规模训练多在 35–45% 之间（PaLM 46%，"
        "Llama 3 为 38–43%）；小团队通常更低。",
    ),
    "calc.pricing": ("GPUs are", "GPU 来源"),
    "calc.pricing_cloud": ("rented (cloud)", "云上租用"),
    "calc.pricing_owned": ("owned", "自购"),
    "calc.usd_per_gpu_hour": ("Price per GPU-hour ($)", "每 GPU 小时价格（美元）"),
    "calc.rate_help": (
        "Leave empty for the catalogue's on-demand price: {price} per hour (Epoch AI, {date}).",
        "留空则使用目录中的按需价格：每小时 {price}（Epoch AI，{date}）。",
    ),
    "calc.rate_help_none": (
        "The catalogue has no price for this GPU: enter one to get costs.",
        "目录中没有这款 GPU 的价格：请填写价格以计算成本。",
    ),
    "calc.purchase": ("Purchase price per GPU ($)", "每块 GPU 购买价（美元）"),
    "calc.purchase_help": ("Leave empty for the catalogue's price ({price}).", "留空则使用目录价格（{price}）。"),
    "calc.years": ("Depreciation (years)", "折旧年限（年）"),
    "calc.pue": ("PUE", "PUE（电能使用效率）"),
    "calc.pue_help": (
        "Data-centre power per watt of IT load: 1.1–1.2 modern, 1.5+ older sites.",
        "数据中心总功耗与 IT 设备功耗之比：新型数据中心 1.1–1.2，老旧机房 1.5 以上。",
    ),
    "calc.kwh": ("Electricity ($/kWh)", "电价（美元/千瓦时）"),
    "calc.hw_util": ("Hours in use", "设备使用率"),
    "calc.train_result": ("Training from scratch", "从零训练"),
    "calc.flops": ("Compute (FLOPs)", "计算量（FLOPs）"),
    "calc.gpu_hours": ("GPU-hours", "GPU 小时"),
    "calc.wall": ("Wall-clock time", "实际耗时"),
    "calc.wall_days": ("Days", "天数"),
    "calc.cost": ("Cost", "成本"),
    "calc.chinchilla": (
        "Compute-optimal data for this size is about {tokens}B tokens (20 per parameter, Chinchilla); "
        "you plan {ratio}× that. Models meant for cheap serving are often trained far beyond it.",
        "该规模的计算最优数据量约为 {tokens}B token（每个参数 20 个，Chinchilla 定律）；当前计划为其 {ratio} 倍。"
        "为降低推理成本，很多模型会远超这一数据量训练。",
    ),
    "calc.same_job": ("The same job on {gpus} GPUs of each type", "同一任务在 {gpus} 块不同型号 GPU 上的成本"),
    "calc.finetune": ("Fine-tuning this model", "微调该模型"),
    "calc.ft_method": ("Method", "方法"),
    "calc.ft_tokens_m": ("Dataset (million tokens)", "数据集（百万 token）"),
    "calc.ft_epochs": ("Epochs", "训练轮数"),
    "calc.ft_memory": ("Memory (weights + optimiser)", "显存（权重 + 优化器）"),
    "calc.fits": ("fits", "放得下"),
    "calc.needs_gpus": ("needs {n} GPUs", "需要 {n} 块 GPU"),
    # serving
    "calc.precision": ("Weights precision", "权重精度"),
    "calc.precision_help": (
        "Bytes per parameter: bf16/fp16 2, fp8/int8 1, int4 0.5.",
        "每个参数占用字节数：bf16/fp16 为 2，fp8/int8 为 1，int4 为 0.5。",
    ),
    "calc.batch": ("Concurrent requests (batch)", "并发请求数（批大小）"),
    "calc.batch_help": (
        "Sequences decoded together on one GPU. Speeds assume 70% of peak memory bandwidth (the "
        "utilisation Databricks reported for LLM inference, 2023) and 50% of peak compute (an "
        "illustrative assumption).",
        "一块 GPU 上同时解码的序列数。速度按显存带宽峰值的 70%（Databricks 2023 年报告的 LLM 推理带宽利用率）"
        "和算力峰值的 50%（示意性假设）估算。",
    ),
    "calc.context": ("Context length (tokens)", "上下文长度（token）"),
    "calc.context_help": (
        "Tokens kept per request (prompt + answer): sizes the KV cache.",
        "每个请求保留的 token 数（提示 + 回答），决定 KV 缓存大小。",
    ),
    "calc.prompt_tokens": ("Prompt length (tokens)", "提示长度（token）"),
    "calc.serve_util": ("Average GPU utilisation", "平均 GPU 利用率"),
    "calc.serve_util_help": (
        "Share of paid hours the GPU is busy: quiet nights and spare capacity cost money too. "
        "The default 60% is an illustrative allowance for peaks, not a measured figure.",
        "GPU 在付费时长中实际忙碌的比例：夜间空闲和冗余容量同样要付费。默认 60% 是为高峰预留余量的"
        "示意值，并非实测数据。",
    ),
    "calc.shape": ("Model shape (optional)", "模型结构（可选）"),
    "calc.shape_help": (
        "Leave at 0 to use the nearest known open model's shape.",
        "保持 0 则采用规模最接近的开源模型结构。",
    ),
    "calc.layers": ("Layers", "层数"),
    "calc.kv_heads": ("KV heads", "KV 头数"),
    "calc.head_dim": ("Head dimension", "头维度"),
    "calc.serve_result": ("Serving one copy of the model", "部署一份模型"),
    "calc.memory": ("GPU memory", "显存需求"),
    "calc.weights_kv": ("weights {w} + KV {kv} GB", "权重 {w} + KV {kv} GB"),
    "calc.gpus_needed": ("GPUs per copy", "每份模型所需 GPU"),
    "calc.split": ("split over {n} GPUs", "需拆分到 {n} 块 GPU"),
    "calc.decode": ("Output speed per GPU", "每块 GPU 输出速度"),
    "calc.per_user": ("{v} tok/s per user", "每位用户 {v} tok/s"),
    "calc.per_user_short": ("tok/s per user", "每用户 tok/s"),
    "calc.usd_per_m_out": ("$ per 1M output tokens", "每百万输出 token 成本"),
    "calc.ttft": ("first token after {v} s", "首个 token 耗时 {v} 秒"),
    "calc.no_fit": (
        "{total} GB does not fit on one {gpu}: one copy of the model needs {n} GPUs (tensor parallel), "
        "or choose a lower precision, a shorter context or a smaller batch.",
        "{total} GB 放不进一块 {gpu}：一份模型需要 {n} 块 GPU（张量并行），或改用更低精度、更短上下文或更小批量。",
    ),
    "calc.shape_estimated": (
        "Layers / KV heads / head dimension taken from {model}, the known model nearest in size.",
        "层数、KV 头数和头维度取自规模最接近的已知模型 {model}。",
    ),
    "calc.roofline_chart": (
        "Throughput and price by batch size (roofline)",
        "不同批大小下的吞吐与价格（Roofline 模型）",
    ),
    "calc.vs_api": ("Compared with API prices", "与 API 价格对比"),
    "calc.req_in": ("Input tokens per request", "每次请求输入 token"),
    "calc.req_out": ("Output tokens per request", "每次请求输出 token"),
    "calc.col_model": ("Model", "模型"),
    "calc.col_provider": ("Provider", "提供方"),
    "calc.col_in": ("Input $/1M", "输入 $/百万"),
    "calc.col_out": ("Output $/1M", "输出 $/百万"),
    "calc.col_blended": ("Your mix $/1M", "按你的比例 $/百万"),
    "calc.col_per_1k": ("$ per 1,000 requests", "每千次请求 $"),
    "calc.price_source": (
        "API list prices: {source}, snapshot of {date}. Self-hosted: the estimate above.",
        "API 标价来源：{source}，快照日期 {date}。自托管：即上方估算。",
    ),
    "calc.working": ("The working, step by step", "逐步计算过程"),
    "calc.how_train": (
        "- **Compute** = 6 × N × D FLOPs (N parameters, D tokens; 2N forward + 4N backward per token — Kaplan et al. 2020).\n"
        "- **GPU-hours** = FLOPs ÷ (peak FLOP/s per GPU × MFU) ÷ 3,600. Peak = the GPU's dense bf16 tensor rate "
        "(datasheet, via Epoch AI's hardware database).\n"
        "- **Wall-clock** = GPU-hours ÷ GPUs ÷ 24.\n"
        "- **Cost (cloud)** = GPU-hours × $/GPU-hour (median 2025 on-demand price, Epoch AI).\n"
        "- **Cost (owned)** = GPU-hours × (purchase ÷ (years × 8,760 h × hours in use) + TDP kW × PUE × $/kWh).\n"
        "- **Fine-tuning**: full = 6ND; LoRA/QLoRA ≈ (4 + 2f)·N·D with f the adapter share. Memory: full 16 bytes "
        "per parameter (Adam, ZeRO paper); LoRA 2 bytes (bf16 base) and QLoRA 0.5 bytes (4-bit base) + 16 per adapter "
        "parameter; activations excluded.\n"
        "- **Compute-optimal data** ≈ 20 tokens per parameter (Hoffmann et al. 2022).",
        "- **计算量** = 6 × N × D FLOPs（N 为参数量，D 为 token 数；每个 token 前向 2N、反向 4N —— Kaplan 等，2020）。\n"
        "- **GPU 小时** = 计算量 ÷（单卡峰值 FLOP/s × MFU）÷ 3600。峰值取 GPU 的稠密 bf16 张量算力（厂商规格书，"
        "经 Epoch AI 硬件数据库）。\n"
        "- **实际耗时** = GPU 小时 ÷ GPU 数 ÷ 24。\n"
        "- **成本（云）** = GPU 小时 × 每 GPU 小时价格（Epoch AI 2025 年按需价格中位数）。\n"
        "- **成本（自购）** = GPU 小时 ×（购买价 ÷（折旧年限 × 8760 小时 × 使用率）+ 功耗 kW × PUE × 电价）。\n"
        "- **微调**：全参数 = 6ND；LoRA/QLoRA ≈ (4 + 2f)·N·D，f 为适配器参数占比。显存：全参数每参数 16 字节"
        "（Adam，ZeRO 论文）；LoRA 底座 2 字节（bf16）、QLoRA 底座 0.5 字节（4 位），适配器参数每个 16 字节；不含激活值。\n"
        "- **计算最优数据量** ≈ 每个参数 20 个 token（Hoffmann 等，2022）。",
    ),
    "calc.how_serve": (
        "- **Weights** = parameters × bytes (bf16 2, fp8/int8 1, int4 0.5).\n"
        "- **KV cache** = 2 × layers × KV heads × head dim × context × batch × bytes.\n"
        "- **Fits** when weights + KV ≤ 90% of one GPU's memory; otherwise GPUs = ⌈total ÷ 90% of one GPU⌉.\n"
        "- **Prefill** (reading the prompt) is compute-bound: tokens/s = peak FLOP/s × 50% ÷ (2N).\n"
        "- **Decode** (writing the answer) reads all weights and the KV cache every step: step time = max(bytes ÷ "
        "(bandwidth × 70%), batch × 2N ÷ (peak × 50%)); output tokens/s = batch ÷ step time (the roofline, Williams "
        "et al. 2009; Pope et al. 2022). Small batches are memory-bound, so batching is nearly free until compute binds.\n"
        "- **$ per 1M output tokens** = $/GPU-hour ÷ (tokens/s × 3,600 × utilisation) × 10⁶.",
        "- **权重显存** = 参数量 × 每参数字节数（bf16 为 2，fp8/int8 为 1，int4 为 0.5）。\n"
        "- **KV 缓存** = 2 × 层数 × KV 头数 × 头维度 × 上下文长度 × 批大小 × 字节数。\n"
        "- 权重 + KV ≤ 单卡显存的 90% 即**放得下**；否则所需 GPU = ⌈总量 ÷ 单卡 90% 显存⌉。\n"
        "- **预填充**（读取提示）受算力限制：token/s = 峰值 FLOP/s × 50% ÷ (2N)。\n"
        "- **解码**（生成回答）每一步都要读取全部权重和 KV 缓存：单步耗时 = max(字节数 ÷（带宽 × 70%），批大小 × 2N ÷"
        "（峰值 × 50%））；输出 token/s = 批大小 ÷ 单步耗时（Roofline 模型，Williams 等 2009；Pope 等 2022）。"
        "小批量受显存带宽限制，因此在算力饱和前，增大批量几乎不增加成本。\n"
        "- **每百万输出 token 成本** = 每 GPU 小时价格 ÷（token/s × 3600 × 利用率）× 10⁶。",
    ),
    # shared
    "calc.month": ("Month", "月份"),
    "calc.months": ("Plan length (months)", "测算期（月）"),
    "calc.n_months": ("{n} mo", "{n} 个月"),
    "calc.never_short": ("never", "未实现"),
    "calc.current_inputs": ("Current inputs", "当前输入"),
    "calc.used": ("Copied into the business model.", "已填入商业模式。"),
    "calc.job": ("Job", "任务类型"),
    "calc.job_help": (
        "Pre-training from scratch, or fine-tuning an existing model (full, LoRA, QLoRA).",
        "从零预训练，或微调已有模型（全参数、LoRA、QLoRA）。",
    ),
    "calc.job_pretrain": ("Pre-train", "预训练"),
    "calc.job_full": ("Full fine-tune", "全参数微调"),
    "calc.job_lora": ("LoRA", "LoRA 微调"),
    "calc.job_qlora": ("QLoRA", "QLoRA 微调"),
    "calc.owned": ("We own the GPUs", "GPU 为自有设备"),
    "calc.owned_help": (
        "Cost = purchase price spread over its life + electricity, instead of cloud rental.",
        "成本 = 购置价按使用年限分摊 + 电费，而不是云上租金。",
    ),
    "calc.self_hosted": ("Self-hosted on {gpu}", "自托管（{gpu}）"),
    # unit economics
    "calc.users": ("Active users", "活跃用户数"),
    "calc.users_help": (
        "People using the product in a month (default 1,000, illustrative).",
        "每月使用产品的人数（默认 1,000，为示意值）。",
    ),
    "calc.requests_day": ("Requests per user per day", "每位用户每天请求次数"),
    "calc.curve_max": ("Curve up to (users)", "曲线最大用户数"),
    "calc.units_from_serving": (
        "Tokens per request, the GPU, batch and utilisation come from the Serving tab; team, "
        "fixed and training costs from Business model, as the P&L uses them (training spread "
        "over 24 months). The Training tab's button copies its estimate there.",
        "每次请求的 token 数、GPU、批大小和利用率取自“推理部署”页；团队、固定与训练成本取自“商业模式”页，"
        "与损益表一致（训练成本分 24 个月摊销）。“训练”页的按钮可将其估算填入该处。",
    ),
    "calc.monthly_tokens": ("Tokens per month", "每月 token 数"),
    "calc.gpus_provisioned": ("GPUs provisioned", "需配置 GPU"),
    "calc.busy": ("{pct} busy", "忙碌 {pct}"),
    "calc.monthly_serving": ("Serving cost per month", "每月推理成本"),
    "calc.serving_per_user": ("Serving cost per user", "每用户推理成本"),
    "calc.per_1k_req": ("{v} per 1,000 requests", "每千次请求 {v}"),
    "calc.use_seat_cost": ("Use {v}/user as the serving cost per seat", "将 {v}/用户 设为每席位推理成本"),
    "calc.use_token_cost": ("Use {v} per 1M tokens as the API serving cost", "将每百万 token {v} 设为 API 推理成本"),
    "calc.total_per_user": ("All costs per user", "每用户总成本"),
    "calc.serving_only": ("Serving only", "仅推理成本"),
    "calc.scale_chart": (
        "Cost per user per month as you grow (economies of scale)",
        "随用户增长的每用户月成本（规模经济）",
    ),
    "calc.usd_per_user_month": ("$ per user per month", "每用户每月（美元）"),
    # business model
    "calc.sec_subscription": ("Subscription (seats)", "订阅（按席位）"),
    "calc.sec_api": ("API (per token)", "API（按 token 计费）"),
    "calc.sec_services": ("Data & enterprise services", "数据与企业服务"),
    "calc.sec_costs": ("Company costs", "公司成本"),
    "calc.model_subscription": ("Subscription", "订阅"),
    "calc.model_api": ("API", "API"),
    "calc.model_services": ("Services", "企业服务"),
    "calc.models_on": ("Revenue streams", "收入来源"),
    "calc.seats_start": ("Seats in month 1", "首月席位数"),
    "calc.seat_price": ("Price per seat per month ($)", "每席位月费（美元）"),
    "calc.growth": ("New per month, share of current", "每月新增占比"),
    "calc.churn": ("Churn per month", "月流失率"),
    "calc.cac_seat": ("Acquisition cost per seat ($)", "每席位获客成本（美元）"),
    "calc.cac_help": (
        "Sales and marketing spend to win one seat (CAC). The default $90 is illustrative.",
        "赢得一个席位所需的销售与营销支出（CAC）。默认 90 美元为示意值。",
    ),
    "calc.serving_seat": ("Serving cost per seat per month ($)", "每席位每月推理成本（美元）"),
    "calc.serving_seat_help": (
        "From the Unit economics tab (a button there copies it here).",
        "来自“单位经济”页（可在该页一键填入）。",
    ),
    "calc.serving_tokens_help": (
        "Our cost to serve 1M tokens, from the Unit economics tab (a button there copies it here).",
        "我方每百万 token 的推理成本，来自“单位经济”页（可在该页一键填入）。",
    ),
    "calc.api_price": ("Price per 1M tokens ($)", "每百万 token 售价（美元）"),
    "calc.customers_start": ("API customers in month 1", "首月 API 客户数"),
    "calc.tokens_customer": ("Tokens per customer per month", "每客户每月 token 数"),
    "calc.cac_customer": ("Acquisition cost per customer ($)", "每客户获客成本（美元）"),
    "calc.serving_tokens": ("Our serving cost per 1M tokens ($)", "每百万 token 推理成本（美元）"),
    "calc.contracts": ("Contracts per quarter", "每季度合同数"),
    "calc.contract_value": ("Contract value ($)", "合同金额（美元）"),
    "calc.delivery": ("Delivery cost, % of value", "交付成本（占合同额比例）"),
    "calc.growth_q": ("Contract growth per quarter", "合同数季度增长"),
    "calc.cash": ("Starting cash ($)", "初始现金（美元）"),
    "calc.team": ("Team cost per month ($)", "团队月成本（美元）"),
    "calc.team_growth": ("Team cost growth per month", "团队成本月增长"),
    "calc.other_fixed": ("Other fixed costs per month ($)", "其他固定月成本（美元）"),
    "calc.training_one_off": ("Training, one-off in month 1 ($)", "训练费用（首月一次性，美元）"),
    "calc.break_even": ("Break-even", "盈亏平衡"),
    "calc.break_even_help": (
        "First month whose profit (after all costs) is zero or more.",
        "首个当月利润（扣除全部成本后）≥ 0 的月份。",
    ),
    "calc.payback": ("Payback", "投资回收"),
    "calc.payback_help": (
        "First month in which everything spent since month 1 has been earned back.",
        "自第 1 个月以来的全部投入首次全部收回的月份。",
    ),
    "calc.runway": ("Cash runway", "现金跑道"),
    "calc.runway_ok": ("lasts the plan", "撑满测算期"),
    "calc.runway_help": ("Months before the cash first goes below zero.", "现金首次跌破零之前的月数。"),
    "calc.cash_end": ("Cash at the end", "期末现金"),
    "calc.ltv": ("LTV {v}", "LTV {v}"),
    "calc.ltv_help": (
        "LTV = margin per seat ÷ monthly churn; above ~3× CAC is the usual rule of thumb.",
        "LTV = 每席位毛利 ÷ 月流失率；通常认为 LTV 高于 CAC 的 3 倍较为健康。",
    ),
    "calc.cac_payback": ("CAC payback", "获客成本回收期"),
    "calc.cash_out": (
        "Cash runs out in month {month}: raise money, cut costs or grow faster.",
        "现金将在第 {month} 个月耗尽：需要融资、削减成本或加快增长。",
    ),
    "calc.revenue_chart": ("Monthly revenue by stream, and total costs", "各来源月收入与总成本"),
    "calc.total_costs": ("Total costs", "总成本"),
    "calc.cash_chart": ("Cash over time", "现金变化"),
    "calc.break_even_at": ("break-even, month {month}", "盈亏平衡：第 {month} 个月"),
    "calc.pnl_table": ("Monthly P&L table", "月度损益表"),
    # price war
    "calc.our_price": ("Our price per unit ($)", "我方单价（美元）"),
    "calc.our_price_help": (
        "A unit is whatever you sell: e.g. 1M tokens or a seat-month.",
        "单位即你销售的计量单位，例如每百万 token 或每席位月。",
    ),
    "calc.cut": ("Competitor cuts its price by", "竞争对手降价幅度"),
    "calc.cut_month": ("… in month", "降价发生在第几个月"),
    "calc.unit_cost": ("Our cost per unit ($)", "我方单位成本（美元）"),
    "calc.market_units": ("Market volume (units per month)", "市场规模（每月单位数）"),
    "calc.base_share": ("Our market share today", "当前市场份额"),
    "calc.elasticity": ("Price sensitivity of share", "份额价格敏感度"),
    "calc.elasticity_help": (
        "How strongly buyers switch to the cheaper offer: 0 = not at all, 2 = a 10% price gap moves "
        "the odds of choosing us by about 20%. The default 2 is illustrative: estimate yours from "
        "past price changes or customer interviews.",
        "买家转向更便宜一方的程度：0 表示完全不转，2 表示 10% 的价差会让选择我们的几率变化约 20%。"
        "默认值 2 为示意值：请根据以往调价效果或客户访谈估计。",
    ),
    "calc.market_elasticity": ("Price sensitivity of total demand", "总需求价格敏感度"),
    "calc.market_elasticity_help": (
        "0: the market does not grow when prices fall; 1: 10% cheaper, ~10% more volume.",
        "0 表示降价不会扩大市场；1 表示价格降 10%，需求约增 10%。",
    ),
    "calc.undercut": ("Undercut by (if we undercut)", "若选择压价，低于对手的幅度"),
    "calc.lag": ("Our reaction delay (months)", "我方反应滞后（月）"),
    "calc.resp_hold": ("Hold our price", "维持价格"),
    "calc.resp_match": ("Match theirs", "跟随降价"),
    "calc.resp_undercut": ("Undercut them", "低价反击"),
    "calc.final_share": ("share at the end {v}", "期末份额 {v}"),
    "calc.margin_total_help": (
        "Total margin over the plan: volume × (our price − unit cost).",
        "测算期内总毛利：销量 ×（我方价格 − 单位成本）。",
    ),
    "calc.best_response": ("Most margin over the plan: **{response}**.", "测算期内毛利最高的应对：**{response}**。"),
    "calc.price_chart": ("Prices", "价格走势"),
    "calc.competitor": ("Competitor", "竞争对手"),
    "calc.margin_chart": ("Cumulative margin", "累计毛利"),
    "calc.share_chart": ("Our market share", "我方市场份额"),
    # market
    "calc.companies": ("Potential customer companies", "潜在客户企业数"),
    "calc.companies_help": ("Companies anywhere that could use this kind of product.", "可能使用此类产品的企业总数。"),
    "calc.spend": ("Spend per company per year ($)", "每家企业年支出（美元）"),
    "calc.spend_help": ("What one company spends a year on this kind of product.", "一家企业每年在此类产品上的支出。"),
    "calc.serviceable": ("Serviceable share (SAM)", "可服务比例（SAM）"),
    "calc.serviceable_help": (
        "The segments, regions and languages we can actually sell to.",
        "我们实际能覆盖的细分市场、地区和语言。",
    ),
    "calc.obtainable": ("Obtainable share (SOM)", "可获得比例（SOM）"),
    "calc.obtainable_help": (
        "The share of SAM we can realistically win in a few years.",
        "未来几年内可实际赢得的 SAM 份额。",
    ),
    "calc.per_year": ("per year", "每年"),
    "calc.customers_n": ("≈ {n} customers", "约 {n} 家客户"),
    "calc.funnel": ("TAM → SAM → SOM", "TAM → SAM → SOM"),
    "calc.plan_vs_som": (
        "Your plan's revenue in its last 12 months is {revenue}: {pct} of the obtainable market (SOM).",
        "按当前计划，最后 12 个月收入为 {revenue}，占可获得市场（SOM）的 {pct}。",
    ),
    # risk
    "calc.risk_metric": ("Result to test", "分析指标"),
    "calc.metric_break_even_month": ("Break-even month", "盈亏平衡月份"),
    "calc.metric_payback_month": ("Payback month", "投资回收月份"),
    "calc.metric_cash_at_end": ("Cash at the end", "期末现金"),
    "calc.swing": ("Swing of each input", "各输入浮动幅度"),
    "calc.swing_help": (
        "Each input is moved this much down and up (sensitivity), and drawn within that range (Monte Carlo).",
        "敏感性分析中每项输入上下浮动的幅度；蒙特卡洛模拟也在此范围内抽样。",
    ),
    "calc.within": ("Break even within (months)", "在多少个月内盈亏平衡"),
    "calc.draws": ("Monte Carlo draws", "蒙特卡洛抽样次数"),
    "calc.no_drivers": ("No inputs to vary: switch on a revenue stream.", "没有可变动的输入：请至少启用一种收入来源。"),
    "calc.input_low": ("input −{pct}", "输入 −{pct}"),
    "calc.input_high": ("input +{pct}", "输入 +{pct}"),
    "calc.tornado": ("What moves the {metric} most", "对“{metric}”影响最大的因素"),
    "calc.censored": ("A bar reaching {n} means: not within the plan.", "条形到达 {n} 表示测算期内未实现。"),
    "calc.run_mc": ("Run {n} simulations", "运行 {n} 次模拟"),
    "calc.mc_hint": (
        "Monte Carlo draws every uncertain input from its range at once and shows how often the plan breaks even.",
        "蒙特卡洛模拟同时在各自范围内随机抽取所有不确定输入，统计计划实现盈亏平衡的概率。",
    ),
    "calc.mc_stale": ("Inputs changed since this simulation: run it again.", "输入已变更，请重新运行模拟。"),
    "calc.p_within": ("P(break-even ≤ {n} months)", "{n} 个月内盈亏平衡概率"),
    "calc.mc_cash": (
        "Cash runs out in {p} of the draws; no break-even within the plan in {never}.",
        "{p} 的模拟中现金耗尽；{never} 的模拟在测算期内未实现盈亏平衡。",
    ),
    "calc.mc_chart": ("Break-even month across {n} draws", "{n} 次模拟的盈亏平衡月份分布"),
    # compare & export
    "calc.compare_pick": ("Scenarios to compare", "要对比的情景"),
    "calc.bad_saved": ("“{name}” could not be read: {error}", "无法读取“{name}”：{error}"),
    "calc.col_scenario": ("Scenario", "情景"),
    "calc.revenue_last": ("Revenue in the last month", "最后一个月收入"),
    "calc.training_cost": ("Training cost (in the P&L)", "训练成本（损益表所用）"),
    "calc.dl_csv": ("Download P&L (CSV)", "下载损益表（CSV）"),
    "calc.dl_xlsx": ("Download comparison (Excel)", "下载对比表（Excel）"),
    "calc.sheet_compare": ("Comparison", "对比"),
    "calc.investor": ("Investor summary", "投资人摘要"),
    "calc.investor_help": (
        "One page with the key numbers, assumptions and charts of the current inputs.",
        "一页纸：当前输入的关键数字、假设和图表。",
    ),
    "calc.dl_md": ("Download summary (Markdown)", "下载摘要（Markdown）"),
    "calc.prepare_docx": ("Prepare a Word version with charts", "生成带图表的 Word 版"),
    "calc.dl_docx": ("Download summary (Word)", "下载摘要（Word）"),
    "calc.preview": ("Preview", "预览"),
    "calc.sum_title": ("{name}: AI business plan", "{name}：AI 业务测算"),
    "calc.sum_subtitle": ("AI Business Studio · Cost & market calculator", "AI 商业工作室 · 成本与市场测算"),
    "calc.sum_note": (
        "Estimates from the stated assumptions; GPU prices from Epoch AI, API prices from a dated snapshot.",
        "以上为基于所列假设的估算；GPU 价格来自 Epoch AI，API 价格来自注明日期的快照。",
    ),
    "calc.sum_key_numbers": ("Key numbers", "关键数字"),
    "calc.sum_assumptions": ("Assumptions", "主要假设"),
    "calc.sum_by_quarter": ("By quarter", "按季度"),
    "calc.sum_quarter": ("Quarter", "季度"),
    "calc.sum_revenue": ("Revenue", "收入"),
    "calc.sum_costs": ("Costs", "成本"),
    "calc.sum_net": ("Net", "净利润"),
    "calc.sum_cumulative_cash": ("Cash", "现金"),
    "calc.sum_monthly": ("Monthly revenue and costs (k$)", "每月收入与成本（千美元）"),
    "calc.sum_cash_curve": ("Cash (k$)", "现金（千美元）"),
    "calc.sum_month": ("Month", "月份"),
    # calibration
    "calc.calibration_help": (
        "Published training runs next to this calculator's estimate: the implied MFU is what each "
        "run actually achieved (6·N·D ÷ reported GPU-hours ÷ peak).",
        "公开训练记录与本计算器估算的对比：隐含 MFU 即各次训练的实际算力利用率（6·N·D ÷ 报告 GPU 小时 ÷ 峰值）。",
    ),
    "calc.col_reported_h": ("Reported GPU-hours", "报告 GPU 小时"),
    "calc.col_estimated_h": ("Our estimate", "本计算器估算"),
    "calc.col_ratio": ("Estimate ÷ reported", "估算 ÷ 报告"),
    "calc.col_implied": ("Implied MFU", "隐含 MFU"),
    "calc.col_source": ("Source", "来源"),
    "calc.implied_chart": ("MFU the published runs achieved", "公开训练的实际 MFU"),
    "calc.assumed": ("assumed {v}", "假设值 {v}"),
    "calc.calibration_note": (
        "Peaks are dense bf16/fp16 tensor rates; V100 runs (GPT-3) used fp16. The default MFU is "
        "not fitted to these rows: it comes from the published MFU figures named under Training.",
        "峰值为稠密 bf16/fp16 张量算力；V100（GPT-3）为 fp16。默认 MFU 并非按这些数据拟合，"
        "而是来自“训练”页注明的公开 MFU 数据。",
    ),
    "calc.sources_english": ("Sources are quoted in their original English.", "来源按原文（英文）引用。"),
    "calc.how_units": (
        "- **Requests per month** = users × requests per user per day × 30.4.\n"
        "- **Busy GPUs** = (prompt tokens ÷ prefill tokens/s + output tokens ÷ decode tokens/s) ÷ seconds in a month "
        "(speeds from the Serving tab).\n"
        "- **GPUs** = ⌈busy ÷ (target utilisation × GPUs per copy)⌉ × GPUs per copy: whole GPUs, so the cost per user "
        "falls in steps.\n"
        "- **Serving cost** = GPUs × 730 h × $/GPU-hour. **All costs per user** = (serving + team + fixed + training ÷ 24) ÷ users.",
        "- **每月请求数** = 用户数 × 每用户每天请求次数 × 30.4。\n"
        "- **忙碌 GPU** =（提示 token ÷ 预填充 token/s + 输出 token ÷ 解码 token/s）÷ 每月秒数（速度来自“推理部署”页）。\n"
        "- **GPU 数** = ⌈忙碌 GPU ÷（目标利用率 × 每份模型 GPU 数）⌉ × 每份模型 GPU 数：GPU 按整块计，因此每用户成本呈阶梯下降。\n"
        "- **推理成本** = GPU 数 × 730 小时 × 每 GPU 小时价格。**每用户总成本** =（推理 + 团队 + 固定 + 训练 ÷ 24）÷ 用户数。",
    ),
    "calc.how_business": (
        "- **Seats / customers**: month 1 = the starting number; then new = last month × growth, and "
        "this month = last month × (1 − churn) + new.\n"
        "- **Revenue** = seats × seat price + API customers × tokens ÷ 1M × price + contracts × value ÷ 3 (per month).\n"
        "- **Gross profit** = revenue − serving cost − services delivery cost.\n"
        "- **Net** = gross profit − team − other fixed − acquisition (new × CAC) − training (month 1).\n"
        "- **Cash** = starting cash + the sum of net so far. **LTV** = (price − serving cost) ÷ churn; "
        "**CAC payback** = CAC ÷ monthly margin per seat (D. Skok, SaaS Metrics 2.0).",
        "- **席位/客户**：第 1 个月为初始数量；之后新增 = 上月 × 增长率，本月 = 上月 ×（1 − 流失率）+ 新增。\n"
        "- **收入** = 席位 × 席位价格 + API 客户 × token 数 ÷ 100 万 × 单价 + 合同数 × 金额 ÷ 3（按月）。\n"
        "- **毛利** = 收入 − 推理成本 − 服务交付成本。\n"
        "- **净利润** = 毛利 − 团队 − 其他固定成本 − 获客成本（新增 × CAC）− 训练（第 1 个月）。\n"
        "- **现金** = 初始现金 + 累计净利润。**LTV** =（价格 − 推理成本）÷ 流失率；**CAC 回收期** = CAC ÷ 每席位月毛利"
        "（D. Skok《SaaS Metrics 2.0》）。",
    ),
    "calc.how_war": (
        "- **Competitor**: its price drops by the cut from the chosen month.\n"
        "- **Our response**: hold (keep our price), match (their price, after our reaction delay) or undercut "
        "(theirs minus the undercut); never below our unit cost.\n"
        "- **Share** (logit): odds = today's odds × (relative price ÷ today's relative price)^(−sensitivity); "
        "share = odds ÷ (1 + odds).\n"
        "- **Market volume** = today's volume × (average price ÷ today's)^(−demand sensitivity).\n"
        "- **Margin** = our volume × (our price − unit cost).",
        "- **竞争对手**：自所选月份起按降价幅度降价。\n"
        "- **我方应对**：维持（价格不变）、跟随（反应滞后后采用对方价格）或压价（对方价格再减压价幅度）；不低于我方单位成本。\n"
        "- **份额**（Logit 模型）：几率 = 当前几率 ×（相对价格 ÷ 当前相对价格）^(−敏感度)；份额 = 几率 ÷（1 + 几率）。\n"
        "- **市场总量** = 当前总量 ×（平均价格 ÷ 当前平均价格）^(−需求敏感度)。\n"
        "- **毛利** = 我方销量 ×（我方价格 − 单位成本）。",
    ),
    "calc.how_market": (
        "- **TAM** = companies × spend per company per year.\n- **SAM** = TAM × serviceable share.\n"
        "- **SOM** = SAM × obtainable share. All three are yearly; every assumption is an input above.",
        "- **TAM** = 企业数 × 每家企业年支出。\n- **SAM** = TAM × 可服务比例。\n"
        "- **SOM** = SAM × 可获得比例。三者均为年度数值，所有假设都是上方的输入项。",
    ),
    "calc.how_risk": (
        "- **Sensitivity (tornado)**: each input alone moved down and up by the swing, everything else unchanged; "
        "bars show the result at each end, largest effect first.\n"
        "- **Monte Carlo**: every input drawn at once from a triangular distribution between −swing and +swing, "
        "peaking at your value; the monthly P&L is run for every draw (vectorised, seeded so it repeats). "
        "P10 / P50 / P90: 10% / 50% / 90% of draws break even by that month. The chance of breaking even within N "
        "months counts the draws that break even in month N or earlier; N is at most the plan's length, and a draw "
        "that never breaks even within the plan never counts.",
        "- **敏感性分析（龙卷风图）**：每次只让一个输入按浮动幅度上下变动，其余不变；条形显示两端的结果，影响最大的排在最前。\n"
        "- **蒙特卡洛模拟**：所有输入同时在 −浮动 与 +浮动 之间按三角分布抽样（峰值为你的输入值），每次抽样都运行完整的"
        "月度损益（向量化计算，固定随机种子可重复）。P10 / P50 / P90：分别有 10% / 50% / 90% 的模拟在该月前实现盈亏平衡。"
        "“N 个月内盈亏平衡概率”统计在第 N 个月或更早实现盈亏平衡的模拟；N 最多为测算期长度，测算期内始终未实现盈亏平衡的模拟不计入。",
    ),
}

# -- the engine's messages (core.economics.messages: its English is there): errors, labels, and the
# working shown under results. Keep the {placeholders} the same as in the English.
ENGINE_CHINESE = {
    # field names, for messages such as "{what} cannot be negative"
    "calc.field.api_price": "API 价格",
    "calc.field.api_customers": "API 客户数",
    "calc.field.api_growth": "API 客户增长率",
    "calc.field.tokens_per_customer": "每客户 token 数",
    "calc.field.api_cac": "客户获客成本",
    "calc.field.api_serving_cost": "推理成本",
    "calc.field.seats": "席位数",
    "calc.field.seat_price": "席位价格",
    "calc.field.seat_growth": "席位增长率",
    "calc.field.seat_cac": "每席位获客成本",
    "calc.field.seat_serving_cost": "每席位推理成本",
    "calc.field.contracts": "每季度合同数",
    "calc.field.contract_value": "合同金额",
    "calc.field.contract_growth": "合同增长率",
    "calc.field.team": "团队成本",
    "calc.field.team_growth": "团队成本增长率",
    "calc.field.other_fixed": "其他固定成本",
    "calc.field.training_cost": "训练成本",
    "calc.field.starting_cash": "初始现金",
    "calc.field.api_churn": "API 客户流失率",
    "calc.field.seat_churn": "席位流失率",
    "calc.field.delivery": "交付成本",
    "calc.field.users": "用户数",
    "calc.field.requests_per_day": "每用户每天请求次数",
    "calc.field.input_tokens": "每次请求输入 token 数",
    "calc.field.output_tokens": "每次请求输出 token 数",
    "calc.field.user_counts": "用户数",
    "calc.field.companies": "企业数",
    "calc.field.spend": "每家企业支出",
    "calc.field.serviceable": "可服务比例",
    "calc.field.obtainable": "可获得比例",
    "calc.field.our_price": "我方价格",
    "calc.field.market_size": "市场规模",
    "calc.field.unit_cost": "单位成本",
    "calc.field.purchase": "每块 GPU 购买价",
    "calc.field.electricity": "电价",
    "calc.field.gpu_price": "每 GPU 小时价格",
    "calc.field.params": "参数量",
    "calc.field.tokens": "token 数",
    "calc.field.gpu_hours": "GPU 小时",
    "calc.field.batch": "批大小",
    "calc.field.context": "上下文长度",
    "calc.field.prompt_tokens": "提示 token 数",
    "calc.field.layers": "层数",
    "calc.field.kv_heads": "KV 头数",
    "calc.field.head_dim": "头维度",
    "calc.field.utilisation": "利用率",
    "calc.field.bandwidth_efficiency": "带宽效率",
    "calc.field.compute_efficiency": "算力效率",
    "calc.field.prefill_speed": "提示读取速度",
    "calc.field.decode_speed": "生成速度",
    "calc.field.slots": "并行槽位数",
    "calc.field.slot_scaling": "槽位扩展系数",
    "calc.field.machine_price": "每机器小时价格",
    "calc.field.conversations_per_day": "每天会话数",
    "calc.field.questions_per_conversation": "每次会话提问数",
    "calc.field.tier1_share": "标准答案占比",
    "calc.field.tier2_share": "生成回答占比",
    "calc.field.tier1_s": "标准答案耗时",
    "calc.field.tier3_s": "转人工耗时",
    "calc.field.overhead_s": "生成回答读取提示前的耗时",
    "calc.field.service_cv": "单次回答工作量的波动",
    "calc.field.clients": "客户端数",
    "calc.field.think_s": "思考时间",
    "calc.field.target_p90": "P90 目标",
    "calc.field.machines": "机器数",
    "calc.field.days": "天数",
    "calc.field.right_rate": "答对比例",
    "calc.field.handover_rate": "转人工比例",
    "calc.field.wrong_rate": "答错比例",
    "calc.field.person_cost": "人工处理每次会话的成本",
    "calc.field.wrong_cost": "一次答错的成本",
    "calc.field.conversation_serving_cost": "每次会话推理成本",
    "calc.field.written_per_conversation": "每次会话生成回答数",
    "calc.field.resolution_price": "每次解决的价格",
    "calc.field.resolution_customers": "按解决计费的客户数",
    "calc.field.resolution_growth": "按解决计费客户增长率",
    "calc.field.conversations_per_customer": "每客户会话数",
    "calc.field.resolution_cac": "按解决计费客户获客成本",
    "calc.field.resolution_churn": "按解决计费客户流失率",
    "calc.field.resolution_rate": "解决率",
    "calc.field.price_decline": "年价格降幅",
    "calc.field.cost_decline": "年成本降幅",
    "calc.field.competitor_decline": "竞争对手年价格降幅",
    # bounds
    "calc.bound.memory": "显存带宽",
    "calc.bound.compute": "算力",
    # sensitivity drivers
    "calc.driver.subscription.price_per_seat_month": "席位价格",
    "calc.driver.subscription.seats_start": "初始席位数",
    "calc.driver.subscription.growth_monthly": "席位月增长",
    "calc.driver.subscription.churn_monthly": "席位月流失率",
    "calc.driver.subscription.cac_per_seat": "每席位获客成本",
    "calc.driver.subscription.serving_cost_per_seat_month": "每席位推理成本",
    "calc.driver.api.price_per_million_tokens": "API 每百万 token 价格",
    "calc.driver.api.customers_start": "初始 API 客户数",
    "calc.driver.api.customer_growth_monthly": "API 客户增长",
    "calc.driver.api.churn_monthly": "API 客户流失率",
    "calc.driver.api.tokens_per_customer_month": "每客户 token 用量",
    "calc.driver.api.cac_per_customer": "每 API 客户获客成本",
    "calc.driver.api.serving_cost_per_million_tokens": "每百万 token 推理成本",
    "calc.driver.services.contracts_per_quarter": "每季度合同数",
    "calc.driver.services.contract_value": "合同金额",
    "calc.driver.services.delivery_cost_pct": "交付成本比例",
    "calc.driver.costs.team_monthly": "团队月成本",
    "calc.driver.costs.other_fixed_monthly": "其他固定成本",
    "calc.driver.costs.training_one_off": "训练成本",
    "calc.driver.costs.starting_cash": "初始现金",
    "calc.driver.resolution.price_per_resolution": "每次解决的价格",
    "calc.driver.resolution.customers_start": "初始按解决计费客户数",
    "calc.driver.resolution.customer_growth_monthly": "按解决计费客户增长",
    "calc.driver.resolution.churn_monthly": "按解决计费客户流失率",
    "calc.driver.resolution.conversations_per_customer_month": "每客户会话数",
    "calc.driver.resolution.resolution_rate": "解决率",
    "calc.driver.resolution.serving_cost_per_conversation": "每次会话推理成本",
    "calc.driver.resolution.cac_per_customer": "每个按解决计费客户的获客成本",
    "calc.driver.trend.price_decline_yearly": "年价格降幅",
    "calc.driver.trend.cost_decline_yearly": "年推理成本降幅",
    # errors and the working shown under results
    "calc.msg.negative": "{what}不能为负数",
    "calc.msg.not_number": "{what}必须是数字",
    "calc.msg.not_finite": "{what}必须是有限的数字",
    "calc.msg.positive": "{what}必须大于 0",
    "calc.msg.positive_number": "{what}必须是正数",
    "calc.msg.share_0_1": "{what}必须在 0 到 1 之间（0% 到 100%）",
    "calc.msg.share_open_closed": "{what}必须大于 0 且不超过 1",
    "calc.msg.whole_at_least_1": "{what}必须是不小于 1 的整数",
    "calc.msg.plan_months": "测算期必须是 1 到 {max} 个整月",
    "calc.msg.unknown_input": "未知的情景输入项 {path!r}",
    "calc.msg.unknown_kind": "kind 只能是 'operating' 或 'payback'，而不是 {kind!r}",
    "calc.msg.saved_not_number": "已保存情景的字段 {where} 应为数字，而不是 {value!r}",
    "calc.msg.saved_not_whole": "已保存情景的字段 {where} 应为整数，而不是 {value!r}",
    "calc.msg.saved_not_object": "已保存情景的字段 {where} 应为对象（键值结构）",
    "calc.msg.target_utilisation": "目标利用率必须大于 0 且不超过 1",
    "calc.msg.no_gpu_price": "{gpu} 没有每 GPU 小时价格：请填写",
    "calc.msg.fixed_training_negative": "固定成本和训练成本不能为负数",
    "calc.msg.amortise_months": "训练成本至少要分摊 1 个月",
    "calc.msg.no_user_counts": "请至少给出一个用户数",
    "calc.msg.cut_range": "竞争对手的降价幅度必须不小于 0% 且小于 100%",
    "calc.msg.cut_month": "降价月份必须是从 1 开始的整数",
    "calc.msg.no_competitor_prices": "请至少给出一个竞争对手价格",
    "calc.msg.competitor_prices": "竞争对手价格必须大于 0",
    "calc.msg.unknown_response": "未知的应对方式 {response!r}；可选：{choices}",
    "calc.msg.base_share": "当前市场份额必须在 0 和 1 之间（不含两端）",
    "calc.msg.elasticity_sign": "弹性以正数表示（数值越大，对价格越敏感）",
    "calc.msg.undercut_range": "压价幅度必须不小于 0% 且小于 100%",
    "calc.msg.response_lag": "反应滞后必须是 0 或以上的整月数",
    "calc.msg.war_months": "价格战测算期为 1 到 {max} 个月",
    "calc.msg.amortisation_years": "折旧年限必须大于 0 年",
    "calc.msg.pue": "PUE 至少为 1（1 表示所有电力都用于计算设备）",
    "calc.msg.hw_utilisation": "使用率必须在 0 到 1 之间（不含 0%，可为 100%）",
    "calc.msg.no_purchase_price": "目录中没有 {gpu} 的购买价；请填写每块 GPU 的价格",
    "calc.msg.mfu": "MFU 必须大于 0 且不超过 1（如 0.4 表示 40%）",
    "calc.msg.gpus": "GPU 数量必须是不小于 1 的整数",
    "calc.msg.unknown_method": "未知的微调方法 {method!r}；可选：{choices}",
    "calc.msg.adapter_fraction": "可训练（适配器）参数占比必须大于 0 且不超过 1，例如 0.01 表示 1%",
    "calc.msg.total_params": "总参数量不能少于激活参数量",
    "calc.msg.shape_partial": "层数、KV 头数和头维度要么全部填写，要么全部不填（不填则自动估算）",
    "calc.msg.tokens_per_request": "每次请求的 token 数必须大于 0",
    "calc.msg.unknown_metric": "未知的指标 {metric!r}；可选：{choices}",
    "calc.msg.swing": "浮动幅度必须大于 0 且小于 1（如 0.2 表示 ±20%）",
    "calc.msg.draws": "抽样次数必须是不小于 1 的整数",
    "calc.msg.within_months": "“在 N 个月内”的 N 必须是 1 到测算期长度（{months} 个月）之间的整数",
    "calc.msg.unknown_driver": "未知的不确定输入 {path!r}；可选：{choices}",
    "calc.msg.range_order": "{driver}的范围需要满足 下限 ≤ 上限",
    "calc.msg.range_outside": "{driver}的范围超出了可能的取值",
    "calc.msg.unknown_precision": "未知的精度 {precision!r}；可选：{choices}",
    "calc.msg.unknown_gpu": "未知的 GPU {name!r}；可选：{choices}",
    "calc.msg.no_saved": "没有名为 {name!r} 的已保存情景",
    "calc.msg.name_empty": "请为情景命名",
    "calc.msg.name_long": "情景名称最多 {max} 个字符",
    "calc.msg.name_control": "情景名称不能包含控制字符",
    "calc.msg.name_reserved": "“{name}”是计算器用于标示当前输入或对比表的名称：请换一个名称",
    "calc.msg.note_no_price": "目录中没有 {gpu} 的按需价格：请填写每 GPU 小时价格以计算成本。",
    "calc.msg.note_ft_memory": "权重和优化器状态约需 {memory} GB 显存：至少 {n} 块 {gpu}（每块 {gpu_gb} GB），尚不含激活值。",
    "calc.msg.work_memory_fits": "显存：权重 {weights} GB（{weight_params}B 参数 × {bytes} 字节）+ KV 缓存 {kv} GB（2 × {layers} 层 × {kv_heads} 个 KV 头 × {head_dim} 维 × {context} token × 批大小 {batch} × {kv_bytes} 字节）= {total} GB；一块 {gpu} 预留 10% 余量后可用 {usable} GB → 单卡放得下。",
    "calc.msg.work_memory_split": "显存：权重 {weights} GB（{weight_params}B 参数 × {bytes} 字节）+ KV 缓存 {kv} GB（2 × {layers} 层 × {kv_heads} 个 KV 头 × {head_dim} 维 × {context} token × 批大小 {batch} × {kv_bytes} 字节）= {total} GB；一块 {gpu} 预留 10% 余量后可用 {usable} GB → 需要 {n} 块 GPU。",
    "calc.msg.work_decode": "每个解码步骤以 {bandwidth} GB/s（峰值的 {bandwidth_pct}）读取 {total} GB，耗时 {memory_ms} 毫秒；批大小 {batch} 的计算在峰值 {compute_pct} 下耗时 {compute_ms} 毫秒 → 受{bound}限制，每块 GPU 每秒输出 {decode} 个 token，每个序列 {per_sequence} 个。",
    "calc.msg.work_prefill": "预填充受算力限制：每块 GPU 每秒处理 {prefill} 个提示 token；{prompt} token 的提示需等待 {ttft} 秒才出现首个 token。",
    "calc.msg.work_shape": "未填写层数、KV 头数和头维度：取自规模最接近的已知模型 {model}。",
    "calc.msg.work_no_price": "目录中没有 {gpu} 的按需价格：请填写每 GPU 小时价格以计算成本。",
    "calc.msg.work_cost": "按每 GPU 小时 ${rate}、利用率 {utilisation} 计算：每百万输出 token ${per_m_out}，每百万提示 token ${per_m_in}。",
    "calc.msg.bench_result": "这不是 `python -m core bench generate --json` 的结果：需要 long_prompt_tokens、long_prompt_ttft_ms 和 decode_tok_s",
    "calc.msg.unknown_curve": "未知的日内曲线 {curve!r}；可选：{choices}",
    "calc.msg.tier_shares": "标准答案与生成回答合计不能超过全部提问的 100%",
    "calc.msg.target_too_low": "即使机器空闲，生成回答的第一个字也要 {idle} 秒：请把 P90 目标设得更高",
    "calc.msg.too_many_machines": "需要超过 {max} 台机器：请检查流量和机器速度",
    "calc.msg.simulation_too_big": "需要模拟的生成回答超过 {max} 条：请减少模拟天数",
    "calc.msg.outcome_rates": "答对、转人工和答错的比例合计不能超过 100%",
    "calc.msg.decline_range": "{what}必须不小于 0% 且每年小于 100%",
    "calc.msg.tam_formula": "TAM = {companies} 家企业 × 每年 {spend} = {tam}",
    "calc.msg.sam_formula": "SAM = TAM {tam} × 可服务比例 {pct} = {sam}",
    "calc.msg.som_formula": "SOM = SAM {sam} × 可获得比例 {pct} = {som}（约 {customers} 家客户）",
}
STRINGS.update({key: (ENGLISH[key], zh) for key, zh in ENGINE_CHINESE.items()})

# -- help text for every input, and the finance-facing labels.
STRINGS.update(
    {
        # training and serving
        "calc.gpu_help": (
            "Specs and median on-demand price per GPU-hour from Epoch AI's hardware data (each row's "
            "datasheet and price source are in data/economics/gpus.csv).",
            "规格与每 GPU 小时按需价格中位数来自 Epoch AI 硬件数据（每一行的规格书与价格来源见 "
            "data/economics/gpus.csv）。",
        ),
        "calc.gpus_help": (
            "GPUs working together: more GPUs finish sooner; GPU-hours and cost stay the same (perfect "
            "scaling assumed, so real runs on many GPUs take somewhat longer).",
            "并行工作的 GPU 数量：GPU 越多完成越快，GPU 小时和成本不变（假设线性扩展，实际大规模并行会稍慢）。",
        ),
        "calc.years_help": (
            "Years the purchase price is spread over. The default 4 is illustrative (a common depreciation "
            "period for servers): use your accounting policy.",
            "购置价分摊的年数。默认 4 年为示意值（服务器常见折旧年限）：请按公司会计政策填写。",
        ),
        "calc.kwh_help": (
            "What you pay per kWh of electricity. The default $0.10 is illustrative: use your contract.",
            "每千瓦时电价。默认 0.10 美元为示意值：请按实际合同填写。",
        ),
        "calc.hw_util_help": (
            "Share of the year's hours the GPUs do useful work; the purchase price is spread over those "
            "hours only. The default 70% is illustrative.",
            "一年中 GPU 实际工作的时间比例；购置价只分摊到这些小时上。默认 70% 为示意值。",
        ),
        "calc.req_in_help": (
            "Prompt tokens per request: the question, chat history and any retrieved documents. The "
            "default 500 is illustrative: measure it in your logs.",
            "每次请求的提示 token 数：问题、对话历史及检索到的文档。默认 500 为示意值：请以日志实测为准。",
        ),
        "calc.req_out_help": (
            "Answer tokens per request. The default 300 is illustrative: measure it in your logs.",
            "每次请求的回答 token 数。默认 300 为示意值：请以日志实测为准。",
        ),
        "calc.layers_help": (
            "num_hidden_layers in the model's config.json; 0 = estimate the shape.",
            "模型 config.json 中的 num_hidden_layers；填 0 则自动估算结构。",
        ),
        "calc.kv_heads_help": (
            "num_key_value_heads in the model's config.json; 0 = estimate the shape.",
            "模型 config.json 中的 num_key_value_heads；填 0 则自动估算结构。",
        ),
        "calc.head_dim_help": (
            "head_dim in the model's config.json (else hidden_size ÷ num_attention_heads); 0 = estimate.",
            "模型 config.json 中的 head_dim（没有则为 hidden_size ÷ num_attention_heads）；填 0 则自动估算。",
        ),
        "calc.use_training_cost": (
            "Use {v} as the training cost in the business model",
            "将 {v} 设为商业模式中的训练成本",
        ),
        "calc.training_in_pnl": (
            "The P&L deducts the business model's training cost, now {v}; this estimate counts only once copied there.",
            "损益表扣除的是商业模式中的训练成本（当前为 {v}）；此估算只有填入该处后才会计入。",
        ),
        "calc.cost_amortisation": ("hardware amortisation", "硬件折旧"),
        "calc.cost_energy": ("energy", "电费"),
        "calc.cost_rental": ("GPU rental", "GPU 租金"),
        # unit economics
        "calc.requests_day_help": (
            "Requests (chat turns, API calls) one active user makes a day. The default 10 is "
            "illustrative: measure it in your logs.",
            "每位活跃用户每天的请求次数（对话轮次、API 调用）。默认 10 为示意值：请以日志实测为准。",
        ),
        "calc.curve_max_help": ("The largest user count the chart shows.", "图表显示的最大用户数。"),
        # business model
        "calc.stream_help": ("Switch this revenue stream on or off in the P&L.", "在损益表中启用或关闭这一收入来源。"),
        "calc.seats_start_help": (
            "Paying seats in month 1. The default 500 is illustrative, not a benchmark.",
            "第 1 个月的付费席位数。默认 500 为示意值，并非行业基准。",
        ),
        "calc.seat_price_help": (
            "What one seat pays a month. The default $30 is illustrative; for comparison, Microsoft "
            "365 Copilot lists at $30 per user per month.",
            "每个席位每月的费用。默认 30 美元为示意值；作为参照，Microsoft 365 Copilot 标价为每用户每月 30 美元。",
        ),
        "calc.seat_growth_help": (
            "New seats each month as a % of last month's seats. The default 12% is illustrative.",
            "每月新增席位占上月席位的比例。默认 12% 为示意值。",
        ),
        "calc.seat_churn_help": (
            "Share of seats lost each month; 1 ÷ churn is the average lifetime in months. The default "
            "3% is illustrative: use your own retention data.",
            "每月流失的席位比例；1 ÷ 流失率即平均生命周期（月）。默认 3% 为示意值：请使用自己的留存数据。",
        ),
        "calc.api_price_help": (
            "What customers pay per 1M tokens, input and output blended. Compare with the list prices "
            "on the Serving tab. The default $2 is illustrative.",
            "客户每百万 token（输入与输出综合）支付的价格，可与“推理部署”页的 API 标价对比。默认 2 美元为示意值。",
        ),
        "calc.customers_start_help": (
            "Paying API customers in month 1. The default 5 is illustrative.",
            "第 1 个月的付费 API 客户数。默认 5 为示意值。",
        ),
        "calc.api_growth_help": (
            "New API customers each month as a % of last month's. The default 10% is illustrative.",
            "每月新增 API 客户占上月客户数的比例。默认 10% 为示意值。",
        ),
        "calc.api_churn_help": (
            "Share of API customers lost each month. The default 2% is illustrative.",
            "每月流失的 API 客户比例。默认 2% 为示意值。",
        ),
        "calc.tokens_customer_help": (
            "Tokens (input + output) one API customer uses a month. The default 300M is illustrative.",
            "每位 API 客户每月使用的 token 数（输入 + 输出）。默认 3 亿为示意值。",
        ),
        "calc.cac_customer_help": (
            "Sales and marketing spend to win one API customer (CAC). The default $3,000 is illustrative.",
            "赢得一位 API 客户所需的销售与营销支出（CAC）。默认 3,000 美元为示意值。",
        ),
        "calc.contracts_help": (
            "Enterprise contracts (data work, fine-tuning, integration) signed each quarter; each is "
            "billed evenly over its quarter. The default 1 is illustrative.",
            "每季度签订的企业合同（数据处理、微调、系统集成）；每份合同在当季平均确认收入。默认 1 为示意值。",
        ),
        "calc.contract_value_help": (
            "Value of one contract. The default $45,000 is illustrative.",
            "单份合同金额。默认 45,000 美元为示意值。",
        ),
        "calc.delivery_help": (
            "Share of a contract's value spent delivering it (people, compute). The default 55% is illustrative.",
            "交付合同所花费用（人力、算力）占合同金额的比例。默认 55% 为示意值。",
        ),
        "calc.growth_q_help": (
            "Growth in contracts each quarter, as a % of the previous quarter's. The default 10% is illustrative.",
            "每季度合同数相对上一季度的增长率。默认 10% 为示意值。",
        ),
        "calc.cash_help": (
            "Cash in the bank at the start of month 1. The default $1.5M (a seed round) is illustrative.",
            "第 1 个月初的账上现金。默认 150 万美元（种子轮）为示意值。",
        ),
        "calc.team_help": (
            "Salaries and on-costs a month. The default $60,000 is illustrative: use your payroll.",
            "每月工资及相关费用。默认 60,000 美元为示意值：请按实际薪酬填写。",
        ),
        "calc.team_growth_help": (
            "How much the team cost grows each month (hiring, raises). The default 1% is illustrative.",
            "团队成本每月的增长（招聘、调薪）。默认 1% 为示意值。",
        ),
        "calc.other_fixed_help": (
            "Office, software and base infrastructure a month. The default $10,000 is illustrative.",
            "每月办公、软件和基础设施费用。默认 10,000 美元为示意值。",
        ),
        "calc.training_one_off_help": (
            "Deducted in month 1. This figure, not the Training tab's estimate, is what the P&L, "
            "Unit economics and the investor summary use; the Training tab's button copies its "
            "estimate here. The default $40,000 is illustrative.",
            "在第 1 个月扣除。损益表、单位经济和投资人摘要使用的是这里的数字，而不是“训练”页的估算；"
            "“训练”页的按钮可将估算填入此处。默认 40,000 美元为示意值。",
        ),
        "calc.months_help": (
            "How many months the P&L, the price war and the risk analysis cover (1–120).",
            "损益表、价格战和风险分析覆盖的月数（1–120）。",
        ),
        # price war
        "calc.cut_help": (
            "How much the competitor cuts its price, as a % of today's price.",
            "竞争对手降价的幅度（占当前价格的比例）。",
        ),
        "calc.cut_month_help": ("The month the competitor's cut takes effect.", "竞争对手降价生效的月份。"),
        "calc.unit_cost_help": (
            "What one unit costs us to deliver, e.g. the serving cost per 1M tokens; we never price below it.",
            "我方交付一个单位的成本，例如每百万 token 的推理成本；我方定价不会低于它。",
        ),
        "calc.market_units_help": (
            "Units the whole market buys a month at today's prices.",
            "按当前价格，整个市场每月购买的单位数。",
        ),
        "calc.base_share_help": (
            "Our share of the market's units today, before the price war.",
            "价格战之前我方在市场中的份额。",
        ),
        "calc.undercut_help": (
            "If we undercut: how far below the competitor's price we go.",
            "若选择压价：我方价格低于对手的幅度。",
        ),
        "calc.lag_help": (
            "Months before we react to their cut (0 = in the same month).",
            "我方对降价作出反应前的月数（0 表示当月即反应）。",
        ),
        # risk
        "calc.risk_metric_help": ("The result the tornado chart tests.", "龙卷风图分析的结果指标。"),
        "calc.within_help": (
            "The chance shown is the share of simulations that break even in this month or earlier. At "
            "most the plan's length ({n} months); a simulation that never breaks even within the plan "
            "never counts.",
            "显示的概率为在该月或更早实现盈亏平衡的模拟所占比例。最多为测算期长度（{n} 个月）；"
            "测算期内未实现盈亏平衡的模拟不计入。",
        ),
        "calc.draws_help": (
            "Simulations to run: more give steadier percentages (10,000 take well under a second).",
            "模拟次数：次数越多，百分比越稳定（10,000 次用时远少于 1 秒）。",
        ),
        # compare & summary
        "calc.compare_help": (
            "Saved scenarios (sidebar) next to the current inputs.",
            "已保存的情景（侧边栏）与当前输入并列对比。",
        ),
        "calc.saved_label": ("{name} (saved)", "{name}（已保存）"),
        "calc.col_serving_estimate": ("Serving estimate, $ per 1M output tokens", "推理估算：每百万输出 token 成本"),
        "calc.sum_gross_margin": ("Gross margin, last month", "毛利率（最后一个月）"),
        "calc.sum_mc_p50": ("Break-even, median of {n} simulations (P50)", "盈亏平衡月份（{n} 次模拟的中位数，P50）"),
        "calc.sum_tam": ("TAM (per year)", "TAM（每年）"),
        "calc.sum_som": ("SOM (per year)", "SOM（每年）"),
        "calc.sum_training_pnl": ("Training cost (in the P&L, month 1)", "训练成本（计入损益表，第 1 个月）"),
        "calc.sum_serving_seat": ("Serving cost per seat per month (in the P&L)", "每席位每月推理成本（计入损益表）"),
        "calc.sum_serving_tokens": (
            "Serving cost per 1M API tokens (in the P&L)",
            "每百万 API token 推理成本（计入损益表）",
        ),
        "calc.sum_estimates": ("Estimates (not in the P&L)", "估算（未计入损益表）"),
        "calc.sum_training_estimate": (
            "Training tab estimate (in the P&L only if copied there)",
            "“训练”页估算（填入商业模式后才计入损益表）",
        ),
        "calc.sum_serving_estimate": (
            "Serving tab estimate, $ per 1M output tokens",
            "“推理部署”页估算：每百万输出 token 成本",
        ),
        "calc.sum_break_even_at": ("Break-even: month {month}", "盈亏平衡：第 {month} 个月"),
        # the P&L table's columns
        "calc.pnl.month": ("Month", "月份"),
        "calc.pnl.seats": ("Seats", "席位数"),
        "calc.pnl.new_seats": ("New seats", "新增席位"),
        "calc.pnl.api_customers": ("API customers", "API 客户数"),
        "calc.pnl.new_api_customers": ("New API customers", "新增 API 客户"),
        "calc.pnl.contracts_per_quarter": ("Contracts per quarter", "每季度合同数"),
        "calc.pnl.revenue_subscription": ("Subscription revenue", "订阅收入"),
        "calc.pnl.revenue_api": ("API revenue", "API 收入"),
        "calc.pnl.revenue_services": ("Services revenue", "服务收入"),
        "calc.pnl.revenue": ("Revenue", "总收入"),
        "calc.pnl.serving_cost": ("Serving cost", "推理成本"),
        "calc.pnl.delivery_cost": ("Delivery cost", "交付成本"),
        "calc.pnl.gross_profit": ("Gross profit", "毛利"),
        "calc.pnl.gross_margin": ("Gross margin", "毛利率"),
        "calc.pnl.team": ("Team", "团队成本"),
        "calc.pnl.other_fixed": ("Other fixed costs", "其他固定成本"),
        "calc.pnl.acquisition": ("Acquisition (CAC)", "获客成本（CAC）"),
        "calc.pnl.training": ("Training", "训练成本"),
        "calc.pnl.opex": ("Operating costs", "运营成本"),
        "calc.pnl.net": ("Net", "净利润"),
        "calc.pnl.cumulative_net": ("Cumulative net", "累计净利润"),
        "calc.pnl.cash": ("Cash", "现金"),
    }
)

# -- the Capacity tab, cost per resolved conversation, per-resolution pricing, falling prices,
# and serving under load on the Calibration tab
STRINGS.update(
    {
        "calc.tab_capacity": ("Capacity", "服务容量"),
        "calc.sec_traffic": ("Customer traffic", "客户流量"),
        "calc.conv_day": ("Conversations per day", "每天会话数"),
        "calc.conv_day_help": (
            "Customer conversations a day, all channels. “Use this app's support log” takes it from "
            "what customers asked here.",
            "每天的客户会话数（所有渠道）。点击“使用本应用的客服记录”可按本应用记录的实际提问填入。",
        ),
        "calc.q_per_conv": ("Questions per conversation", "每次会话提问数"),
        "calc.daily_curve": ("When customers write", "客户提问的时段分布"),
        "calc.curve_flat": ("Evenly, day and night", "全天均匀"),
        "calc.curve_office": ("Office hours (busiest 10:00)", "办公时间（10 点最忙）"),
        "calc.curve_evening": ("Evenings (busiest 20:00)", "晚间（20 点最忙）"),
        "calc.tier1_share": ("Curated answers", "标准答案"),
        "calc.tier1_share_help": (
            "Tier 1: a curated FAQ answer, no generation (~0.5 s here). The rest after written answers "
            "is handed over (tier 3; 8.3% in the support evaluation).",
            "第 1 层：FAQ 标准答案，无需生成（本机约 0.5 秒）。扣除生成回答后的其余部分转人工"
            "（第 3 层；客服评测中为 8.3%）。",
        ),
        "calc.tier2_share": ("Written answers", "生成回答"),
        "calc.tier2_share_help": (
            "Tier 2: the model reads the question and its sources and writes the answer.",
            "第 2 层：模型读取问题及资料并写出回答。",
        ),
        "calc.q_per_conv_help": (
            "Customer questions in one conversation; each gets a tier. The default 1.5 is illustrative.",
            "一次会话中的客户提问数；每个提问各自分层处理。默认 1.5 为示意值。",
        ),
        "calc.daily_curve_help": (
            "How the day's traffic spreads over the hours; machines are sized for the busiest hour. "
            "The curves are illustrative.",
            "一天的流量在各小时的分布；机器数按最忙时段配置。曲线为示意。",
        ),
        "calc.prompt_tokens_cap_help": (
            "A written answer's prompt: instructions, the question and its sources (~600–900 here).",
            "生成回答的提示：指令、问题及资料（本应用约 600–900）。",
        ),
        "calc.output_tokens_cap_help": (
            "~80–150 tokens per written answer here.",
            "本应用每次生成回答约 80–150 token。",
        ),
        "calc.speed_help": (
            "Measured here by `python -m core bench generate` (prompt: its long prompt's tokens ÷ time to "
            "the first token; writing: tokens per second after the first).",
            "由 `python -m core bench generate` 在本机实测（读取：长提示的 token 数 ÷ 首 token 时间；"
            "生成：首 token 之后每秒生成的 token 数）。",
        ),
        "calc.tier1_s_help": (
            "README: a curated answer takes a median 0.51 s with the relevance check.",
            "README：标准答案（含相关性判断）耗时中位数 0.51 秒。",
        ),
        "calc.tier3_s_help": ("README: a hand-over takes a median 3.7 s.", "README：转人工耗时中位数 3.7 秒。"),
        "calc.outcome_help": (
            "Share of conversations, from the support evaluation; replace with your own evaluation's.",
            "会话占比，来自客服评测；可替换为您自己的评测结果。",
        ),
        "calc.res_customers_help": (
            "Companies paying per resolution in month 1. The default 10 is illustrative.",
            "第 1 个月按解决计费的企业客户数。默认 10 为示意值。",
        ),
        "calc.res_growth_help": (
            "New per-resolution customers each month as a % of last month's. The default 10% is illustrative.",
            "每月新增按解决计费客户占上月的比例。默认 10% 为示意值。",
        ),
        "calc.res_churn_help": (
            "Share of per-resolution customers lost each month. The default 2% is illustrative.",
            "每月流失的按解决计费客户比例。默认 2% 为示意值。",
        ),
        "calc.conversations_customer_help": (
            "Customer conversations one customer company has a month. The default 2,000 is illustrative.",
            "每家企业客户每月的客户会话数。默认 2,000 为示意值。",
        ),
        "calc.res_cac_help": (
            "Sales and marketing spend to win one customer company. The default $2,000 is illustrative.",
            "赢得一家企业客户所需的销售与营销支出。默认 2,000 美元为示意值。",
        ),
        "calc.output_tokens_cap": ("Tokens written per answer", "每次回答生成 token 数"),
        "calc.from_log": ("Use this app's support log", "使用本应用的客服记录"),
        "calc.from_log_help": (
            "Conversations per day, the tiers' shares and their median times, as the customer-service "
            "log recorded them.",
            "按客服记录填入每天会话数、各层占比及其耗时中位数。",
        ),
        "calc.log_empty": (
            "The support log is empty: ask some customer questions first.",
            "客服记录为空：请先提出一些客户问题。",
        ),
        "calc.log_used": (
            "Used {n} questions over {days} days from the support log.",
            "已使用客服记录中 {days} 天内的 {n} 个问题。",
        ),
        "calc.sec_machine": ("The machine", "机器"),
        "calc.machine": ("Machine", "机器"),
        "calc.this_machine": ("This machine (measured)", "本机（实测）"),
        "calc.machine_help": (
            "This machine at the speeds `python -m core bench generate` measured, or a GPU from the "
            "catalogue serving the Serving tab's model at roofline speeds.",
            "本机（使用 `python -m core bench generate` 实测的速度），或目录中的 GPU（以屋顶线模型估算"
            "“推理部署”页模型的速度）。",
        ),
        "calc.prefill_speed": ("Prompt tokens read / s", "每秒读取提示 token 数"),
        "calc.decode_speed": ("Tokens written / s, one answer", "每秒生成 token 数（单个回答）"),
        "calc.slots": ("Slots (answers at once)", "并行槽位（同时回答数）"),
        "calc.slots_help": (
            "Answers written at the same time (APP_PARALLEL); further requests wait in line.",
            "同时生成的回答数（APP_PARALLEL）；更多请求排队等待。",
        ),
        "calc.slot_scaling": ("Slot scaling α (0–1)", "槽位扩展系数 α（0–1）"),
        "calc.slot_scaling_help": (
            "0: slots add throughput linearly (a memory-bound GPU); 1: not at all. Here 0.72: one answer "
            "alone 26.6 tok/s, four at once 33.6 together on 2 cores.",
            "0：槽位线性增加吞吐（受显存带宽限制的 GPU）；1：完全不增加。本机为 0.72：单个回答 26.6 tok/s，"
            "4 个同时合计 33.6 tok/s（2 核）。",
        ),
        "calc.machine_price": ("$ per machine-hour", "每机器小时价格（美元）"),
        "calc.machine_price_help": (
            "Illustrative: a 2-vCPU virtual machine. GPUs use the Serving tab's price (else the catalogue's).",
            "示意值：2 vCPU 虚拟机。GPU 使用“推理部署”页的价格（未填则用目录价格）。",
        ),
        "calc.target_p90": ("Target: first word of a written answer, p90 (s)", "目标：生成回答首字时间 P90（秒）"),
        "calc.target_p90_help": (
            "At the busiest hour, 90% of written answers show their first word within this time.",
            "在最忙的时段，90% 的生成回答在此时间内显示第一个字。",
        ),
        "calc.tier_times": ("Tier times and variation", "各层耗时与波动"),
        "calc.tier1_s": ("A curated answer (s)", "标准答案耗时（秒）"),
        "calc.tier3_s": ("A hand-over (s)", "转人工耗时（秒）"),
        "calc.overhead_s": ("Before a written answer's prompt is read (s)", "生成回答读取提示前的耗时（秒）"),
        "calc.overhead_help": (
            "Retrieval and the relevance check (README: a written answer takes 16.9 s here in all).",
            "检索与相关性判断（README：本机生成回答总计约 16.9 秒）。",
        ),
        "calc.service_cv": ("Variation of an answer's work (cv)", "回答工作量的变异系数（cv）"),
        "calc.service_cv_help": (
            "0: every written answer takes the same; 1: exponential. Scales the wait (Allen–Cunneen).",
            "0：每次生成回答耗时相同；1：指数分布。用于调整等待时间（Allen–Cunneen 近似）。",
        ),
        "calc.seconds": ("{n} s", "{n} 秒"),
        "calc.machines_needed": ("Machines for the target", "达标所需机器"),
        "calc.machines_needed_help": (
            "The fewest machines (traffic split evenly) whose busiest hour meets the p90 target.",
            "在最忙时段满足 P90 目标所需的最少机器数（流量平均分配）。",
        ),
        "calc.peak_p90": ("Busiest hour: first word, p90", "最忙时段：首字时间 P90"),
        "calc.at_hour": ("{h}:00, {u} of capacity", "{h} 点，容量的 {u}"),
        "calc.capacity_per_machine": ("Written answers per machine", "每台机器的生成回答能力"),
        "calc.per_hour": ("{n} / hour", "每小时 {n}"),
        "calc.capacity_help": (
            "With every slot busy: μ(c) = 1 ÷ (prompt ÷ prompt speed + written ÷ writing speed × (α + (1 − α) ÷ c)).",
            "所有槽位都在工作时：μ(c) = 1 ÷（提示 ÷ 读取速度 + 生成 ÷ 生成速度 ×（α +（1 − α）÷ c））。",
        ),
        "calc.day_written": ("Written answers over the day: p50 / p90", "全天生成回答：P50 / P90"),
        "calc.day_written_help": (
            "Time to the first word, every hour weighted by its traffic.",
            "首字时间，按各时段流量加权。",
        ),
        "calc.day_all": ("Every question: p50 / p90", "全部提问：P50 / P90"),
        "calc.day_all_help": (
            "Curated answers, written answers and hand-overs together: time to the first word.",
            "标准答案、生成回答与转人工合计的首字时间。",
        ),
        "calc.cost_per_conversation": ("Serving cost per conversation", "每次会话推理成本"),
        "calc.per_month": ("{v} a month", "每月 {v}"),
        "calc.latency_chart": (
            "Time to the first word as load grows (one machine)",
            "负载增加时的首字时间（单台机器）",
        ),
        "calc.load_axis": ("Written answers per hour", "每小时生成回答数"),
        "calc.first_word_axis": ("First word (s)", "首字时间（秒）"),
        "calc.knee": ("knee: {v} of capacity", "拐点：容量的 {v}"),
        "calc.busiest_hour": ("Busiest hour", "最忙时段"),
        "calc.target": ("target", "目标"),
        "calc.by_hour": ("Hour by hour", "逐小时"),
        "calc.hour": ("Hour", "时段"),
        "calc.by_hour_help": (
            "Each hour's written answers per machine, utilisation and time to the first word.",
            "每小时每台机器的生成回答数、利用率与首字时间。",
        ),
        "calc.written_per_hour": ("Written answers / hour / machine", "每台机器每小时生成回答"),
        "calc.utilisation": ("Utilisation", "利用率"),
        "calc.simulate": ("Simulate a month", "模拟一个月"),
        "calc.simulate_help": (
            "Every written answer of 30 days, event by event, on one of the machines: checks the "
            "formulas above (which assume exponential work and a steady hour).",
            "逐事件模拟其中一台机器 30 天内的每次生成回答，用于检验上面的公式（公式假设工作量为指数分布、"
            "每小时流量稳定）。",
        ),
        "calc.simulated": (
            "Simulated {n} written answers: first word p50 {p50} s, p90 {p90} s; the machine was busy {busy} of the time.",
            "已模拟 {n} 次生成回答：首字时间 P50 {p50} 秒，P90 {p90} 秒；机器有 {busy} 的时间在工作。",
        ),
        "calc.resolution_title": ("Cost per resolved conversation", "每次成功解决的会话成本"),
        "calc.sec_outcomes": ("Outcomes and their costs", "结果及其成本"),
        "calc.right_rate": ("Set right", "答对"),
        "calc.handover_rate": ("Handed over", "转人工"),
        "calc.wrong_rate": ("Wrong", "答错"),
        "calc.outcomes_source": (
            "Defaults: the support evaluation (`python -m core support eval --json`, the sample company's "
            "60 customer questions: 0.833 / 0.083 / 0.083).",
            "默认值来自客服评测（`python -m core support eval --json`，示例公司的 60 个客户问题："
            "0.833 / 0.083 / 0.083）。",
        ),
        "calc.person_cost": ("A person's cost per conversation ($)", "人工处理每次会话的成本（美元）"),
        "calc.wrong_cost": ("Cost of a wrong answer ($)", "一次答错的成本（美元）"),
        "calc.illustrative": (
            "Illustrative default: replace it with your own figure.",
            "示意默认值：请替换为您自己的数字。",
        ),
        "calc.bill_wrong": ("Services bill wrong answers as resolutions", "服务商将答错也计为解决"),
        "calc.bill_wrong_help": (
            "Intercom counts a resolution when the customer leaves without asking for more help, so a "
            "wrong answer the customer believes is billed too.",
            "Intercom 在客户未再求助而离开时即计为一次解决，因此客户未发现的错误回答也会被计费。",
        ),
        "calc.no_machine_price": (
            "Enter a price per machine-hour to get the serving cost per conversation.",
            "请填写每机器小时价格，以计算每次会话的推理成本。",
        ),
        "calc.per_resolved": ("Per resolved conversation", "每次成功解决"),
        "calc.per_conversation_all": ("Per conversation, all outcomes", "每次会话（含所有结果）"),
        "calc.resolved_range": ("Per resolved: P10 – P90", "每次解决：P10 – P90"),
        "calc.resolved_range_help": (
            "Every driver drawn at once within ± the Risk tab's swing (triangular distributions).",
            "所有驱动因素同时在“风险分析”页的波动范围内抽样（三角分布）。",
        ),
        "calc.p_cheaper": ("cheaper than a per-resolution service in {v} of draws", "{v} 的模拟低于按解决计费服务"),
        "calc.use_in_business": ("Use in the business model", "用于商业模式"),
        "calc.use_in_business_help": (
            "Copies the serving cost per conversation into per-resolution pricing on the Business model tab.",
            "把每次会话推理成本填入“商业模式”页的按解决计费。",
        ),
        "calc.col_option": ("Option", "方案"),
        "calc.col_kind": ("Kind", "类型"),
        "calc.col_ai_cost": ("AI cost / conversation", "每次会话 AI 成本"),
        "calc.col_handover": ("Hand-overs / conversation", "每次会话转人工成本"),
        "calc.col_wrong": ("Wrong answers / conversation", "每次会话答错成本"),
        "calc.col_per_resolved": ("Per resolved conversation", "每次成功解决"),
        "calc.col_source_date": ("Price date", "价格日期"),
        "calc.self_hosted": ("Self-hosted (this tab's machines)", "自建部署（本页机器）"),
        "calc.kind_self": ("self-hosted", "自建"),
        "calc.kind_service": ("per-resolution service", "按解决计费服务"),
        "calc.kind_api": ("API, token prices", "API（按 token 计价）"),
        "calc.resolution_sources": (
            "List prices as of their sources: Intercom Fin AI Agent $0.99 per resolution (Intercom Help "
            "Center, pricing plans from 15 Nov 2023); Salesforce Agentforce $2 per conversation "
            "(announced 12 Sep 2024); API token prices from the litellm snapshot on the Serving tab. "
            "Hand-overs and wrong answers cost the same whoever answers.",
            "价格均为来源所载标价：Intercom Fin AI Agent 每次解决 0.99 美元（Intercom 帮助中心，2023 年 11 月 15 日起的"
            "价格方案）；Salesforce Agentforce 每次会话 2 美元（2024 年 9 月 12 日公布）；API token 价格取自“推理部署”页"
            "的 litellm 快照。无论由谁回答，转人工和答错的成本相同。",
        ),
        "calc.resolution_tornado": ("What the cost per resolved conversation depends on", "每次解决成本取决于什么"),
        "calc.low": ("−swing", "−波动"),
        "calc.high": ("+swing", "+波动"),
        "calc.rdriver_serving": ("Serving cost per conversation", "每次会话推理成本"),
        "calc.rdriver_right": ("Share set right", "答对比例"),
        "calc.rdriver_handover": ("Hand-over rate", "转人工比例"),
        "calc.rdriver_wrong": ("Wrong-answer rate", "答错比例"),
        "calc.rdriver_person": ("A person's cost", "人工成本"),
        "calc.rdriver_wrong_cost": ("Cost of a wrong answer", "答错成本"),
        "calc.how_capacity": (
            "- **Service rate** with k answers in progress: μ(k) = 1 ÷ (P ÷ prompt speed + D ÷ writing "
            "speed × (α + (1 − α) ÷ k)), P prompt and D written tokens. A decode step costs (1 − α + α·k) "
            "÷ writing speed: slots share the cores, so they do not add throughput linearly.\n"
            "- **Queue**: Poisson arrivals at each hour's rate into c slots, first come first served beyond "
            "them: a birth–death chain solved exactly; P(wait > t) = P(wait) · e^(−(μ(c) − λ)t) (Erlang C "
            "when α = 0); the mean wait × (1 + cv²) ÷ 2 for answers less variable than exponential "
            "(Allen–Cunneen).\n"
            "- **First word** = overhead + wait + prompt ÷ prompt speed; **machines** = the fewest whose "
            "busiest hour meets the p90 target; **knee** = the point of the p90 curve farthest below the "
            "line from its first to its last point (Kneedle).\n"
            "- **Cost per resolved conversation** = (serving + hand-over rate × a person's cost + wrong "
            "rate × a wrong answer's cost) ÷ share set right; a per-resolution service's AI cost = its "
            "price × the resolutions it bills.",
            "- **服务速率**（k 个回答同时进行）：μ(k) = 1 ÷（P ÷ 提示读取速度 + D ÷ 生成速度 ×（α +（1 − α）÷ k）），"
            "P 为提示 token、D 为生成 token。每个解码步耗时（1 − α + α·k）÷ 生成速度：槽位共享 CPU 核心，"
            "吞吐不会线性增加。\n"
            "- **排队**：各时段按泊松到达进入 c 个槽位，超出部分先到先服务：生灭过程精确求解；"
            "P(等待 > t) = P(等待) · e^(−(μ(c) − λ)t)（α = 0 时即 Erlang C）；回答工作量波动小于指数分布时，"
            "平均等待 ×（1 + cv²）÷ 2（Allen–Cunneen）。\n"
            "- **首字时间** = 前置耗时 + 等待 + 提示 ÷ 读取速度；**机器数** = 最忙时段满足 P90 目标的最少台数；"
            "**拐点** = P90 曲线上距首末两点连线最远（在其下方）的点（Kneedle）。\n"
            "- **每次解决成本** =（推理 + 转人工比例 × 人工成本 + 答错比例 × 答错成本）÷ 答对比例；"
            "按解决计费服务的 AI 成本 = 单价 × 其计费的解决次数。",
        ),
        # per-resolution pricing in the P&L; prices falling over time
        "calc.sec_resolution": ("Per resolution", "按解决计费"),
        "calc.model_resolution": ("Per-resolution pricing", "按解决计费"),
        "calc.model_resolution_help": (
            "Companies pay for each customer conversation the assistant resolves (as Intercom Fin charges "
            "$0.99); hand-overs go to their own people, unbilled.",
            "企业为助手成功解决的每次客户会话付费（如 Intercom Fin 每次 0.99 美元）；转人工由企业自己的员工处理，不计费。",
        ),
        "calc.resolution_price": ("Price per resolution ($)", "每次解决的价格（美元）"),
        "calc.resolution_price_help": (
            "Intercom Fin's list price: $0.99 per resolution (Intercom Help Center, plans from 15 Nov 2023).",
            "Intercom Fin 标价：每次解决 0.99 美元（Intercom 帮助中心，2023 年 11 月 15 日起的方案）。",
        ),
        "calc.conversations_customer": ("Conversations per customer per month", "每客户每月会话数"),
        "calc.resolution_rate": ("Resolution rate", "解决率"),
        "calc.resolution_rate_help": (
            "Billed share of conversations: the support evaluation's share set right (0.833).",
            "计费会话占比：客服评测的答对比例（0.833）。",
        ),
        "calc.serving_conversation": ("Serving cost per conversation ($)", "每次会话推理成本（美元）"),
        "calc.serving_conversation_help": (
            "Our cost: see the Capacity tab (its button copies it here).",
            "我方成本：见“服务容量”页（其按钮可填入此处）。",
        ),
        "calc.price_decline": ("Usage prices fall, per year", "用量价格年降幅"),
        "calc.price_decline_help": (
            "The price per 1M tokens and per resolution fall this share a year. a16z's “LLMflation” "
            "(12 Nov 2024) measured ~10× a year (90%) for an LLM of equal capability.",
            "每百万 token 与每次解决的价格每年下降该比例。a16z 的“LLMflation”（2024 年 11 月 12 日）测得同等能力的"
            "大模型价格每年约降至 1/10（降幅 90%）。",
        ),
        "calc.cost_decline": ("Serving costs fall, per year", "推理成本年降幅"),
        "calc.cost_decline_help": (
            "Serving costs per seat, per 1M tokens and per conversation fall this share a year.",
            "每席位、每百万 token 与每次会话的推理成本每年下降该比例。",
        ),
        "calc.war_decline": ("Competitor's price also falls, per year", "竞争对手价格年降幅"),
        "calc.war_decline_help": (
            "On top of the cut: × (1 − decline)^(months ÷ 12). LLMflation (a16z, Nov 2024): ~90% a year.",
            "在降价之外再乘以（1 − 降幅）^（月数 ÷ 12）。LLMflation（a16z，2024 年 11 月）：每年约 90%。",
        ),
        "calc.war_per_resolution": ("Price war over resolutions", "按解决计费的价格战"),
        "calc.war_per_resolution_help": (
            "Our price per resolution against Intercom Fin's $0.99, our unit cost = serving cost per "
            "conversation ÷ resolution rate, and prices falling 90% a year (LLMflation).",
            "我方每次解决的价格对比 Intercom Fin 的 0.99 美元，单位成本 = 每次会话推理成本 ÷ 解决率，"
            "价格每年下降 90%（LLMflation）。",
        ),
        "calc.war_unit_resolution": ("Prices here are per resolved conversation.", "此处价格按每次成功解决计。"),
        "calc.pnl.resolution_customers": ("Per-resolution customers", "按解决计费客户数"),
        "calc.pnl.new_resolution_customers": ("New per-resolution customers", "新增按解决计费客户"),
        "calc.pnl.resolutions": ("Resolutions", "解决次数"),
        "calc.pnl.revenue_resolution": ("Per-resolution revenue", "按解决计费收入"),
        # the investor summary
        "calc.sum_serving_conversation": (
            "Serving cost per conversation (in the P&L)",
            "每次会话推理成本（计入损益表）",
        ),
        "calc.sum_capacity": ("Capacity tab: machines for the p90 target", "“服务容量”页：达到 P90 目标所需机器"),
        "calc.sum_capacity_value": (
            "{n} × {machine} (first word p90 {p90} s at the busiest hour)",
            "{n} × {machine}（最忙时段首字时间 P90 为 {p90} 秒）",
        ),
        "calc.sum_cost_resolved": (
            "Capacity tab: cost per resolved conversation",
            "“服务容量”页：每次成功解决的会话成本",
        ),
        "calc.sum_versus": (" (vs {v} with {name})", "（{name}：{v}）"),
        # the Calibration tab: serving under load
        "calc.load_check": ("Serving under load: predicted vs measured here", "负载下的推理：预测与本机实测"),
        "calc.load_check_none": (
            "No load check yet: run `python -m core cost capacity --check` (about 3 minutes on the real model).",
            "尚无负载检验：请运行 `python -m core cost capacity --check`（在真实模型上约需 3 分钟）。",
        ),
        "calc.col_clients": ("Clients at once", "同时请求的客户端"),
        "calc.col_pred_tput": ("Predicted answers / hour", "预测每小时回答数"),
        "calc.col_meas_tput": ("Measured answers / hour", "实测每小时回答数"),
        "calc.col_pred_p50": ("Predicted p50", "预测 P50"),
        "calc.col_meas_p50": ("Measured p50", "实测 P50"),
        "calc.col_requests": ("Answers measured", "实测回答数"),
        "calc.load_check_note": (
            "`python -m core cost capacity --check`, {when}: written answers (~600-token prompts, 80 tokens "
            "written), each client asking again as soon as its answer is complete. The prediction uses the "
            "speeds one request alone measured first ({prefill} prompt tok/s, {decode} tok/s written, {slots} "
            "slots) and the queueing model; the 2 cores were shared with other work, so both sides vary run to run.",
            "`python -m core cost capacity --check`，{when}：生成回答（约 600 token 提示、生成 80 token），"
            "每个客户端在收到完整回答后立即再次提问。预测使用先单独测得的速度（提示 {prefill} tok/s、生成 {decode} tok/s、"
            "{slots} 个槽位）和排队模型；2 个 CPU 核心同时在运行其他任务，两边的数字每次都会有所不同。",
        ),
    }
)
