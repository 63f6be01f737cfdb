"""Settings declare their default, meaning and values once; the README's table is made from that."""

import re

import pytest

from core.config import PROJECT_ROOT, load_settings, markdown_table, parse

NONE = {}


def test_values_are_checked_against_their_declaration(tmp_path):
    none = tmp_path / "none.toml"
    for env, message in [
        ({"APP_THREADS": "0"}, "APP_THREADS='0' must be from 1 to 256"),
        ({"APP_THREADS": "two"}, "APP_THREADS='two' must be a whole number"),
        ({"APP_TIER1_EN": "1.5"}, "APP_TIER1_EN='1.5' must be from 0 to 1"),
        ({"APP_ENGINE": "gpu"}, "choose one of auto, llamacpp, transformers, openai"),
        ({"APP_CHROMA_PORT": "70000"}, "APP_CHROMA_PORT"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            load_settings(env=env, secrets_path=none)
    s = load_settings(
        env={"APP_ENGINE": "LlamaCPP", "APP_PARALLEL": "3", "APP_MODELS_DIR": "x/models"}, secrets_path=none
    )
    assert (s.engine, s.parallel, s.models_dir) == ("llamacpp", 3, PROJECT_ROOT / "x" / "models")


def test_toml_values_of_the_wrong_kind_are_clear(tmp_path):
    secrets = tmp_path / "secrets.toml"
    for text, message in [
        ("threads = [1]", "whole number"),
        ("models_dir = 5", "must be text"),
        ("threads = 1.5", "whole number"),
        ("auth = true", "must be text"),
    ]:
        secrets.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_settings(env=NONE, secrets_path=secrets)
    secrets.write_text("threads = 1\nsample_kb = 'off'\n")
    assert load_settings(env=NONE, secrets_path=secrets).threads == 1 and parse("threads", 3) == 3


def test_the_readme_table_is_the_declared_one():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = markdown_table()
    assert table in readme, "README's configuration table differs: paste `python -m core settings --markdown`"
    assert "openai_api_key" not in table.lower().replace("app_openai_api_key", "")
