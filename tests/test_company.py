"""Who the support assistant speaks for: the company's profile, its default, its use in answers, the
Knowledge base page's Company tab and `python -m core company`."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.application import Application
from core.cli.main import main
from core.config import PROJECT_ROOT, load_settings
from core.storage.audit import recent
from core.storage.company import Company, CompanyStore, default_company
from core.storage.db import connect
from core.support.policy import answer

SAMPLE_NAME = "Jade Leaf Tea Co."


def test_the_sample_company_speaks_only_for_itself():
    sample = default_company(SAMPLE_NAME)
    assert "teas" in sample.greeting_texts()["en"] and "茶" in sample.greeting_texts()["zh"]
    other = default_company("Northwind Bikes")
    says = other.greeting_texts()
    assert "Northwind Bikes" in says["en"] and "Northwind Bikes" in says["zh"]
    assert "tea" not in says["en"].lower() and "茶" not in says["zh"]
    assert other.handover_texts()["en"].startswith("I'm sorry")


def test_profiles_are_trimmed_bounded_and_need_a_name():
    typed = Company.from_dict(
        {"name": "  Acme \n Ltd ", "topics": {"en": "x" * 500, "fr": "ignored"}, "greeting": "not a dict"}
    )
    assert typed.name == "Acme Ltd" and len(typed.topics["en"]) == 200 and set(typed.topics) == {"en", "zh"}
    assert typed.greeting == {"en": "", "zh": ""}
    with pytest.raises(ValueError, match="name"):
        Company.from_dict({"name": "   "})


def test_the_store_saves_resets_and_survives_a_broken_row(settings):
    store = CompanyStore(settings.db_path, "Northwind Bikes")
    assert store.get().name == "Northwind Bikes"
    store.save(Company.from_dict({"name": "Acme", "topics": {"en": "rockets"}}))
    assert CompanyStore(settings.db_path, "Northwind Bikes").get().topics["en"] == "rockets"
    with connect(settings.db_path) as conn:
        conn.execute('UPDATE company SET profile = \'{"name": ""}\'')
    assert store.get().name == "Northwind Bikes"  # unreadable: the default, support goes on
    store.reset()
    assert store.get() == default_company("Northwind Bikes")


def test_answers_greet_and_hand_over_in_the_companys_words(seeded_kb_dir, settings):
    kb = Application(settings).knowledge_base()
    bikes = Company.from_dict(
        {
            "name": "Northwind Bikes",
            "topics": {"en": "bikes and repairs"},
            "handover": {"en": "A mechanic will call you."},
        }
    )
    hello = answer("hello", kb, company=bikes)
    assert hello.tier == 3 and "bikes and repairs" in hello.text and "Northwind Bikes" in hello.text
    assert answer("您好", kb, company=bikes).text.startswith("您好！我是Northwind Bikes的客服助手")
    handed = answer("What's the best stock to buy this week?", kb, company=bikes)
    assert handed.tier == 3 and handed.text == "A mechanic will call you."


def test_the_knowledge_page_edits_the_profile_and_the_support_page_follows(seeded_kb_dir):
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "knowledge.py"), default_timeout=60).run()
    assert not at.exception
    name = next(w for w in at.text_input if w.label == "Company name")
    name.set_value("Northwind Bikes")
    next(w for w in at.text_input if w.key == "company-topics-en").set_value("bikes, repairs and rentals")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and any("Northwind Bikes" in s.value for s in at.success)
    assert any(e["action"] == "company.save" for e in recent(load_settings().db_path))
    support = AppTest.from_file(str(PROJECT_ROOT / "pages" / "support.py"), default_timeout=60).run()
    assert any("Northwind Bikes" in c.value for c in support.caption)
    support.chat_input[0].set_value("hello").run()
    assert "bikes, repairs and rentals" in support.chat_message[1].markdown[0].value


def test_company_cli_shows_sets_and_resets(tmp_path, capsys):
    assert main(["company", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == load_settings().company_name
    profile = tmp_path / "company.json"
    profile.write_text(json.dumps({"name": "Acme", "topics": {"en": "rockets", "zh": "火箭"}}), encoding="utf-8")
    assert main(["company", "set", "--file", str(profile), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "Acme" and "rockets" in shown["says"]["greeting"]["en"]
    profile.write_text("[1, 2]", encoding="utf-8")
    assert main(["company", "set", "--file", str(profile), "--json"]) == 2
    assert "expected an object" in json.loads(capsys.readouterr().out)["error"]
    assert main(["company", "reset", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == load_settings().company_name
