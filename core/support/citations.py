"""Citation markers [n] for answers written from numbered sources.

The customer-service prompt asks the model to cite its sources; the 0.5B model (fine-tuned or
not) often writes none. An answer without a single marker gets them here: each sentence is
marked with the source it shares the most words with (Chinese: character pairs), when it shares
enough of them. A sentence that matches no source stays unmarked rather than get a wrong number.
Answers that already cite are left exactly as the model wrote them.
"""

from __future__ import annotations

import re

from core.text.language import to_simplified

MARKER = re.compile(r"\[\d+\]")
# A sentence: up to 。！？ (Chinese), or . ! ? before a space or the end (so "4.95" stays whole),
# or the end of its line. Whitespace between sentences is kept as it was. Linear time: a run of
# . ! ? is tried as the end only from where it starts (its first character may begin a sentence:
# ".. " is one), as `[.!?]+(?=\s|$)` tried from each of its characters made "." * 8000 + "x" take
# seconds; TRAILING_PUNCTUATION likewise starts only where its run starts.
SENTENCE = re.compile(r"[.!?][.!?]++(?=\s|$)|[^\n]+?(?:[。！？]++|(?<![.!?])[.!?]++(?=\s|$)|(?=\n)|$)")
TRAILING_PUNCTUATION = re.compile(r"(?<![。！？.!?])[。！？.!?]++$")


def words(text: str) -> set[str]:
    """Lower-case words and digits, plus pairs of neighbouring Chinese characters."""
    text = text.lower()
    found = set(re.findall(r"[a-z0-9]+", text))
    cjk = "".join(re.findall(r"[\u4e00-\u9fff]", text))
    return found | {cjk[i : i + 2] for i in range(len(cjk) - 1)}


def _mark(sentence: str, n: int, language: str) -> str:
    body = sentence.rstrip()
    end = TRAILING_PUNCTUATION.search(body)
    punctuation = end.group() if end else ""
    body = body[: len(body) - len(punctuation)]
    space = "" if language == "zh" else " "
    return f"{body}{space}[{n}]{punctuation}" + sentence[len(sentence.rstrip()) :]


def attach_citations(answer: str, sources: list[str], language: str, min_share: float = 0.5) -> str:
    """`answer` with [n] after each sentence that takes at least `min_share` of its words from
    source n (1-based, in the order given). Unchanged if it already has a marker."""
    if not sources or MARKER.search(answer):
        return answer

    source_words = [words(to_simplified(s)) for s in sources]

    def cite(match: re.Match) -> str:
        sentence = match.group()
        mine = words(to_simplified(sentence))
        if len(mine) < 3:  # "Thanks!", "您好。": nothing to attribute
            return sentence
        shares = [len(mine & theirs) / len(mine) for theirs in source_words]
        best = max(range(len(shares)), key=shares.__getitem__)
        return _mark(sentence, best + 1, language) if shares[best] >= min_share else sentence

    return SENTENCE.sub(cite, answer)
