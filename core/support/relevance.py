"""The second look before answering: the chat model judges whether each candidate passage answers
the question, and the answer policy decides on that judgement, not on one similarity number.

No cross-encoder ships in a wheel on the package index (checked: FlashRank, swiftrank and the like
download their models at run time), so the judge is the chat model itself: the probability that
its next word is "yes" to "does this passage answer this question?" (`Engine.judge`), read by the
base model (adapters never shift the scale). The passage comes first in the prompt and the
question last, so llama.cpp's prompt cache keeps each passage's reading for the next customer who
asks about it: a judgement of a passage seen before costs only the question's tokens.

`decide` turns retrieval confidences and judgements into the tier: a FAQ entry whose question the
customer asked almost word for word is answered at once (the fast path: no judgement needed, it
keeps tier-1 answers quick); otherwise each candidate is scored by the judgement together with its
retrieval confidence, the curated answer needs a high score, tier 2 orders its sources by it, and
below that the customer is handed over, with the closest FAQ questions offered as "did you mean".
Thresholds were calibrated with bench/support_thresholds.py on the labelled sets in data/kb/eval/
and the StackFAQ dev queries (the judgement alone separates right from wrong passages about as
well as retrieval alone, AUC 0.88 vs 0.86; the two together clearly better).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from core.kb.store import Hit
from core.text.language import has_cjk

JUDGE_SYSTEM = (
    "You check a company's help-centre answers. Given a passage and a customer's question, say whether "
    "the passage contains the answer to that exact question. Reply with one word: yes or no."
)


def passage_text(hit: Hit) -> str:
    """The passage as the judge reads it, cut to about 150 tokens (a Chinese character is about
    one token, an English word about one): reading is what a judgement costs."""
    text = f"Q: {hit.text}\nA: {hit.answer}" if hit.kind == "faq" else hit.text
    return text[: 300 if has_cjk(text) else 700]


def passage_tag(text: str) -> str:
    """Four letters that name a passage in its judge prompt. llama.cpp's prompt cache hands a kept
    prompt to a new one that shares more of its start than the slot's own prompt does, and the kept
    one is then overwritten: without the tag, passages that begin alike ("Q: How do I") took each
    other's place (in two checks here, 4 and 5 of 10 passages read ahead had been displaced). After
    the tag two passages share their first differing token in 0.66 % of pairs."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return "".join(chr(ord("a") + b % 26) for b in digest[:4])


def judge_prompt(question: str, hit: Hit) -> list[dict]:
    """Passage first, question last: the passage's part of the prompt is the same for every
    question about it, so the engine's prompt cache serves it again."""
    text = passage_text(hit)
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {
            "role": "user",
            "content": f"Passage {passage_tag(text)}:\n{text}\n\nCustomer question: {question}\n\n"
            "Does the passage answer this question? Answer yes or no.",
        },
    ]


@dataclass(frozen=True)
class Thresholds:
    """Per question language. A candidate's score is the judge's P(yes) + `weight` x its retrieval
    confidence: the two disagree in different places (the judge is strict with paraphrases,
    retrieval is fooled by shared words), and together they separate better than either.
    `fast`: retrieval confidence at which a FAQ entry is taken without a judgement; `tier1`: the
    score a FAQ entry needs for its curated answer; `tier2`: the score the best passage needs for a
    written answer; `keep`: the score another passage needs to be among its sources; `suggest`:
    the score a FAQ question needs to be offered as "did you mean"."""

    fast: float = 0.93
    weight: float = 1.0
    tier1: float = 1.4
    tier2: float = 1.0
    keep: float = 0.3
    suggest: float = 0.8


# bench/support_thresholds.py: the most right answers with wrong <= 3 % and off-topic handed over
# >= 95 % on data/kb/eval (en/zh queries, off-topic, documents) and 150 StackFAQ dev queries.
THRESHOLDS = {
    "en": Thresholds(fast=0.93, weight=1.5, tier1=1.65, tier2=1.1, keep=0.3, suggest=1.0),
    "zh": Thresholds(fast=0.93, weight=1.0, tier1=1.4, tier2=1.0, keep=0.3, suggest=0.8),
}
JUDGED = 4  # candidates judged per question (the top of the hybrid ranking)


class JudgeCache:
    """Judgements already made: (question, passage) -> P(yes). A customer asking what others asked
    before gets the same decision without the model; bounded, least recently used first out."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._items: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, question: str, hit: Hit) -> str:
        raw = "\x00".join([model, " ".join(question.lower().split()), passage_text(hit)])
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()

    def get(self, key: str) -> float | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: str, value: float) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


CACHE = JudgeCache()


def reading_order(passages: list[Hit]) -> list[Hit]:
    """Documents first, FAQ entries last: when the engine's prompt cache is full its oldest prompts
    go first, and FAQ entries make the quick answers."""
    return sorted(passages, key=lambda h: h.kind == "faq")


def passage_key(hit: Hit) -> str:
    """A passage as the read-ahead's progress record names it: its tag (see `passage_tag`) and a
    longer hash of what the judge reads, so an edited passage counts as unread."""
    text = passage_text(hit)
    return f"{passage_tag(text)}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"


def read_passage(llm, hit: Hit) -> None:
    """Read one passage for the relevance check, ahead of any question (the verdict on the empty
    question means nothing: reading is the point). Raises what the engine raises: on llama.cpp an
    EngineError "the relevance check is busy" when a customer's judgement held the slot too long."""
    llm.judge([judge_prompt("", hit)])


def engine_idle(llm) -> bool:
    """No customer is being judged or answered, and none waits: the gap the read-ahead reads in.
    Looks at the engine's generation slots (`queue`) and, on llama.cpp, its judging slot."""
    server = getattr(llm, "server", None)
    for queue in (getattr(llm, "queue", None), getattr(server, "judge_queue", None)):
        if queue is None:
            continue
        waiting = getattr(queue, "waiting", None)
        if getattr(queue, "active", 0) or (callable(waiting) and waiting()):
            return False
    return True


def judgements_asked(llm) -> int:
    """How many judgements were ever asked of the engine's judging slot (llama.cpp; 0 elsewhere):
    the read-ahead compares it before and after its own reading to learn that a customer came."""
    queue = getattr(getattr(llm, "server", None), "judge_queue", None)
    return int(getattr(queue, "taken", 0) or 0)


def warm_judge(llm, passages: list[Hit], stop: threading.Event | None = None, passes: int = 2) -> int:
    """Read each passage once for the relevance check, ahead of any question: an engine that keeps
    prompts (llama.cpp's host-memory cache) then judges a customer's first question about it by
    reading only the question (0.35 s instead of 1-2 s here). In `reading_order`. A second pass
    costs little for what was kept and reads again the few that another passage displaced (see
    `passage_tag`). Returns the prompts sent; stops early when `stop` is set. The plain loop, for a
    process with no customers: the app's read-ahead (core/support/warm.py) also yields to
    customers, retries and reports its progress."""
    if not getattr(llm, "keeps_prompts", False):
        return 0
    done = 0
    ordered = reading_order(passages)
    for _ in range(passes):
        for hit in ordered:
            if stop is not None and stop.is_set():
                return done
            read_passage(llm, hit)
            done += 1
    return done


def judge_in_order(llm, question: str, hits: list[Hit], t: Thresholds, cache: JudgeCache | None = None) -> list:
    """Judge the candidates one by one in ranking order and stop at the first FAQ entry judged to
    answer (its curated answer is given): usually one judgement, not four."""
    scores: list[float | None] = []
    for hit in hits[:JUDGED]:
        [p] = judge(llm, question, [hit], cache or CACHE)
        scores.append(p)
        if p is not None and hit.kind == "faq" and score(hit, p, t) >= t.tier1:
            break
    return scores


def score(hit: Hit, p: float, t: Thresholds) -> float:
    """The judge's P(yes) and the retrieval confidence, together."""
    return p + t.weight * hit.confidence


def judge(llm, question: str, hits: list[Hit], cache: JudgeCache = CACHE) -> list[float | None]:
    """P(yes) per hit (None: the model cannot judge): from the cache, else from the model."""
    model = getattr(getattr(llm, "info", None), "model", "") or ""
    keys = [cache.key(model, question, h) for h in hits]
    scores = [cache.get(k) for k in keys]
    todo = [i for i, s in enumerate(scores) if s is None]
    if todo:
        fresh = llm.judge([judge_prompt(question, hits[i]) for i in todo])
        for i, p in zip(todo, fresh, strict=False):
            scores[i] = p
            if p is not None:
                cache.put(keys[i], p)
    return scores


@dataclass
class Decision:
    tier: int
    chosen: list[Hit] = field(default_factory=list)  # tier 1: the entry; tier 2: the sources, best first
    suggestions: list[Hit] = field(default_factory=list)  # FAQ entries to offer as "did you mean"
    judged: dict[str, float] = field(default_factory=dict)  # hit id -> P(yes)
    reason: str = ""


def fast_match(hits: list[Hit], t: Thresholds) -> Hit | None:
    """A FAQ entry asked nearly word for word, clearly ahead of any other entry."""
    if not hits or hits[0].kind != "faq" or hits[0].confidence < t.fast:
        return None
    return hits[0]


def decide(
    hits: list[Hit],
    scores: list[float | None] | None,
    t: Thresholds,
    fallback: tuple[float, float] = (0.70, 0.40),
    max_sources: int = 4,
) -> Decision:
    """The tier from the ranked hits and the judgements of the first len(scores) of them. Without
    judgements (no model, or one that abstains), retrieval confidence decides alone, against
    `fallback` = (tier-1, tier-2) confidence thresholds (APP_TIER1_EN …)."""
    if not hits:
        return Decision(3, reason="nothing relevant in the knowledge base")
    if (quick := fast_match(hits, t)) is not None:
        return Decision(1, [quick], reason=f"FAQ question matched (confidence {quick.confidence:.2f})")
    judged = [(h, p) for h, p in zip(hits, scores or [], strict=False) if p is not None]
    if not judged:
        return by_confidence(hits, fallback, max_sources)
    marks = {h.id: round(p, 3) for h, p in judged}
    scored = [(h, score(h, p, t)) for h, p in judged]
    best_first = sorted(scored, key=lambda hs: hs[1], reverse=True)
    suggestions = [h for h, s in best_first if h.kind == "faq" and s >= t.suggest][:3]
    # The best-ranked FAQ entry scored to answer (what judging in order stops at).
    answering = next((h for h, s in scored if h.kind == "faq" and s >= t.tier1), None)
    if answering is not None:
        reason = f"FAQ entry answers it (judged {marks[answering.id]:.2f}, confidence {answering.confidence:.2f})"
        return Decision(1, [answering], judged=marks, reason=reason)
    best = best_first[0][0]
    if best_first[0][1] >= t.tier2:
        sources = [h for h, s in best_first if s >= t.keep][:max_sources]
        reason = f"{len(sources)} passage(s) judged relevant (best {marks[best.id]:.2f})"
        return Decision(2, sources, suggestions, marks, reason=reason)
    reason = f"no passage judged to answer the question (best {marks[best.id]:.2f})"
    return Decision(3, [], suggestions, marks, reason=reason)


def by_confidence(hits: list[Hit], fallback: tuple[float, float], max_sources: int = 4) -> Decision:
    """Retrieval confidence alone (no judge): the policy before the relevance check."""
    tier1, tier2 = fallback
    top = hits[0]
    suggestions = [h for h in hits if h.kind == "faq" and h.confidence >= tier2][:3]
    if top.kind == "faq" and top.confidence >= tier1:
        return Decision(1, [top], reason=f"FAQ match (confidence {top.confidence:.2f})")
    if top.confidence >= tier2:
        # The best few close to the top: the model answers more reliably with some context.
        relevant = [h for h in hits if h.confidence >= min(tier2, top.confidence - 0.15)][:max_sources]
        return Decision(
            2, relevant, suggestions, reason=f"{len(relevant)} relevant passage(s) (best {top.confidence:.2f})"
        )
    return Decision(3, [], suggestions, reason="no passage above the relevance threshold")
