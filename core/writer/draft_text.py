"""Model output made into text a person can use, and the facts checked in it: loops collapsed,
instructions echoed back and text copied from a worked example removed, a stopped text cut at a
sentence end, figures compared with what the user gave. Pure text functions; no model, no request."""

from __future__ import annotations

import re
import unicodedata

from core.text.language import has_cjk, to_simplified


def contains_word(text: str, word: str) -> bool:
    norm = lambda s: to_simplified(s).lower()  # noqa: E731
    return norm(word) in norm(text)


# A phrase of 4-80 characters said three or more times in a row: the small model's loop. The
# phrase is bounded (unbounded, a backreference over a lazy phrase is cubic on text that repeats
# nothing: minutes on a long draft); it starts on no separator (a run of them was read again for
# each length); each start tries at most 77 lengths: linear. Up to 120 it took 50-57 ms of CPU on
# 8,192 characters on a quiet machine (the limit is 50); a longer repeated line is still caught
# while streaming by is_looping's repeated-line check.
LOOP = re.compile(r"([^\s，,、;；].{3,80}?)(?:[\s，,、;；]*+\1){2,}")


def _is_loop(match: re.Match) -> bool:
    """A repeated unit with a letter, digit or Chinese character: "|---|---|---|" (a Markdown table
    rule) or "......" is not a loop."""
    return re.search(r"\w", match[1]) is not None


def _loops(text: str):
    return (m for m in LOOP.finditer(text) if _is_loop(m))


def collapse_loops(text: str) -> str:
    return LOOP.sub(lambda m: m[1] if _is_loop(m) else m[0], text)


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


# Indentation within the line only: `^\s*` read every blank line below each line start (quadratic).
LIST_MARKER = re.compile(r"^[^\S\n]*+(?:[#*>-]++[^\S\n]*+)?\d++[.、)]\s", re.MULTILINE)


def _numbers(text: str) -> set[str]:
    """Figures in a comparable form: full-width digits made plain, no thousands separators, no
    leading zeros ("06" = "6") and no trailing decimal zeros ("4.50" = "4.5")."""
    found = set()
    for n in NUMBER.findall(LIST_MARKER.sub("", unicodedata.normalize("NFKC", text))):
        n = n.replace(",", "").rstrip(".")
        if "." in n:
            n = n.rstrip("0").rstrip(".")
        found.add(n.lstrip("0") or "0")
    return found


def unsupported_numbers(text: str, given: str) -> list[str]:
    """Figures in the draft that nothing the user gave contains: prices, dates or counts the model
    made up (a list's own numbering does not count)."""
    known = _numbers(given)
    plain = unicodedata.normalize("NFKC", text)
    return sorted(_numbers(text) - known, key=lambda n: plain.find(n))


SENTENCE_END = re.compile(r"[。！？!?.\n](?=\s|$|[^.\d])")


def fit_length(text: str, max_chars: int) -> str:
    """The small model often overruns the limit: keep whole sentences up to it."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    ends = [m.end() for m in SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= max_chars // 2:
        return head[: ends[-1]].rstrip()
    return head[: max_chars - 1].rstrip() + "…"


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ufffd]")


# Lines where the small model repeats its instructions instead of writing copy.
ECHOED = re.compile(
    r"^\s*(?:[-*]\s*)?(?:(?:Tone|Length|Lengths|Audience|Platform style)\s*:|语气[:：]|篇幅[:：]|目标读者[:：]|平台风格[:：])"
    r"|never more than \d+|最多 ?\d+ ?字|earlier example|上面的范例",
    re.IGNORECASE,
)


# A line left with only quotation marks or dashes (what remains of a stopped loop).
PUNCTUATION_ONLY = re.compile(r"^[\"'“”‘’「」『』*_\-–—.,，。…]+$")


def clean(text: str, example: str = "", task: str = "", keep: tuple | list = ()) -> str:
    """Model output as text a person (and a .docx) can take: no control characters, no fences, no
    repeated instructions, no line said twice, no line copied from the worked example (its facts
    belong to another product) unless the task itself says it. A line or clause with one of the
    `keep` words (the user's must-include keywords) is never removed as copied."""
    text = collapse_loops(CONTROL.sub("", text).strip().strip("`").strip())
    task = to_simplified(task)  # the user may write in Traditional Chinese; the draft is Simplified
    borrowed = _grams(example) - _grams(task)
    seen, kept = set(), []
    for line in text.split("\n"):
        key = line.strip()
        ours = any(contains_word(line, word) for word in keep)
        if (
            ECHOED.search(line)
            or PUNCTUATION_ONLY.match(key)
            or (len(key) >= 12 and (key in seen or (not ours and _copied(key, example, task))))
        ):
            continue
        seen.add(key)
        line = _without_borrowed_clauses(line, borrowed, task, keep)
        if line.strip() or not key:
            kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


CLAUSE_END = re.compile(r"(?<=[，,；;。！？!?])|(?<=\.)(?=\s+[A-Z\"“])")


def _grams(text: str) -> set[str]:
    """Overlapping 4-character runs of Chinese and 3-word runs of English: how copying is spotted."""
    grams: set[str] = set()
    text = to_simplified(text or "")
    for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff\w]+", text):
        if has_cjk(run):
            grams.update(run[i : i + 4] for i in range(max(1, len(run) - 3)))
    words = re.findall(r"[a-z0-9€$£%.]+", text.lower())
    grams.update(" ".join(words[i : i + 3]) for i in range(len(words) - 2))
    return grams


def _without_borrowed_clauses(line: str, borrowed: set[str], given: str, keep: tuple | list = ()) -> str:
    """The line without factual clauses taken from the worked example (60%+ of their runs appear
    there and not in what the user gave): the example's offers, prices and product names belong to
    another product, and the small model lifts them a clause at a time ("茶叶和茶具一律 9 折").
    Borrowed wording that states no fact ("Please contact our customer service team") may stay."""
    if not borrowed:
        return line
    clauses = CLAUSE_END.split(line)
    kept = []
    for clause in clauses:
        grams = _grams(clause)
        if (
            len(grams) >= 3
            and sum(g in borrowed for g in grams) >= 0.6 * len(grams)
            and _states_a_fact(clause, given)
            and not any(contains_word(clause, word) for word in keep)
        ):
            continue
        kept.append(clause)
    if len(kept) == len(clauses):
        return line
    text = re.sub(r"([.!?]\s+)([a-z])", lambda m: m[1] + m[2].upper(), "".join(kept).rstrip(" ，,；;"))
    if text.strip() and text[-1] not in '。！？.!?:："”':
        text += "。" if has_cjk(text) else "."
    return text if text.strip(" -*•") else ""


def _states_a_fact(clause: str, given: str) -> bool:
    """A figure, a name the user did not give (a capitalised word after the first), or a long
    Chinese clause (names and offers there carry no capitals)."""
    words = re.findall(r"[A-Za-z][\w'-]*", clause)
    names = [w for w in words[1:] if w[0].isupper() and w.lower() not in given.lower()]
    return bool(re.search(r"\d", clause)) or bool(names) or len(re.findall(r"[\u3400-\u9fff]", clause)) >= 8


# Where a sentence ends: after 。！？ always; after . ! ? only before a space and a capital or a
# quotation mark, so "Jade Leaf Tea Co. is ..." or "€4.50" stay one sentence.
SENTENCE_SPLIT = re.compile(r"(?<=[。！？])\s*|(?:(?<=[.!?])|(?<=[.!?][\"”’]))\s+(?=[A-Z\"“‘'(])")


def sentences(text: str) -> list[str]:
    return [part for part in SENTENCE_SPLIT.split(text) if part.strip()]


def _copied(line: str, example: str, task: str) -> bool:
    """A sentence of 12+ characters of `line` stands word for word in `example` but not in `task`."""
    return bool(example) and any(
        len(part) >= 12 and part in example and part not in task for part in sentences(line.strip('"“”「」 '))
    )


PAUSE = re.compile(r"[\n，,。.！!？?；;、]")


def is_looping(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n")[:-1] if len(line.strip()) >= 12]
    return len(lines) > len(set(lines)) or next(_loops(text[-300:]), None) is not None


def drop_unfinished(text: str) -> str:
    """A generation that was stopped (a loop, the token limit) without its unfinished last
    sentence or the start of a repeat; kept whole if that would lose more than half of it."""
    text = collapse_loops(text).strip()
    ends = [m.end() for m in UNFINISHED_CUT.finditer(text)]
    if not ends or ends[-1] < len(text) // 2:
        return text
    kept = text[: ends[-1]].rstrip()
    if not kept:
        return text
    if kept[-1] in "，,；;":  # a clause ends the text now: end it as a sentence
        kept = kept[:-1] + ("。" if has_cjk(kept) else ".")
    return kept


# Where a stopped text may be cut: a line end, Chinese punctuation, or . ! ? , ; before a space (so
# "1,000" and "€4.50" are not cut in the middle).
UNFINISHED_CUT = re.compile(r"[\n。！？；，]|[.!?,;](?=\s|$)")


def new_sentences(text: str, draft: str, given: str = "") -> str:
    """`text` without the sentences (12+ characters) that the draft already says word for word, and
    without sentences with a figure that nothing the user gave contains (this text is ours to add)."""
    for sentence in sentences(text):
        said = len(sentence.strip()) >= 12 and sentence.strip() in draft
        if said or (given and unsupported_numbers(sentence, given)):
            text = text.replace(sentence, "", 1)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
