"""UI text: the Model page. The table, key: (English, Simplified Chinese), is data in core/i18n/model.toml."""

from core.i18n.tables import load_table

STRINGS = load_table("model")
