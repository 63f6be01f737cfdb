"""The writing itself: a draft and its variants from the model, written again when a check fails,
a generation stopped when it loops, and a missing required part written into the draft."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass

from core.llm import GenerationOptions
from core.writer.checks import check, problems, structure_missing
from core.writer.draft_text import (
    PAUSE,
    clean,
    drop_unfinished,
    fit_length,
    is_looping,
    new_sentences,
)
from core.writer.prompts import build_messages, given_text
from core.writer.request import WriteRequest


@dataclass
class Variant:
    text: str
    checks: dict
    seconds: float = 0.0
    tokens: int = 0
    attempts: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


def options_for(req: WriteRequest, seed: int) -> GenerationOptions:
    # Qwen's tokenizer: ~4 characters per token in English, ~1.4 in Chinese (measured on our
    # templates' outputs); a little headroom so the text can end its sentence.
    per_token = 1.4 if req.lang == "zh" else 4.0
    return GenerationOptions(
        max_new_tokens=min(2048, int(req.max_chars / per_token * 1.15) + 16),
        temperature=0.7,
        top_p=0.9,
        repetition_penalty=1.1,
        seed=seed,
    )


ATTEMPTS = 2  # drafts per variant at most: a second one only when the first fails a check


def write_one(
    llm, req: WriteRequest, seed: int = 0, cancel: threading.Event | None = None, attempts: int = ATTEMPTS
) -> Variant:
    """One variant. A 0.5B model sometimes stops early, loops or drops a required part; such a
    draft is written again with another seed, and the better of the two is kept. A part still
    missing after that is written into the draft from its first words (see `_complete_parts`)."""
    start = time.perf_counter()
    messages = build_messages(req)
    best: tuple[str, dict] | None = None
    tokens = 0
    for attempt in range(max(1, attempts)):
        options = options_for(req, seed + 1000 * attempt)
        gen = llm.stream(messages, options)
        looped = _consume(gen, cancel)
        tokens += gen.stats.new_tokens
        raw = gen.text
        if looped or gen.stats.new_tokens >= options.max_new_tokens:  # stopped mid-sentence
            raw = drop_unfinished(raw)
        text = fit_length(clean(raw, _example_text(req), given_text(req), req.keywords), req.max_chars)
        checks = check(text, req)
        if best is None or problems(checks) < problems(best[1]):
            best = (text, checks)
        if problems(best[1]) == 0 or (cancel is not None and cancel.is_set()):
            break
    assert best is not None  # at least one attempt ran
    text, checks = best
    if checks["structure_missing"] and not (cancel is not None and cancel.is_set()):
        text, checks, added = _complete_parts(llm, req, messages, text, seed, cancel)
        tokens += added
    return Variant(text, checks, round(time.perf_counter() - start, 2), tokens, attempt + 1)


def _consume(gen, cancel: threading.Event | None, stop_at: str = "") -> bool:
    """Read a generation to its end; stop it early when the user cancels, when the model starts
    saying the same thing again (it would loop until the token limit: minutes on a CPU), or once
    `stop_at` follows some text. True when it was stopped for looping."""
    looped = False
    for chunk in gen:
        if not looped and PAUSE.search(chunk) and is_looping(gen.text):
            looped = True
            gen.cancel()
        if (cancel is not None and cancel.is_set()) or (stop_at and stop_at in gen.text.strip()):
            gen.cancel()
    return looped


def _example_text(req: WriteRequest) -> str:
    example = req.template.example(req.lang, req.platform)
    return example["output"] if example else ""


def _lead(part: dict, req: WriteRequest, draft: str) -> str:
    """The text that starts a missing part, from the template, written after the draft's last line:
    a fixed text ("\nAbout {company}\n": a blank line, then the heading; "- ": one more bullet) or,
    with "lead_from", the next heading of a field that lists headings (an outline) that the draft
    does not have yet, as a new paragraph."""
    values = {f.name: str(req.fields.get(f.name, "")).strip() or "-" for f in req.template.fields}
    if part.get("lead_from"):
        for line in str(req.fields.get(part["lead_from"], "")).splitlines():
            heading = HEADING_NUMBER.sub("", line).strip()
            if (
                heading
                and not line.lstrip().startswith(("-", "*", "•"))
                and not TITLE_LINE.match(line)
                and heading not in draft
            ):
                return f"\n{heading}\n"
        return ""
    return part.get("lead", "").format(**values)


HEADING_NUMBER = re.compile(r"^\s*(?:#+\s*)?(?:\d+[.、)]|[一二三四五六七八九十]+[、.])?\s*")
TITLE_LINE = re.compile(r"^\s*(?:title|标题|標題)\s*[:：]", re.IGNORECASE)


def _complete_parts(
    llm, req: WriteRequest, messages: list[dict], text: str, seed: int, cancel: threading.Event | None = None
) -> tuple[str, dict, int]:
    """Write each missing part that has a lead into the draft: the draft up to where the part
    belongs plus the part's first words go to the model as the start of its own reply, and it
    finishes that line (a section of an outline: that paragraph). Asking for a part in a new turn
    does not work with a 0.5B model (it rewrites the whole text or ignores the request); continuing
    its own text does. A part needed several times (3 bullets) is continued once per missing one.
    The result is kept only if it lacks fewer parts."""
    parts = req.template.structure.get(req.lang, [])
    draft, tokens = text, 0
    missing = set(structure_missing(text, req.template, req.lang))
    for i, part in enumerate(parts):
        if part["label"][req.lang] not in missing or not (part.get("lead") or part.get("lead_from")):
            continue
        # The part goes after the line of its last instance the draft has (a third bullet after
        # the second), and before the first later part it has (a quote before "About ...").
        places = [m.start() for p in parts[i + 1 :] if (m := re.search(p["pattern"], draft, re.MULTILINE))]
        if had := list(re.finditer(part["pattern"], draft, re.MULTILINE)):
            line_end = draft.find("\n", had[-1].end())
            places.append(len(draft) if line_end < 0 else line_end)
        head = draft[: min(places, default=len(draft))].rstrip()
        tail = draft[len(head) :]  # with the blank line or line break that led into it
        count = lambda text, pattern=part["pattern"]: len(re.findall(pattern, text, re.MULTILINE))  # noqa: E731
        stop_at = "\n\n" if part.get("lead_from") else "\n"
        for extra_try in range(int(part.get("min", 1)) + 1):
            lead = _lead(part, req, head)
            if not lead or (cancel is not None and cancel.is_set()):
                break
            options = options_for(req, seed + 500 + extra_try)
            options.max_new_tokens = min(options.max_new_tokens, 240)  # one paragraph
            gen = llm.stream(messages, options, prefill=f"{head}\n{lead}")
            _consume(gen, cancel, stop_at)
            tokens += gen.stats.new_tokens
            # Only that line or paragraph: what follows may be a part the draft already has.
            piece = gen.text.strip().split(stop_at)[0]
            body = new_sentences(
                clean(piece, _example_text(req), given_text(req), req.keywords), f"{head}\n{tail}", given_text(req)
            )
            if len(body) < 4:
                continue
            candidate = f"{head}\n{lead}{body}"
            if count(candidate + tail) > count(head + tail):  # one more of the part: keep it
                head = candidate
            if count(head + tail) >= int(part.get("min", 1)):
                break
        draft = (head + tail).strip()
    draft = fit_length(draft, req.max_chars)
    checks = check(draft, req)
    if len(checks["structure_missing"]) < len(missing):
        return draft, checks, tokens
    return text, check(text, req), tokens


def write(llm, req: WriteRequest, variants: int = 1, seed: int = 0) -> list[Variant]:
    if not 1 <= variants <= 4:
        raise ValueError("Variants must be between 1 and 4")
    req.validate()
    return [write_one(llm, req, seed + i) for i in range(variants)]
