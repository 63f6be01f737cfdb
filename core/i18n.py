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
}


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
