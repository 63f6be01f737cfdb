"""UI text in English and Chinese. Traditional Chinese is derived from the Simplified text with
OpenCC (s2twp: Taiwan standard with local phrases), so the two scripts can never drift apart.

`t(key, lang)` looks a string up; `pick({"en": ..., "zh": ...}, lang)` picks from data files.
"""

from __future__ import annotations

from functools import lru_cache

LANGUAGES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}
DEFAULT_LANG = "en"

# key: (English, Simplified Chinese)
STRINGS: dict[str, tuple[str, str]] = {
    # app shell
    "app.title": ("AI Business Studio", "AI 商业工作室"),
    "app.language": ("Language", "语言"),
    "app.model_status": ("Model", "模型"),
    "app.adapter_none": ("no fine-tune", "未加载微调"),
    "app.tagline": (
        "Your company's own language model, at work: chat, support, content and costs.",
        "让公司自己的语言模型投入工作：对话、客服、内容与成本。",
    ),
    "nav.chat": ("Chat", "对话"),
    "nav.home": ("Home", "首页"),
    # home page
    "home.chat": ("Ask questions, draft replies and think things through with the company's model. "
                  "Pick a persona, stop or regenerate answers, and come back to saved conversations.",
                  "与公司自己的模型对话：提问、起草回复、梳理思路。可选择角色，随时停止或重新生成回答，"
                  "对话会自动保存，方便以后继续。"),
    "home.open_chat": ("Open the chat", "开始对话"),
    "home.model": ("The model", "模型"),
    "home.model_name": ("Model", "模型"),
    "home.adapter": ("Fine-tune (LoRA)", "微调（LoRA）"),
    "home.device": ("Runs on", "运行设备"),
    "home.dtype": ("Precision", "精度"),
    "home.private": ("Everything runs on this machine: questions, answers and documents never leave it.",
                     "一切都在本机运行：问题、回答和文档都不会离开这台机器。"),
    # knowledge base (shared)
    "nav.support": ("Customer service", "客户服务"),
    "nav.kb": ("Knowledge base", "知识库"),
    "kb.loading": ("Opening the knowledge base… (the first time, the sample FAQ is indexed: about a minute)",
                   "正在打开知识库…（首次使用需为示例 FAQ 建立索引，约一分钟）"),
    "home.support": ("Answers customers from your FAQ and documents, cites its sources, and hands over to a "
                     "person when it does not know.", "根据公司的 FAQ 和文档回答客户，注明出处；不知道时转交人工。"),
    "home.open_support": ("Open customer service", "打开客户服务"),
    "home.kb": ("Upload FAQ tables and documents, test retrieval, see unanswered questions and tickets.",
                "上传 FAQ 表格和文档，测试检索效果，查看未解答问题和工单。"),
    "home.open_kb": ("Open the knowledge base", "打开知识库"),
    # customer service page
    "support.title": ("Customer service", "客户服务"),
    "support.caption": ("Ask about orders, shipping, returns, payment or our products. Answers come from {company}'s help centre.",
                        "可咨询订单、配送、退换货、付款或产品问题。回答来自{company}的帮助中心。"),
    "support.input": ("Type your question…", "请输入您的问题…"),
    "support.tier1": ("Answer from our FAQ", "来自常见问题解答"),
    "support.tier2": ("Answer written from {n} source(s) in our help centre", "根据帮助中心的 {n} 条资料生成"),
    "support.tier3": ("Handed over to a person", "已转交人工客服"),
    "support.sources": ("Sources", "资料来源"),
    "support.handover_title": ("Talk to a person", "联系人工客服"),
    "support.name": ("Your name", "您的姓名"),
    "support.contact": ("Email or phone", "邮箱或电话"),
    "support.question": ("Your question", "您的问题"),
    "support.send": ("Send to our team", "提交给客服团队"),
    "support.ticket_created": ("Thank you! Ticket #{id} was created; we will contact you soon.",
                               "谢谢！已创建工单 #{id}，我们会尽快联系您。"),
    "support.ticket_missing": ("Please fill in your name, contact and question.", "请填写姓名、联系方式和问题。"),
    "support.thinking": ("Looking in the help centre…", "正在查找帮助中心…"),
    "support.checking": ("Checking the answer…", "正在核对答案…"),
    "support.did_you_mean": ("Did you mean one of these?", "您是不是想问："),
    "support.clear": ("New conversation", "新会话"),
    "support.feedback": ("Was this helpful?", "这个回答有帮助吗？"),
    # knowledge base page
    "kb.title": ("Knowledge base", "知识库"),
    "kb.tab_docs": ("Documents", "文档"),
    "kb.tab_test": ("Hit test", "命中测试"),
    "kb.tab_unanswered": ("Unanswered", "未解答"),
    "kb.tab_tickets": ("Tickets", "工单"),
    "kb.tab_analytics": ("Analytics", "统计"),
    "kb.upload": ("Add FAQ tables (CSV, XLSX: question, answer, optional id, category, language) or documents (Markdown, TXT, HTML, PDF, DOCX)",
                  "添加 FAQ 表格（CSV、XLSX：question/问题、answer/答案，可选 id、category、language）或文档（Markdown、TXT、HTML、PDF、DOCX）"),
    "kb.import": ("Import", "导入"),
    "kb.imported": ("{source}: {entries} entries ({added} records added, {removed} removed)",
                    "{source}：{entries} 条（新增 {added} 条记录，删除 {removed} 条）"),
    "kb.unchanged": ("{source}: already up to date, nothing changed", "{source}：内容未变化，无需更新"),
    "kb.sources": ("In the knowledge base", "知识库内容"),
    "kb.empty": ("The knowledge base is empty. Add a FAQ table or a document above.", "知识库为空。请在上方添加 FAQ 表格或文档。"),
    "kb.preview": ("Preview", "预览"),
    "kb.pick": ("Document", "文档"),
    "kb.delete": ("Delete this document", "删除此文档"),
    "kb.deleted": ("Deleted {source}.", "已删除 {source}。"),
    "kb.query": ("Test a question", "测试问题"),
    "kb.mode": ("Method", "检索方式"),
    "kb.no_hits": ("Nothing found.", "没有找到结果。"),
    "kb.eval_title": ("Evaluate answers end to end", "端到端评估回答"),
    "kb.eval_caption": ("Upload labelled questions; each goes through the whole customer-service answer (the model "
                        "included) against this knowledge base. A CSV with columns query, faq_id (the FAQ entry "
                        "that answers it), or question, expect_any (facts separated by |, or HANDOVER).",
                        "上传带标注的问题：每个问题都按客服的完整流程（包括模型）在此知识库中作答。CSV 需包含 query、faq_id"
                        "（应答的 FAQ 条目）两列，或 question、expect_any（以 | 分隔的事实，或 HANDOVER）两列。"),
    "kb.eval_upload": ("Labelled questions (CSV)", "带标注的问题（CSV）"),
    "kb.eval_limit": ("Questions to ask (a random sample if the file has more)", "提问数量（文件更多时随机抽样）"),
    "kb.eval_run": ("Evaluate", "开始评估"),
    "kb.eval_too_big": ("That file is over 2 MB; split it.", "文件超过 2 MB，请拆分后再上传。"),
    "kb.eval_right": ("Right", "正确"),
    "kb.eval_handed": ("Handed over", "转人工"),
    "kb.eval_wrong": ("Wrong", "错误"),
    "kb.eval_latency": ("Time to answer, p50 / p95", "回答耗时 p50 / p95"),
    "kb.eval_by_language": ("By language", "按语言"),
    "kb.eval_failures": ("Not right: one row each, to read one by one", "未答对的问题（逐条查看）"),
    "kb.unanswered_none": ("No unanswered questions. 🎉", "没有未解答的问题。"),
    "kb.answer_for": ("Curated answer", "标准答案"),
    "kb.add_faq": ("Add as FAQ entry", "添加为 FAQ"),
    "kb.dismiss": ("Dismiss", "忽略"),
    "kb.faq_added": ("Added to the FAQ: future customers get this answer.", "已添加到 FAQ：之后的客户将得到这个答案。"),
    "kb.tickets_none": ("No tickets yet.", "还没有工单。"),
    "kb.close_ticket": ("Close ticket #{id}", "关闭工单 #{id}"),
    "kb.questions": ("Questions", "提问数"),
    "kb.deflection": ("Answered without a person", "无需人工即解答"),
    "kb.thumbs": ("Helpful / not helpful", "有帮助 / 无帮助"),
    "kb.suggestions_taken": ("\"Did you mean\" taken", "“您是不是想问”被点击"),
    "kb.suggestions_help": ("Answers that offered FAQ suggestions, and how many of those had one clicked.",
                            "附带 FAQ 建议的回答数，以及其中有建议被点击的数量。"),
    "kb.per_day": ("Questions per day, by tier", "每日提问数（按层级）"),
    "kb.top": ("Most asked", "最常见的问题"),
    "kb.by_channel": ("By channel: this app's page, the website widget, the API", "按渠道：本应用页面、网站挂件、API"),
    "kb.channel": ("Channel", "渠道"),
    "kb.api_key": ("API key", "API 密钥"),
    "kb.no_data": ("No questions asked yet.", "还没有人提问。"),
    # content writer
    "nav.writer": ("Content writer", "内容写作"),
    "home.writer": ("Product copy, emails, social posts, ads, articles, press releases and review replies, "
                    "in your brand voice and true to your facts.", "产品文案、邮件、社交媒体帖子、广告、文章、新闻稿和评论回复，符合品牌调性，忠于事实。"),
    "home.open_writer": ("Open the writer", "开始写作"),
    "writer.title": ("Content writer", "内容写作"),
    "writer.tab_write": ("Write", "写作"),
    "writer.tab_batch": ("Batch", "批量生成"),
    "writer.tab_voices": ("Brand voices", "品牌调性"),
    "writer.tab_history": ("History", "历史记录"),
    "writer.template": ("Template", "模板"),
    "writer.platform": ("Platform", "平台"),
    "writer.language": ("Write in", "写作语言"),
    "writer.tone": ("Tone", "语气"),
    "writer.audience": ("Audience", "目标读者"),
    "writer.length": ("Length", "篇幅"),
    "writer.keywords": ("Must include (comma-separated)", "必须包含的词（用逗号分隔）"),
    "writer.banned": ("Never use (comma-separated)", "禁用词（用逗号分隔）"),
    "writer.variants": ("Variants", "版本数"),
    "writer.voice": ("Brand voice", "品牌调性"),
    "writer.no_voice": ("None", "无"),
    "writer.ground": ("Use only facts from the knowledge base", "只使用知识库中的事实"),
    "writer.generate": ("Write", "生成"),
    "writer.writing": ("Writing variant {n} of {total}…", "正在生成第 {n} 个版本（共 {total} 个）…"),
    "writer.variant": ("Variant {n}", "版本 {n}"),
    "writer.regenerate": ("Rewrite this one", "重写此版本"),
    "writer.facts": ("Facts used", "使用的事实"),
    "writer.length_ok": ("Length {chars}/{max} ✓", "长度 {chars}/{max} ✓"),
    "writer.length_bad": ("Too long: {chars}/{max}", "超长：{chars}/{max}"),
    "writer.missing": ("Missing: {words}", "缺少：{words}"),
    "writer.banned_found": ("Banned words: {words}", "出现禁用词：{words}"),
    "writer.lang_ok": ("Language ✓", "语言 ✓"),
    "writer.structure_missing": ("Lacks {parts}", "缺少{parts}"),
    "writer.length_short": ("short", "短"),
    "writer.length_medium": ("medium", "中等"),
    "writer.length_long": ("long", "长"),
    "writer.too_short": ("Much shorter than asked", "明显短于要求的篇幅"),
    "writer.unsupported_numbers": ("Figures not in your input: {numbers}", "输入中没有的数字：{numbers}"),
    "writer.took": ("Written in {seconds:.0f} s", "用时 {seconds:.0f} 秒"),
    "writer.to_article": ("Write the article from this outline", "按此大纲写文章"),
    "writer.lang_bad": ("Wrong language ({lang})", "语言不符（{lang}）"),
    "writer.download_md": ("Markdown", "Markdown"),
    "writer.download_docx": ("Word", "Word"),
    "writer.download_all": ("All variants:", "全部版本："),
    "writer.batch_help": ("Upload a CSV or XLSX with one row per item; its columns fill the template's fields ({fields}).",
                          "上传 CSV 或 XLSX，每行一项；列名对应模板字段（{fields}）。"),
    "writer.batch_run": ("Generate all", "全部生成"),
    "writer.batch_stop": ("Stop", "停止"),
    "writer.batch_done": ("{written} written, {skipped} already done.", "已生成 {written} 条，跳过已完成的 {skipped} 条。"),
    "writer.batch_missing": ("The file lacks the column(s): {cols}", "文件缺少列：{cols}"),
    "writer.voice_name": ("Name", "名称"),
    "writer.voice_desc": ("Description", "描述"),
    "writer.voice_do": ("Do (one per line)", "要（每行一条）"),
    "writer.voice_dont": ("Don't (one per line)", "不要（每行一条）"),
    "writer.voice_examples": ("Example texts (separate with a blank line)", "范例文本（用空行分隔）"),
    "writer.voice_save": ("Save brand voice", "保存品牌调性"),
    "writer.voice_saved": ("Saved.", "已保存。"),
    "writer.voice_delete": ("Delete {name}", "删除 {name}"),
    "writer.history_none": ("Nothing written yet.", "还没有生成内容。"),
    # model
    "model.loading": ("Loading the model… (a few seconds; the first start takes about a minute)",
                      "正在加载模型…（几秒钟；首次启动约需一分钟）"),
    "model.unavailable": ("The model cannot be loaded.", "无法加载模型。"),
    "model.fix": ("To fix it, run in a terminal:", "修复方法：在终端中运行"),
    # chat page
    "chat.title": ("Chat", "对话"),
    "chat.input": ("Message the assistant…", "给助手发送消息…"),
    "chat.new": ("New chat", "新对话"),
    "chat.conversations": ("Conversations", "对话记录"),
    "chat.no_conversations": ("No saved conversations yet.", "还没有保存的对话。"),
    "chat.rename": ("Rename", "重命名"),
    "chat.rename_label": ("New title", "新标题"),
    "chat.save": ("Save", "保存"),
    "chat.delete": ("Delete", "删除"),
    "chat.delete_confirm": ("Delete this conversation for good?", "确定永久删除此对话吗？"),
    "chat.deleted": ("Conversation deleted.", "对话已删除。"),
    "chat.export_md": ("Export Markdown", "导出 Markdown"),
    "chat.export_json": ("Export JSON", "导出 JSON"),
    "chat.persona": ("Persona", "角色"),
    "chat.custom": ("Custom…", "自定义…"),
    "chat.custom_prompt": ("Custom system prompt", "自定义系统提示词"),
    "chat.custom_needed": ("Write a system prompt for the custom persona first.", "请先为自定义角色填写系统提示词。"),
    "chat.settings": ("Sampling settings", "采样设置"),
    "chat.temperature": ("Temperature (0 = always the same answer)", "温度（0 = 每次回答相同）"),
    "chat.top_p": ("Top-p", "Top-p"),
    "chat.max_new_tokens": ("Longest answer (tokens)", "最长回答（词元数）"),
    "chat.repetition_penalty": ("Repetition penalty", "重复惩罚"),
    "chat.stop": ("Stop", "停止"),
    "chat.regenerate": ("Regenerate", "重新生成"),
    "chat.waiting": ("Waiting for the model: {ahead} request(s) ahead of yours…", "正在等待模型：前面还有 {ahead} 个请求…"),
    "chat.stats": ("{tokens} tokens · {seconds:.1f} s · {rate:.1f} tokens/s", "{tokens} 个词元 · {seconds:.1f} 秒 · 每秒 {rate:.1f} 个词元"),
    "chat.stopped": ("Stopped", "已停止"),
    "chat.truncated": (
        "Your message was too long for the model's context: the last {chars:,} characters were left out.",
        "消息超出了模型的上下文长度：末尾 {chars:,} 个字符未被使用。",
    ),
    "chat.dropped": (
        "{n} older message(s) were left out so the conversation fits the model's context.",
        "为适应模型的上下文长度，省略了较早的 {n} 条消息。",
    ),
    "chat.empty": ("Ask anything: the model runs on this machine, nothing leaves it.",
                   "随便问吧：模型在本机运行，数据不会离开这台机器。"),
    "chat.error": ("The model failed while answering: {error}", "模型回答时出错：{error}"),
    "chat.you": ("You", "你"),
    "chat.assistant": ("Assistant", "助手"),
    # sign-in and roles
    "nav.signin": ("Staff sign-in", "员工登录"),
    "auth.title": ("Sign in", "登录"),
    "auth.username": ("User name", "用户名"),
    "auth.password": ("Password", "密码"),
    "auth.submit": ("Sign in", "登录"),
    "auth.failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "auth.locked": ("Too many failed attempts. Try again in {seconds} seconds.",
                    "失败次数过多，请在 {seconds} 秒后重试。"),
    "auth.ended": ("Your session has ended. Please sign in again.", "您的会话已结束，请重新登录。"),
    "auth.no_users": ("There are no accounts yet. Create the first admin in a terminal on this machine:",
                      "还没有任何账户。请在本机终端中创建第一个管理员："),
    "auth.off_note": ("Sign-in is off: anyone who can open this app can use every page. To turn it on, "
                      "create an admin in a terminal:",
                      "登录未启用：任何能打开本应用的人都可以使用所有页面。如需启用，请在终端中创建管理员："),
    "auth.disabled_note": ("Sign-in is switched off (APP_AUTH=off).", "登录已关闭（APP_AUTH=off）。"),
    "auth.signed_in_as": ("Signed in as {name} · {role}", "当前用户：{name} · {role}"),
    "auth.role_admin": ("admin", "管理员"),
    "auth.role_staff": ("staff", "员工"),
    "auth.sign_out": ("Sign out", "退出登录"),
    "auth.refused": ("Your account does not have access to this page. Ask an admin if you need it.",
                     "您的账户无权访问此页面。如有需要，请联系管理员。"),
    "auth.sign_in_first": ("Please sign in to use this page.", "请先登录再使用此页面。"),
    "auth.bad_setting": ("Sign-in is misconfigured: {error}", "登录设置有误：{error}"),
    # audit log (knowledge base page)
    "kb.tab_audit": ("Audit log", "审计日志"),
    "kb.tab_keys": ("API keys", "API 密钥"),
    "kb.keys_caption": ("Keys for the HTTP API and the chat widget on your website. A key is shown once, when it is "
                        "made; only its fingerprint is kept. Websites (origins) listed with a key may use it from a "
                        "browser; a key without any is for servers only.",
                        "用于 HTTP API 和网站客服挂件的密钥。密钥只在创建时显示一次，系统只保存其指纹。与密钥一起列出的网站"
                        "（源）可在浏览器中使用它；未列出任何网站的密钥仅供服务器调用。"),
    "kb.key_name": ("Name", "名称"),
    "kb.key_rpm": ("Requests per minute", "每分钟请求数"),
    "kb.key_scope": ("May use", "可用范围"),
    "kb.key_scope_support": ("customer service", "仅客服"),
    "kb.key_scope_all": ("customer service and chat", "客服与对话"),
    "kb.key_origins": ("Websites allowed (one per line)", "允许的网站（每行一个）"),
    "kb.key_create": ("Create key", "创建密钥"),
    "kb.key_created": ("Key {name} created. Copy it now: it is not shown again.", "已创建密钥 {name}。请立即复制：之后不会再显示。"),
    "kb.key_embed": ("Put this line on your website's pages to add the chat bubble:", "在网站页面中加入这一行即可显示客服气泡："),
    "kb.keys_none": ("No API keys yet.", "还没有 API 密钥。"),
    "kb.key_prefix": ("Starts with", "开头"),
    "kb.key_uses": ("Uses", "使用次数"),
    "kb.key_state": ("State", "状态"),
    "kb.key_active": ("active", "有效"),
    "kb.key_revoked": ("revoked", "已吊销"),
    "kb.key_pick": ("Key to revoke", "要吊销的密钥"),
    "kb.key_revoke": ("Revoke", "吊销"),
    "kb.key_revoked_toast": ("Key {name} revoked.", "已吊销密钥 {name}。"),
    "kb.keys_docs": ("API reference: {url}/docs · widget demo: {url}/widget/demo?key=…", "API 文档：{url}/docs · 挂件演示：{url}/widget/demo?key=…"),
    "audit.caption": ("Who changed the knowledge base, the model and the user accounts (newest first).",
                      "谁修改了知识库、模型和用户账户（最新的在前）。"),
    "audit.none": ("No admin actions recorded yet.", "还没有管理操作记录。"),
    "audit.when": ("When", "时间"),
    "audit.who": ("Who", "操作人"),
    "audit.action": ("Action", "操作"),
    "audit.target": ("What", "对象"),
    "audit.detail": ("Details", "详情"),
}

# Larger pages keep their text in their own module (same format), merged here.
from core.i18n_cost import STRINGS as _COST_STRINGS  # noqa: E402
from core.i18n_model import STRINGS as _MODEL_STRINGS  # noqa: E402

STRINGS.update(_COST_STRINGS)
STRINGS.update(_MODEL_STRINGS)


@lru_cache(maxsize=1)
def _to_traditional():
    import opencc

    return opencc.OpenCC("s2twp").convert


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    return _to_traditional()(text)


@lru_cache(maxsize=1)
def _chars_to_traditional():
    import opencc

    return opencc.OpenCC("s2t").convert


def stream_in_script(chunks, lang: str):
    """Model output for a 繁體 reader: the small model drifts into Simplified characters, so
    convert as it streams. Character-level (s2t), because a chunk may split a phrase."""
    if normalize_lang(lang) != "zh-Hant":
        yield from chunks
        return
    convert = _chars_to_traditional()
    for chunk in chunks:
        yield convert(chunk)


def normalize_lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANG


def pick(texts: dict, lang: str) -> str:
    """Choose from {"en": ..., "zh": ...} (optionally "zh-Hant") for a UI language."""
    lang = normalize_lang(lang)
    if lang == "en":
        return texts["en"]
    if lang == "zh-Hant" and texts.get("zh-Hant"):
        return texts["zh-Hant"]
    zh = texts.get("zh") or texts.get("zh-Hans") or texts["en"]
    return to_traditional(zh) if lang == "zh-Hant" else zh


def t(key: str, lang: str = DEFAULT_LANG, **kwargs) -> str:
    en, zh = STRINGS[key]
    text = pick({"en": en, "zh": zh}, lang)
    return text.format(**kwargs) if kwargs else text
