"""Content writer: templates, prompts in both languages, checks, batch stop/resume, CLI, page."""

import csv
import json
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.writer.batch import run_batch
from core.writer.checks import check, problems, structure_missing
from core.writer.documents import to_docx
from core.writer.draft_text import (
    clean,
    collapse_loops,
    drop_unfinished,
    fit_length,
    is_looping,
    sentences,
    unsupported_numbers,
)
from core.writer.drafts import Variant, write, write_one
from core.writer.prompts import build_messages
from core.writer.request import BrandVoice, WriteRequest
from core.writer.store import WriterStore
from core.writer.templates import TemplateError, load_templates, parse_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = load_templates()


def sample_fields(template):
    return {f.name: f"{f.name} value 测试" for f in template.fields}


def test_all_templates_load_in_order():
    assert list(TEMPLATES)[:3] == ["product_description", "marketing_email", "social_post"]
    assert len(TEMPLATES) >= 9


@pytest.mark.parametrize(
    "broken,message",
    [
        ("{not json", "broken"),
        (
            '{"id": "other", "name": {"en": "x", "zh": "x"}, "fields": [], "prompt": {"en": "x", "zh": "x"}, "max_chars": {"en": 1, "zh": 1}}',
            "must match the file name",
        ),
        (
            '{"id": "bad", "name": {"en": "x", "zh": "x"}, "fields": [], "prompt": {"en": "{ghost}", "zh": "x"}, "max_chars": {"en": 1, "zh": 1}}',
            "unknown field",
        ),
        (
            '{"id": "bad", "name": {"en": "x"}, "fields": [], "prompt": {"en": "x", "zh": "x"}, "max_chars": {"en": 1, "zh": 1}}',
            "needs an 'zh'",
        ),
        (
            '{"id": "bad", "name": {"en": "x", "zh": "x"}, "fields": [], "prompt": {"en": "x", "zh": "x"}, "max_chars": {"en": 1, "zh": 1}, "example": {"en": "just text"}}',
            "example needs",
        ),
        (
            '{"id": "bad", "name": {"en": "x", "zh": "x"}, "fields": [], "prompt": {"en": "x", "zh": "x"}, "max_chars": {"en": 1, "zh": 1}, "structure": {"en": [{"label": {"en": "x", "zh": "x"}, "pattern": "(unclosed"}]}}',
            "structure part",
        ),
    ],
)
def test_broken_template_names_the_file(tmp_path, broken, message):
    path = tmp_path / "bad.json"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(TemplateError, match=message) as err:
        parse_template(path)
    assert "bad.json" in str(err.value)


@pytest.mark.parametrize("template_id", list(TEMPLATES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_prompt_building_for_every_template(template_id, lang):
    template = TEMPLATES[template_id]
    platform = next(iter(template.platforms), None)
    req = WriteRequest(
        template,
        sample_fields(template),
        lang=lang,
        tone="playful",
        audience="tea lovers",
        keywords=["Longjing"],
        banned=["cheap"],
        platform=platform,
        voice=BrandVoice("Calm", "quiet confidence", ["short sentences"], ["exclamation marks"]),
        facts=["Shipping is free from €49."],
    )
    system, *example, user = build_messages(req)
    text = user["content"]
    if template.example(lang, platform):  # the one-shot example: an earlier user/assistant turn
        assert [m["role"] for m in example] == ["user", "assistant"]
        assert example[1]["content"] == template.example(lang, platform)["output"]
    assert "{" not in text and "Longjing" in text and "cheap" in text and "€49" in text
    assert "Calm" in system["content"]
    assert ("简体中文" in text) if lang == "zh" else ("Write in English" in text)
    assert str(req.max_chars) in text
    example = template.example(lang, platform)
    if example:  # the worked example shows every part the template requires
        assert structure_missing(example["output"], template, lang) == []


def test_missing_required_field_is_refused():
    req = WriteRequest(TEMPLATES["product_description"], {"product": ""})
    with pytest.raises(ValueError, match="Please fill in"):
        req.validate()
    with pytest.raises(ValueError, match="platform"):
        WriteRequest(TEMPLATES["social_post"], sample_fields(TEMPLATES["social_post"])).validate()


def test_checks():
    req = WriteRequest(TEMPLATES["ad_copy"], {}, lang="zh", keywords=["龙井", "春茶"], banned=["便宜"])
    c = check("Headline: 明前龍井，春天的味道\nBody: 不便宜，但值得。", req)
    assert c["missing_keywords"] == ["春茶"]  # 龍井 counts as 龙井
    assert c["banned_found"] == ["便宜"] and c["language"] == "zh" and c["language_ok"]
    assert check("x" * (req.max_chars + 1), req)["length_ok"] is False


def test_write_variants_and_docx(llm):
    req = WriteRequest(TEMPLATES["slogans"], sample_fields(TEMPLATES["slogans"]))
    variants = write(llm, req, variants=2, seed=1)
    assert len(variants) == 2 and all("length_ok" in v.checks for v in variants)
    assert to_docx("Slogans", [v.text for v in variants])[:2] == b"PK"
    with pytest.raises(ValueError):
        write(llm, req, variants=5)


def test_history_and_voices(settings, llm):
    store = WriterStore(settings.db_path)
    req = WriteRequest(TEMPLATES["slogans"], sample_fields(TEMPLATES["slogans"]))
    hid = store.save(req, write(llm, req)[0])
    store.update_text(hid, "edited", check("edited", req))
    assert store.history()[0]["text"] == "edited"
    store.save_voice(BrandVoice("Calm", "quiet", ["a"], ["b"], ["example"]))
    assert store.voices()["Calm"].do == ["a"]
    store.delete_voice("Calm")
    assert store.voices() == {}


def test_batch_stops_and_resumes(tmp_path, llm):
    template = TEMPLATES["product_description"]
    rows = [{"product": f"Tea {i}", "features": "fresh", "details": ""} for i in range(4)]
    out = tmp_path / "out.csv"
    cancel = threading.Event()
    first = run_batch(llm, template, rows, out, progress=lambda f: cancel.set() if f >= 0.5 else None, cancel=cancel)
    assert first["written"] == 2 and first["stopped"]
    second = run_batch(llm, template, rows, out)
    assert second["written"] == 2 and second["skipped"] == 2
    with out.open(encoding="utf-8") as fh:
        assert [r["row"] for r in csv.DictReader(fh)] == ["1", "2", "3", "4"]


def test_a_row_stopped_half_way_is_not_saved(tmp_path):
    template = TEMPLATES["slogans"]
    rows = [{"product": f"Tea {i}", "details": ""} for i in range(3)]
    good = "\n".join(f"{i}. Spring tea, picked by hand" for i in range(1, 6))
    cancel = threading.Event()

    class StopsDuringRowTwo(ScriptedLLM):
        def stream(self, messages, options, prefill=""):
            if len(self.seeds) == 1:
                cancel.set()  # the Stop button, pressed while row 2 is being written
            return super().stream(messages, options, prefill)

    out = tmp_path / "out.csv"
    first = run_batch(StopsDuringRowTwo(good, good), template, rows, out, cancel=cancel)
    assert first["written"] == 1 and first["stopped"]
    second = run_batch(ScriptedLLM(good, good), template, rows, out)
    assert second["written"] == 2 and second["skipped"] == 1
    with out.open(encoding="utf-8") as fh:
        assert [r["row"] for r in csv.DictReader(fh)] == ["1", "2", "3"]


def test_batch_rows_are_grounded_in_their_own_facts(tmp_path):
    template = TEMPLATES["slogans"]
    rows = [{"product": "Longjing", "details": ""}, {"product": "Keemun", "details": ""}]
    good = "\n".join(f"{i}. Spring tea, picked by hand" for i in range(1, 6))
    llm = ScriptedLLM(good, good)
    out = tmp_path / "out.csv"
    run_batch(llm, template, rows, out, facts_for=lambda fields: [f"{fields['product']} ships free from €49."])
    with out.open(encoding="utf-8") as fh:
        assert [r["facts"] for r in csv.DictReader(fh)] == [
            "Longjing ships free from €49.",
            "Keemun ships free from €49.",
        ]


def test_review_findings_stay_fixed(tmp_path):
    """Edge cases a code review found: cuts inside figures, an empty cut, tables taken for loops,
    the user's own words removed as copied, figures written differently, colliding CSV columns."""
    assert drop_unfinished("We sold 1,000 boxes last year to our customers. This year 2,500 to") == (
        "We sold 1,000 boxes last year to our customers."
    )
    assert (
        drop_unfinished("Tins are back. Each tin costs €4.50, and it ships within")
        == "Tins are back. Each tin costs €4.50."
    )
    assert drop_unfinished("\n" * 30 + "Thanks Ann") == "Thanks Ann"
    table = "| Tea | Taste | Price |\n|---|---|---|\n| Longjing | nutty | €12 |"
    assert collapse_loops(table) == table and not is_looping(table + "\n")
    example = "企业可以轻松送出一份印有自家品牌的茶礼，收礼人真正用得上。"
    draft = "企业可以轻松送出一份印有自家品牌的企业礼品，每盒 168 元。"
    assert "企业礼品" in clean(draft, example, "每盒 168 元", keep=["企业礼品"])
    assert (
        clean(
            "设计稿确认后约 3 周即可交付，20 盒起订。",
            "设计稿确认后约 3 周即可交付，欢迎来信。",
            "設計稿確認後約 3 週交付；20 盒起訂",
        )
        == "设计稿确认后约 3 周即可交付，20 盒起订。"
    )
    assert unsupported_numbers("€4.50, 买１２送１, opens 2025-06-01\n## 1. Choose", "4.5; 买12送1; 1 June 2025") == [
        "6"
    ]
    rows = [{"product": "Longjing", "details": "", "text": "their own text", "facts": "their own facts"}]
    out = tmp_path / "out.csv"
    run_batch(
        ScriptedLLM("\n".join(f"{i}. Spring tea, picked by hand" for i in range(1, 6))), TEMPLATES["slogans"], rows, out
    )
    with out.open(encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert row["text"] == "their own text" and row["facts"] == "their own facts" and row["out_text"].startswith("1.")


def test_write_cli_json(capsys):
    from core.cli.main import main

    code = main(
        [
            "write",
            "--template",
            "product_description",
            "--fields",
            json.dumps({"product": "Longjing", "features": "spring"}),
            "--variants",
            "2",
            "--keywords",
            "tea",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["template"] == "product_description" and len(out["variants"]) == 2
    assert {"length_ok", "missing_keywords", "banned_found", "language"} <= set(out["variants"][0]["checks"])
    assert main(["write", "--template", "nope", "--json"]) == 2


def test_write_batch_cli(tmp_path, capsys):
    from core.cli.main import main

    src = tmp_path / "products.csv"
    src.write_text("product,features\nLongjing,spring harvest\nKeemun,malty\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert (
        main(["write", "batch", "--template", "product_description", "--csv", str(src), "--out", str(out), "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["written"] == 2 and out.exists()


def test_writer_page_generates_edits_and_checks():
    at = AppTest.from_file(str(ROOT / "pages" / "writer.py"), default_timeout=60).run()
    assert not at.exception
    at.text_input(key="field-product_description-product").set_value("Longjing tea")
    at.text_area(key="field-product_description-features").set_value("spring harvest; chestnut aroma")
    at.slider[0].set_value(2)
    at.button[0].click().run()
    assert not at.exception
    assert [s.value for s in at.subheader][:2] == ["Variant 1", "Variant 2"]
    assert len(at.success) + len(at.warning) >= 2
    assert sum(c.value.startswith("Written in") for c in at.caption) == 2
    assert "All variants:" in [m.value for m in at.markdown]  # Markdown / Word of both together
    box = at.text_area(key=next(k for k in (ta.key for ta in at.text_area) if k and k.startswith("variant-")))
    box.set_value("Edited text about Longjing tea.").run()
    assert not at.exception


def test_outline_becomes_the_article_template_with_the_outline_filled_in():
    at = AppTest.from_file(str(ROOT / "pages" / "writer.py"), default_timeout=60).run()
    at.sidebar.selectbox(key="writer-template").set_value("Blog outline").run()
    at.text_input(key="field-blog_outline-topic").set_value("Brewing green tea")
    at.button[0].click().run()  # Write
    outline = next(ta.value for ta in at.text_area if ta.key and ta.key.startswith("variant-"))
    at.button(key="article-0").click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="writer-template").value == "Blog article"
    assert at.text_area(key="field-blog_article-outline").value == outline
    assert at.text_input(key="field-blog_article-topic").value == "Brewing green tea"


def test_writer_page_missing_field_warns():
    at = AppTest.from_file(str(ROOT / "pages" / "writer.py"), default_timeout=60).run()
    at.button[0].click().run()
    assert any("Please fill in" in w.value for w in at.warning)


def test_export_cells_are_neutralised():
    import pandas as pd

    from core.text.exports import safe_cells

    frame = safe_cells(pd.DataFrame({"a": ["=1+1", "+x", "ok", "@SUM(A1)"]}))
    assert frame["a"].tolist() == ["'=1+1", "'+x", "ok", "'@SUM(A1)"]


def test_overlong_output_is_cut_at_a_sentence():
    assert fit_length("Short.", 100) == "Short."
    assert fit_length("One sentence here. Two sentences here. Three!", 30) == "One sentence here."
    assert (
        fit_length("第一句话。第二句话很长很长很长。", 12) == "第一句话。"
        or len(fit_length("第一句话。第二句话很长很长很长。", 12)) <= 12
    )
    cut = fit_length("x" * 50, 10)
    assert len(cut) == 10 and cut.endswith("…")


def test_echoed_instructions_are_removed():
    text = "Opening line.\n- A benefit.\n- Lengths about 489 characters, never more than 700.\nTone: friendly.\n篇幅：约 200 字，最多 350 字。\nClosing line."
    assert clean(text) == "Opening line.\n- A benefit.\nClosing line."


def test_structure_short_drafts_and_loops_are_checked():
    req = WriteRequest(TEMPLATES["press_release"], sample_fields(TEMPLATES["press_release"]))
    draft = "Jade Leaf opens a tea house\n\nJade Leaf opened its first tea house in Rotterdam today."
    c = check(draft, req)
    assert c["structure_missing"] == ["a quote", "an About section"] and c["too_short"] and problems(c) == 5
    full = draft + ' "We are delighted to welcome guests," said Lin Mei.\n\nAbout Jade Leaf Tea Co.\n' + "x" * 600
    assert check(full, req)["structure_missing"] == [] and problems(check(full, req)) == 0
    zh = WriteRequest(TEMPLATES["ad_copy"], sample_fields(TEMPLATES["ad_copy"]), lang="zh")
    assert check("标题：春茶上市", zh)["structure_missing"] == ["正文"]
    assert (
        collapse_loops("正文：鲜茉莉花七次窨制，鲜茉莉花七次窨制，鲜茉莉花七次窨制，鲜茉莉")
        == "正文：鲜茉莉花七次窨制，鲜茉莉"
    )
    assert (
        collapse_loops("- spring harvest\n- spring harvest\n- chestnut")
        == "- spring harvest\n- spring harvest\n- chestnut"
    )


class ScriptedGeneration:
    def __init__(self, text):
        from types import SimpleNamespace

        self.text, self.stats = text, SimpleNamespace(new_tokens=len(text.split()))

    def __iter__(self):
        return iter([self.text])

    def cancel(self):
        pass


class ScriptedLLM:
    """Answers with the given texts in turn: the writer's retry logic, without a model."""

    def __init__(self, *texts):
        self.texts, self.seeds, self.prefills = list(texts), [], []

    def stream(self, messages, options, prefill=""):
        self.seeds.append(options.seed)
        self.prefills.append(prefill)
        return ScriptedGeneration(self.texts.pop(0))


def test_a_failed_draft_is_written_again_and_the_better_one_kept():
    req = WriteRequest(TEMPLATES["slogans"], sample_fields(TEMPLATES["slogans"]))
    good = "\n".join(f"{i}. Spring tea, picked by hand" for i in range(1, 6))
    llm = ScriptedLLM("1. Only one slogan", good)
    v = write_one(llm, req, seed=3)
    assert v.text == good and v.attempts == 2 and llm.seeds == [3, 1003]
    llm = ScriptedLLM(good, "never used")
    assert write_one(llm, req).attempts == 1  # a draft that passes every check is kept at once
    llm = ScriptedLLM("1. Only one slogan", "nothing numbered at all")
    v = write_one(llm, req)
    assert v.text == "1. Only one slogan" and isinstance(v, Variant)  # the less bad of the two


def rotterdam_press_release() -> WriteRequest:
    """A press release with no one quoted: the model has to write the quote part itself."""
    return WriteRequest(
        TEMPLATES["press_release"],
        {
            "headline_news": "A tea house in Rotterdam",
            "company": "Jade Leaf",
            "details": "40 seats",
            "quote_person": "",
        },
    )


def test_a_part_still_missing_is_written_into_the_draft_from_its_first_words():
    req = rotterdam_press_release()
    body = "Jade Leaf opens a tea house\n\n" + " ".join(
        f"Day {i}: tastings for {i + 3} guests at the new tea house." for i in range(1, 15)
    )
    about = "About Jade Leaf\nJade Leaf sells tea online."
    # The draft has an About section but no quote: the quote goes in before it, and the model
    # is given the draft up to there plus an opening quotation mark to continue from.
    llm = ScriptedLLM(
        f"{body}\n\n{about}",
        f"{body}\n\n{about}",
        'We look forward to pouring the first cups," said a company spokesperson.\n\nMore text.',
    )
    v = write_one(llm, req)
    assert llm.prefills[2] == f'{body}\n\n"'
    assert v.checks["structure_missing"] == [] and v.text.endswith(about)
    assert '\n\n"We look forward to pouring the first cups," said a company spokesperson.\n\nAbout' in v.text
    assert "More text" not in v.text  # one paragraph only
    llm = ScriptedLLM(
        f"{body}\n\n{about}",
        f"{body}\n\n{about}",
        f'We look forward to pouring the first cups," said a company spokesperson.\n{about}',
    )
    assert write_one(llm, req).text.count("About Jade Leaf") == 1  # the part it went on to is there already
    # A continuation that repeats the draft's sentences keeps only what is new.
    llm = ScriptedLLM(
        body,
        body,
        'Welcome to our new tea house," said Lin.',
        "Day 1: tastings for 4 guests at the new tea house. It sells tea online.",
    )
    assert write_one(llm, req).text.endswith("About Jade Leaf\nIt sells tea online.")
    # "Co." does not end a sentence: the company's name is not cut off the front of one.
    assert sentences('Jade Leaf Tea Co. is new. "Hello there." It costs €4.50.') == [
        "Jade Leaf Tea Co. is new.",
        '"Hello there."',
        "It costs €4.50.",
    ]
    # Continuations that add nothing usable are dropped, after one more try.
    llm = ScriptedLLM(body, body, "", "no closing mark here at all", "", "")
    assert write_one(llm, req).text == body.strip() and len(llm.prefills) == 6
    assert llm.prefills[4] == f"{body}\n\nAbout Jade Leaf\n"


def test_figures_nobody_gave_are_flagged_and_avoided():
    given = "Opens 1 June; 40 seats; founded 2016; free shipping from €49; 1,000 cups"
    assert unsupported_numbers(
        "1. Opens 1 June with 40 seats.\n2. Over 400 shops since 2016, 1000 cups, €49, 15% off", given
    ) == ["400", "15"]
    req = rotterdam_press_release()
    assert check("Jade Leaf has 400 shops and 40 seats.", req)["unsupported_numbers"] == ["400"]
    body = (
        "Jade Leaf opens a tea house\n\n"
        + "The tea house has 40 seats and daily tastings for guests. " * 12
        + '\n\n"We look forward to pouring the first cups for our neighbours," said a spokesperson.'
    )
    llm = ScriptedLLM(body, body, "It runs 400 shops worldwide. It sells tea online.")
    v = write_one(llm, req)  # a sentence the writer adds with a made-up figure is left out
    assert v.text.endswith("About Jade Leaf\nIt sells tea online.") and v.checks["unsupported_numbers"] == []


def test_a_draft_that_stops_after_its_first_line_gets_its_bullets_one_at_a_time():
    req = WriteRequest(
        TEMPLATES["product_description"], {"product": "西湖龙井", "features": "明前春茶；栗香浓郁"}, lang="zh"
    )
    opening = "西湖龙井绿茶是一款明前春茶，手工炒制，栗香浓郁，密封罐便于保存。"
    llm = ScriptedLLM(
        opening, opening, "明前采摘，滋味鲜爽。\n- 下一条不要", "栗香浓郁，回味悠长。", "", "密封罐装，开罐后依旧新鲜。"
    )
    v = write_one(llm, req)
    assert llm.prefills[2] == opening + "\n- " and llm.prefills[3] == opening + "\n- 明前采摘，滋味鲜爽。\n- "
    assert v.text == opening + "\n- 明前采摘，滋味鲜爽。\n- 栗香浓郁，回味悠长。\n- 密封罐装，开罐后依旧新鲜。"
    assert v.checks["structure_missing"] == []
    # A missing third bullet goes after the second, not after the closing line.
    two = opening + "\n- 明前采摘，滋味鲜爽。\n- 栗香浓郁，回味悠长。\n烧一壶水，泡一杯春天。"
    v = write_one(ScriptedLLM(two, two, "密封罐装，开罐后依旧新鲜。"), req)
    assert (
        v.text
        == opening
        + "\n- 明前采摘，滋味鲜爽。\n- 栗香浓郁，回味悠长。\n- 密封罐装，开罐后依旧新鲜。\n烧一壶水，泡一杯春天。"
    )


def test_an_article_short_of_sections_goes_on_with_the_next_heading_of_the_outline():
    req = WriteRequest(
        TEMPLATES["blog_article"],
        {
            "topic": "Green tea",
            "outline": "Title: Brewing green tea\n1. Choose the right water\n- soft water\n2. Get the timing right",
        },
        lang="en",
    )
    first = (
        "Brewing green tea\n\nChoose the right water\nSoft water at 75-80 degrees keeps the leaves sweet and bright."
    )
    llm = ScriptedLLM(
        first, first, "Steep the first infusion for one minute and add twenty seconds for each one after."
    )
    v = write_one(llm, req)
    assert llm.prefills[2] == first + "\n\nGet the timing right\n"
    assert v.checks["structure_missing"] == [] and v.text.endswith(
        "Get the timing right\nSteep the first infusion for one minute and add twenty seconds for each one after."
    )


def test_a_looping_generation_is_stopped_early():
    from core.writer.drafts import _consume

    assert is_looping("A line that says something.\nOther words here, fine.\nA line that says something.\n")
    assert not is_looping("A line that says something.\n- short\n- short\nA line that says something")

    class Endless:
        text, cancelled = "", False

        def __iter__(self):
            while not self.cancelled:
                self.text += '"The same quote once more, again."\n\n'
                yield "x\n"

        def cancel(self):
            self.cancelled = True

    gen = Endless()
    assert _consume(gen, None) is True
    assert gen.cancelled and gen.text.count("same quote") == 2
    # What the stopped model left unfinished goes: the start of a repeat, half a clause.
    assert (
        drop_unfinished("春茶到货，限量500罐！\n\n清明前采摘，购买链接见主页！\n\n春")
        == "春茶到货，限量500罐！\n\n清明前采摘，购买链接见主页！"
    )
    assert (
        drop_unfinished("标题：白茶上市。\n正文：鲜茉莉花七次窨制，鲜茉莉花七次窨制，鲜茉莉花七次窨制，鲜茉莉")
        == "标题：白茶上市。\n正文：鲜茉莉花七次窨制。"
    )
    assert drop_unfinished("Our tea is great. It comes in tins, and it") == "Our tea is great. It comes in tins."


def test_repeated_lines_and_lines_copied_from_the_worked_example_are_dropped():
    example = "A box of good tea is a gift people actually open and share. About Jade Leaf Tea Co."
    text = (
        'Opening day in Rotterdam with 40 seats.\n"A box of good tea is a gift people actually open and share."\n'
        "Opening day in Rotterdam with 40 seats.\n\n\nAbout Jade Leaf Tea Co.\n- short\n- short"
    )
    assert clean('Opening day.\n\n"\n\n“”\nClosing.') == "Opening day.\n\nClosing."  # a stopped loop's leftovers
    # Clauses lifted from the example (another product's offer) go; what the user gave stays.
    offer = "年费 ¥298，所有订单标准配送免运费，茶叶和茶具一律 9 折，消费还能拿双倍叶子积分。"
    draft = "春茶龙井，5 月 31 日前享 85 折，茶叶和茶具一律 9 折，消费还能拿双倍叶子积分。\n- 满 49 欧元包邮。"
    assert (
        clean(draft, offer, "春季新茶龙井，5 月 31 日前享 85 折")
        == "春茶龙井，5 月 31 日前享 85 折。\n- 满 49 欧元包邮。"
    )
    assert clean(draft, offer, "茶叶和茶具一律 9 折，消费还能拿双倍叶子积分") == draft
    assert clean(text, example, task='a line "About Jade Leaf Tea Co."') == (
        "Opening day in Rotterdam with 40 seats.\n\nAbout Jade Leaf Tea Co.\n- short\n- short"
    )


def test_batch_upload_has_the_knowledge_base_import_limits():
    """The writer's batch reader refuses what the knowledge base import refuses: a file over the
    upload limit, and an .xlsx zip bomb (a small file that unpacks to far more)."""
    import io
    import zipfile

    from core.text.uploads import UploadRefused
    from core.writer.batch import read_rows

    with pytest.raises(UploadRefused, match=r"big\.csv: 1\.0 MB is over the 1 MB limit"):
        read_rows("big.csv", b"product\n" + b"a" * 1_000_000, max_bytes=1_000_000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 30_000_000)  # 30 MB of zeros: ~30 KB packed
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    with pytest.raises(UploadRefused, match=r"bomb\.xlsx: unpacks to 30 MB, over the 20 MB limit"):
        read_rows("bomb.xlsx", bomb, max_bytes=1_000_000)
    with pytest.raises(ValueError, match=r"broken\.xlsx: cannot read the workbook"):
        read_rows("broken.xlsx", b"PK not really a workbook", max_bytes=1_000_000)
    assert read_rows("ok.csv", b"product,price\ntea,5\n") == [{"product": "tea", "price": "5"}]
