import pytest

from core.storage.scenarios import ScenarioStore
from ui_calc.common import scenario_store


def test_save_load_list_delete(settings):
    store = scenario_store(settings.db_path)
    store.save("  Base   case ", {"users": 1000, "price": 20.0, "名字": "基准"})
    store.save("Price war", {"users": 500})
    assert store.names() == ["Price war", "Base case"]
    assert store.load("Base case") == {"users": 1000, "price": 20.0, "名字": "基准"}
    store.save("Base case", {"users": 2000})  # same name overwrites
    assert store.load("Base case") == {"users": 2000}
    store.delete("Price war")
    assert store.names() == ["Base case"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_bad_names_are_refused(settings, name):
    with pytest.raises(ValueError):
        scenario_store(settings.db_path).save(name, {})


def test_missing_scenario_and_unserialisable_inputs(settings):
    store = ScenarioStore(settings.db_path)  # the store alone: names only tidied
    assert store.load("nope") is None
    with pytest.raises(TypeError):
        store.save("bad", {"x": object()})
    assert store.names() == []  # nothing half-written


@pytest.mark.parametrize("name", ["Current inputs", "current INPUTS", "Comparison", "当前输入", "對比", "a\x00b"])
def test_labels_the_calculator_uses_are_reserved(settings, name):
    """A scenario called like the current inputs or the comparison sheet would be mistaken for them."""
    with pytest.raises(ValueError):
        scenario_store(settings.db_path).save(name, {})
    assert ScenarioStore(settings.db_path).names() == []


def test_sheet_names_are_valid_and_distinct():
    from core.text.exports import sheet_names

    long_a, long_b = "Aggressive growth with price cut A", "Aggressive growth with price cut B"
    names = sheet_names(
        [
            "Comparison",
            "Plan A/B",
            "Q1: what? [draft] *",
            "comparison",
            long_a,
            long_b,
            "'quoted'",
            "",
            "History",
            "x" * 40,
        ]
    )
    assert names[0] == "Comparison"  # the first sheet keeps its name ...
    assert names[1] == "Plan A_B" and names[2] == "Q1_ what_ _draft_ _"
    assert names[3] == "comparison (2)"  # ... a scenario called like it does not overwrite it
    assert names[4] == long_a[:31] and names[5] == long_a[:27].rstrip() + " (2)"  # same first 31 characters
    assert names[6] == "quoted" and names[7] == "Sheet" and names[8] == "History (2)"
    assert all(len(n) <= 31 for n in names) and len({n.casefold() for n in names}) == len(names)
    assert not any(set(n) & set("[]:*?/\\") for n in names)


def test_xlsx_export_with_awkward_scenario_names():
    import io

    import openpyxl
    import pandas as pd

    from core.text.exports import to_xlsx

    frame = pd.DataFrame({"month": [1, 2], "note": ["=cmd", "ok"]})
    data = to_xlsx(
        [
            ("Comparison", frame),
            ("Plan A/B", frame),
            ("Comparison", frame),
            ("Aggressive growth with price cut A", frame),
            ("Aggressive growth with price cut B", frame),
        ]
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "Comparison",
        "Plan A_B",
        "Comparison (2)",
        "Aggressive growth with price cu",
        "Aggressive growth with pric (2)",
    ]
    assert book["Plan A_B"]["B2"].value == "'=cmd"  # cells still cannot run as formulas
