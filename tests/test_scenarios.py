import pytest

from core.scenarios import ScenarioStore


def test_save_load_list_delete(settings):
    store = ScenarioStore(settings.db_path)
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
        ScenarioStore(settings.db_path).save(name, {})


def test_missing_scenario_and_unserialisable_inputs(settings):
    store = ScenarioStore(settings.db_path)
    with pytest.raises(ValueError, match="No saved scenario"):
        store.load("nope")
    with pytest.raises(TypeError):
        store.save("bad", {"x": object()})
    assert store.names() == []  # nothing half-written
