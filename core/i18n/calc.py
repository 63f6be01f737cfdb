"""UI text for the Cost & market calculator page. key: (English, Simplified Chinese); Traditional
Chinese is derived from the Simplified text. The table is data in core/i18n/calc.toml; the engine's
own messages take their English from core.economics.messages and their Chinese from
core/i18n/calc_engine.toml."""

from core.economics.messages import ENGLISH
from core.i18n.tables import load_chinese, load_table

STRINGS = load_table("calc")
# the engine's messages: English from core.economics.messages, Chinese from calc_engine.toml
ENGINE_CHINESE = load_chinese("calc_engine")
twice = sorted(STRINGS.keys() & ENGINE_CHINESE.keys())
if twice:
    raise ValueError(f"core/i18n/calc.toml and calc_engine.toml both define {', '.join(twice[:5])}")
STRINGS.update({key: (ENGLISH[key], zh) for key, zh in ENGINE_CHINESE.items()})
