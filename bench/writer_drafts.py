"""First drafts from every writer template in English and Chinese with the configured model (JSON).

    .venv/bin/python bench/writer_drafts.py [--variants 1] [--ground] [--out artifacts/writer-drafts.json]

Fields come from each template's own placeholders ("e.g. ..."), so the inputs are the ones a user
sees in the page. Templates with platforms (social post) are written for every platform. Prints one JSON object: per draft the text, checks and seconds; and the median
seconds per variant. Use it to judge draft quality after changing a template or the prompt.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import load_settings  # noqa: E402
from core.llm import load_llm  # noqa: E402
from core.writer.checks import problems  # noqa: E402
from core.writer.drafts import write  # noqa: E402
from core.writer.facts import facts_from_kb  # noqa: E402
from core.writer.request import WriteRequest  # noqa: E402
from core.writer.templates import load_templates  # noqa: E402

EXAMPLE_PREFIX = re.compile(r"^\s*(e\.g\.|例如[:：]?)\s*", re.IGNORECASE)


def sample_fields(template, lang: str) -> dict:
    return {f.name: EXAMPLE_PREFIX.sub("", f.placeholder.get(lang, "")) for f in template.fields}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--ground", action="store_true", help="add knowledge-base facts (sample KB)")
    parser.add_argument("--only", default="", help="comma-separated template ids")
    parser.add_argument("--langs", default="en,zh")
    parser.add_argument("--out", default="artifacts/writer-drafts.json")
    args = parser.parse_args()

    settings = load_settings()
    llm = load_llm(settings, log=lambda *_: None)
    llm.warm_up()
    kb = None
    if args.ground:
        from core.kb.store import KnowledgeBase, load_sample

        kb = KnowledgeBase(settings.kb_dir, settings.kb_name)
        load_sample(kb)
    only = set(filter(None, args.only.split(",")))
    drafts = []
    for template in load_templates().values():
        if only and template.id not in only:
            continue
        for lang, platform in [
            (lang, p) for lang in args.langs.split(",") for p in (list(template.platforms) or [None])
        ]:
            req = WriteRequest(template, sample_fields(template, lang), lang=lang, platform=platform)
            if kb is not None:
                req.facts = facts_from_kb(kb, req.fields)
            for v in write(llm, req, variants=args.variants):
                drafts.append(
                    {
                        "template": template.id,
                        "lang": lang,
                        "platform": platform,
                        "seconds": v.seconds,
                        "attempts": v.attempts,
                        "tokens": v.tokens,
                        "checks": v.checks,
                        "text": v.text,
                    }
                )
                print(
                    f"{template.id:20s} {platform or '':11s} {lang} {v.seconds:5.1f}s {v.checks['chars']:4d}/{v.checks['max_chars']} "
                    f"lang={v.checks['language']} attempts={v.attempts} problems={problems(v.checks)}",
                    file=sys.stderr,
                )
    seconds = [d["seconds"] for d in drafts]
    result = {
        "model": settings.model,
        "adapter": settings.adapter,
        "threads": settings.threads,
        "drafts": len(drafts),
        "median_seconds_per_variant": statistics.median(seconds),
        "max_seconds_per_variant": max(seconds),
        "all_checks_ok": all(problems(d["checks"]) == 0 for d in drafts),
        "drafts_written_twice": sum(d["attempts"] > 1 for d in drafts),
        "results": drafts,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "results"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
