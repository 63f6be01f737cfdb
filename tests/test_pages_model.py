"""AppTest: the Model page with the tiny model — info, adapters, choosing one, training, comparing."""

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.config import load_settings
from tests.test_finetune import small_csv, trained_adapter  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
APP, MODEL = str(ROOT / "app.py"), str(ROOT / "pages" / "model.py")


def model_page(language: str | None = None) -> AppTest:
    at = AppTest.from_file(MODEL, default_timeout=60)
    if language:
        at.session_state["language"] = language
    return at.run()


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_app_navigates_to_the_model_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/model.py").run()
    assert not at.exception and at.title[0].value == "Model"


def test_page_shows_the_loaded_model_in_english_and_chinese(monkeypatch):
    at = model_page()
    assert not at.exception
    assert at.title[0].value == "Model"
    assert metric(at, "Device") == "cpu" and metric(at, "Precision") == "float32"
    assert metric(at, "Adapter") == "none (base model)" and metric(at, "Base model").startswith("tiny")
    assert [t.label for t in at.tabs] == ["Adapters", "Fine-tune", "Compare"]
    zh = model_page("简体中文")
    assert not zh.exception and zh.title[0].value == "模型"
    assert metric(zh, "设备") == "cpu" and [t.label for t in zh.tabs] == ["适配器", "微调", "对比"]
    hant = model_page("繁體中文")
    assert not hant.exception and [t.label for t in hant.tabs][1] == "微調"


def test_adapters_are_listed_and_choosing_one_reloads_the_model(monkeypatch, trained_adapter):  # noqa: F811
    monkeypatch.setenv("APP_ADAPTER", "auto")
    settings = load_settings()
    shutil.copytree(trained_adapter, settings.adapters_dir / "tea-v1")
    at = model_page()
    assert not at.exception
    table = at.dataframe[0].value
    assert "tea-v1" in list(table["Name"])
    assert metric(at, "Adapter") == "none (base model)"
    at.radio(key="adapter-choice").set_value("tea-v1").run()
    assert at.get("plotly_chart"), "loss curve"
    at.button(key="make-active").click().run()
    assert not at.exception
    assert (settings.adapters_dir / "active").read_text().strip() == "tea-v1"
    assert metric(at, "Adapter") == "tea-v1"  # loaded without a restart
    table = at.dataframe[0].value
    assert list(table.loc[table["Name"] == "tea-v1", "Active"]) == ["✓"]
    # And back to the base model.
    at.radio(key="adapter-choice").set_value("none").run()
    at.button(key="make-active").click().run()
    assert metric(at, "Adapter") == "none (base model)"


def test_fine_tune_from_an_upload_runs_in_the_background(monkeypatch):
    from core.finetune import jobs

    monkeypatch.setenv("APP_ADAPTER", "auto")
    at = model_page()
    at.text_input[0].set_value("from-upload")
    at.file_uploader[0].set_value(("faq.csv", small_csv(), "text/csv"))
    at.checkbox[0].uncheck()  # knowledge base FAQ
    at.number_input[1].set_value(2)  # max steps
    next(b for b in at.button if b.label == "Start fine-tune").click().run()
    assert not at.exception and not at.error
    job = jobs.current()
    assert job is not None and job.name == "from-upload"
    assert job.wait(timeout=60) and job.state == "done", job.error
    at.run()
    assert not at.exception
    assert any("from-upload is ready: 2 steps" in s.value for s in at.success)
    assert "from-upload" in list(at.dataframe[0].value["Name"])
    # A second start with the same name is refused with a message.
    at.text_input[0].set_value("from-upload")
    at.file_uploader[0].set_value(("faq.csv", small_csv(), "text/csv"))
    at.checkbox[0].uncheck()
    next(b for b in at.button if b.label == "Start fine-tune").click().run()
    assert any("already exists" in e.value for e in at.error)


def test_compare_base_and_fine_tuned_side_by_side(monkeypatch, trained_adapter):  # noqa: F811
    from core.finetune.adapters import set_active

    monkeypatch.setenv("APP_ADAPTER", "auto")
    settings = load_settings()
    shutil.copytree(trained_adapter, settings.adapters_dir / "tea-v1")
    set_active(settings, "tea-v1")
    at = model_page()
    at.text_area[0].set_value("How long does delivery take?")
    at.radio[1].set_value("chat")
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception
    headers = [m.value for m in at.markdown]
    assert "**Base model**" in headers and "**Fine-tuned: tea-v1**" in headers
