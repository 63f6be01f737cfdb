"""Training data: the company's FAQ answered from sources, brand-voice samples, extra chat files.

Every example is a chat (system, user, assistant) that the trainer renders with the model's own
chat template and trains on the assistant's part only.

FAQ entries become *grounded* examples in exactly the format the customer-service page uses for
tier-2 answers (`core.support.prompts.GROUNDED`): numbered sources plus the question in the user message,
and the curated answer with a citation after each sentence as the target. About one entry in four
also gets sources that do not answer it, with NO_ANSWER as the target. The fine-tune therefore
teaches the company's answers *and* the hand-over contract; training question → answer without
sources under that system prompt would teach the model to answer from memory, which is what
tier 2 must never do.

Real tier-2 sources mix FAQ records with document chunks ("Title › Section" + text). So half the
answers are shown as such a passage rather than as a Q/A record, and document chunks of the
knowledge base join the sources as distractors. Without this, a first adapter learned the
shortcut "no source restates the question → NO_ANSWER" and refused questions that only the
documents answer (README, Fine-tuning).

A fixed seed decides the validation split: ~15% of the FAQ entries of each language are held out
(never trained on) and also serve as the answer-quality test set in `evaluate`. The inputs and
their readers are in core/finetune/inputs.py.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.config import PROJECT_ROOT
from core.finetune.inputs import (
    Example,
    FaqEntry,
    Passage,
    docs_from_files,
    docs_from_kb,
    faq_from_kb,
    faq_from_table,
    read_inputs,
    read_upload,
)
from core.support.citations import words
from core.text.language import has_cjk
from core.writer.store import WriterStore

SAMPLE_FAQ = PROJECT_ROOT / "data" / "kb" / "sample" / "faq.csv"
VAL_FRACTION = 0.15  # of each language's FAQ entries
NEGATIVE_FRACTION = 0.25  # FAQ entries that also get a NO_ANSWER example


@dataclass
class TrainingData:
    train: list[Example]
    val: list[Example]
    inputs: list[str] = field(default_factory=list)  # what it was built from, for the model card

    @property
    def sha256(self) -> str:
        canon = json.dumps(
            {"train": [e.as_dict() for e in self.train], "val": [e.as_dict() for e in self.val]},
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()

    def summary(self) -> dict:
        def count(rows):
            return dict(sorted(Counter(f"{e.kind}/{e.language}" for e in rows).items()))

        return {
            "sha256": self.sha256,
            "train_examples": len(self.train),
            "val_examples": len(self.val),
            "train": count(self.train),
            "val": count(self.val),
            "inputs": self.inputs,
            "heldout_faq": sorted({e.source for e in self.val if e.kind == "faq"}),
        }


# -- examples ----------------------------------------------------------------------------------
def cite(answer: str, n: int, language: str) -> str:
    """The answer with a citation `[n]` after each sentence, as the grounded prompt asks for."""
    parts = re.split(r"(?<=[。！？])" if language == "zh" else r"(?<=[.!?])\s+", answer.strip())
    out = []
    for sentence in (p.strip() for p in parts):
        if not sentence:
            continue
        space = "" if language == "zh" else " "
        if sentence[-1] in ".!?。！？":
            out.append(f"{sentence[:-1]}{space}[{n}]{sentence[-1]}")
        else:
            out.append(f"{sentence}{space}[{n}]")
    return ("" if language == "zh" else " ").join(out)


def strip_citations(text: str) -> str:
    return re.sub(r"(?<!\s)\s*+\[\d++\]", "", text).strip()  # from where the spaces start: linear


def render_source(n: int, item, as_passage: bool = False) -> str:
    """One numbered source as core.support.policy writes it: FAQ records as Q/A, document chunks as text.
    as_passage shows a FAQ answer the way a document chunk about its topic would look."""
    if isinstance(item, Passage):
        return f"[{n}] ({item.source}) {item.text}"
    if as_passage:
        topic = (item.category or "help").replace("-", " ")
        title = f"帮助中心 › {topic}" if item.language == "zh" else f"Help centre › {topic.capitalize()}"
        return f"[{n}] (help-centre.md) {title}\n{item.answer}"
    return f"[{n}] ({item.source}) Q: {item.question}\nA: {item.answer}"


def grounded_messages(question: str, sources: list[str], language: str, company: str) -> list[dict]:
    """System and user messages exactly as core.support.policy builds them for a tier-2 answer."""
    # chromadb (through the knowledge base): loaded only where answers are built
    from core.support.policy import GROUNDED, NO_ANSWER

    prompt = GROUNDED.invoke(
        {
            "company": company,
            "no_answer": NO_ANSWER,
            "sources": "\n\n".join(sources),
            "question": question,
            "language": "Chinese" if language == "zh" else "English",
        }
    )
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": m.content} for m in prompt.to_messages()]


def _text(item) -> str:
    return item.text if isinstance(item, Passage) else item.question + " " + item.answer


def _neighbours(entry: FaqEntry, pool: list) -> list:
    """Other entries (or passages) of the same language, most similar first (word / character-bigram Jaccard)."""
    mine = words(_text(entry))

    def similarity(other):
        theirs = words(_text(other))
        return len(mine & theirs) / max(1, len(mine | theirs))

    others = [
        e
        for e in pool
        if e.language == entry.language and e is not entry and not (isinstance(e, FaqEntry) and e.id == entry.id)
    ]
    return sorted(others, key=lambda e: (-similarity(e), _text(e)))


def faq_examples(
    entry: FaqEntry,
    pool: list[FaqEntry],
    rng: random.Random,
    company: str,
    negative: bool,
    docs: list[Passage] | None = None,
) -> list[Example]:
    # chromadb (through the knowledge base): loaded only where answers are built
    from core.support.policy import NO_ANSWER

    near = _neighbours(entry, pool)
    if not near:
        return []
    near_docs = _neighbours(entry, docs or [])
    sources = [entry, rng.choice(near[:3])]
    if near_docs and rng.random() < 0.5:
        sources.append(rng.choice(near_docs[:3]))
    rng.shuffle(sources)
    n = sources.index(entry) + 1
    as_passage = rng.random() < 0.5
    rendered = [render_source(i + 1, s, as_passage and s is entry) for i, s in enumerate(sources)]
    tag = f"{entry.source}#{entry.id}"
    out = [
        Example(
            grounded_messages(entry.question, rendered, entry.language, company)
            + [{"role": "assistant", "content": cite(entry.answer, n, entry.language)}],
            "faq",
            entry.language,
            tag,
            reference=entry.answer,
        )
    ]
    if negative:
        # Sources that do not answer the question: other topics when categories are known, else
        # entries further down the similarity list (the nearest ones may half-answer it); and
        # document chunks from the least similar half.
        unrelated = [e for e in near if e.category != entry.category] if entry.category else near[3:]
        far_docs = near_docs[len(near_docs) // 2 :]
        candidates = unrelated[:8] + (far_docs[:4] if far_docs else [])
        if len(candidates) >= 2:
            picked = rng.sample(candidates, 2)
            rendered = [render_source(i + 1, s) for i, s in enumerate(picked)]
            out.append(
                Example(
                    grounded_messages(entry.question, rendered, entry.language, company)
                    + [{"role": "assistant", "content": NO_ANSWER}],
                    "no-answer",
                    entry.language,
                    tag,
                )
            )
    return out


def voice_examples(voices: dict, company: str) -> list[Example]:
    """Each writing sample of each saved brand voice (content writer) as an example of that voice."""
    out = []
    for voice in voices.values():
        for i, sample in enumerate(voice.examples, start=1):
            if not sample.strip():
                continue
            zh = has_cjk(sample)
            system = (
                "你是一名资深营销文案，文字具体、生动、真实。"
                if zh
                else "You are an experienced marketing copywriter: concrete, vivid and truthful."
            )
            parts = [f"{'品牌调性' if zh else 'Brand voice'} “{voice.name}”: {voice.description}".strip()]
            if voice.do:
                parts.append(("要：" if zh else "Do: ") + "; ".join(voice.do))
            if voice.dont:
                parts.append(("不要：" if zh else "Don't: ") + "; ".join(voice.dont))
            user = (
                f"请用这个品牌调性为{company}写一段营销文案。只输出正文。"
                if zh
                else f"Write a piece of marketing copy for {company} in this brand voice. Output only the text."
            )
            out.append(
                Example(
                    [
                        {"role": "system", "content": system + "\n" + "\n".join(parts)},
                        {"role": "user", "content": user},
                        {"role": "assistant", "content": sample.strip()},
                    ],
                    "voice",
                    "zh" if zh else "en",
                    f"voice:{voice.name}#{i}",
                )
            )
    return out


def build(
    faq: list[FaqEntry],
    voices: dict | None = None,
    extra: list[Example] | None = None,
    *,
    docs: list[Passage] | None = None,
    company: str = "our company",
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    inputs: list[str] | None = None,
) -> TrainingData:
    """Examples from all inputs, split into train and validation with a fixed seed. docs: document
    chunks shown among the sources (never as the answer)."""
    rng = random.Random(seed)
    faq = _dedupe(faq)
    train: list = []
    val: list = []
    for language in ("en", "zh"):
        entries = [e for e in faq if e.language == language]
        order = list(range(len(entries)))
        rng.shuffle(order)
        held = round(len(entries) * val_fraction) if len(entries) >= 4 else 0
        heldout = {entries[i].id for i in order[:held]}
        for entry in entries:
            is_val = entry.id in heldout
            # Every held-out entry gets a NO_ANSWER case too, so evaluation can measure hand-overs.
            negative = is_val or rng.random() < NEGATIVE_FRACTION
            (val if is_val else train).extend(faq_examples(entry, entries, rng, company, negative, docs))
    others = voice_examples(voices or {}, company) + list(extra or [])
    order = list(range(len(others)))
    rng.shuffle(order)
    held_others = {order[i] for i in range(round(len(others) * 0.1) if len(others) >= 10 else 0)}
    for i, example in enumerate(others):
        (val if i in held_others else train).append(example)
    if not train:
        raise ValueError("No training data: add FAQ entries to the knowledge base, brand voices, or a data file")
    return TrainingData(train, val, inputs or [])


def _dedupe(faq: list[FaqEntry]) -> list[FaqEntry]:
    """Drop repeated questions (same language and text); keep ids unique per language."""
    seen, ids, out = set(), set(), []
    for e in faq:
        key = (e.language, e.question.strip().lower())
        if key in seen:
            continue
        seen.add(key)
        entry = (
            e
            if (e.language, e.id) not in ids
            else FaqEntry(f"{e.source}:{e.id}", e.question, e.answer, e.language, e.category, e.source)
        )
        ids.add((entry.language, entry.id))
        out.append(entry)
    return out


def collect(
    settings,
    faq: str = "kb",
    data_files: list[Path] | None = None,
    voices: bool = True,
    uploads: list[tuple[str, bytes]] | None = None,
    seed: int = 0,
    kb=None,
    doc_files: list[Path] | None = None,
) -> TrainingData:
    """Gather every input the CLI and the page offer, then `build`.

    faq: "kb" (the knowledge base's FAQ entries; the sample FAQ when it holds none), "none", or a
    FAQ table path. data_files: .jsonl / .csv / .xlsx files; uploads: (name, bytes) pairs; kb: the
    open knowledge base (core/application.py), needed for faq="kb". Document chunks for the sources
    come from doc_files if given, else from the knowledge base when faq="kb"."""
    entries, inputs, docs = [], [], []
    if faq == "kb":
        if kb is None:
            raise TypeError('collect(faq="kb") reads the knowledge base: pass the open one as kb=')
        entries = faq_from_kb(kb)
        docs = docs_from_kb(kb)
        inputs.append(f"knowledge base '{settings.kb_name}': {len(entries)} FAQ entries, {len(docs)} document chunks")
        if not entries:
            entries = faq_from_table(SAMPLE_FAQ.name, SAMPLE_FAQ.read_bytes())
            docs = docs_from_files(sorted(SAMPLE_FAQ.parent.glob("*.md")))
            inputs[-1] = (
                f"sample company {SAMPLE_FAQ.parent.relative_to(PROJECT_ROOT)}: {len(entries)} FAQ entries, "
                f"{len(docs)} document chunks (knowledge base empty)"
            )
    elif faq != "none":
        path = Path(faq)
        if not path.is_file():
            raise ValueError(f"{path}: no such FAQ file")
        entries = faq_from_table(path.name, path.read_bytes())
        shown = path.resolve().relative_to(PROJECT_ROOT) if path.resolve().is_relative_to(PROJECT_ROOT) else path.name
        inputs.append(f"FAQ table {shown}: {len(entries)} entries")
    extra: list[Example] = []
    limit = settings.max_upload_mb * 1_000_000
    if doc_files:
        docs = docs_from_files(doc_files, limit)
        inputs.append(f"documents {', '.join(Path(p).name for p in doc_files)}: {len(docs)} chunks")
    for path in data_files or []:
        rows, chats = read_inputs([path], limit)
        entries += rows
        extra += chats
        inputs.append(f"{Path(path).name}: {len(rows)} FAQ entries, {len(chats)} chat examples")
    for name, data in uploads or []:
        rows, chats = read_upload(name, data, limit)
        entries += rows
        extra += chats
        inputs.append(f"{name}: {len(rows)} FAQ entries, {len(chats)} chat examples")
    saved = {}
    if voices:
        saved = WriterStore(settings.db_path).voices()
        samples = sum(len(v.examples) for v in saved.values())
        if samples:
            inputs.append(f"brand voices: {len(saved)} voice(s), {samples} writing sample(s)")
    return build(entries, saved, extra, docs=docs, company=settings.company_name, seed=seed, inputs=inputs)
