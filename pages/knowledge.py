"""Knowledge base (admins): documents, the company, hit test, unanswered questions, tickets, analytics."""

from datetime import datetime

import pandas as pd
import plotly.express as px
import streamlit as st

from core.kb.ingest import SUPPORTED, IngestError
from core.kb.store import KBBusy
from core.storage.company import NAME_MAX, TEXT_MAX, TOPICS_MAX, Company
from core.support.evaluate import evaluate, read_cases
from core.support.read_ahead import read_ahead_status
from ui import (
    application,
    audit,
    company,
    get_llm,
    knowledge_base,
    lang,
    page_setup,
    plain,
    require,
    settings,
    support_log,
    t,
)

page_setup()
account = require("knowledge")
kb = knowledge_base()
log = support_log()
config = settings()


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


st.title(t("kb.title"))
docs_tab, company_tab, test_tab, unanswered_tab, tickets_tab, analytics_tab = st.tabs(
    [
        t("kb.tab_docs"),
        t("kb.tab_company"),
        t("kb.tab_test"),
        t("kb.tab_unanswered"),
        t("kb.tab_tickets"),
        t("kb.tab_analytics"),
    ]
)

with docs_tab:
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(t("kb.upload"), type=[e.lstrip(".") for e in SUPPORTED], accept_multiple_files=True)
        submitted = st.form_submit_button(t("kb.import"), icon=":material/upload:")
    if submitted and files:
        bar = st.progress(0.0)
        for i, f in enumerate(files):

            def progress(fraction, i=i, name=f.name):
                bar.progress(min(1.0, (i + fraction) / len(files)), text=name)

            try:
                r = kb.ingest_bytes(f.name, f.getvalue(), max_bytes=config.max_upload_mb * 1_000_000, progress=progress)
                if r.unchanged:
                    st.info(t("kb.unchanged", source=r.source))
                else:
                    audit(
                        "kb.ingest",
                        r.source,
                        {"kb": kb.name, "entries": r.entries, "added": r.added, "removed": r.removed},
                    )
                    st.success(t("kb.imported", source=r.source, entries=r.entries, added=r.added, removed=r.removed))
                    application().read_ahead(r.source)  # quick first answers about it (llama.cpp)
            except (IngestError, KBBusy) as exc:
                st.error(str(exc))
        bar.empty()

    ahead = read_ahead_status(config, kb.name)
    if ahead.get("total"):
        st.progress(
            min(1.0, ahead["done"] / ahead["total"]),
            text=t("kb.read_ahead", done=ahead["done"], total=ahead["total"], state=ahead["state"]),
        )
        if ahead.get("error") and ahead["state"] == "retrying":
            st.caption(t("kb.read_ahead_error", error=plain(ahead["error"])))

    st.subheader(t("kb.sources"))
    sources = kb.sources()
    if not sources:
        st.info(t("kb.empty"))
    else:
        table = pd.DataFrame(sources)
        table["added_at"] = table["added_at"].map(when)
        st.dataframe(table, hide_index=True, width="stretch")
        picked = st.selectbox(t("kb.pick"), [s["source"] for s in sources])
        with st.expander(t("kb.preview"), icon=":material/visibility:"):
            st.dataframe(pd.DataFrame(kb.preview(picked, limit=200)), hide_index=True, width="stretch")
        if st.button(t("kb.delete"), icon=":material/delete:", key="delete-source"):
            removed = kb.delete_source(picked)
            audit("kb.delete", picked, {"kb": kb.name, "records": removed})
            st.toast(t("kb.deleted", source=picked))
            st.rerun()

with company_tab:
    store = application().company_store
    current = store.get()
    st.caption(t("kb.company_caption"))
    with st.form("company"):
        name = st.text_input(t("kb.company_name"), current.name, max_chars=NAME_MAX)
        typed: dict[str, dict[str, str]] = {"topics": {}, "greeting": {}, "handover": {}}
        languages = (("en", "kb.company_english"), ("zh", "kb.company_chinese"))
        for column, (code, label) in zip(st.columns(2), languages, strict=True):
            with column:
                st.markdown(f"**{t(label)}**")
                typed["topics"][code] = st.text_input(
                    t("kb.company_topics"),
                    current.topics.get(code, ""),
                    max_chars=TOPICS_MAX,
                    help=t("kb.company_topics_help"),
                    key=f"company-topics-{code}",
                )
                typed["greeting"][code] = st.text_area(
                    t("kb.company_greeting"),
                    current.greeting.get(code, ""),
                    max_chars=TEXT_MAX,
                    key=f"company-greeting-{code}",
                )
                typed["handover"][code] = st.text_area(
                    t("kb.company_handover"),
                    current.handover.get(code, ""),
                    max_chars=TEXT_MAX,
                    key=f"company-handover-{code}",
                )
        save = st.form_submit_button(t("kb.company_save"), icon=":material/save:", type="primary")
    if save:
        try:
            saved = Company.from_dict({"name": name, **typed})
            store.save(saved)
            audit("company.save", saved.name, saved.to_dict())
            st.success(t("kb.company_saved", name=saved.name))
            current = saved
        except ValueError as exc:
            st.error(str(exc))
    if st.button(t("kb.company_reset"), icon=":material/restart_alt:", key="company-reset"):
        store.reset()
        audit("company.reset", store.get().name)
        st.toast(t("kb.company_reset_done", name=store.get().name))
        st.rerun()
    st.markdown(f"**{t('kb.company_preview')}**")
    st.info(current.greeting_texts()["zh" if lang().startswith("zh") else "en"], icon=":material/support_agent:")

with test_tab:
    query = st.text_input(t("kb.query"), max_chars=2000, key="kb-query")
    mode = st.radio(t("kb.mode"), ["hybrid", "vector", "bm25"], horizontal=True)
    k = st.slider("k", 1, 20, 5)
    if query.strip():
        hits = kb.search(query, k=k, mode=mode)
        if hits:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "score": h.score,
                            "confidence": h.confidence,
                            "source": h.source,
                            "faq_id": h.faq_id,
                            "text": h.text,
                        }
                        for h in hits
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.info(t("kb.no_hits"))

    st.divider()
    st.subheader(t("kb.eval_title"))
    st.caption(t("kb.eval_caption"))
    with st.form("evaluate"):
        labelled = st.file_uploader(t("kb.eval_upload"), type=["csv"])
        limit = st.number_input(t("kb.eval_limit"), min_value=1, max_value=2000, value=50, step=10)
        run_eval = st.form_submit_button(t("kb.eval_run"), icon=":material/fact_check:")
    if run_eval and labelled is not None:
        if labelled.size > 2_000_000:
            st.error(t("kb.eval_too_big"))
        else:
            try:
                cases = read_cases(labelled.name, labelled.getvalue())
                bar = st.progress(0.0)
                st.session_state["kb-eval"] = evaluate(
                    cases,
                    kb,
                    get_llm(),
                    thresholds=config.thresholds,
                    company=company(),
                    limit=int(limit),
                    progress=lambda fraction, question: bar.progress(fraction, text=question[:80]),
                )
                bar.empty()
            except IngestError as exc:  # missing columns, an empty file, unknown FAQ ids
                st.error(str(exc))
    if report := st.session_state.get("kb-eval"):
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(
            t("kb.eval_right"), f"{report['right_rate']:.0%}", f"{report['right']} / {report['n']}", delta_color="off"
        )
        c2.metric(t("kb.eval_handed"), f"{report['handed_rate']:.0%}", str(report["handed"]), delta_color="off")
        c3.metric(t("kb.eval_wrong"), f"{report['wrong_rate']:.0%}", str(report["wrong"]), delta_color="off")
        c4.metric(t("kb.eval_latency"), f"{report['p50_ms'] / 1000:.1f} / {report['p95_ms'] / 1000:.1f} s")
        st.caption(t("kb.eval_by_language"))
        st.dataframe(
            pd.DataFrame(
                [
                    {"language": lang, **{k: v[k] for k in ("n", "right_rate", "handed_rate", "wrong_rate")}}
                    for lang, v in report["by_language"].items()
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        if report["failures"]:
            st.caption(t("kb.eval_failures"))
            st.dataframe(pd.DataFrame(report["failures"]), hide_index=True, width="stretch")

with unanswered_tab:
    rows = log.unanswered(kb.name)
    if not rows:
        st.success(t("kb.unanswered_none"))
    for row in rows[:50]:
        with st.container(border=True):
            st.markdown(f"**{plain(row['question'])}**")  # a customer's words: shown, never rendered
            st.caption(f"{when(row['asked_at'])} · tier {row['tier']}" + (" · 👎" if row["feedback"] == 0 else ""))
            curated = st.text_area(t("kb.answer_for"), key=f"ans-{row['id']}", max_chars=4000)
            left, right = st.columns(2)
            if left.button(
                t("kb.add_faq"), key=f"add-{row['id']}", icon=":material/add_task:", disabled=not curated.strip()
            ):
                kb.add_faq_entry(row["question"], curated)
                audit("kb.add_faq", row["question"], {"kb": kb.name})
                log.resolve(row["id"])
                st.toast(t("kb.faq_added"))
                st.rerun()
            if right.button(t("kb.dismiss"), key=f"dismiss-{row['id']}"):
                log.resolve(row["id"])
                st.rerun()

with tickets_tab:
    tickets = log.tickets()
    if not tickets:
        st.info(t("kb.tickets_none"))
    else:
        frame = pd.DataFrame(tickets)
        frame["created_at"] = frame["created_at"].map(when)
        st.dataframe(
            frame[["id", "created_at", "status", "name", "contact", "question"]],
            hide_index=True,
            width="stretch",
        )
        for ticket in [x for x in tickets if x["status"] == "open"][:20]:
            if st.button(t("kb.close_ticket", id=ticket["id"]), key=f"close-{ticket['id']}"):
                log.close_ticket(ticket["id"])
                st.rerun()

with analytics_tab:
    questions = pd.DataFrame(log.questions(kb.name))
    if questions.empty:
        st.info(t("kb.no_data"))
    else:
        total = len(questions)
        answered = (questions["tier"] < 3).mean()
        up, down = int((questions["feedback"] == 1).sum()), int((questions["feedback"] == 0).sum())
        offered = int((questions["offered"] > 0).sum())
        taken = int(questions.loc[questions["suggested_from"].notna(), "suggested_from"].nunique())
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(t("kb.questions"), total)
        c2.metric(t("kb.deflection"), f"{answered:.0%}")
        c3.metric(t("kb.thumbs"), f"{up} / {down}")
        c4.metric(t("kb.suggestions_taken"), f"{taken} / {offered}", help=t("kb.suggestions_help"))
        questions["day"] = pd.to_datetime(questions["asked_at"], unit="s").dt.date
        per_day = questions.groupby(["day", "tier"]).size().reset_index(name="questions")
        per_day["tier"] = per_day["tier"].map({1: "1 FAQ", 2: "2 grounded", 3: "3 hand-over"})
        st.plotly_chart(px.bar(per_day, x="day", y="questions", color="tier", title=t("kb.per_day")), width="stretch")
        st.subheader(t("kb.by_channel"))
        questions["channel"] = questions["channel"].fillna("page")
        questions["api_key"] = questions["api_key"].fillna("–")
        channels = (
            questions.groupby(["channel", "api_key"])
            .agg(
                questions=("id", "size"),
                answered=("tier", lambda s: f"{(s < 3).mean():.0%}"),
                thumbs_down=("feedback", lambda s: int((s == 0).sum())),
            )
            .reset_index()
            .rename(columns={"channel": t("kb.channel"), "api_key": t("kb.api_key")})
        )
        st.dataframe(channels, hide_index=True, width="stretch")
        st.subheader(t("kb.top"))
        top = questions["question"].str.strip().str.lower().value_counts().head(10).reset_index()
        st.dataframe(top, hide_index=True, width="stretch")
