"""Content writer: templates, tone, audience, length, brand voice, grounded variants, batch."""

import hashlib

import pandas as pd
import streamlit as st

from core.llm import EngineError
from core.writer.batch import read_rows, run_batch
from core.writer.checks import check, problems
from core.writer.documents import to_docx, to_markdown
from core.writer.drafts import write_one
from core.writer.facts import facts_from_kb
from core.writer.request import LENGTHS, TONES, BrandVoice, WriteRequest, split_list
from core.writer.templates import load_templates
from ui import get_llm, knowledge_base, lang, page_setup, pick, require, settings, t, writer_store

# the lengths' names
LENGTH_KEYS = {
    "bad": "writer.length_bad",
    "long": "writer.length_long",
    "medium": "writer.length_medium",
    "ok": "writer.length_ok",
    "short": "writer.length_short",
}

page_setup()
require("writer")
config = settings()
store = writer_store()
templates = load_templates()
voices = store.voices()

st.title(t("writer.title"))
write_tab, batch_tab, voices_tab, history_tab = st.tabs(
    [t("writer.tab_write"), t("writer.tab_batch"), t("writer.tab_voices"), t("writer.tab_history")]
)

# -- shared controls (sidebar) -----------------------------------------------------------------
with st.sidebar:
    names = {pick(tp.name): tp.id for tp in templates.values()}
    template = templates[names[st.selectbox(t("writer.template"), list(names), key="writer-template")]]
    out_langs = {"English": "en", "中文": "zh"}
    out_lang = out_langs[
        st.radio(t("writer.language"), list(out_langs), horizontal=True, index=0 if lang() == "en" else 1)
    ]
    tone = st.selectbox(t("writer.tone"), list(TONES), format_func=lambda k: TONES[k][0 if lang() == "en" else 1])
    length = st.select_slider(
        t("writer.length"), list(LENGTHS), value="medium", format_func=lambda k: t(LENGTH_KEYS[k])
    )
    audience = st.text_input(t("writer.audience"), max_chars=200)
    keywords = split_list(st.text_input(t("writer.keywords"), max_chars=500))
    banned = split_list(st.text_input(t("writer.banned"), max_chars=500))
    voice_name = st.selectbox(t("writer.voice"), [t("writer.no_voice"), *voices])
    voice = voices.get(voice_name)
    ground = st.checkbox(t("writer.ground"))


def request(fields: dict, platform=None) -> WriteRequest:
    return WriteRequest(
        template,
        fields,
        lang=out_lang,
        tone=tone,
        audience=audience,
        length=length,
        keywords=keywords,
        banned=banned,
        platform=platform,
        voice=voice,
    )


def show_checks(c: dict) -> None:
    badges = [
        t("writer.length_ok", chars=c["chars"], max=c["max_chars"])
        if c["length_ok"]
        else t("writer.length_bad", chars=c["chars"], max=c["max_chars"])
    ]
    if c["missing_keywords"]:
        badges.append(t("writer.missing", words=", ".join(c["missing_keywords"])))
    if c["banned_found"]:
        badges.append(t("writer.banned_found", words=", ".join(c["banned_found"])))
    if c.get("structure_missing"):
        badges.append(t("writer.structure_missing", parts=", ".join(c["structure_missing"])))
    if c.get("too_short"):
        badges.append(t("writer.too_short"))
    if c.get("unsupported_numbers"):
        badges.append(t("writer.unsupported_numbers", numbers=", ".join(c["unsupported_numbers"])))
    badges.append(t("writer.lang_ok") if c["language_ok"] else t("writer.lang_bad", lang=c["language"]))
    (st.success if problems(c) == 0 else st.warning)(" · ".join(badges))


def outline_to_article(outline: str, topic: str) -> None:
    """Button callback: open the blog-article template with this outline and topic filled in."""
    article = templates["blog_article"]
    st.session_state["writer-template"] = pick(article.name)
    st.session_state["field-blog_article-outline"] = outline
    st.session_state["field-blog_article-topic"] = topic
    st.session_state.pop("writer-results", None)


def generate(req: WriteRequest, n: int, total: int = 1) -> dict:
    with st.spinner(t("writer.writing", n=n + 1, total=total)):
        variant = write_one(get_llm(), req, seed=n + int(st.session_state.get("writer-seed", 0)))
    return {"text": variant.text, "checks": variant.checks, "id": store.save(req, variant), "seconds": variant.seconds}


# -- write ---------------------------------------------------------------------------------------
with write_tab:
    st.caption(pick(template.description))
    with st.form("writer-form"):
        fields = {}
        for f in template.fields:
            widget = st.text_area if f.multiline else st.text_input
            fields[f.name] = widget(
                pick(f.label),
                placeholder=pick(f.placeholder) if f.placeholder else None,
                max_chars=4000,
                key=f"field-{template.id}-{f.name}",
            )
        platform = None
        if template.platforms:
            platforms = {pick(p["name"]): pid for pid, p in template.platforms.items()}
            platform = platforms[st.radio(t("writer.platform"), list(platforms), horizontal=True)]
        variants = st.slider(t("writer.variants"), 1, 4, 1)
        submitted = st.form_submit_button(t("writer.generate"), icon=":material/edit_note:", type="primary")
    if submitted:
        req = request(fields, platform)
        try:
            req.validate()
        except ValueError as exc:
            st.warning(str(exc))
        else:
            if ground:
                req.facts = facts_from_kb(knowledge_base(), fields)
            st.session_state["writer-seed"] = int(st.session_state.get("writer-seed", 0)) + 10
            try:
                st.session_state["writer-results"] = {
                    "req": req,
                    "variants": [generate(req, i, variants) for i in range(variants)],
                }
            except EngineError as exc:  # the engine stopped mid-draft: say so; what was saved stays
                st.error(t("chat.error", error=exc))

    results = st.session_state.get("writer-results")
    if results:
        req = results["req"]
        if req.facts:
            with st.expander(t("writer.facts"), icon=":material/fact_check:"):
                for fact in req.facts:
                    st.text(fact)
        columns = st.columns(len(results["variants"]))
        for i, (col, v) in enumerate(zip(columns, results["variants"], strict=False)):
            with col:
                st.subheader(t("writer.variant", n=i + 1))
                edited = st.text_area(
                    t("writer.variant", n=i + 1),
                    v["text"],
                    height=320,
                    key=f"variant-{v['id']}",
                    label_visibility="collapsed",
                )
                if edited != v["text"]:  # edited in place: re-check and keep the edit in history
                    v["text"], v["checks"] = edited, check(edited, req)
                    store.update_text(v["id"], edited, v["checks"])
                show_checks(v["checks"])
                if v.get("seconds"):
                    st.caption(t("writer.took", seconds=v["seconds"]))
                if st.button(t("writer.regenerate"), key=f"regen-{i}", icon=":material/refresh:"):
                    st.session_state["writer-seed"] = int(st.session_state.get("writer-seed", 0)) + 1
                    results["variants"][i] = generate(req, i)
                    st.rerun()
                if req.template.id == "blog_outline" and "blog_article" in templates:
                    st.button(
                        t("writer.to_article"),
                        key=f"article-{i}",
                        icon=":material/article:",
                        on_click=outline_to_article,
                        args=(v["text"], req.fields.get("topic", "")),
                    )
                title, name = pick(req.template.name), req.template.id
                c1, c2 = st.columns(2)
                c1.download_button(
                    t("writer.download_md"),
                    to_markdown(title, [v["text"]]),
                    f"{name}-{i + 1}.md",
                    key=f"md-{i}",
                    icon=":material/download:",
                    on_click="ignore",  # a download needs no rerun of the page
                )
                c2.download_button(
                    t("writer.download_docx"),
                    to_docx(title, [v["text"]]),
                    f"{name}-{i + 1}.docx",
                    key=f"docx-{i}",
                    icon=":material/download:",
                    on_click="ignore",
                )
        if len(results["variants"]) > 1:
            texts, title, name = [v["text"] for v in results["variants"]], pick(req.template.name), req.template.id
            c0, c1, c2, _ = st.columns([1, 1, 1, 3], vertical_alignment="center")
            c0.write(t("writer.download_all"))
            c1.download_button(
                t("writer.download_md"),
                to_markdown(title, texts),
                f"{name}-all.md",
                key="md-all",
                icon=":material/download:",
                on_click="ignore",
            )
            c2.download_button(
                t("writer.download_docx"),
                to_docx(title, texts),
                f"{name}-all.docx",
                key="docx-all",
                icon=":material/download:",
                on_click="ignore",
            )

# -- batch ---------------------------------------------------------------------------------------
with batch_tab:
    st.write(t("writer.batch_help", fields=", ".join(f.name for f in template.fields)))
    upload = st.file_uploader("CSV / XLSX", type=["csv", "xlsx"], key="batch-file")
    if upload is not None:
        try:
            rows = read_rows(upload.name, upload.getvalue(), config.max_upload_mb * 1_000_000)
        except ValueError as exc:
            st.error(str(exc))
            rows = []
        required = [f.name for f in template.fields if f.required]
        missing = [c for c in required if rows and c not in rows[0]]
        if missing:
            st.error(t("writer.batch_missing", cols=", ".join(missing)))
        elif rows:
            st.dataframe(pd.DataFrame(rows).head(20), hide_index=True)
            # One output file per upload and settings that change the texts: a resume never mixes them.
            settings_key = "|".join(
                map(
                    str,
                    (
                        template.id,
                        out_lang,
                        tone,
                        length,
                        audience,
                        keywords,
                        banned,
                        ground,
                        voice.name if voice else "",
                    ),
                )
            )
            digest = hashlib.sha1(upload.getvalue() + settings_key.encode()).hexdigest()[:12]
            out = config.data_dir / "writer" / f"batch-{template.id}-{digest}.csv"
            out.parent.mkdir(parents=True, exist_ok=True)
            platform = None
            if template.platforms:
                platforms = {pick(p["name"]): pid for pid, p in template.platforms.items()}
                platform = platforms[
                    st.radio(t("writer.platform"), list(platforms), horizontal=True, key="batch-platform")
                ]
                out = out.with_name(out.stem + f"-{platform}.csv")
            if st.button(t("writer.batch_run"), icon=":material/playlist_play:", type="primary"):
                st.button(t("writer.batch_stop"), icon=":material/stop_circle:")  # any click stops the run
                bar = st.progress(0.0)
                try:
                    result = run_batch(
                        get_llm(),
                        template,
                        rows,
                        out,
                        base=request({}, platform),
                        progress=lambda f: bar.progress(f),
                        facts_for=(lambda row: facts_from_kb(knowledge_base(), row)) if ground else None,
                    )
                    st.success(t("writer.batch_done", written=result["written"], skipped=result["skipped"]))
                except EngineError as exc:  # rows written so far are in the file; a new run resumes
                    st.error(t("chat.error", error=exc))
            if out.exists():
                frame = pd.read_csv(out, dtype=str)
                st.dataframe(frame, hide_index=True)
                st.download_button("CSV", out.read_bytes(), out.name, icon=":material/download:", on_click="ignore")
                from io import BytesIO

                from core.text.exports import safe_cells

                buf = BytesIO()
                safe_cells(frame).to_excel(buf, index=False)
                st.download_button(
                    "XLSX", buf.getvalue(), out.with_suffix(".xlsx").name, icon=":material/download:", on_click="ignore"
                )

# -- brand voices ----------------------------------------------------------------------------------
with voices_tab:
    with st.form("voice", clear_on_submit=True):
        name = st.text_input(t("writer.voice_name"), max_chars=80)
        desc = st.text_input(t("writer.voice_desc"), max_chars=300)
        do = st.text_area(t("writer.voice_do"), max_chars=2000)
        dont = st.text_area(t("writer.voice_dont"), max_chars=2000)
        examples = st.text_area(t("writer.voice_examples"), max_chars=6000)
        if st.form_submit_button(t("writer.voice_save")):
            try:
                store.save_voice(
                    BrandVoice(
                        name,
                        desc,
                        [x for x in do.splitlines() if x.strip()],
                        [x for x in dont.splitlines() if x.strip()],
                        [x.strip() for x in examples.split("\n\n") if x.strip()],
                    )
                )
                st.success(t("writer.voice_saved"))
                st.rerun()
            except ValueError as exc:
                st.warning(str(exc))
    for v in voices.values():
        with st.expander(v.name):
            st.write(v.description)
            st.write(v.do, v.dont)
            if st.button(t("writer.voice_delete", name=v.name), key=f"del-voice-{v.name}"):
                store.delete_voice(v.name)
                st.rerun()

# -- history ---------------------------------------------------------------------------------------
with history_tab:
    history = store.history(50)
    if not history:
        st.info(t("writer.history_none"))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": h["id"],
                        "template": h["template"],
                        "lang": h["lang"],
                        "chars": h["checks"].get("chars"),
                        "text": h["text"],
                    }
                    for h in history
                ]
            ),
            hide_index=True,
        )
        texts = [h["text"] for h in history]
        c1, c2, _ = st.columns([1, 1, 4])
        c1.download_button(
            t("writer.download_md"),
            to_markdown(t("writer.title"), texts),
            "writer-history.md",
            icon=":material/download:",
            on_click="ignore",
        )
        c2.download_button(
            t("writer.download_docx"),
            to_docx(t("writer.title"), texts),
            "writer-history.docx",
            icon=":material/download:",
            on_click="ignore",
        )
