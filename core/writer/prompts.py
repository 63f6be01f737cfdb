"""The messages a request becomes for the model: the template's task, style lines, keywords, banned
words, facts and brand voice, with the template's worked example as an earlier turn."""

from __future__ import annotations

from core.writer.request import TONES, WriteRequest


def _task(req: WriteRequest, fields: dict) -> str:
    values = {f.name: str(fields.get(f.name, "")).strip() or "-" for f in req.template.fields}
    return req.template.prompt[req.lang].format(**values)


def _style_lines(req: WriteRequest, target: int, max_chars: int) -> list[str]:
    """Platform, tone, audience and length lines; the example turn gets them too, so the model sees
    them as instructions it has already followed rather than text to repeat."""
    zh = req.lang == "zh"
    lines = []
    if req.platform:
        style = req.template.platforms[req.platform]["style"][req.lang]
        lines.append(("平台风格：" if zh else "Platform style: ") + style)
    tone = TONES[req.tone][1 if zh else 0]
    lines.append(f"语气：{tone}。" if zh else f"Tone: {tone}.")
    if req.audience.strip():
        lines.append(f"目标读者：{req.audience.strip()}。" if zh else f"Audience: {req.audience.strip()}.")
    lines.append(
        f"篇幅：约 {target} 字，最多 {max_chars} 字。"
        if zh
        else f"Length: about {target} characters, never more than {max_chars}."
    )
    return lines


def _closing_line(zh: bool) -> str:
    return "请用简体中文写作。只输出成稿本身，不要任何解释。" if zh else "Write in English. Output only the text."


def _example_turns(req: WriteRequest) -> list[dict]:
    example = req.template.example(req.lang, req.platform)
    if not example:
        return []
    zh = req.lang == "zh"
    length = len(example["output"])
    lines = [_task(req, example["fields"]), *_style_lines(req, length, max(length, req.max_chars)), _closing_line(zh)]
    return [{"role": "user", "content": "\n".join(lines)}, {"role": "assistant", "content": example["output"]}]


def build_messages(req: WriteRequest) -> list[dict]:
    req.validate()
    zh = req.lang == "zh"
    lines = [_task(req, req.fields), *_style_lines(req, req.target_chars, req.max_chars)]
    if req.keywords:
        lines.append(("必须包含这些词：" if zh else "Must include these words: ") + ", ".join(req.keywords))
    if req.banned:
        lines.append(("不得使用这些词：" if zh else "Never use these words: ") + ", ".join(req.banned))
    if req.facts:
        facts = "\n".join(f"- {f}" for f in req.facts)
        lines.append(
            (
                "只使用以下公司资料中的事实，不要编造价格、数据或奖项：\n"
                if zh
                else "Use only these company facts; do not invent prices, numbers or awards:\n"
            )
            + facts
        )
    lines.append(_closing_line(zh))
    system = (
        "你是一名资深营销文案，文字具体、生动、真实。"
        if zh
        else "You are an experienced marketing copywriter: concrete, vivid and truthful."
    )
    if req.voice:
        v = req.voice
        parts = [f"{'品牌调性' if zh else 'Brand voice'} “{v.name}”: {v.description}".strip()]
        if v.do:
            parts.append(("要：" if zh else "Do: ") + "; ".join(v.do))
        if v.dont:
            parts.append(("不要：" if zh else "Don't: ") + "; ".join(v.dont))
        for example in v.examples[:2]:
            parts.append(("范例：" if zh else "Example: ") + example[:400])
        system += "\n" + "\n".join(parts)
    return [{"role": "system", "content": system}, *_example_turns(req), {"role": "user", "content": "\n".join(lines)}]


def given_text(req: WriteRequest) -> str:
    """Everything the user gave the model: what the draft may say even when the example says it too."""
    voice = req.voice.examples if req.voice else []
    return "\n".join([_task(req, req.fields), *req.facts, *req.keywords, *voice])
